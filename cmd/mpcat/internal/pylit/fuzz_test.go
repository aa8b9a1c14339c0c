package pylit

import (
	"os"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/pickle"
)

// FuzzParse checks that Parse never panics, and that what it accepts
// survives the trip mpcat makes it take — pickle, send, unpickle — with
// the same Python repr, and parses back from that repr to the same value.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/literals.txt"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		want := pyrepr.Repr(v)
		data, err := pickle.Marshal(v)
		if err != nil {
			t.Fatalf("Parse(%q) = %s cannot be pickled: %v", s, want, err)
		}
		var back any
		if err := pickle.Unmarshal(data, &back); err != nil {
			t.Fatalf("pickle of %s does not decode: %v", want, err)
		}
		if got := pyrepr.Repr(back); got != want {
			t.Fatalf("round trip of %q: %s, want %s", s, got, want)
		}
		if strings.Contains(want, "nan") || strings.Contains(want, "inf") {
			return // repr of nan/inf is not a literal (Python's too)
		}
		again, err := Parse(want)
		if err != nil {
			t.Fatalf("repr %s of %q does not parse: %v", want, s, err)
		}
		if got := pyrepr.Repr(again); got != want {
			t.Fatalf("repr %s parses to %s", want, got)
		}
	})
}
