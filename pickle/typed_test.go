package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// genericOnlyMode decodes typed targets through the generic value and
// converter.go only: the reference the typed decoder must agree with.
var genericOnlyMode = func() *decMode {
	m, _ := DecOptions{}.DecMode()
	dm := m.(*decMode)
	dm.genericOnly = true
	return dm
}()

type tRec struct {
	ID    int64    `pickle:"id"`
	Name  string   `pickle:"name"`
	Score float64  `pickle:"score"`
	Tags  []string `pickle:"tags"`
	OK    bool     `pickle:"ok"`
	Next  *tRec    `pickle:"next"`
}

type tEmbedded struct {
	*tInner
	Outer string
}

type tInner struct{ Inner int }

// typedTargets are the Go types the differential tests decode into.
func typedTargets() []func() any {
	return []func() any{
		func() any { return new([]tRec) },
		func() any { return new(map[string]tRec) },
		func() any { return new(map[string]*tRec) },
		func() any { return new([]int64) },
		func() any { return new([]int8) },
		func() any { return new([]uint16) },
		func() any { return new([]float32) },
		func() any { return new([]string) },
		func() any { return new([][]string) },
		func() any { return new([][2]int) },
		func() any { return new([]byte) },
		func() any { return new([4]byte) },
		func() any { return new([]*tRec) },
		func() any { return new(tRec) },
		func() any { return new(*tRec) },
		func() any { return new(map[string][]int) },
		func() any { return new(map[string]map[string]int) },
		func() any { return new([]map[string]int) },
		func() any { return new(tEmbedded) },
		func() any { return new(bool) },
		func() any { return new(uint) },
		func() any { return new(string) },
	}
}

