package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// valueHeight is the nesting height of a decoded value as MaxDepth counts
// it: 0 for a leaf (and the empty tuple), 1 for an empty container, else 1 + its items' greatest
// (dict keys included). seen holds the heights of the shared containers.
func valueHeight(v any, seen map[[2]uintptr]int) int {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case Tuple:
		if len(x) == 0 {
			return 0 // a leaf: not checked where it is
		}
		items = x
	case *Dict:
		for _, e := range x.ents {
			items = append(items, e.k, e.v)
		}
	case *Set:
		for _, e := range x.hs.items {
			items = append(items, e.k)
		}
	case *FrozenSet:
		for _, e := range x.hs.items {
			items = append(items, e.k)
		}
	default:
		return 0
	}
	key := [2]uintptr{uintptr(typeWord(v)), reflect.ValueOf(v).Pointer()}
	if h, ok := seen[key]; ok && key[1] != 0 {
		return h
	}
	h := 0
	for _, it := range items {
		h = max(h, valueHeight(it, seen))
	}
	seen[key] = h + 1
	return h + 1
}

// randomNest makes a value of random containers nested up to depth,
// sharing earlier containers (memo gets) when share is set.
func randomNest(r *rand.Rand, depth int, share bool, made *[]any) any {
	if depth == 0 || r.Intn(6) == 0 {
		switch r.Intn(4) {
		case 0:
			return int64(r.Intn(3000) - 1000)
		case 1:
			return strings.Repeat("k", r.Intn(4))
		case 2:
			return r.Float64()
		}
		return nil
	}
	if share && len(*made) > 0 && r.Intn(5) == 0 {
		return (*made)[r.Intn(len(*made))]
	}
	n := r.Intn(4)
	var v any
	switch r.Intn(5) {
	case 0, 1:
		l := []any{}
		for range n {
			l = append(l, randomNest(r, depth-1, share, made))
		}
		v = l
	case 2:
		t := Tuple{}
		for range n {
			t = append(t, randomNest(r, depth-1, share, made))
		}
		v = t
	case 3:
		d := NewDict()
		for i := range n {
			_ = d.Set(fmt.Sprint("k", i), randomNest(r, depth-1, share, made))
		}
		if r.Intn(3) == 0 {
			_ = d.Set(Tuple{int64(1), Tuple{int64(n)}}, "tuple key")
		}
		v = d
	default:
		fs, _ := NewFrozenSet(int64(n), Tuple{"x", int64(n)})
		s, _ := NewSet(fs, "y")
		v = s
	}
	*made = append(*made, v)
	return v
}

// TestDepthWithoutFinalPass checks MaxDepth at its bound on values decoded
// with heights kept while decoding (no sharing, an input longer than
// MaxDepth), with the final pass (shared containers), and from a stream,
// against the heights of the decoded values.
func TestDepthWithoutFinalPass(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := range 400 {
		share := i%2 == 1
		var made []any
		v := randomNest(r, 3+r.Intn(30), share, &made)
		data, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if err := Unmarshal(data, &got); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		h := valueHeight(got, map[[2]uintptr]int{})
		for _, max := range []int{h - 1, h, h + 1} {
			if max <= 0 {
				continue
			}
			m, err := DecOptions{MaxDepth: max}.DecMode()
			if err != nil {
				t.Fatal(err)
			}
			var w any
			err = m.Unmarshal(data, &w)
			var ws any
			errS := m.NewDecoder(bytes.NewReader(data)).Decode(&ws)
			for _, e := range []error{err, errS} {
				if (h > max) != errors.Is(e, ErrLimit) {
					t.Fatalf("%d: height %d, MaxDepth %d, %d bytes, shared %v: %v", i, h, max, len(data), share, e)
				}
			}
			if err == nil {
				a, errA := Marshal(w)
				b, errB := Marshal(got)
				if errA != nil || errB != nil || !bytes.Equal(a, b) {
					t.Fatalf("%d: decoded %#v, want %#v", i, w, got)
				}
			}
		}
	}
}

