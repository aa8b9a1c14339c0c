package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"testing"
)

// numRunPickle is a protocol-4 list of vals, written as CPython writes a
// list of numbers (MARK, the items, APPENDS per batch of 1000), with
// every form loadNumber and numRun read: BININT1, BININT2, BININT, LONG1
// of 0–9 bytes (9: a big int, which ends a run) and BINFLOAT.
func numRunPickle(vals []any) []byte {
	var b bytes.Buffer
	b.Write([]byte{opProto, 4, opEmptyList})
	for i, v := range vals {
		if i%batchSize == 0 {
			if i > 0 {
				b.WriteByte(opAppends)
			}
			b.WriteByte(opMark)
		}
		switch v := v.(type) {
		case float64:
			b.WriteByte(opBinfloat)
			b.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(v)))
		case *big.Int:
			// LONG1 of 9 bytes: v is 2^64 + small.
			b.Write([]byte{opLong1, 9})
			lo := new(big.Int).And(v, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
			b.Write(binary.LittleEndian.AppendUint64(nil, lo))
			b.WriteByte(1)
		case int64:
			switch {
			case v >= 0 && v < 1<<8:
				b.Write([]byte{opBinint1, byte(v)})
			case v >= 0 && v < 1<<16:
				b.WriteByte(opBinint2)
				b.Write(binary.LittleEndian.AppendUint16(nil, uint16(v)))
			case v >= math.MinInt32 && v <= math.MaxInt32 && v%3 != 0:
				b.WriteByte(opBinint)
				b.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(v))))
			default:
				// LONG1 of the fewest bytes (0 for 0), as CPython's encode_long.
				k := 0
				if v != 0 {
					k = 1
					for k < 8 && int64(uint64(v)<<(64-8*k))>>(64-8*k) != v {
						k++
					}
				}
				b.Write([]byte{opLong1, byte(k)})
				b.Write(binary.LittleEndian.AppendUint64(nil, uint64(v))[:k])
			}
		}
	}
	if len(vals) > 0 {
		b.WriteByte(opAppends)
	}
	b.WriteByte(opStop)
	return b.Bytes()
}

// numRunValues are n numbers of every kind, most outside smallInts (so
// that they are boxed in the words slab, across several slabs), with a
// big int every 997 items.
func numRunValues(n int) []any {
	vals := make([]any, n)
	for i := range vals {
		x := int64(i) * 2654435761
		switch {
		case i%997 == 500:
			vals[i] = new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(int64(i)))
		case i%7 == 0:
			vals[i] = float64(i) / 8
		case i%7 == 1:
			vals[i] = int64(i % 300)
		case i%7 == 2:
			vals[i] = -x
		case i%7 == 3:
			vals[i] = x % 70000
		case i%7 == 4:
			vals[i] = x << (i % 31)
		case i%7 == 5:
			vals[i] = int64(i) - 1500
		default:
			vals[i] = x % (1 << 31)
		}
	}
	vals[n-1] = math.Inf(-1)
	return vals
}

func TestNumRunValues(t *testing.T) {
	for _, n := range []int{1, 2, 3, 9, 1000, 1001, 5000, 20000} {
		vals := numRunValues(n)
		if n > 3 {
			vals[2] = math.Copysign(0, -1)
			vals[3] = int64(math.MinInt64)
		}
		data := numRunPickle(vals)
		var got any
		if err := Unmarshal(data, &got); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		l, ok := got.([]any)
		if !ok || len(l) != n {
			t.Fatalf("n=%d: got %T of %d items", n, got, len(l))
		}
		for i, v := range l {
			want := vals[i]
			if w, ok := want.(*big.Int); ok {
				if g, ok := v.(*big.Int); !ok || g.Cmp(w) != 0 {
					t.Fatalf("n=%d item %d: got %T %v, want %v", n, i, v, v, w)
				}
				continue
			}
			if f, ok := want.(float64); ok {
				g, ok := v.(float64)
				if !ok || math.Float64bits(g) != math.Float64bits(f) {
					t.Fatalf("n=%d item %d: got %T %v, want float %v", n, i, v, v, f)
				}
				continue
			}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("n=%d item %d: got %T %v, want %T %v", n, i, v, v, want, want)
			}
		}
	}
}

// withoutNumRuns decodes with numRun turned off (loadNumber never enters
// it), the path every number took before it.
func withoutNumRuns(f func()) {
	saved := numberOps
	numberOps = [256]bool{}
	defer func() { numberOps = saved }()
	f()
}

// outcome describes a decode's result: its value, or its error (type,
// offset, opcode, limit) for comparing two decodes.
func outcome(data []byte, o DecOptions) string {
	m, err := o.DecMode()
	if err != nil {
		return "mode: " + err.Error()
	}
	// A state of its own, as Unmarshal's would be with nothing pooled
	// (pooled slab tails and stacks would make the limits fall elsewhere).
	s := &decState{m: m.(*decMode), data: data}
	s.stack, s.marks, s.memo = make([]any, 0, 64), make([]mark, 0, 16), make([]any, 0, 64)
	var v any
	if err := s.decodeInto(&v, reflect.Value{}); err != nil {
		var se *SyntaxError
		var le *LimitError
		errors.As(err, &le)
		if errors.As(err, &se) {
			return fmt.Sprintf("error at %d op %#x limit %v truncated %v: %v", se.Offset, se.Op, le != nil, errors.Is(err, ErrTruncated), err)
		}
		return fmt.Sprintf("error limit %v: %v", le != nil, err)
	}
	return fmt.Sprintf("%v", v)
}