// typedInputs are pickles of shapes the typed decoder reads itself and of
// shapes where it must hand over to the generic path.
func typedInputs(t testing.TB) [][]byte {
	rec := func(i int) *Dict {
		d := NewDict()
		_ = d.Set("id", int64(i))
		_ = d.Set("name", fmt.Sprintf("n%d", i))
		_ = d.Set("score", float64(i)/4)
		_ = d.Set("tags", []any{"a", "b"}[:i%3])
		_ = d.Set("ok", i%2 == 0)
		return d
	}
	recs := make([]any, 2500)
	for i := range recs {
		recs[i] = rec(i)
	}
	byName := NewDict()
	for i := 0; i < 30; i++ {
		_ = byName.Set(fmt.Sprint("k", i), rec(i))
	}
	shared := []any{"x", "y"}
	sharedRec := rec(7)
	linked := rec(1)
	_ = linked.Set("next", sharedRec)
	ints := make([]any, 3001)
	for i := range ints {
		ints[i] = int64(i*i*i) - 5000
	}
	bigs := []any{int64(1) << 62, int64(-1) << 63, int64(127), int64(-129), int64(70000)}
	values := []any{
		recs, byName, ints, bigs,
		[]any{}, []any{[]any{}}, []any{[]any{}, []any{}}, []any{[]any{"a"}}, []any{[]any{}, "s"},
		[]any{NewDict(), NewDict(), NewDict()}, []any{rec(1)}, []any{shared, shared, shared},
		[]any{sharedRec, sharedRec}, linked, []any{linked, sharedRec},
		Tuple{int64(1), int64(2)}, Tuple{int64(1), int64(2), int64(3), int64(4)},
		[]any{Tuple{int64(1), int64(2), int64(3), int64(4)}},
		[]any{Tuple{}, Tuple{int64(5)}}, []any{nil, true, false, 1.5, "é\U0001F600"},
		[]any{int64(300), int64(-1)}, []any{[]byte("abc"), []byte{}}, []byte("abcdef"),
		"str", int64(3), true, nil, 2.5,
		[]any{map[string]any{"a": int64(1)}, map[string]any{}}, map[string]any{"a": []any{int64(1)}, "b": []any{}},
		map[string]any{"Inner": int64(4), "Outer": "o", "id": int64(9), "NAME": "upper"},
		[]any{strings.Repeat("long", 100), strings.Repeat("long", 100)},
		[]any{NewDict(), []any{}, Tuple{}, int64(1)},
	}
	var out [][]byte
	for _, v := range values {
		for _, m := range []EncMode{defaultEncMode, olderModes[2], olderModes[3]} {
			b, err := m.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	// A list that contains itself, a dict whose value is itself.
	out = append(out, []byte("\x80\x04]\x94h\x00a."), []byte("\x80\x04}\x94\x8c\x01a\x94h\x00s."))
	return out
}

// checkTypedAgrees decodes data into target with the typed decoder and
// with the generic path, and fails if they disagree.
func checkTypedAgrees(t testing.TB, data []byte, target func() any) {
	t.Helper()
	fast, slow := target(), target()
	errFast := Unmarshal(data, fast)
	errSlow := genericOnlyMode.Unmarshal(data, slow)
	if (errFast == nil) != (errSlow == nil) {
		t.Fatalf("%T of %q: typed decoder: %v; generic path: %v", fast, data, errFast, errSlow)
	}
	if errFast != nil {
		if errFast.Error() != errSlow.Error() {
			t.Fatalf("%T of %q: errors differ: %v / %v", fast, data, errFast, errSlow)
		}
		return
	}
	if !typedSame(fast, slow) {
		t.Fatalf("%T of %q:\ntyped   %#v\ngeneric %#v", fast, data, fast, slow)
	}
}

// typedSame is reflect.DeepEqual, except that a NaN equals itself: where
// DeepEqual says no, the two values are the same if they encode to the
// same bytes (a NaN field encodes its bits; any other difference in value
// changes the bytes).
func typedSame(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ea, errA := Marshal(a)
	eb, errB := Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ea, eb)
}

func TestTypedDecoderAgreesWithGenericPath(t *testing.T) {
	total, before := 0, typedFallbacks.Load()
	for _, data := range typedInputs(t) {
		for _, target := range typedTargets() {
			checkTypedAgrees(t, data, target)
			total++
		}
	}
	t.Logf("%d of %d decodes handed over to the generic path", typedFallbacks.Load()-before, total)
}

func TestTypedDecoderReadsCPythonShapesItself(t *testing.T) {
	shared := []any{"x", "y"}
	rec := func(i int, tags []any) *Dict {
		d := NewDict()
		_ = d.Set("id", int64(i))
		_ = d.Set("tags", tags)
		_ = d.Set("ok", true)
		return d
	}
	for _, tc := range []struct {
		v      any
		target any
	}{
		{[]any{rec(1, []any{}), rec(2, []any{"a"}), rec(3, shared), rec(4, shared)}, new([]tRec)},
		{[]any{rec(1, []any{}), rec(2, []any{"a"})}, new([]*tRec)},
		{map[string]any{"a": rec(1, nil), "b": rec(2, []any{})}, new(map[string]tRec)},
		{[]any{NewDict(), NewDict()}, new([]map[string]int)},
		{[]any{[]any{}, []any{}, []any{"x"}}, new([][]string)},
		{make([]any, 2001), new([]*int)},
		{Tuple{"a", "b", "c", "d"}, new([]string)},
	} {
		before := typedFallbacks.Load()
		if err := Unmarshal(mustMarshal(t, tc.v), tc.target); err != nil {
			t.Fatal(err)
		}
		if typedFallbacks.Load() != before {
			t.Errorf("%s into %T went through the generic path", Repr(tc.v), tc.target)
		}
	}
}

func TestTypedDecoderKeepsSharing(t *testing.T) {
	shared := []any{"x", "y"}
	rec := NewDict()
	_ = rec.Set("id", int64(1))
	data, err := Marshal([]any{[]any{shared, shared}, []any{rec, rec}})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{}
	_ = v
	var lists [][][]string
	if err := Unmarshal(mustMarshal(t, []any{shared, shared}), &lists); err == nil {
		t.Fatal("expected a type error")
	}
	var ss [][]string
	if err := Unmarshal(mustMarshal(t, []any{shared, shared}), &ss); err != nil {
		t.Fatal(err)
	}
	if &ss[0][0] != &ss[1][0] {
		t.Error("a list referenced twice decoded to two backing arrays")
	}
	var ps []*tRec
	if err := Unmarshal(mustMarshal(t, []any{rec, rec}), &ps); err != nil {
		t.Fatal(err)
	}
	if ps[0] != ps[1] || ps[0].ID != 1 {
		t.Errorf("a dict referenced twice decoded to %p and %p", ps[0], ps[1])
	}
	_ = data
}

func TestTypedDecoderAllocatesOnlyTheResult(t *testing.T) {
	ints := make([]any, 10000)
	for i := range ints {
		ints[i] = int64(i) << 20
	}
	data := mustMarshal(t, ints)
	var out []int64
	allocs := testing.AllocsPerRun(20, func() {
		out = nil
		if err := Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
	})
	// The backing array grows by doubling: about log2(10000) arrays.
	if allocs > 20 {
		t.Errorf("decoding 10000 ints into []int64: %.0f allocations", allocs)
	}
}

func TestNaiveLocationHasAName(t *testing.T) {
	if Naive.String() != "naive" {
		t.Errorf("Naive.String() = %q", Naive.String())
	}
	tm := time.Date(2024, 1, 2, 3, 4, 5, 0, Naive)
	if got := tm.String(); got != "2024-01-02 03:04:05 +0000 naive" {
		t.Errorf("a naive time prints as %q", got)
	}
}

func TestOmitZero(t *testing.T) {
	type withTime struct {
		When  time.Time `pickle:"when,omitzero"`
		Empty time.Time `pickle:"empty,omitempty"`
		N     int       `pickle:"n,omitzero"`
		P     *tInner   `pickle:"p,omitzero"`
		S     []int     `pickle:"s,omitzero"`
		A     [2]int    `pickle:"a,omitzero"`
		In    tInner    `pickle:"in,omitzero"`
		Loc   time.Time `pickle:"loc,omitzero"`
		Keep  string    `pickle:"keep"`
	}
	v := withTime{Loc: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).In(time.FixedZone("X", 0)), S: []int{}}
	var got any
	if err := Unmarshal(mustMarshal(t, v), &got); err != nil {
		t.Fatal(err)
	}
	d := got.(*Dict)
	var keys []string
	for k := range d.All() {
		keys = append(keys, k.(string))
	}
	// omitzero leaves out zero values (time.Time by its IsZero, which is
	// true for the zero instant in any location); omitempty leaves out
	// nothing of a struct type; a non-nil empty slice is not zero.
	if want := "empty s keep"; strings.Join(keys, " ") != want {
		t.Errorf("keys %v, want %s", keys, want)
	}
	v.When, v.N, v.P, v.A, v.In.Inner = time.Unix(1, 0), 1, &tInner{}, [2]int{0, 1}, 2
	if err := Unmarshal(mustMarshal(t, v), &got); err != nil {
		t.Fatal(err)
	}
	if n := got.(*Dict).Len(); n != 8 {
		t.Errorf("%d keys with non-zero fields: %s", n, Repr(got))
	}
	// The same through the reflection encoder (a registered class: the
	// fields are its state dict).
	type withTimeClass withTime
	RegisterClass("omitzero_test", "WithTime", withTimeClass{})
	data := mustMarshal(t, withTimeClass{})
	registry.Lock()
	delete(registry.byName, Global{"omitzero_test", "WithTime"})
	delete(registry.byType, reflect.TypeOf(withTimeClass{}))
	registry.Unlock()
	var o any
	if err := Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	st, ok := o.(*Object).State.(*Dict)
	if !ok || st.Len() != 2 {
		t.Errorf("registered class state: %s", Repr(o.(*Object).State))
	}
}

