package pickle_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
)

// TestTypedCPythonWorkloads decodes CPython's pickles of the benchmark
// workloads straight into Go types (the typed decoder, no generic value),
// checks the result against the generic decode, encodes it back, and has
// CPython compare the Go bytes with its own (type-exact, sharing
// included). Where the Go value keeps CPython's order (slices, structs in
// field order) the bytes must be CPython's own.
func TestTypedCPythonWorkloads(t *testing.T) {
	data := workloadBytes(t)
	var reqs strings.Builder
	for _, w := range typedWorkloads {
		p := w.target()
		if err := pickle.Unmarshal(data[w.name], p); err != nil {
			t.Fatalf("%s into %T: %v", w.name, p, err)
		}
		var generic any
		if err := pickle.Unmarshal(data[w.name], &generic); err != nil {
			t.Fatal(err)
		}
		want := 0
		switch g := generic.(type) {
		case []any:
			want = len(g)
		case *pickle.Dict:
			want = g.Len()
		}
		if n := reflect.ValueOf(p).Elem().Len(); n != want {
			t.Errorf("%s: %d items typed, %d generic", w.name, n, want)
		}
		v := reflect.ValueOf(p).Elem().Interface()
		b, err := pickle.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		ordered := reflect.ValueOf(v).Kind() == reflect.Slice
		if ordered && !bytes.Equal(b, data[w.name]) {
			t.Errorf("%s: Go's encoding of %T differs from CPython's bytes", w.name, v)
		}
		line, _ := json.Marshal(map[string]any{"tag": w.name, "hex": hex.EncodeToString(b), "orig": hex.EncodeToString(data[w.name]), "unordered": !ordered})
		reqs.Write(line)
		reqs.WriteByte('\n')
	}
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "pickle_corpus.py", Args: []string{"check"}, Stdin: strings.NewReader(reqs.String())})
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var res struct {
			Tag string `json:"tag"`
			OK  bool   `json:"ok"`
			Err string `json:"err"`
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		n++
		if !res.OK {
			t.Errorf("%s: CPython loads Go's bytes as a different value: %s", res.Tag, res.Err)
		}
	}
	if n != len(typedWorkloads) {
		t.Fatalf("%d answers for %d workloads", n, len(typedWorkloads))
	}
}
