package sharedmem

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzShareableList feeds arbitrary segment contents to the ShareableList
// parser in both layouts and auto-detection, reads every item and writes
// each kind back. Anything but a clean error is a bug: no panic, no
// out-of-range access, no allocation beyond the input's size.
//
// The seed corpus in testdata/fuzz/FuzzShareableList holds segments written
// by CPython 3.8 and 3.11 (both layouts) and hostile headers.
func FuzzShareableList(f *testing.F) {
	hostile := [][]byte{
		nil,
		{1, 2, 3},
		le(1<<62, 0, 8),         // absurd count
		le(-1),                  // negative count
		le(1, 0, 1<<40),         // 3.9 offset beyond the segment
		le(2, 8, -8),            // 3.8 negative size
		le(2, 0, 16, 8),         // decreasing offsets
		le(1, 0, 8, 0, 0, 0, 0), // count fits, formats/codes truncated
		append(le(1, 0, 8, 5), []byte("999999s\x00\x01")...), // str format larger than the segment
	}
	for _, h := range hostile {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, layout := range []Layout{LayoutAuto, Layout38, Layout39} {
			buf := append([]byte(nil), data...)
			v, err := parseList(buf, layout)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("parse error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			if v.n > len(data) {
				t.Fatalf("%d items from %d bytes", v.n, len(data))
			}
			for i := 0; i < v.n; i++ {
				if _, err := v.get(i); err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("item %d: %v", i, err)
				}
				for _, x := range []any{int64(-5), 1.5, true, nil, "s", []byte("12345678901")} {
					err := v.set(i, x)
					if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrCapacity) {
						t.Fatalf("set item %d to %v: %v", i, x, err)
					}
					if err == nil {
						got, err := v.get(i)
						if err != nil {
							t.Fatalf("item %d unreadable after set(%v): %v", i, x, err)
						}
						if s, ok := x.(string); ok && got != s {
							t.Fatalf("item %d = %v after set(%q)", i, got, s)
						}
					}
				}
			}
		}
	})
}

// le packs int64 words little-endian.
func le(words ...int64) []byte {
	b := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(w))
	}
	return b
}