// FuzzTypedAgrees decodes the same input into *any and, through the typed
// decoder, into a few Go types, and checks that each typed result is what
// converting the generic value gives (the generic path decides; the typed
// decoder must agree with it, error for error).
// rebindAhead is a list of three records; the third's key BINGET 2 names
// "id" (a float there) and a later BINPUT 2 in the same record rebinds
// index 2 to another str. The empty second record makes the typed decoder
// read the third ahead (followedBy) before reading it for real.
const rebindAhead = "\x80\x04]\x94(}\x94(\x8c\x02id\x94K0u}}\x94(h\x02G00000000\x8c\x0500000q\x02K0ue."

// TestTypedLookaheadMemoRebind checks that a memo index rebound while the
// typed decoder reads ahead is not seen by the real read: decoding
// rebindAhead into []tRec fails as the generic path does (the float under
// "id"), where it once dropped the float silently (the read-ahead's BINPUT
// stayed in the memo, so the real read took the key for the other str).
func TestTypedLookaheadMemoRebind(t *testing.T) {
	var v []tRec
	err := Unmarshal([]byte(rebindAhead), &v)
	var g any
	if gerr := Unmarshal([]byte(rebindAhead), &g); gerr != nil {
		t.Fatalf("generic decode: %v", gerr)
	}
	if err == nil || !strings.Contains(err.Error(), "[2].id") {
		t.Fatalf("typed decode of %q: err %v, value %+v; want the float under id refused", rebindAhead, err, v)
	}
}

