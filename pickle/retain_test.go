package pickle

import (
	"reflect"
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

// TestScratchClearedAfterDecode decodes pickles that leave values in stack
// slots above the final length (nesting, POP, SETITEM, TUPLE2, a truncated
// pickle that fails with values on the stack) one after another with one
// scratch, as the pool hands it on: after each, no slot of its stack or
// memo may still hold a value.
func TestScratchClearedAfterDecode(t *testing.T) {
	var deep any = []any{int64(1)}
	for i := 0; i < 300; i++ {
		d := NewDict()
		if err := d.Set("d", deep); err != nil {
			t.Fatal(err)
		}
		deep = []any{int64(i), d}
	}
	nested, err := Marshal(deep)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		fail bool
	}{
		{"nested", nested, false},
		{"pop", []byte("\x80\x02K\x01K\x020K\x03."), false},
		// (1, 2) then a dict with one SETITEM: the tuple's items and the
		// key and value were on the stack above where it ends.
		{"tuple2 setitem", []byte("\x80\x02K\x01K\x02\x86}K\x03K\x04s\x86."), false},
		{"truncated", nested[:len(nested)/2], true},
		{"small", []byte("\x80\x02]K\x01a."), false},
	} {
		sc := &decScratch{}
		for k, data := range [][]byte{nested, tc.data} {
			s := &decState{m: defaultDecMode.(*decMode), data: data}
			s.scratch = sc
			s.stack, s.marks, s.memo = sc.stack[:0], sc.marks[:0], sc.memo[:0]
			var v any
			err := s.decodeInto(&v, reflect.Value{})
			if fail := err != nil; fail != (tc.fail && k == 1) {
				t.Fatalf("%s: error %v", tc.name, err)
			}
			s.clearScratch()
			for i, x := range s.stack[:cap(s.stack)] {
				if x != nil {
					t.Fatalf("%s: stack slot %d of %d still holds %T", tc.name, i, cap(s.stack), x)
				}
			}
			for i, x := range s.memo[:cap(s.memo)] {
				if x != nil {
					t.Fatalf("%s: memo slot %d still holds %T", tc.name, i, x)
				}
			}
			sc.stack, sc.marks, sc.memo = s.stack[:0], s.marks[:0], s.memo[:0]
		}
	}
}
