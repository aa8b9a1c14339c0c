package pickle

import "unsafe"

// Allocation of generic values. A pickle of n bytes makes up to about n
// values; allocating each one (an int box, a str header, a dict, a list's
// items) costs more than decoding it, and the garbage collector pays again
// for each object. So one decode carves its values out of slabs: boxes for
// ints, floats and strs, the bytes of its strs, dict entries, list and
// tuple items, Dicts and list boxes. A slab is kept alive by any value in
// it; every slab is sized to the input that made it allocate, so what it
// holds stays in proportion to that pickle. Unmarshal keeps a slab's
// unused tail for the next decode (statePool), so a run of small pickles
// shares slabs instead of allocating five per pickle. Every slab, and
// every value allocated alone, is charged to DecOptions.MaxAlloc.

// eface is the layout of an interface value (a type word and a pointer to
// the data), used to box a value stored in a slab.
type eface struct {
	typ, data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	int64Word   = typeWord(int64(0))
	float64Word = typeWord(float64(0))
	stringWord  = typeWord("")
	listWord    = typeWord([]any(nil))
	tupleWord   = typeWord(Tuple(nil))
	bytesWord   = typeWord([]byte(nil))
	boolWord    = typeWord(false)
)

// boxAt returns an interface value of the type whose word is typ, holding
// the value at p (which must not change afterwards).
func boxAt(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// Slab sizes, in values.
const (
	boxSlab   = 512
	itemSlab  = 512
	entSlab   = 256
	dictSlab  = 64
	listSlab  = 64
	carveMax  = 64 // longer runs of items get an array of their own
	wordSlab  = 4096
	strSlabLn = 1024 // longer strs get an allocation of their own
)

// slabLen is the length of a new slab of values that each take at least
// per bytes of input: at most max, and no more than the input left can
// fill (a small pickle gets small slabs).
func (s *decState) slabLen(max, per int) int {
	return min(max, 8+(len(s.data)-s.pos)/per)
}

// decSlabs are the slabs that values are carved from. Each has a cursor
// (the first value not handed out) instead of being resliced: advancing a
// slice would store its pointer in the decoder's state, a write barrier per
// value while the collector marks.
type decSlabs struct {
	hdrs    [][]any // slice headers of boxed tuples and bytes
	words   []uint64
	items   []any
	ents    []dictEntry
	dicts   []Dict
	lists   []listBox
	hdrsAt  int
	wordsAt int
	itemsAt int
	entsAt  int
	dictsAt int
	listsAt int
	last    int // length of the last words slab
	// gens counts the decodes in a row that carved values from the
	// pointer slabs' tails of an earlier one (carry).
	gens int
}

// Carrying slab tails from one Unmarshal to the next (statePool).
const (
	// carryInput is the largest pickle whose decode passes its slabs'
	// tails on: the tails save a small message most of its allocations
	// and are worth nothing to a large pickle.
	carryInput = 8 << 10
	// carryGens is how many decodes in a row may carve from carried
	// pointer slabs before the next one starts afresh.
	carryGens = 8
)

// carry returns the slabs that the next decode may carve from, after a
// decode of an n-byte pickle: only the unused tails (what was handed out
// belongs to the values).
//
// A tail keeps its whole slab alive, and the values already in a slab of
// pointers (items, entries, dicts, lists, slice headers) refer to the
// slabs of the decode that made them, whose own heads may hold an earlier
// decode's values: passed on without end, the tails would chain every
// value ever decoded into one reachable graph (a leak: a 400-deep nest
// decoded 3000 times kept 120 MB live). So pointer slabs are passed on only
// after a small pickle, and for at most carryGens decodes in a row: what a
// tail keeps alive is bounded by that many small pickles' values. The
// words slab holds no pointers (it cannot keep anything else alive) and
// is always passed on.
func (sl decSlabs) carry(n int) decSlabs {
	if n > carryInput || sl.gens >= carryGens {
		return decSlabs{words: sl.words, wordsAt: sl.wordsAt, last: sl.last}
	}
	sl.gens++
	return sl
}

// charge counts n bytes allocated for the decoded value against MaxAlloc.
func (s *decState) charge(n uintptr) error {
	s.alloc += int64(n)
	if s.alloc <= s.allocMax {
		return nil
	}
	s.allocMax = s.m.allocLimit(len(s.data))
	if limit := s.allocMax; s.alloc > limit {
		return s.errw(&LimitError{Limit: "MaxAlloc", Max: limit, Msg: "decoded value larger than the allocation budget"}, "MaxAlloc")
	}
	return nil
}

// words returns n words of a pointer-free slab. Boxed ints, floats and
// strs live there: a str's header and its bytes side by side, the header
// pointing into its own slab (which the interface value holding the
// header keeps alive), so the collector neither scans the slab nor follows
// a pointer per str. Slabs start small and double, up to wordSlab words
// and no more than the input left can fill.
func (s *decState) words(n int) unsafe.Pointer {
	sl := &s.slabs
	if n > len(sl.words)-sl.wordsAt {
		if n > wordSlab/4 {
			s.alloc += 8 * int64(n)
			return unsafe.Pointer(unsafe.SliceData(make([]uint64, n)))
		}
		c := max(n, min(wordSlab, 8+(len(s.data)-s.pos)/2, max(64, 2*sl.last)))
		sl.words, sl.wordsAt, sl.last = make([]uint64, c), 0, c
		s.alloc += 8 * int64(c)
	}
	p := unsafe.Pointer(&sl.words[sl.wordsAt])
	sl.wordsAt += n
	return p
}

func (s *decState) boxInt(v int64) any {
	if v >= -smallIntBias && v < smallIntMax {
		return smallInts[v+smallIntBias]
	}
	p := s.words(1)
	*(*int64)(p) = v
	return boxAt(int64Word, p)
}

func (s *decState) boxFloat(f float64) any {
	p := s.words(1)
	*(*float64)(p) = f
	return boxAt(float64Word, p)
}

// boxStr copies b into a pointer-free slab, after a string header that
// points at the copy, and returns the header as a str value.
func (s *decState) boxStr(b []byte) any {
	if len(b) == 0 {
		return ""
	}
	p := s.words(2 + (len(b)+7)/8)
	data := unsafe.Add(p, 16)
	copy(unsafe.Slice((*byte)(data), len(b)), b)
	// The header is written as two words: the slab has no pointers as far
	// as the collector knows, and needs no write barrier.
	h := (*[2]uintptr)(p)
	h[0], h[1] = uintptr(data), uintptr(len(b))
	return boxAt(stringWord, p)
}

// boxValidStr is boxStr of b (not empty) when b is valid as validPyUTF8
// has it, checked while it is copied (copyWTF8), else false.
func (s *decState) boxValidStr(b []byte) (any, bool) {
	p := s.words(2 + (len(b)+7)/8)
	data := unsafe.Add(p, 16)
	if !copyWTF8(unsafe.Slice((*byte)(data), len(b)), unsafe.String(unsafe.SliceData(b), len(b))) {
		return nil, false
	}
	h := (*[2]uintptr)(p)
	h[0], h[1] = uintptr(data), uintptr(len(b))
	return boxAt(stringWord, p), true
}

// boxSlice returns the slice with header h as an interface value of the
// type whose word is typ (Tuple or []byte: one layout with []any).
func (s *decState) boxSlice(typ unsafe.Pointer, h []any) any {
	sl := &s.slabs
	if sl.hdrsAt == len(sl.hdrs) {
		n := s.slabLen(boxSlab/2, 1)
		sl.hdrs, sl.hdrsAt = make([][]any, n), 0
		s.alloc += 24 * int64(n)
	}
	p := &sl.hdrs[sl.hdrsAt]
	sl.hdrsAt++
	*p = h
	return boxAt(typ, unsafe.Pointer(p))
}

func (s *decState) boxTuple(t Tuple) any { return s.boxSlice(tupleWord, t) }
func (s *decState) boxBytes(b []byte) any {
	return s.boxSlice(bytesWord, *(*[]any)(unsafe.Pointer(&b)))
}

// carveAny returns n zeroed items (len and cap n).
func (s *decState) carveAny(n int) []any {
	if n == 0 {
		return nil
	}
	if n > carveMax {
		s.alloc += 16 * int64(n)
		return make([]any, n)
	}
	sl := &s.slabs
	if n > len(sl.items)-sl.itemsAt {
		c := max(n, s.slabLen(itemSlab, 1))
		sl.items, sl.itemsAt = make([]any, c), 0
		s.alloc += 16 * int64(c)
	}
	i := sl.itemsAt
	sl.itemsAt += n
	return sl.items[i : i+n : i+n]
}

// carveEnts returns room for n dict entries (len 0, cap n).
func (s *decState) carveEnts(n int) []dictEntry {
	if n == 0 {
		return nil
	}
	if n > carveMax {
		s.alloc += 32 * int64(n)
		return make([]dictEntry, 0, n)
	}
	sl := &s.slabs
	if n > len(sl.ents)-sl.entsAt {
		c := max(n, s.slabLen(entSlab, 2))
		sl.ents, sl.entsAt = make([]dictEntry, c), 0
		s.alloc += 32 * int64(c)
	}
	i := sl.entsAt
	sl.entsAt += n
	return sl.ents[i : i : i+n]
}

// newDict returns an empty Dict with room for n entries.
func (s *decState) newDict(n int) *Dict {
	sl := &s.slabs
	if sl.dictsAt == len(sl.dicts) {
		c := s.slabLen(dictSlab, 2)
		sl.dicts, sl.dictsAt = make([]Dict, c), 0
		s.alloc += int64(unsafe.Sizeof(Dict{})) * int64(c)
	}
	d := &sl.dicts[sl.dictsAt]
	sl.dictsAt++
	if n > 0 { // the slab is zeroed: no store (a write barrier) for none
		d.ents = s.carveEnts(n)
	}
	return d
}

// newList returns an empty list.
func (s *decState) newList() *listBox {
	sl := &s.slabs
	if sl.listsAt == len(sl.lists) {
		c := s.slabLen(listSlab, 2)
		sl.lists, sl.listsAt = make([]listBox, c), 0
		s.alloc += int64(unsafe.Sizeof(listBox{})) * int64(c)
	}
	l := &sl.lists[sl.listsAt]
	sl.listsAt++
	l.items = emptyItems
	return l
}

// copyFew copies src into dst (at least as long) like copy. While the
// collector marks, copy's barrier (bulkBarrierPreWrite) sets out over the
// type's pointer bitmap on every call, which costs more than the compiler's
// barrier on each store for the few values of a small container (most of
// them): so those are stored one by one.
func copyFew(dst, src []any) {
	if len(src) > 8 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v
	}
}

// newTuple copies items into a new Tuple.
func (s *decState) newTuple(items []any) Tuple {
	if len(items) == 0 {
		return Tuple{}
	}
	t := s.carveAny(len(items))
	copyFew(t, items)
	return t
}
