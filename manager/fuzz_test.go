package manager

import (
	"context"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

// FuzzRebuild feeds arbitrary pickles to Rebuild (no network: an
// inheriting rebuild takes no reference).
func FuzzRebuild(f *testing.F) {
	p := &Proxy{token: Token{TypeID: "dict", Address: pickle.Tuple{"127.0.0.1", int64(5000)}, ID: "7f00"}, pyType: "DictProxy"}
	for _, v := range []any{p.reduced([]byte("key")), p.reduced(nil), (&Proxy{token: Token{TypeID: "Queue", Address: "/tmp/x.sock", ID: "1"}, pyType: "AutoProxy", exposed: []string{"get"}}).reduced(nil)} {
		b, err := pickle.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := pickle.Unmarshal(data, &v); err != nil {
			return
		}
		q, err := Config{}.rebuild(context.Background(), v, true)
		if err == nil {
			q.Close()
		}
	})
}