func FuzzTypedAgrees(f *testing.F) {
	f.Add([]byte("\x80\x04\x95\x1b\x00\x00\x00\x00\x00\x00\x00]\x94(}\x94(\x8c\x02id\x94K\x01\x8c\x04tags\x94]\x94u}\x94(h\x02K\x02h\x03]\x94\x8c\x01a\x94aue."))
	f.Add([]byte("\x80\x04]\x94(]\x94]\x94h\x01e."))
	f.Add([]byte("\x80\x04}\x94(\x8c\x01a\x94]\x94(K\x01K\x02e\x8c\x01b\x94h\x02u."))
	f.Add([]byte("\x80\x04]\x94(\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7fJ\xff\xff\xff\xffM\x00\x01e."))
	f.Add([]byte("\x80\x04]\x94(}\x94}\x94\x8c\x01x\x94Nse."))
	// A BINPUT that rebinds a live memo index, read ahead by followedBy
	// (after an empty dict) before it is read for real.
	f.Add([]byte(rebindAhead))
	// Records and their lists of tags fetched again from the memo (memo
	// entries that name an array and an offset in it: dataRef).
	recs := make([]any, 0, 12)
	for i := 0; i < 6; i++ {
		rec := NewDict()
		_ = rec.Set("id", int64(i))
		_ = rec.Set("tags", []any{"a", "b"})
		recs = append(recs, rec)
	}
	if data, err := Marshal(append(recs, recs...)); err == nil {
		f.Add(data)
	}
	// Records read by the key cache (keyRun), then a key's memo index
	// bound to another str.
	f.Add(keyRecs(recBytes(shortStr("score", opBinput, 2), binfloat(5.5)), recBytes(binget(2), binint1(6))))
	// Runs of short strs, checked together (shortStrs): a sequence split
	// across two strs, and a bad str after good ones.
	f.Add(shortStrRunPickle([]string{"héllo wörld ✓ 1", "aaaaaaaa\xe6", "\x97\xa5bbbbbbbb", "日本 😀 ünïcödé"}))
	f.Add(shortStrRunPickle([]string{"héllo wörld ✓ 1", "héllo wörld ✓ 2", "aaaaaaaaa\xff", "héllo wörld ✓ 3"}))
	f.Add(shortStrRunPickle([]string{"héllo wörld ✓ 1", "héllo wörld ✓ 2", "héllo wörld ✓ 3", "héllo wörld ✓ 4", "ünïcödé 日本 😀"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var v any
		_ = fuzzMode.Unmarshal(data, &v)
		for _, target := range typedTargets() {
			checkTypedAgrees(t, data, target)
		}
	})
}

func TestTypedDecoderOverAStream(t *testing.T) {
	var stream []byte
	inputs := typedInputs(t)
	for _, data := range inputs {
		stream = append(stream, data...)
	}
	for _, target := range typedTargets() {
		dec := NewDecoder(&chunkReader{data: stream, sizes: stream})
		for i, data := range inputs {
			got, want := target(), target()
			errGot := dec.Decode(got)
			errWant := Unmarshal(data, want)
			if (errGot == nil) != (errWant == nil) || errGot == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("pickle %d into %T: stream %v (%v), Unmarshal %v (%v)", i, got, errGot, got, errWant, want)
			}
			if errGot != nil {
				break // the rest of the stream is dropped after an error
			}
		}
	}
}

