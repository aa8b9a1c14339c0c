package pickle

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"testing"
	"time"
)

// Limits small enough that one fuzz input cannot use much memory or time.
var fuzzMode, _ = DecOptions{MaxDepth: 200, MaxMemo: 1 << 16, MaxContainerLen: 1 << 16, MaxObjects: 1 << 18, MaxLongBytes: 1 << 12, MaxInput: 1 << 20}.DecMode()

// olderModes encode at protocols 0–3.
var olderModes = func() (ms []EncMode) {
	for p := 0; p <= 3; p++ {
		m, _ := EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
		ms = append(ms, m)
	}
	return ms
}()

// FuzzUnmarshal: no panic on any input; whatever decodes re-encodes, and
// decode→encode is stable from then on (Marshal(Unmarshal(Marshal(v)))
// gives the same bytes as Marshal(v)).
func FuzzUnmarshal(f *testing.F) {
	for _, s := range [][]byte{
		[]byte("\x80\x04N."),
		[]byte("(I00\nI10\nL12L\nF1.5\nS'a\\n'\nVx\\u00e9\nt."),
		[]byte("\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x94h\x00a."),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := fuzzMode.Unmarshal(data, &v); err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, not *SyntaxError: %v", err, err)
			}
			return
		}
		b1, err := Marshal(v)
		if err != nil {
			t.Fatalf("decoded value does not re-encode: %v", err)
		}
		var v2 any
		if err := Unmarshal(b1, &v2); err != nil {
			t.Fatalf("re-encoded pickle does not decode: %v\n%x", err, b1)
		}
		b2, err := Marshal(v2)
		if err != nil {
			t.Fatalf("second re-encode: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("decode→encode not stable:\n%x\n%x", b1, b2)
		}
		// The older protocols take other paths (INST, GLOBAL lines,
		// getattr for dotted names, REDUCE for bytes and sets); they may
		// refuse a value (an Ext before protocol 2) but what they write
		// must decode.
		for p, m := range olderModes {
			b, err := m.Marshal(v)
			if err != nil {
				continue
			}
			if err := Unmarshal(b, new(any)); err != nil {
				t.Fatalf("protocol-%d re-encoding does not decode: %v\n%x", p, err, b)
			}
		}
		// Typed decoding must not panic either.
		var st struct {
			A int
			B []string
			C map[string]float64
		}
		_ = fuzzMode.Unmarshal(data, &st)
		var r rec
		_ = fuzzMode.Unmarshal(data, &r)
		var m map[any]any
		_ = fuzzMode.Unmarshal(data, &m)
		var tm struct {
			T time.Time
			D time.Duration
			B big.Int
			P *point
		}
		_ = fuzzMode.Unmarshal(data, &tm)
	})
}

type chunkReader struct {
	data  []byte
	sizes []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[0])%17 + 1
		c.sizes = c.sizes[1:]
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// FuzzDecoder: a stream of pickles read in odd-sized chunks gives the same
// values as Unmarshal on each pickle, and never panics.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("\x80\x04N.\x80\x04K\x01."))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := fuzzMode.NewDecoder(&chunkReader{data: data, sizes: data})
		rest := data
		for i := 0; i < 100; i++ {
			var v any
			err := dec.Decode(&v)
			if err == io.EOF {
				if len(rest) != 0 {
					t.Fatalf("io.EOF with %d bytes left", len(rest))
				}
				return
			}
			var want any
			werr := fuzzMode.Unmarshal(rest, &want)
			if (err == nil) != (werr == nil) {
				t.Fatalf("Decoder: %v; Unmarshal: %v", err, werr)
			}
			if err != nil {
				return
			}
			b1, e1 := Marshal(v)
			b2, e2 := Marshal(want)
			if e1 != nil || e2 != nil || !bytes.Equal(b1, b2) {
				t.Fatalf("Decoder and Unmarshal disagree: %x (%v) vs %x (%v)", b1, e1, b2, e2)
			}
			// Advance rest past this pickle: re-decode with a counting source.
			s := decState{m: fuzzMode.(*decMode), data: rest}
			if _, err := s.run(); err != nil {
				t.Fatalf("run: %v", err)
			}
			rest = rest[s.pos:]
		}
	})
}

// Cost bounds checked by FuzzDecodeCost (and documented in README's
// limits section): decoding n bytes into *any allocates at most
// costPerByte*n + costBase bytes under the default options, whatever the
// bytes (shared references stay shared; dict keys are hashed once per
// distinct object); typed decoding adds at most costAllocFactor times its
// MaxAlloc budget.
const (
	costPerByte     = 192
	costBase        = 64 << 10
	costAllocFactor = 4
)

var costMode, _ = DecOptions{MaxAlloc: 1 << 20}.DecMode()

// FuzzDecodeCost checks cost, not only panics: for any input, the bytes
// allocated by decoding it (measured with runtime.MemStats) stay within
// the documented multiple of its size. Its seed corpus holds the
// amplification bombs: tuple-key hash bombs (dict, set, frozenset key;
// Go- and CPython-made), a shared list decoded into nested slices,
// thousands of MARKs, a flood of empty dicts.
func FuzzDecodeCost(f *testing.F) {
	for _, kind := range []string{"dict", "set", "frozenset-key"} {
		f.Add(tupleBomb(40, kind))
	}
	f.Add(laughs(f, 100, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		bound := uint64(costPerByte*len(data) + costBase)
		var err error
		if got := allocatedBy(func() {
			var v any
			err = Unmarshal(data, &v)
		}); got > bound {
			t.Fatalf("decoding %d bytes into *any allocated %d bytes (bound %d; err %v)", len(data), got, bound, err)
		}
		typedBound := bound + costAllocFactor*(1<<20)
		for _, target := range []func() any{
			func() any { return new([][][][][]string) },
			func() any { return new(map[string][]int) },
			func() any { return new([]struct{ A, B *[]string }) },
			func() any { return new(rec) },
		} {
			if got := allocatedBy(func() { err = costMode.Unmarshal(data, target()) }); got > typedBound {
				t.Fatalf("decoding %d bytes into %T allocated %d bytes (bound %d; err %v)", len(data), target(), got, typedBound, err)
			}
		}
	})
}
