package pickle

import (
	"runtime"
	"testing"
)

// TestUnmarshalKeepsNoOldValues decodes the same nested pickle over and
// over, dropping each result: the decoder's pooled state may keep a bounded
// amount of memory for the next decode, never the values of every earlier
// one (slab tails passed from decode to decode once chained them all).
func TestUnmarshalKeepsNoOldValues(t *testing.T) {
	var v any = []any{int64(1), 2.5, "x"}
	for i := 0; i < 100; i++ {
		if i%2 == 1 {
			v = []any{int64(i), v}
		} else {
			d := NewDict()
			if err := d.Set("d", v); err != nil {
				t.Fatal(err)
			}
			if err := d.Set("i", int64(i)); err != nil {
				t.Fatal(err)
			}
			v = d
		}
	}
	for _, tc := range []struct {
		name string
		data func() []byte
	}{
		{"a small pickle", func() []byte { return mustMarshal(t, v) }},
		{"a large pickle", func() []byte { return mustMarshal(t, []any{v, make([]byte, 16<<10)}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data()
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			const n = 2000
			before := heap()
			var perDecode uint64
			for i := 0; i < n; i++ {
				var out any
				var ms0, ms1 runtime.MemStats
				if i == 0 {
					runtime.ReadMemStats(&ms0)
				}
				if err := Unmarshal(data, &out); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					runtime.ReadMemStats(&ms1)
					perDecode = ms1.TotalAlloc - ms0.TotalAlloc
				}
			}
			// One GC moves the pooled state to the pool's victim cache:
			// still reachable, so whatever it keeps is counted.
			after := heap()
			kept := int64(after) - int64(before)
			if limit := int64(carryGens+2)*int64(perDecode) + 1<<20; kept > limit {
				t.Errorf("after %d decodes of %d bytes (%d bytes allocated each), %d bytes stay live (limit %d)", n, len(data), perDecode, kept, limit)
			}
		})
	}
}
