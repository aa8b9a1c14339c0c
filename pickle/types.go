package pickle

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// Tuple is a Python tuple. Tuples are immutable in Python; a decoded Tuple
// must not be modified while it is shared with other decoded values.
type Tuple []any

// ByteArray is a Python bytearray. A plain []byte is a Python bytes object.
type ByteArray []byte

// Global is a reference to a module-level name (a class or a function), as
// written by the GLOBAL and STACK_GLOBAL opcodes. The decoder never imports or
// resolves it; it is only a name.
type Global struct {
	Module, Name string
}

// String returns "module.name".
func (g Global) String() string { return g.Module + "." + g.Name }

// Ext is an object that a pickle names by an extension code (the EXT1,
// EXT2 and EXT4 opcodes, registered in Python with copyreg.add_extension)
// for which Go knows no name (see RegisterExtension). Marshal writes it
// back as the same EXT opcode, so the object passes through Go unchanged
// and the receiving Python resolves the code in its own registry; EXT
// opcodes exist from protocol 2 on, and Marshal fails on an Ext at
// protocols 0 and 1. Ext values are equal when their codes are, as the
// objects a Python registry gives for one code are identical.
type Ext struct {
	Code int32
}

// Object is an instance of a Python class that the decoder does not map to
// a Go type: the result of REDUCE (callable(*args)), NEWOBJ / NEWOBJ_EX
// (cls.__new__(cls, *args, **kwargs)), INST or OBJ, together with what was
// applied to it afterwards (BUILD, APPEND(S), SETITEM(S)). Marshal writes an
// *Object back the way CPython's save_reduce does, so Python rebuilds the
// same object: callable, args, REDUCE or NEWOBJ(_EX) (INST or OBJ when
// Inst is set), MEMOIZE, then ListItems (APPENDS), DictItems (SETITEMS)
// and State (BUILD).
//
// Examples: collections.OrderedDict (REDUCE with DictItems), decimal.Decimal
// (REDUCE with a str argument), complex (REDUCE of builtins.complex with two
// floats), datetime.datetime (REDUCE with a 10-byte bytes argument).
type Object struct {
	// Callable is the class or function that was called (REDUCE) or the
	// class (NEWOBJ).
	Callable Global
	// CallableValue, when non-nil, replaces Callable: it holds a callable
	// that is not a plain global, for example an *Object built by
	// functools.partial, or the result of getattr(...).
	CallableValue any
	// Args are the positional arguments.
	Args Tuple
	// Kwargs are the keyword arguments of NEWOBJ_EX, else nil.
	Kwargs *Dict
	// NewObj is true for cls.__new__(cls, *args) (NEWOBJ, NEWOBJ_EX) and
	// false for callable(*args) (REDUCE, INST, OBJ).
	NewObj bool
	// Inst is true for an instance made by INST or OBJ (protocols 0 and 1,
	// Python 2 classic classes): Python calls Callable(*Args), except that
	// with no Args a class without __getinitargs__ is made by
	// Callable.__new__(Callable), skipping __init__. Marshal writes such an
	// Object with INST (protocol 0) or OBJ, so Python makes the same choice.
	Inst bool
	// State is the BUILD argument (nil if there was no BUILD): usually a
	// *Dict (the instance __dict__), or Tuple{dict-or-None, slots-dict}.
	State any
	// ListItems were appended to the object (list subclasses), else nil.
	ListItems []any
	// DictItems were set on the object (dict subclasses such as
	// OrderedDict), else nil.
	DictItems *Dict

	walk walkInfo
}

// Class returns the callable as a Global, or the zero Global when the
// callable is not a plain global.
func (o *Object) Class() Global {
	if o.CallableValue != nil {
		return Global{}
	}
	return o.Callable
}

// class is the instance's class: the callable, or cls of
// copyreg._reconstructor(cls, base, state), which protocols 0 and 1 use for
// object.__new__(cls).
func (o *Object) class() Global {
	if o.CallableValue != nil {
		return Global{}
	}
	if o.Callable == (Global{"copyreg", "_reconstructor"}) && len(o.Args) == 3 {
		if g, ok := o.Args[0].(Global); ok {
			return g
		}
	}
	return o.Callable
}

// PythonError is a Python exception (builtins.ValueError etc.) as pickled:
// REDUCE(type, args) plus an optional BUILD of the instance __dict__.
type PythonError struct {
	Type  Global
	Args  Tuple
	State any // BUILD argument, if any

	walk walkInfo
}

