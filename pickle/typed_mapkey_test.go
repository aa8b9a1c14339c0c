package pickle

import (
	"fmt"
	"testing"
)

// A map's keys are read straight into its scratch key (mapPair) and its
// record values straight to record: a key fetched again from the memo (as
// the record's name), a record missing fields after one that set them, and
// the same record object under two keys all decode to what they hold.
func TestTypedMapKeysAndRecords(t *testing.T) {
	m := NewDict()
	shared := NewDict()
	_ = shared.Set("id", int64(7))
	_ = shared.Set("tags", []any{"x"})
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("item%d", i)
		switch {
		case i == 50 || i == 150:
			_ = m.Set(k, shared)
		case i%3 == 0:
			// Only some fields: the others must be zero, not the last
			// record's.
			d := NewDict()
			_ = d.Set("id", int64(i))
			_ = m.Set(k, d)
		default:
			d := NewDict()
			_ = d.Set("id", int64(i))
			_ = d.Set("name", k) // the key's str again: a BINGET of its memo entry
			_ = d.Set("score", float64(i)/4)
			_ = d.Set("tags", []any{"a", k})
			_ = d.Set("ok", i%2 == 0)
			_ = m.Set(k, d)
		}
	}
	data := mustMarshal(t, m)
	var got map[string]benchLikeRec
	if err := Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("%d items, want 200", len(got))
	}
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("item%d", i)
		r, ok := got[k]
		if !ok {
			t.Fatalf("%s missing", k)
		}
		var want benchLikeRec
		switch {
		case i == 50 || i == 150:
			want = benchLikeRec{ID: 7, Tags: []string{"x"}}
		case i%3 == 0:
			want = benchLikeRec{ID: int64(i)}
		default:
			want = benchLikeRec{ID: int64(i), Name: k, Score: float64(i) / 4, Tags: []string{"a", k}, OK: i%2 == 0}
		}
		if fmt.Sprint(r) != fmt.Sprint(want) {
			t.Fatalf("%s: %+v, want %+v", k, r, want)
		}
	}
}
