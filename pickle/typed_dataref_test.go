package pickle

import (
	"testing"
	"unsafe"
)

// tNode holds a slice of its own type: reading an item's kids carves from
// the slab its own run came from, which may move on to a new array before
// the item is done.
type tNode struct {
	ID   int64   `pickle:"id"`
	Kids []tNode `pickle:"kids"`
}

// A memo entry of a record in a slice or of a short list names its array
// (put in refs once) and an offset in it (dataRef, docs/benchmarks.md
// issue 19 round 6). Fetched again, each must be the value (and for a
// list, the backing array) it names: across carved runs, slabs and grown
// arrays.
func TestTypedItemsFetchedAgainAcrossArrays(t *testing.T) {
	const n = 600
	recs := make([]any, 0, 2*n)
	lists := make([]any, 0, 2*n)
	for i := 0; i < n; i++ {
		tags := []any{"a", "b"}
		rec := NewDict()
		_ = rec.Set("id", int64(i))
		_ = rec.Set("tags", tags)
		recs = append(recs, rec)
		lists = append(lists, tags)
	}
	recs = append(recs, recs...)
	lists = append(lists, lists...)
	data := mustMarshal(t, recs)
	checkTypedAgrees(t, data, func() any { return new([]tRec) })
	before := typedFallbacks.Load()
	var got []tRec
	if err := Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if typedFallbacks.Load() != before {
		t.Fatal("records fetched again went through the generic path")
	}
	for i := 0; i < n; i++ {
		if got[i].ID != int64(i) || got[n+i].ID != int64(i) || &got[i].Tags[0] != &got[n+i].Tags[0] {
			t.Fatalf("record %d: %+v and %+v", i, got[i], got[n+i])
		}
	}

	data = mustMarshal(t, lists)
	checkTypedAgrees(t, data, func() any { return new([][]string) })
	var ss [][]string
	if err := Unmarshal(data, &ss); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if len(ss[i]) != 2 || &ss[i][0] != &ss[n+i][0] || cap(ss[i]) != 2 {
			t.Fatalf("list %d: %q (%p) and %q (%p)", i, ss[i], ss[i], ss[n+i], ss[n+i])
		}
	}

	// Nodes whose kids (and theirs) carve from the slab the node's own run
	// came from, enough of them to move it on to new arrays, each node
	// fetched again after all of them.
	var nodes []any
	for i := 0; i < 8; i++ {
		var kids []any
		for j := 0; j < 40; j++ {
			leaf := NewDict()
			_ = leaf.Set("id", int64(1000*i+j))
			_ = leaf.Set("kids", []any{})
			kid := NewDict()
			_ = kid.Set("id", int64(j))
			_ = kid.Set("kids", []any{leaf})
			kids = append(kids, kid)
		}
		node := NewDict()
		_ = node.Set("id", int64(i))
		_ = node.Set("kids", kids)
		nodes = append(nodes, node)
	}
	nodes = append(nodes, nodes...)
	data = mustMarshal(t, nodes)
	checkTypedAgrees(t, data, func() any { return new([]tNode) })
	var tree []tNode
	if err := Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if tree[i].ID != int64(i) || tree[8+i].ID != int64(i) || len(tree[8+i].Kids) != 40 ||
			tree[8+i].Kids[39].Kids[0].ID != int64(1000*i+39) {
			t.Fatalf("node %d fetched again: %+v", i, tree[8+i])
		}
	}
}

// Records in a slice and their short lists put their arrays in refs, not
// a pointer each: a decode of many of them leaves the pooled decoder's
// refs short.
func TestTypedRecordsRefTheirArraysOnce(t *testing.T) {
	recs := make([]any, 0, 2000)
	for i := 0; i < 2000; i++ {
		rec := NewDict()
		_ = rec.Set("id", int64(i))
		_ = rec.Set("tags", []any{"a", "b"})
		recs = append(recs, rec)
	}
	data := mustMarshal(t, recs)
	// A decoder of its own: drain the pool.
	for len(tdecPool) > 0 {
		<-tdecPool
	}
	var got []tRec
	if err := Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	d := <-tdecPool
	defer func() { tdecPool <- d }()
	if cap(d.refs) > 200 {
		t.Errorf("decoding 2000 records with tags: refs grew to %d", cap(d.refs))
	}
}