func TestTypedStructEncodesAsItsDict(t *testing.T) {
	type one struct {
		A int `pickle:"a"`
	}
	type three struct {
		A int      `pickle:"a"`
		B string   `pickle:"b"`
		C []string `pickle:"c"`
	}
	dict := func(kv ...any) *Dict {
		d := NewDict()
		for i := 0; i < len(kv); i += 2 {
			_ = d.Set(kv[i], kv[i+1])
		}
		return d
	}
	// Lists on both sides of the batch size, and a slice written twice
	// (the second time a memo reference).
	type lists struct{ typed, generic any }
	var sized []lists
	for _, n := range []int{0, 1, 2, 999, 1000, 1001, 2000} {
		typed, generic := make([]int, n), make([]any, n)
		for i := range typed {
			typed[i], generic[i] = i, int64(i)
		}
		sized = append(sized, lists{typed, generic})
	}
	shared, sharedAny := []string{"y", "z"}, []any{"y", "z"}
	sized = append(sized, lists{[][]string{shared, shared, shared[:1]}, []any{sharedAny, sharedAny, []any{"y"}}})
	for p := 0; p <= highestProtocol; p++ {
		m, _ := EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
		for _, tc := range append(sized, []lists{
			{one{1}, dict("a", int64(1))},
			{three{1, "x", []string{"y"}}, dict("a", int64(1), "b", "x", "c", []any{"y"})},
			{[]three{{2, "b", nil}, {3, "b", []string{"z"}}}, []any{dict("a", int64(2), "b", "b", "c", []any{}), dict("a", int64(3), "b", "b", "c", []any{"z"})}}, // a nil slice is an empty list, as before
		}...) {
			got, err1 := m.Marshal(tc.typed)
			want, err2 := m.Marshal(tc.generic)
			if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
				t.Errorf("protocol %d, %T: %x (%v), want %x (%v)", p, tc.typed, got, err1, want, err2)
			}
		}
	}
}

// A string-keyed map is written in key order, however its keys sort: the
// radix sort of long maps and the comparison sort of short ones agree.
func TestTypedMapKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{3, 255, 256, 300, 2500} {
		m := map[string]int{}
		for len(m) < n {
			var k string
			switch rng.IntN(6) {
			case 5: // prefixes that differ in their last byte
				k = fmt.Sprintf("1234567%c%d", 'a'+rng.IntN(26), rng.IntN(n))
			case 0: // shared 8-byte prefixes
				k = fmt.Sprintf("prefix__%d", rng.IntN(10*n))
			case 1: // shorter than a prefix, with NULs
				k = string([]byte{byte(rng.IntN(3)), 0, byte(rng.IntN(3))})[:rng.IntN(4)]
			case 2:
				k = fmt.Sprintf("é%d", rng.IntN(10*n))
			default:
				k = fmt.Sprintf("%x", rng.Uint64()>>rng.IntN(64))
			}
			m[k] = len(m)
		}
		data, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		d, _ := v.(*Dict)
		got := make([]string, 0, n)
		for k, v := range d.All() {
			if m[k.(string)] != int(v.(int64)) {
				t.Fatalf("n=%d: %q: %v, want %d", n, k, v, m[k.(string)])
			}
			got = append(got, k.(string))
		}
		if len(got) != n || !slices.IsSorted(got) {
			t.Errorf("n=%d: %d keys, sorted %v", n, len(got), slices.IsSorted(got))
		}
	}
}

// FuzzTypedEncodeCanonical decodes the input into the typed targets and
// encodes each result at every protocol: the typed encoder's bytes must be
// what the generic encoder writes for the value they decode to (one set of
// CPython's rules: batches, memo references for shared slices and equal
// strs, key order).
func FuzzTypedEncodeCanonical(f *testing.F) {
	for _, data := range typedInputs(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		for _, target := range typedTargets() {
			p := target()
			if Unmarshal(data, p) != nil {
				continue
			}
			v := reflect.ValueOf(p).Elem().Interface()
			for proto := 0; proto <= highestProtocol; proto++ {
				m, _ := EncOptions{Protocol: proto, ProtocolZero: proto == 0}.EncMode()
				typed, err := m.Marshal(v)
				if err != nil {
					continue
				}
				var g any
				if err := Unmarshal(typed, &g); err != nil {
					t.Fatalf("%T at protocol %d: %x does not decode: %v", v, proto, typed, err)
				}
				generic, err := m.Marshal(g)
				if err != nil || !bytes.Equal(typed, generic) {
					t.Fatalf("%T at protocol %d:\ntyped   %x\ngeneric %x (%v)", v, proto, typed, generic, err)
				}
			}
		}
	})
}

