package synchronize

import (
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

// FuzzOpen feeds arbitrary pickles to the decoders of pickled primitives:
// errors are fine, panics and hangs are not.
func FuzzOpen(f *testing.F) {
	ev, err := NewEvent()
	if err != nil {
		f.Fatal(err)
	}
	r, err := NewRLock()
	if err != nil {
		f.Fatal(err)
	}
	for _, o := range []*pickle.Object{ev.Object(), ev.cond.Object(), r.Object()} {
		b, err := pickle.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ev.Close() // unlinked: the seeds name semaphores that no longer exist
	r.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := pickle.Unmarshal(data, &v); err != nil {
			return
		}
		if l, err := OpenSemLock(v); err == nil {
			l.Close()
		}
		if c, err := OpenCondition(v); err == nil {
			c.Close()
		}
		if e, err := OpenEvent(v); err == nil {
			e.Close()
		}
	})
}