// tScalars has a field of each scalar kind that structPairs reads inline
// (int64, float64, bool) or hands to fast and value (the others).
type tScalars struct {
	I   int64   `pickle:"i"`
	F   float64 `pickle:"f"`
	B   bool    `pickle:"b"`
	I8  int8    `pickle:"i8"`
	U16 uint16  `pickle:"u16"`
	F32 float32 `pickle:"f32"`
	S   string  `pickle:"s"`
}

// A record's scalars are read inline only into the fields they fit as is;
// anything else (another width, a str into an int, an int into a float or
// a bool...) goes to fast and value, which decide as the generic path.
func TestTypedRecordScalarsInline(t *testing.T) {
	values := []any{int64(5), int64(200), int64(300), int64(-70000), int64(1) << 40, int64(-1), 1.5, true, false, "s", nil}
	fits := map[string]any{"i": int64(1), "f": 0.5, "b": true, "i8": int64(1), "u16": int64(1), "f32": 0.5, "s": "x"}
	for key, fit := range fits {
		for _, v := range values {
			// Two records: the second's keys are fetched from the memo,
			// which is where the inline path reads; the first's value
			// fits its field (else the whole decode falls back before).
			// Two items each: one item is written with a lone SETITEM,
			// which record leaves to dict.
			first, second := NewDict(), NewDict()
			_ = first.Set(key, fit)
			_ = first.Set("pad", int64(0))
			_ = second.Set(key, v)
			_ = second.Set("pad", int64(0))
			// (A third after them: the fast paths leave the last bytes
			// of the input to value.)
			third := NewDict()
			_ = third.Set(key, fit)
			_ = third.Set("pad", int64(0))
			data := mustMarshal(t, []any{first, second, third})
			checkTypedAgrees(t, data, func() any { return new([]tScalars) })
			checkTypedAgrees(t, data, func() any { return new(map[string]tScalars) })
		}
	}
}

// A typed memo entry is 24 bytes (its offsets and lengths 32 bits): the
// memo of a pickle of records is written again on every decode, and its
// size is memory traffic (docs/benchmarks.md, issue 19 round 6).
func TestTypedMemoEntryIs24Bytes(t *testing.T) {
	if n := unsafe.Sizeof(tmemo{}); n != 24 {
		t.Errorf("tmemo is %d bytes", n)
	}
}

// recRun reads a list's records in one loop; a dict that record leaves
// (no MEMOIZE before its MARK, a lone SETITEM) goes to value, where dict
// reads it, still without the generic path.
func TestTypedRecordRunGivesUpToValue(t *testing.T) {
	for _, body := range []string{
		"}(\x8c\x02id\x94K\x07u",
		"}\x94\x8c\x02id\x94K\x07s",
	} {
		rec := "}\x94(\x8c\x02ok\x94\x88\x8c\x02id\x94K\x07u"
		for _, data := range []string{
			"\x80\x04]\x94(" + body + body + body + "e.",
			"\x80\x04]\x94(" + rec + body + rec + body + "e.",
		} {
			before := typedFallbacks.Load()
			var got []tRec
			if err := Unmarshal([]byte(data), &got); err != nil {
				t.Fatal(err)
			}
			if typedFallbacks.Load() != before {
				t.Errorf("%q went through the generic path", data)
			}
			if len(got) != 4 && len(got) != 3 {
				t.Fatalf("%q: %+v", data, got)
			}
			for _, r := range got {
				if r.ID != 7 {
					t.Fatalf("%q: %+v", data, got)
				}
			}
			checkTypedAgrees(t, []byte(data), func() any { return new([]tRec) })
		}
	}
}