// TestNumRunLimits checks that runs of numbers meet every limit exactly
// where one number at a time does: the same values, or the same error at
// the same opcode, for MaxObjects and MaxAlloc around the thresholds and
// for the pickle cut short anywhere.
func TestNumRunLimits(t *testing.T) {
	data := numRunPickle(numRunValues(2500))
	compare := func(name string, data []byte, o DecOptions) {
		t.Helper()
		got := outcome(data, o)
		var want string
		withoutNumRuns(func() { want = outcome(data, o) })
		if got != want {
			if len(got) > 300 {
				got = got[:300]
			}
			if len(want) > 300 {
				want = want[:300]
			}
			t.Fatalf("%s: with runs %s\nwithout %s", name, got, want)
		}
	}
	limited := 0
	for _, n := range []int{1, 2, 100, 999, 1000, 1001, 1002, 1500, 2500, 2501, 2502, 2503} {
		o := DecOptions{MaxObjects: n}
		compare(fmt.Sprintf("MaxObjects %d", n), data, o)
		if n <= 2500 {
			var v any
			m, _ := o.DecMode()
			if err := m.Unmarshal(data, &v); !errors.Is(err, ErrLimit) {
				t.Fatalf("MaxObjects %d: %v, want ErrLimit", n, err)
			}
			limited++
		}
	}
	// Budgets from far too small to enough, in steps finer than a slab.
	for a := int64(64); a < 200000; a += 1 + a/16 {
		compare(fmt.Sprintf("MaxAlloc %d", a), data, DecOptions{MaxAlloc: a})
	}
	for cut := 3; cut < 2000; cut += 7 {
		compare(fmt.Sprintf("cut at %d", cut), data[:cut], DecOptions{})
	}
	// A run whose first boxed number comes late: its slab is sized by the
	// input left at that number, not at the run's start.
	late := make([]any, 1000)
	for i := range late {
		late[i] = int64(i % 200)
		if i >= 990 {
			late[i] = int64(i) << 40
		}
	}
	data = numRunPickle(late)
	for a := int64(8); a < 4000; a += 8 {
		compare(fmt.Sprintf("late MaxAlloc %d", a), data, DecOptions{MaxAlloc: a})
	}
	if limited == 0 {
		t.Fatal("no limit was reached")
	}
}

// maxReader returns at most n bytes per Read.
type maxReader struct {
	r io.Reader
	n int
}

func (c maxReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

// streamOutcome is outcome for two pickles read by a Decoder in chunks.
func streamOutcome(data []byte, o DecOptions, chunk int) string {
	// Empty statePool: carried slab tails would make the MaxAlloc limit
	// fall elsewhere.
	runtime.GC()
	runtime.GC()
	m, err := o.DecMode()
	if err != nil {
		return "mode: " + err.Error()
	}
	dec := m.NewDecoder(maxReader{bytes.NewReader(data), chunk})
	out := ""
	for range 2 {
		var v any
		if err := dec.Decode(&v); err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				return out + fmt.Sprintf("error at %d op %#x: %v", se.Offset, se.Op, err)
			}
			return out + "error: " + err.Error()
		}
		out += fmt.Sprintf("%v; ", v)
	}
	return out
}

// TestNumRunStream is TestNumRunLimits for a Decoder: a run stops 10
// bytes before the end of what has been read (the opcode loop reads
// more there), and the limits fall where they fell one number at a time.
func TestNumRunStream(t *testing.T) {
	one := numRunPickle(numRunValues(2500))
	data := append(append([]byte{}, one...), one...)
	compare := func(name string, data []byte, o DecOptions, chunk int) {
		t.Helper()
		got := streamOutcome(data, o, chunk)
		var want string
		withoutNumRuns(func() { want = streamOutcome(data, o, chunk) })
		if got != want {
			t.Fatalf("%s, chunks of %d: with runs %.300s\nwithout %.300s", name, chunk, got, want)
		}
	}
	for _, chunk := range []int{1, 4096} {
		for _, n := range []int{1, 1001, 2500, 2501, 2503} {
			compare(fmt.Sprintf("MaxObjects %d", n), data, DecOptions{MaxObjects: n}, chunk)
		}
		for a := int64(64); a < 200000; a += 1 + a/4 {
			compare(fmt.Sprintf("MaxAlloc %d", a), data, DecOptions{MaxAlloc: a}, chunk)
		}
		for cut := 3; cut < len(data); cut += 997 {
			compare(fmt.Sprintf("cut at %d", cut), data[:cut], DecOptions{}, chunk)
		}
	}
}