// Error returns "ValueError: message" like Python's traceback line.
func (e *PythonError) Error() string {
	var b strings.Builder
	b.WriteString(e.Type.Name)
	switch len(e.Args) {
	case 0:
	case 1:
		b.WriteString(": ")
		if s, ok := e.Args[0].(string); ok {
			b.WriteString(s)
		} else {
			b.WriteString(reprShort(e.Args[0]))
		}
	default:
		b.WriteString(": ")
		b.WriteString(reprShort(e.Args))
	}
	return b.String()
}

// walkInfo is per-container bookkeeping of the decoder's final pass.
type walkInfo struct {
	state  uint8 // 0 new, 1 in progress, 2 done
	height int32
}

// smallDict is the size up to which Dict and Set look keys up by linear
// scan instead of a map (most pickled dicts are small).
const smallDict = 8

type dictEntry struct {
	k, v any
}

// Dict is a Python dict: insertion-ordered, with any hashable key. Keys are
// compared the way Python compares them: 1, 1.0 and True are the same key;
// str, bytes, tuples and frozensets compare by value; *Object keys by
// identity. Lists, dicts, sets and bytearrays are not hashable.
//
// The zero Dict is empty and ready to use. Use it through *Dict: a copied
// Dict value shares storage with the original. A Dict is not safe for
// concurrent mutation.
type Dict struct {
	ents []dictEntry
	x    *dictIndex // nil while small and every key is its own hash key
	walk walkInfo
}

// dictIndex is what a Dict needs beyond its entries when its keys are not
// their own hash keys (tuples, floats, long strs...) or when it is large.
type dictIndex struct {
	// hashes[i] is the hash key of ents[i].k; nil while every key is its
	// own hash key (str, int, None, ...), the common case.
	hashes []any
	index  map[any]int
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{} }

func newDictCap(n int) *Dict {
	d := &Dict{}
	if n > 0 {
		d.ents = make([]dictEntry, 0, n)
	}
	return d
}

// grow makes room for n more items.
func (d *Dict) grow(n int) {
	d.ents = slices.Grow(d.ents, n)
}

func (d *Dict) hashList() []any {
	if d.x == nil {
		return nil
	}
	return d.x.hashes
}

func (d *Dict) indexMap() map[any]int {
	if d.x == nil {
		return nil
	}
	return d.x.index
}

func (d *Dict) ext() *dictIndex {
	if d.x == nil {
		d.x = &dictIndex{}
	}
	return d.x
}

// Len returns the number of items.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.ents)
}

func (d *Dict) hashAt(i int) any {
	if hs := d.hashList(); hs != nil {
		return hs[i]
	}
	return d.ents[i].k
}

func (d *Dict) find(h any) int {
	if d.x != nil {
		if d.x.index != nil {
			if i, ok := d.x.index[h]; ok {
				return i
			}
			return -1
		}
		if hs := d.x.hashes; hs != nil {
			for i := range hs {
				if hs[i] == h {
					return i
				}
			}
			return -1
		}
	}
	for i := range d.ents {
		if d.ents[i].k == h {
			return i
		}
	}
	return -1
}

// Set sets d[k] = v. It fails if k is not hashable.
func (d *Dict) Set(k, v any) error {
	h, err := hashKey(k)
	if err != nil {
		return err
	}
	d.setHashed(h, k, v)
	return nil
}

// selfHashed reports whether h (the hash key of k) is k itself, so that
// comparing stored keys with h is exact.
func selfHashed(h, k any) bool {
	switch k.(type) {
	case int64, nil, Global, Ext:
		return true
	case string:
		_, isS := h.(string) // a long str is keyed by its digest
		return isS
	case float64:
		_, isF := h.(float64)
		return isF
	}
	return false
}

