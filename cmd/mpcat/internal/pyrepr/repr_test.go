package pyrepr

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

func TestJSON(t *testing.T) {
	d := pickle.NewDict()
	_ = d.Set(int64(1), []any{math.Inf(1), []byte{0xff}, pickle.Tuple{"a"}})
	b, err := json.Marshal(JSON(d))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"items":[[1,[{"repr":"inf","type":"float"},{"hex":"ff","type":"bytes"},{"items":["a"],"type":"tuple"}]]],"type":"dict"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

func TestSharedValuesAreBounded(t *testing.T) {
	// 64 levels of a = [a, a]: 2^64 leaves, a few hundred pickle bytes.
	var v any = []any{}
	for i := 0; i < 64; i++ {
		v = []any{v, v}
	}
	s := reprN(v, 64<<10)
	if len(s) > 64<<10+1000 || !strings.HasSuffix(s, Truncated) {
		t.Errorf("repr of %d bytes, suffix %q", len(s), s[len(s)-30:])
	}
	b, err := json.Marshal(jsonN(v, 1000))
	if err != nil || !strings.Contains(string(b), `"truncated"`) || len(b) > 20000 {
		t.Fatalf("%d bytes of JSON, %v", len(b), err)
	}
}
