package pickle

import "unsafe"

// Allocation of generic values. A pickle of n bytes makes up to about n
// values; allocating each one (an int box, a str header, a dict, a list's
// items) costs more than decoding it, and the garbage collector pays again
// for each object. So one decode carves its values out of slabs: boxes for
// ints, floats and strs, the bytes of its strs, dict entries, list and
// tuple items, Dicts and list boxes. A slab is kept alive by any value in
// it; every slab is sized to the input, so what it holds stays in
// proportion to the pickle. Every slab, and every value allocated alone,
// is charged to DecOptions.MaxAlloc.

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
	strSlab   = 32 << 10
	strSlabLn = 1024 // longer strs get an allocation of their own
)

// slabLen is the length of a new slab of values that each take at least
// per bytes of input: at most max, and no more than the input left can
// fill (a small pickle gets small slabs).
func (s *decState) slabLen(max, per int) int {
	return min(max, 8+(len(s.data)-s.pos)/per)
}

type decSlabs struct {
	hdrs   [][]any // slice headers of boxed lists, tuples and bytes
	ints   []int64
	floats []float64
	strs   []string
	text   []byte
	items  []any
	ents   []dictEntry
	dicts  []Dict
	lists  []listBox
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

func (s *decState) boxInt(v int64) any {
	if v >= -smallIntBias && v < smallIntMax {
		return smallInts[v+smallIntBias]
	}
	if len(s.slabs.ints) == 0 {
		n := s.slabLen(boxSlab, 3)
		s.slabs.ints = make([]int64, n)
		s.alloc += 8 * int64(n)
	}
	p := &s.slabs.ints[0]
	*p = v
	s.slabs.ints = s.slabs.ints[1:]
	return boxAt(int64Word, unsafe.Pointer(p))
}

func (s *decState) boxFloat(f float64) any {
	if len(s.slabs.floats) == 0 {
		n := s.slabLen(boxSlab, 9)
		s.slabs.floats = make([]float64, n)
		s.alloc += 8 * int64(n)
	}
	p := &s.slabs.floats[0]
	*p = f
	s.slabs.floats = s.slabs.floats[1:]
	return boxAt(float64Word, unsafe.Pointer(p))
}

// boxStr copies b into the text slab and returns it as a str value.
func (s *decState) boxStr(b []byte) any {
	if len(b) == 0 {
		return ""
	}
	var str string
	if len(b) > strSlabLn {
		str = string(b)
		s.alloc += int64(len(b))
	} else {
		if len(b) > len(s.slabs.text) {
			n := min(strSlab, max(len(s.data)-s.pos+len(b), 64))
			s.slabs.text = make([]byte, n)
			s.alloc += int64(n)
		}
		n := copy(s.slabs.text, b)
		str = unsafe.String(&s.slabs.text[0], n)
		s.slabs.text = s.slabs.text[n:]
	}
	if len(s.slabs.strs) == 0 {
		n := s.slabLen(boxSlab/2, 3)
		s.slabs.strs = make([]string, n)
		s.alloc += 16 * int64(n)
	}
	p := &s.slabs.strs[0]
	*p = str
	s.slabs.strs = s.slabs.strs[1:]
	return boxAt(stringWord, unsafe.Pointer(p))
}

// boxSlice returns the slice with header h as an interface value of the
// type whose word is typ ([]any, Tuple or []byte: one layout).
func (s *decState) boxSlice(typ unsafe.Pointer, h []any) any {
	if len(s.slabs.hdrs) == 0 {
		n := s.slabLen(boxSlab/2, 1)
		s.slabs.hdrs = make([][]any, n)
		s.alloc += 24 * int64(n)
	}
	p := &s.slabs.hdrs[0]
	*p = h
	s.slabs.hdrs = s.slabs.hdrs[1:]
	return boxAt(typ, unsafe.Pointer(p))
}

func (s *decState) boxList(l []any) any  { return s.boxSlice(listWord, l) }
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
	if n > len(s.slabs.items) {
		c := max(n, s.slabLen(itemSlab, 1))
		s.slabs.items = make([]any, c)
		s.alloc += 16 * int64(c)
	}
	it := s.slabs.items[:n:n]
	s.slabs.items = s.slabs.items[n:]
	return it
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
	if n > len(s.slabs.ents) {
		c := max(n, s.slabLen(entSlab, 2))
		s.slabs.ents = make([]dictEntry, c)
		s.alloc += 32 * int64(c)
	}
	e := s.slabs.ents[:0:n]
	s.slabs.ents = s.slabs.ents[n:]
	return e
}

// newDict returns an empty Dict with room for n entries.
func (s *decState) newDict(n int) *Dict {
	if len(s.slabs.dicts) == 0 {
		n := s.slabLen(dictSlab, 2)
		s.slabs.dicts = make([]Dict, n)
		s.alloc += int64(unsafe.Sizeof(Dict{})) * int64(n)
	}
	d := &s.slabs.dicts[0]
	s.slabs.dicts = s.slabs.dicts[1:]
	d.ents = s.carveEnts(n)
	return d
}

func (s *decState) newList() *listBox {
	if len(s.slabs.lists) == 0 {
		n := s.slabLen(listSlab, 2)
		s.slabs.lists = make([]listBox, n)
		s.alloc += int64(unsafe.Sizeof(listBox{})) * int64(n)
	}
	l := &s.slabs.lists[0]
	s.slabs.lists = s.slabs.lists[1:]
	return l
}

// newTuple copies items into a new Tuple.
func (s *decState) newTuple(items []any) Tuple {
	if len(items) == 0 {
		return Tuple{}
	}
	t := s.carveAny(len(items))
	copy(t, items)
	return t
}
