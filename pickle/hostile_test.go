package pickle

import (
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// Hostile inputs that amplify: a few hundred bytes whose naive decoding
// costs time or memory exponential in their size. Each must end in a
// correct value or a clean error, fast, under the default options.

// pushTupleBomb appends opcodes that push t_n, where t_0 = () and
// t_{i+1} = (t_i, t_i): n distinct tuples, 2^n leaves by content.
func pushTupleBomb(b []byte, n int) []byte {
	b = append(b, opEmptyTuple, opMemoize)
	for i := 0; i < n; i++ {
		b = append(b, opPop)
		for range 2 {
			b = append(b, opLongBinget)
			b = binary.LittleEndian.AppendUint32(b, uint32(i))
		}
		b = append(b, opTuple2, opMemoize)
	}
	return b
}

// tupleBomb returns the pickle of {t_n: 1}, {t_n} or {frozenset({t_n}): 1}.
func tupleBomb(n int, kind string) []byte {
	b := []byte{opProto, 4}
	switch kind {
	case "dict":
		b = append(b, opEmptyDict)
		b = pushTupleBomb(b, n)
		b = append(b, opBinint1, 1, opSetitem)
	case "set":
		b = append(b, opEmptySet, opMark)
		b = pushTupleBomb(b, n)
		b = append(b, opAdditems)
	case "frozenset-key":
		b = append(b, opEmptyDict, opMark)
		b = pushTupleBomb(b, n)
		b = append(b, opFrozenset, opBinint1, 1, opSetitem)
	}
	return append(b, opStop)
}

// buildTuple returns t_n built in Go, with fresh tuples (no sharing with
// any other call).
func buildTuple(n int) Tuple {
	t := Tuple{}
	for i := 0; i < n; i++ {
		t = Tuple{t, t}
	}
	return t
}

func TestTupleKeyBombDecodesInLinearTime(t *testing.T) {
	const n = 60 // 2^60 leaves by content; CPython itself needs 2^n steps here
	for _, kind := range []string{"dict", "set", "frozenset-key"} {
		t.Run(kind, func(t *testing.T) {
			data := tupleBomb(n, kind)
			if got := allocatedBy(func() {
				var v any
				if err := Unmarshal(data, &v); err != nil {
					t.Fatal(err)
				}
			}); got > 64<<10 {
				t.Errorf("decoding %d bytes allocated %d bytes", len(data), got)
			}
			var v any
			if err := Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			// The value is right: the key is found with an equal tuple
			// built independently, and not with a different one.
			same, other := buildTuple(n), buildTuple(n-1)
			switch x := v.(type) {
			case *Dict:
				key := any(same)
				if kind == "frozenset-key" {
					fs, err := NewFrozenSet(same)
					if err != nil {
						t.Fatal(err)
					}
					key = fs
				}
				if got, ok := x.Get(key); !ok || got != int64(1) {
					t.Fatalf("d[t] = %v, %v", got, ok)
				}
				if _, ok := x.Get(other); ok {
					t.Fatal("a different tuple found the key")
				}
			case *Set:
				if !x.Has(same) || x.Has(other) || x.Len() != 1 {
					t.Fatal("set membership is wrong")
				}
			default:
				t.Fatalf("decoded %T", v)
			}
		})
	}
}

// allocatedBy returns the bytes allocated (by every goroutine) during one
// call of f.
func allocatedBy(f func()) uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	f()
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc - before
}