func (d *Dict) setHashed(h, k, v any) {
	if d.x == nil && len(d.ents) < cap(d.ents) && isShortStr(h) {
		// The common case (a small dict of str keys, decoded into room
		// made for it): the key is its own hash key; compare it with the
		// others as strings (equal keys from the memo share their bytes).
		if i := d.findStr(*(*string)((*eface)(unsafe.Pointer(&h)).data)); i >= 0 {
			d.ents[i].v = v
			return
		}
		d.ents = append(d.ents, dictEntry{k: k, v: v})
		if len(d.ents) > smallDict {
			d.reindex()
		}
		return
	}
	if i := d.find(h); i >= 0 {
		// Python keeps the first key object and replaces the value.
		d.ents[i].v = v
		return
	}
	if d.hashList() == nil && !selfHashed(h, k) {
		hs := make([]any, len(d.ents), cap(d.ents)+1)
		for i := range d.ents {
			hs[i] = d.ents[i].k
		}
		d.ext().hashes = hs
	}
	d.ents = append(d.ents, dictEntry{k: k, v: v})
	if d.x == nil {
		if len(d.ents) > smallDict {
			d.reindex()
		}
		return
	}
	if d.x.hashes != nil {
		d.x.hashes = append(d.x.hashes, h)
	}
	if d.x.index != nil {
		d.x.index[h] = len(d.ents) - 1
	} else if len(d.ents) > smallDict {
		d.reindex()
	}
}

// isShortStr reports whether h is a str that is its own hash key.
func isShortStr(h any) bool {
	e := (*eface)(unsafe.Pointer(&h))
	return e.typ == stringWord && len(*(*string)(e.data)) <= inlineKey
}

// findStr is find for a str key in a dict without hash keys of its own
// (every key is its own: a str key can only equal a str).
func (d *Dict) findStr(s string) int {
	for i := range d.ents {
		e := (*eface)(unsafe.Pointer(&d.ents[i].k))
		if e.typ != stringWord {
			continue
		}
		if t := *(*string)(e.data); len(t) == len(s) && (unsafe.StringData(t) == unsafe.StringData(s) || t == s) {
			return i
		}
	}
	return -1
}

func (d *Dict) reindex() {
	// Sized for the room already made: a dict decoded in batches gets the
	// whole batch's worth at once instead of growing from 9 entries.
	idx := make(map[any]int, cap(d.ents))
	for i := range d.ents {
		idx[d.hashAt(i)] = i
	}
	d.ext().index = idx
}

// Get returns d[k].
func (d *Dict) Get(k any) (any, bool) {
	if d == nil {
		return nil, false
	}
	h, err := hashKey(k)
	if err != nil {
		return nil, false
	}
	if i := d.find(h); i >= 0 {
		return d.ents[i].v, true
	}
	return nil, false
}

// GetString returns d[k] for a str key (a convenience for state dicts).
func (d *Dict) GetString(k string) (any, bool) { return d.Get(k) }

// Delete removes d[k] and reports whether it was present.
func (d *Dict) Delete(k any) bool {
	h, err := hashKey(k)
	if err != nil {
		return false
	}
	i := d.find(h)
	if i < 0 {
		return false
	}
	d.ents = slices.Delete(d.ents, i, i+1)
	if d.x == nil {
		return true
	}
	if d.x.hashes != nil {
		d.x.hashes = slices.Delete(d.x.hashes, i, i+1)
	}
	if d.x.index != nil {
		if len(d.ents) > smallDict {
			d.reindex()
		} else {
			d.x.index = nil
		}
	}
	return true
}

// Clone returns a shallow copy of d (Python's dict.copy()): the same keys
// and values, without hashing the keys again.
func (d *Dict) Clone() *Dict {
	c := newDictCap(d.Len())
	c.Update(d)
	return c
}

// Update sets d[k] = v for every item of src, in src's order (Python's
// dict.update(src)), reusing the hash keys src already holds.
func (d *Dict) Update(src *Dict) {
	if src == nil || src == d {
		return
	}
	d.grow(len(src.ents))
	for i := range src.ents {
		d.setHashed(src.hashAt(i), src.ents[i].k, src.ents[i].v)
	}
}

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []any {
	out := make([]any, d.Len())
	for i := range out {
		out[i] = d.ents[i].k
	}
	return out
}

// Values returns the values in insertion order.
func (d *Dict) Values() []any {
	out := make([]any, d.Len())
	for i := range out {
		out[i] = d.ents[i].v
	}
	return out
}

// Items returns the (key, value) pairs in insertion order.
func (d *Dict) Items() [][2]any {
	out := make([][2]any, d.Len())
	for i := range out {
		out[i] = [2]any{d.ents[i].k, d.ents[i].v}
	}
	return out
}

// All iterates over the items in insertion order.
func (d *Dict) All() iter.Seq2[any, any] {
	return func(yield func(any, any) bool) {
		if d == nil {
			return
		}
		for i := 0; i < len(d.ents); i++ {
			if !yield(d.ents[i].k, d.ents[i].v) {
				return
			}
		}
	}
}

// String returns Python's repr of the dict (see Repr).
func (d *Dict) String() string { return Repr(d) }