// strList reads a short list of strs in one pass and gives up, keeping
// nothing, on anything else; list then reads the same bytes.
func TestTypedShortStrListsAgree(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"two new strs", "]\x94(\x8c\x01a\x94\x8c\x01b\x94e"},
		{"a str fetched from the memo", "]\x94(\x8c\x01a\x94e]\x94(h\x01h\x01e"},
		{"more items than a carved run", "]\x94(\x8c\x01a\x94\x8c\x01b\x94\x8c\x01c\x94\x8c\x01d\x94\x8c\x01e\x94e"},
		{"the list itself as its item", "]\x94(h\x00e"},
		{"an item memoized in the same list", "]\x94(\x8c\x01a\x94h\x01e"},
		{"a str that is not UTF-8", "]\x94(\x8c\x01\xff\x94e"},
		{"an int among strs", "]\x94(\x8c\x01a\x94K\x01e"},
		{"a str without its MEMOIZE", "]\x94(\x8c\x01ae"},
		{"a second batch", "]\x94(\x8c\x01a\x94e(\x8c\x01b\x94e"},
		{"an empty batch", "]\x94(e"},
		{"a memo entry that is a list", "]\x94(]\x94(h\x00ee"},
		{"a truncated item", "]\x94(\x8c\x05a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, data := range [][]byte{
				[]byte("\x80\x04" + tc.body + "."),
				[]byte("\x80\x04]\x94(" + tc.body + tc.body + "e."),
				[]byte("\x80\x04]\x94(}\x94(\x8c\x04tags\x94" + tc.body + "ue."),
			} {
				for _, target := range []func() any{
					func() any { return new([]string) },
					func() any { return new([][]string) },
					func() any { return new([]tRec) },
				} {
					checkTypedAgrees(t, data, target)
				}
			}
		})
	}
	before := typedFallbacks.Load()
	var recs []tRec
	data := []byte("\x80\x04]\x94(}\x94(\x8c\x04tags\x94]\x94(\x8c\x01a\x94\x8c\x01b\x94eu}\x94(h\x02]\x94(h\x04h\x05eue.")
	if err := Unmarshal(data, &recs); err != nil {
		t.Fatal(err)
	}
	if typedFallbacks.Load() != before {
		t.Error("records with short lists of tags went through the generic path")
	}
	if len(recs) != 2 || !slices.Equal(recs[0].Tags, []string{"a", "b"}) || !slices.Equal(recs[1].Tags, []string{"a", "b"}) ||
		unsafe.StringData(recs[0].Tags[0]) != unsafe.StringData(recs[1].Tags[0]) || cap(recs[0].Tags) != 2 {
		t.Errorf("decoded %#v", recs)
	}
}