func TestHashKeysAgreeWithPythonEquality(t *testing.T) {
	long := strings.Repeat("x", 500)
	p1000 := new(big.Int).Lsh(big.NewInt(1), 1000)
	f1000 := math.Ldexp(1, 1000)
	d := NewDict()
	for _, kv := range [][2]any{
		{long, "long str"},
		{[]byte(long), "long bytes"},
		{Tuple{long, int64(1)}, "tuple with a long str"},
		{p1000, "2**1000"},
		{Tuple{p1000}, "(2**1000,)"},
		{buildTuple(40), "t40"},
	} {
		if err := d.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		key  any
		want any
	}{
		{strings.Repeat("x", 500), "long str"},
		{[]byte(strings.Repeat("x", 500)), "long bytes"},
		{Tuple{strings.Repeat("x", 500), 1.0}, "tuple with a long str"},
		{f1000, "2**1000"},                     // 2.0**1000 == 2**1000
		{Tuple{f1000}, "(2**1000,)"},           // and inside a tuple
		{new(big.Int).Set(p1000), "2**1000"},   // another object
		{buildTuple(40), "t40"},                // equal, not identical
		{strings.Repeat("x", 499), nil},        // shorter: absent
		{Tuple{strings.Repeat("x", 500)}, nil}, // other length: absent
		{buildTuple(39), nil},
	} {
		got, ok := d.Get(tc.key)
		if tc.want == nil {
			if ok {
				t.Errorf("key %.40s found (%v)", Repr(tc.key), got)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("key %.40s: got %v, %v; want %v", Repr(tc.key), got, ok, tc.want)
		}
	}
	if d.Len() != 6 {
		t.Errorf("%d entries", d.Len())
	}
	c := d.Clone()
	c.Update(d)
	if c.Len() != 6 {
		t.Errorf("clone+update: %d entries", c.Len())
	}
	if got, _ := c.Get(buildTuple(40)); got != "t40" {
		t.Errorf("clone lost t40: %v", got)
	}
}

func TestEqualIsPythonEquality(t *testing.T) {
	self := []any{nil}
	self[0] = self
	self2 := []any{nil}
	self2[0] = self2
	d1, d2 := NewDict(), NewDict()
	_ = d1.Set("a", int64(1))
	_ = d1.Set("b", Tuple{1.5})
	_ = d2.Set("b", Tuple{1.5})
	_ = d2.Set("a", true)
	s, _ := NewSet(int64(1), "x")
	fs, _ := NewFrozenSet("x", 1.0)
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{int64(1), 1.0, true}, {true, int64(1), true}, {int64(2), 2.5, false}, {"a", []byte("a"), false},
		{[]byte("ab"), ByteArray("ab"), true}, {math.NaN(), math.NaN(), false},
		{[]any{int64(1)}, Tuple{int64(1)}, false}, {[]any{int64(1), "x"}, []any{1.0, "x"}, true},
		{d1, d2, true}, {s, fs, true}, {buildTuple(50), buildTuple(50), true}, {buildTuple(50), buildTuple(49), false},
		{self, self, true}, {nil, nil, true}, {nil, int64(0), false},
		{&Object{Callable: Global{"decimal", "Decimal"}, Args: Tuple{"1.5"}}, &Object{Callable: Global{"decimal", "Decimal"}, Args: Tuple{"1.5"}}, true},
		{&Object{Callable: Global{"decimal", "Decimal"}, Args: Tuple{"1.5"}}, &Object{Callable: Global{"decimal", "Decimal"}, Args: Tuple{"2"}}, false},
	} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%s, %s) = %v", Repr(tc.a), Repr(tc.b), got)
		}
	}
}

func TestUnhashableKeysStillFail(t *testing.T) {
	d := NewDict()
	for _, k := range []any{[]any{}, Tuple{int64(1), []any{}}, Tuple{NewDict()}, &Set{}, ByteArray("x")} {
		if err := d.Set(k, 1); !errors.Is(err, ErrUnhashable) {
			t.Errorf("Set(%s): %v", Repr(k), err)
		}
	}
}