// Set is a Python set: insertion-ordered (Python's own order is by hash;
// Go keeps the pickled order), holding hashable values.
type Set struct {
	hs   hashSet
	walk walkInfo
}

// FrozenSet is a Python frozenset. It is hashable (by value), so it can be
// a Dict key or a Set element. Do not modify it once it is used as a key.
type FrozenSet struct {
	hs   hashSet
	walk walkInfo
}

// NewSet returns a set holding items; it fails on an unhashable item.
func NewSet(items ...any) (*Set, error) {
	s := &Set{}
	for _, it := range items {
		if err := s.Add(it); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewFrozenSet returns a frozenset holding items; it fails on an unhashable item.
func NewFrozenSet(items ...any) (*FrozenSet, error) {
	s := &FrozenSet{}
	for _, it := range items {
		if err := s.hs.add(it); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add adds v.
func (s *Set) Add(v any) error { return s.hs.add(v) }

// Remove removes v and reports whether it was present.
func (s *Set) Remove(v any) bool { return s.hs.remove(v) }

// Has reports whether v is in the set.
func (s *Set) Has(v any) bool { return s != nil && s.hs.has(v) }

// Len returns the number of elements.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.hs.items)
}

// Items returns the elements in insertion order.
func (s *Set) Items() []any {
	if s == nil {
		return nil
	}
	return s.hs.elems()
}

// All iterates over the elements.
func (s *Set) All() iter.Seq[any] {
	return func(yield func(any) bool) {
		if s == nil {
			return
		}
		for i := 0; i < len(s.hs.items); i++ {
			if !yield(s.hs.items[i].k) {
				return
			}
		}
	}
}

// Has reports whether v is in the frozenset.
func (s *FrozenSet) Has(v any) bool { return s != nil && s.hs.has(v) }

// Len returns the number of elements.
func (s *FrozenSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.hs.items)
}

// Items returns the elements in insertion order.
func (s *FrozenSet) Items() []any {
	if s == nil {
		return nil
	}
	return s.hs.elems()
}

// All iterates over the elements.
func (s *FrozenSet) All() iter.Seq[any] {
	return func(yield func(any) bool) {
		if s == nil {
			return
		}
		for i := 0; i < len(s.hs.items); i++ {
			if !yield(s.hs.items[i].k) {
				return
			}
		}
	}
}

type setEntry struct {
	h, k any
}

type hashSet struct {
	items []setEntry
	index map[any]int
}

func (s *hashSet) find(h any) int {
	if s.index != nil {
		if i, ok := s.index[h]; ok {
			return i
		}
		return -1
	}
	for i := range s.items {
		if s.items[i].h == h {
			return i
		}
	}
	return -1
}

func (s *hashSet) add(v any) error {
	h, err := hashKey(v)
	if err != nil {
		return err
	}
	s.addHashed(h, v)
	return nil
}

func (s *hashSet) addHashed(h, v any) {
	if s.find(h) >= 0 {
		return
	}
	s.items = append(s.items, setEntry{h: h, k: v})
	if s.index != nil {
		s.index[h] = len(s.items) - 1
	} else if len(s.items) > smallDict {
		s.reindex()
	}
}

func (s *hashSet) reindex() {
	s.index = make(map[any]int, len(s.items))
	for i, e := range s.items {
		s.index[e.h] = i
	}
}

func (s *hashSet) has(v any) bool {
	h, err := hashKey(v)
	return err == nil && s.find(h) >= 0
}

func (s *hashSet) remove(v any) bool {
	h, err := hashKey(v)
	if err != nil {
		return false
	}
	i := s.find(h)
	if i < 0 {
		return false
	}
	s.items = slices.Delete(s.items, i, i+1)
	if s.index != nil {
		if len(s.items) > smallDict {
			s.reindex()
		} else {
			s.index = nil
		}
	}
	return true
}

func (s *hashSet) elems() []any {
	out := make([]any, len(s.items))
	for i := range out {
		out[i] = s.items[i].k
	}
	return out
}

// pyTypeName names the Python type of v for messages: TypeName, with the
// module for objects and exceptions and the reference itself for globals
// and extension codes.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case Global:
		return "global " + x.String()
	case Ext:
		return fmt.Sprintf("extension code %d", x.Code)
	case *Object:
		if x.CallableValue != nil {
			return "object"
		}
		return x.Callable.String() + " object"
	case *PythonError:
		return x.Type.String()
	}
	return TypeName(v)
}