// TestDepthChains covers nesting that the stack does not show: chains
// through the memo (the final pass), nested tuples, and MARK-built lists,
// at lengths past MaxDepth.
func TestDepthChains(t *testing.T) {
	rep := func(s string, n int) string { return strings.Repeat(s, n) }
	cases := map[string]struct {
		pickle string
		height int
	}{
		// l(i+1) = [t(i)], t(i) = (l(i),) through the memo: a tuple
		// pushed again.
		"tuple chain":   {"\x80\x02]q\x000" + rep("h\x00\x85q\x000]h\x00aq\x000", 150) + "h\x00.", 301},
		"nested tuples": {"\x80\x04K\x01" + rep("\x85", 300) + ".", 300},
		"MARK lists":    {"\x80\x02" + rep("(", 300) + rep("l", 300) + ".", 300},
		"dicts":         {"\x80\x04" + rep("}\x8c\x01k", 300) + "N" + rep("s", 300) + ".", 300},
		"lists":         {"\x80\x04" + rep("]", 300) + rep("a", 299) + ".", 300},
		"frozensets":    {"\x80\x04" + rep("(", 300) + "K\x01" + rep("\x91", 300) + ".", 300},
	}
	for name, c := range cases {
		var v any
		if err := Unmarshal([]byte(c.pickle), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h := valueHeight(v, map[[2]uintptr]int{}); h != c.height {
			t.Fatalf("%s: height %d, want %d", name, h, c.height)
		}
		for _, max := range []int{c.height - 1, c.height} {
			m, _ := DecOptions{MaxDepth: max}.DecMode()
			err := m.Unmarshal([]byte(c.pickle), &v)
			if (max < c.height) != errors.Is(err, ErrLimit) {
				t.Fatalf("%s: MaxDepth %d: %v", name, max, err)
			}
		}
	}
}

// TestSharedEmptyLists checks that an empty list in the memo has an array
// of its own (its identity), shared by its references, and that one not
// in the memo is empty and not nil, with and without the final pass.
func TestSharedEmptyLists(t *testing.T) {
	// [a, a, b, []] with a = [] and b = [] memoized, the last one not.
	data := []byte("\x80\x04]\x94(]\x94h\x01]\x94]e.")
	// [a, a] with a's memo entry replaced (BINPUT) before the end.
	replaced := []byte("\x80\x02]q\x00(]q\x01h\x01Nq\x010e.")
	for _, heights := range []bool{false, true} {
		m := defaultDecMode
		if heights {
			m, _ = DecOptions{MaxDepth: 2}.DecMode() // inputs longer than 2
		}
		var v any
		if err := m.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		l := v.([]any)
		if len(l) != 4 {
			t.Fatalf("%#v", l)
		}
		p := func(i int) *any { return unsafe.SliceData(l[i].([]any)) }
		for i := range l {
			if x := l[i].([]any); x == nil || len(x) != 0 {
				t.Fatalf("item %d: %#v", i, x)
			}
		}
		if p(0) != p(1) || p(0) == p(2) || cap(l[0].([]any)) == 0 || cap(l[2].([]any)) == 0 {
			t.Fatalf("identities: %p %p %p", p(0), p(1), p(2))
		}
		if err := m.Unmarshal(replaced, &v); err != nil {
			t.Fatal(err)
		}
		l = v.([]any)
		if len(l) != 2 || p(0) != p(1) || cap(l[0].([]any)) == 0 {
			t.Fatalf("replaced memo entry: %#v", l)
		}
	}
}

// TestDecoderKeepsNoOldValues is TestUnmarshalKeepsNoOldValues for a
// stream: the Decoder shares the pooled state (and its slab tails) from
// message to message, and must keep no more of the values it returned.
func TestDecoderKeepsNoOldValues(t *testing.T) {
	var v any = []any{int64(1), 2.5, "x"}
	for i := range 100 {
		d := NewDict()
		_ = d.Set("i", int64(i))
		_ = d.Set("v", []any{v, fmt.Sprint(i)})
		v = d
	}
	one, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	stream := bytes.Repeat(one, n)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	dec := NewDecoder(bytes.NewReader(stream))
	var first any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var second any
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms1)
	perDecode := ms1.TotalAlloc - ms0.TotalAlloc
	first, second = nil, nil
	before := heap()
	for i := 2; i < n; i++ {
		var out any
		if err := dec.Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
		t.Fatalf("after %d messages: %v", n, err)
	}
	kept := int64(heap()) - int64(before)
	if limit := int64(carryGens+2)*int64(perDecode) + 1<<20; kept > limit {
		t.Errorf("after %d messages of %d bytes (%d bytes allocated each), %d bytes stay live (limit %d)", n, len(one), perDecode, kept, limit)
	}
}