// laughs returns the pickle of x = ['x'*10]; x = [x]*width, levels times:
// a few hundred bytes, width^levels strings once copied into typed values.
func laughs(t testing.TB, width, levels int) []byte {
	var x any = []any{strings.Repeat("x", 10)}
	for range levels {
		l := make([]any, width)
		for i := range l {
			l[i] = x
		}
		x = l
	}
	b, err := Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBillionLaughsIntoTypedValuesStaysShared(t *testing.T) {
	data := laughs(t, 100, 4) // 10^8 strings if every reference were copied
	if len(data) > 1000 {
		t.Fatalf("the bomb is %d bytes", len(data))
	}
	// Into nested slices, a list referenced 100 times is one backing
	// array: the typed memo keeps the sharing, so nothing is copied.
	// The first decode in a process also makes the decoders' pooled
	// scratch (memo, stack); that is not what is measured here.
	var v [][][][][]string
	var err error
	var warm any
	_ = Unmarshal(data, &warm)
	_ = Unmarshal(data, &v)
	v = nil
	got := allocatedBy(func() { err = Unmarshal(data, &v) })
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 100 || len(v[99]) != 100 || v[99][99][99][99][0] != "xxxxxxxxxx" {
		t.Fatalf("decoded %d", len(v))
	}
	if &v[0][0] != &v[1][0] || &v[0][0][0][0][0] != &v[99][99][99][99][0] {
		t.Errorf("shared lists decoded to separate slices")
	}
	// Copying the shared lists instead of sharing them would allocate
	// megabytes to gigabytes; what decoding allocates beside the shared
	// result (slab and memo space, per decode) is a few tens of KiB.
	if got > 256<<10 {
		t.Errorf("typed decode allocated %d bytes", got)
	}
	// Decoding into *any keeps the sharing too.
	if got := allocatedBy(func() {
		var v any
		if err := Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
	}); got > 64<<10 {
		t.Errorf("generic decode allocated %d bytes", got)
	}
}

func TestBillionLaughsIntoArraysHitsMaxAlloc(t *testing.T) {
	// Arrays cannot share: each reference is a copy, and the copies are
	// charged to MaxAlloc before they are made.
	data := laughs(t, 100, 4)
	var err error
	got := allocatedBy(func() {
		var v [][100][100][100][1]string
		err = Unmarshal(data, &v)
	})
	var le *LimitError
	if !errors.Is(err, ErrLimit) || !errors.As(err, &le) || le.Limit != "MaxAlloc" || !strings.Contains(err.Error(), "MaxAlloc") {
		t.Fatalf("err = %v", err)
	}
	if limit := uint64(DefaultMaxAlloc + DefaultAllocPerByte*len(data)); got > 2*limit {
		t.Errorf("allocated %d bytes before failing; the budget is %d", got, limit)
	}
	// A budget that allows it gives the value.
	small := laughs(t, 10, 3)
	m, _ := DecOptions{MaxAlloc: 1 << 20}.DecMode()
	var v [][10][10][1]string
	if err := m.Unmarshal(small, &v); err != nil || len(v) != 10 || v[9][9][9][0] != "xxxxxxxxxx" {
		t.Fatalf("%v %v", err, len(v))
	}
	m, _ = DecOptions{MaxAlloc: 1 << 10}.DecMode()
	if err := m.Unmarshal(small, &v); !errors.As(err, &le) || le.Max != 1<<10 {
		t.Fatalf("MaxAlloc 1024: %v", err)
	}
}

func TestMaxAllocLetsOrdinaryValuesThrough(t *testing.T) {
	// A value whose Go form is several times its pickle (ints of one byte
	// each into []int64; empty dicts into maps) decodes under the default.
	ints := make([]any, 1<<20)
	for i := range ints {
		ints[i] = int64(i % 200)
	}
	data, err := Marshal(ints)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	if err := Unmarshal(data, &out); err != nil || len(out) != 1<<20 || out[1000] != 1000%200 {
		t.Fatalf("%v %d", err, len(out))
	}
	dicts := make([]any, 1<<16)
	for i := range dicts {
		dicts[i] = NewDict()
	}
	if data, err = Marshal(dicts); err != nil {
		t.Fatal(err)
	}
	var maps []map[string]int
	if err := Unmarshal(data, &maps); err != nil || len(maps) != 1<<16 {
		t.Fatalf("%v %d", err, len(maps))
	}
}

// bigLong4 is the pickle of one n-byte LONG4 integer (positive, n*8-1 bits).
func bigLong4(n int) []byte {
	b := []byte{opProto, 4, opLong4}
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for i := 0; i < n-1; i++ {
		b = append(b, byte(i*7+1))
	}
	return append(b, 0x7f, opStop)
}

// A huge LONG4 (MaxLongBytes allows 1 MiB) decoded into a Go type it does
// not fit costs what decoding it into *any costs: the error names its size,
// not its decimal text (whose conversion took time super-linear in its
// length: ~1 s and 38 MB allocated for 1 MiB, into an int64).
func TestHugeIntTypeErrorIsCheap(t *testing.T) {
	data := bigLong4(1 << 18)
	targets := []any{new(int64), new(uint8), new(string), new(struct{ A []int })}
	for _, target := range targets {
		var err error
		got := allocatedBy(func() { err = Unmarshal(data, target) })
		var te *UnmarshalTypeError
		if !errors.As(err, &te) || te.Value != "int of 2097151 bits" {
			t.Fatalf("%T: err %v; want an UnmarshalTypeError naming an int of 2097151 bits", target, err)
		}
		if bound := uint64(4*len(data) + 64<<10); got > bound {
			t.Errorf("%T: %d bytes allocated for a %d-byte pickle (bound %d)", target, got, len(data), bound)
		}
	}
	// Negative, and ints CPython still writes in decimal (up to 4300
	// digits), keep their text.
	neg := bigLong4(1 << 12)
	neg[len(neg)-2] = 0x80
	var te *UnmarshalTypeError
	if err := Unmarshal(neg, new(int64)); !errors.As(err, &te) || te.Value != "negative int of 32767 bits" {
		t.Errorf("negative: %v", err)
	}
	for _, digits := range []int{20, 4300} {
		x, _ := new(big.Int).SetString(strings.Repeat("9", digits), 10)
		data, _ := Marshal(x)
		if err := Unmarshal(data, new(int64)); !errors.As(err, &te) || te.Value != "int "+x.String() {
			t.Errorf("%d digits: %.80v", digits, err)
		}
	}
	// 10**4300, the first int CPython will not convert to decimal (4301
	// digits), is named by its size.
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(4300), nil)
	for _, x := range []*big.Int{limit, new(big.Int).Neg(limit)} {
		data, _ := Marshal(x)
		want := "int of 14285 bits"
		if x.Sign() < 0 {
			want = "negative " + want
		}
		if err := Unmarshal(data, new(int64)); !errors.As(err, &te) || te.Value != want {
			t.Errorf("±10**4300 (sign %d): %.80v; want %s", x.Sign(), err, want)
		}
	}
}