// record reads a dict into a struct as CPython writes a record and gives
// up, keeping nothing, on any other start. Under tight limits the typed
// decoder and the generic path may disagree on whether a pickle is too
// much (the generic path also counts keys as objects, and its converter
// counts depth again), so there a typed decode that succeeds must give the
// value the generic path gives without limits.
func TestTypedRecordsAgree(t *testing.T) {
	bodies := []struct{ name, body string }{
		{"one batch", "}\x94(\x8c\x02id\x94K\x01\x8c\x02ok\x94\x88u"},
		{"a BINPUT for its memo", "}q\x00(\x8c\x02id\x94K\x01u"},
		{"no memo", "}(\x8c\x02id\x94K\x01u"},
		{"a lone SETITEM", "}\x94\x8c\x02id\x94K\x01s"},
		{"two batches", "}\x94(\x8c\x02id\x94K\x01u(\x8c\x02ok\x94\x88u"},
		{"an empty batch", "}\x94(u"},
		{"tags", "}\x94(\x8c\x04tags\x94]\x94(\x8c\x01a\x94e\x8c\x02id\x94K\x07u"},
		{"itself as a value", "}\x94(\x8c\x04next\x94h\x00u"},
		{"a truncated pair", "}\x94(\x8c\x02id\x94"},
	}
	var limited []DecMode
	for _, o := range []DecOptions{{MaxDepth: 2}, {MaxMemo: 3}, {MaxObjects: 4}, {MaxContainerLen: 1}} {
		m, err := o.DecMode()
		if err != nil {
			t.Fatal(err)
		}
		limited = append(limited, m)
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			for _, data := range [][]byte{
				[]byte("\x80\x04" + tc.body + "."),
				[]byte("\x80\x04]\x94(" + tc.body + tc.body + "e."),
				[]byte("\x80\x04}\x94(\x8c\x01k\x94" + tc.body + "\x8c\x01l\x94" + tc.body + "u."),
				// The second record's keys come from the memo (index 2
				// is "tags").
				[]byte("\x80\x04]\x94(}\x94(\x8c\x04tags\x94]\x94(\x8c\x01z\x94eu}\x94(h\x02" + tc.body + "ue."),
			} {
				for _, target := range []func() any{
					func() any { return new(tRec) },
					func() any { return new([]tRec) },
					func() any { return new(map[string]tRec) },
					func() any { return new([]*tRec) },
				} {
					checkTypedAgrees(t, data, target)
					slow := target()
					errSlow := genericOnlyMode.Unmarshal(data, slow)
					for _, m := range limited {
						fast := target()
						if err := m.Unmarshal(data, fast); err == nil && (errSlow != nil || !typedSame(fast, slow)) {
							t.Fatalf("%T of %q with limits: %#v; generic path without: %#v, %v", fast, data, fast, slow, errSlow)
						}
					}
				}
			}
		})
	}
}

// A str that is long enough for an allocation of its own must not move the
// string chunk that the next short strs go to: on main before round 4, a
// short str after it was remembered in the long one's place, and fetched
// from the memo again it read the long one's bytes (or past its end).
func TestTypedStrAfterALongStrIsFetchedRight(t *testing.T) {
	binunicode := func(s string) string {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
		return "X" + string(n[:]) + s + "\x94"
	}
	for _, tc := range []struct {
		name   string
		before []string
		long   string
	}{
		{"past a short str", []string{"x"}, strings.Repeat("L", 40000)},
		{"past the long str's end", []string{strings.Repeat("a", 8000), strings.Repeat("b", 8000), strings.Repeat("c", 8000)}, strings.Repeat("L", 9000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			for _, s := range tc.before {
				body += binunicode(s)
			}
			body += binunicode(tc.long) + "\x8c\x03abc\x94"
			k := len(tc.before) + 2 // the memo index of "abc"
			data := []byte(fmt.Sprintf("\x80\x04]\x94(%sh%ce.", body, byte(k)))
			want := append(append(slices.Clone(tc.before), tc.long, "abc"), "abc")
			var got []string
			if err := Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("the str fetched from the memo is %.20q, want %q", got[len(got)-1], "abc")
			}
			checkTypedAgrees(t, data, func() any { return new([]string) })
		})
	}
}

func TestASCIIWordLooksOnlyAtItsBytes(t *testing.T) {
	for _, tc := range []struct {
		data   string
		off, n int
		want   bool
	}{
		{"abcdefgh", 0, 8, true},
		{"abcdefg\x80", 0, 7, true},  // the byte past the str is not its
		{"abcdefg\x80", 0, 8, false}, // ... and is here
		{"\x80bcdefgh\x80", 1, 7, true},
		{"a\xe9cdefgh", 0, 3, false},
		{"\x80\x80\x80\x80\x80\x80\x80\x80", 0, 0, true},
		{"abcdefg", 0, 3, false},          // fewer than 8 bytes there: validPyUTF8 decides
		{"abcdefghijklmnop", 0, 9, false}, // longer than a word: validPyUTF8 decides
	} {
		if got := asciiWord([]byte(tc.data), tc.off, tc.n); got != tc.want {
			t.Errorf("asciiWord(%q, %d, %d) = %v, want %v", tc.data, tc.off, tc.n, got, tc.want)
		}
	}
}