// Before protocol 2 an int is written as decimal text, which CPython
// writes and reads only up to 4300 digits (pickle.dumps(10**4300, 0)
// raises ValueError; docs/spec.md, CPython-side safety caps). Past that
// Marshal refuses too, at once: it wrote text the decoder refuses (a
// 2000-byte LONG4 decoded and re-encoded at protocol 0 failed FuzzUnmarshal)
// and spent time super-linear in the int's length converting it.
func TestHugeIntBeforeProtocol2(t *testing.T) {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(4300), nil)
	most := new(big.Int).Sub(limit, big.NewInt(1)) // 4300 digits
	least := new(big.Int).Neg(most)                // and a minus sign
	huge := new(big.Int).Lsh(big.NewInt(1), 1<<21) // 631 306 digits
	for p := 0; p <= 1; p++ {
		for _, x := range []*big.Int{most, least} {
			data, err := marshalAt(t, x, p)
			var back *big.Int
			if err != nil || Unmarshal(data, &back) != nil || back.Cmp(x) != 0 {
				t.Errorf("protocol %d, %d digits: %v", p, len(x.String()), err)
			}
		}
		for _, v := range []any{limit, new(big.Int).Neg(limit), huge, *huge, []any{huge}, struct{ B big.Int }{*huge}, &struct{ B *big.Int }{huge}} {
			var err error
			got := allocatedBy(func() { _, err = marshalAt(t, v, p) })
			var ue *UnsupportedValueError
			if !errors.As(err, &ue) {
				t.Errorf("protocol %d, %T: err %v; want an UnsupportedValueError", p, v, err)
			}
			if got > 64<<10 {
				t.Errorf("protocol %d, %T: %d bytes allocated to refuse it", p, v, got)
			}
		}
	}
	// From protocol 2 any size is written (LONG4), as CPython does.
	if data, err := marshalAt(t, huge, 2); err != nil || data[2] != opLong4 {
		t.Errorf("protocol 2: %v", err)
	}
}

type nestedMap map[string]nestedMap

// Empty containers make the typed decoder read ahead (followedBy: is the
// next value an item or a sibling?), and read-aheads nest: n empty lists
// nested by APPENDs read ~n² bytes ahead unbounded (81 MB for n = 9000,
// checked by dropping the budget). The budget holds the bytes read twice
// to the input's size and 4 KiB (then it hands over to the generic path),
// plus the one read-ahead that went past it.
func TestTypedLookaheadIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   string
		target func() any
	}{
		{"lists nested 9000 deep", "\x80\x04" + strings.Repeat("]", 9000) + strings.Repeat("a", 8999) + ".", func() any { return new(rec) }},
		{"lists nested 100 deep, 300 times", "\x80\x04](" + strings.Repeat(strings.Repeat("]", 100)+strings.Repeat("a", 99), 300) + "e.", func() any { return new(rec) }},
		{"dicts nested 4000 deep", "\x80\x04}" + strings.Repeat("\x8c\x01k}", 4000) + strings.Repeat("s", 4000) + ".", func() any { return new(nestedMap) }},
		{"20000 empty lists, then lists of one int", "\x80\x04](" + strings.Repeat("]", 20000) + strings.Repeat("]K\x01a", 5000) + "e.", func() any { return new([][]int) }},
	} {
		before := typedReread.Load()
		got, want := tc.target(), tc.target()
		err := Unmarshal([]byte(tc.data), got)
		reread := typedReread.Load() - before
		if werr := genericOnlyMode.Unmarshal([]byte(tc.data), want); (err == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: typed %v, generic %v", tc.name, err, werr)
		}
		if bound := int64(2*len(tc.data) + 4096); reread > bound {
			t.Errorf("%s: %d bytes read twice for %d bytes (bound %d)", tc.name, reread, len(tc.data), bound)
		}
		t.Logf("%s: %d bytes, %d read twice", tc.name, len(tc.data), reread)
	}
}
