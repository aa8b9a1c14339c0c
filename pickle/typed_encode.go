package pickle

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The typed encoder writes Go structs, slices, arrays, string-keyed maps,
// pointers and scalars through per-type plans built once per type (like
// encoding/json's encoder cache), reading the values through pointers
// instead of reflect.Value, and writing a struct's keys from a per-encode
// cache of their memo indexes. Types it does not know (interfaces,
// Marshalers, registered classes, time, big.Int, bytes, the generic
// types) go through encode_reflect.go's encoders. It writes the bytes
// those would: the same batches, memo, frames and identities.

type encPlan struct {
	t      reflect.Type
	kind   encKind // the scalars the loops write inline; ekOther calls enc
	enc    func(e *encState, p unsafe.Pointer, pl *encPlan) error
	rf     encFunc // the reflection encoder, for the types left to it
	elem   *encPlan
	fields []encFieldPlan
	omits  bool // some field may be left out (omitempty, omitzero, nil embedded pointer)
	// idWord is the type word of a pointer to elem (pointers and slices):
	// the identity key of a pointer or slice is that pointer as an
	// interface, made without reflection.
	idWord unsafe.Pointer
}

// encKind names the scalar types whose values structFields and listItems
// write without an indirect call (one per field was a tenth of encoding a
// list of records).
type encKind uint8

const (
	ekOther encKind = iota
	ekInt64         // int64, or int of 8 bytes
	ekFloat64
	ekString
	ekBool
)

type encFieldPlan struct {
	name                string
	key                 int // index of the field's key in encState.keys
	off                 uintptr
	direct              bool
	index               []int
	omitEmpty, omitZero bool
	kind                encKind // plan.kind
	plan                *encPlan
}

var (
	encPlans sync.Map // reflect.Type -> *encPlan
	keyIDs   atomic.Int64
)

func encPlanFor(t reflect.Type) *encPlan {
	if p, ok := encPlans.Load(t); ok {
		return p.(*encPlan)
	}
	building := map[reflect.Type]*encPlan{}
	p := buildEncPlan(t, building)
	for bt, bp := range building {
		encPlans.LoadOrStore(bt, bp)
	}
	return p
}

// reflectOnly reports whether values of t are left to the reflection
// encoders.
func reflectOnly(t reflect.Type) bool {
	switch {
	case genericTypes[t], t == timeType, t == durationType, t == bigIntType,
		t.Implements(marshalerType), reflect.PointerTo(t).Implements(marshalerType):
		return true
	}
	switch t {
	case reflect.TypeFor[Dict](), reflect.TypeFor[Set](), reflect.TypeFor[FrozenSet](), reflect.TypeFor[Object](), reflect.TypeFor[PythonError]():
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		_, registered := lookupType(t)
		return registered
	case reflect.Slice, reflect.Array:
		return t.Elem().Kind() == reflect.Uint8
	case reflect.Map:
		return t.Key().Kind() != reflect.String
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String, reflect.Pointer:
		return false
	}
	return true
}

func buildEncPlan(t reflect.Type, building map[reflect.Type]*encPlan) *encPlan {
	if p, ok := encPlans.Load(t); ok {
		return p.(*encPlan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &encPlan{t: t}
	building[t] = p
	if reflectOnly(t) {
		p.rf, p.enc = typeEncoder(t), encReflect
		return p
	}
	switch t.Kind() {
	case reflect.Bool:
		p.enc, p.kind = encBool, ekBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.enc = intEncoder(t.Size())
		if t.Size() == 8 {
			p.kind = ekInt64
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.enc = uintEncoder(t.Size())
	case reflect.Float32:
		p.enc = encFloat32
	case reflect.Float64:
		p.enc, p.kind = encFloat64, ekFloat64
	case reflect.String:
		p.enc, p.kind = encString, ekString
	case reflect.Pointer:
		p.elem, p.enc = buildEncPlan(t.Elem(), building), encPtr
		p.idWord = typeWord(reflect.Zero(t).Interface())
	case reflect.Slice:
		p.elem, p.enc = buildEncPlan(t.Elem(), building), encSlice
		p.idWord = typeWord(reflect.Zero(reflect.PointerTo(t.Elem())).Interface())
	case reflect.Array:
		p.elem, p.enc = buildEncPlan(t.Elem(), building), encArray
	case reflect.Map:
		p.elem, p.enc = buildEncPlan(t.Elem(), building), encStrMap
	case reflect.Struct:
		p.enc = encStruct
		for _, f := range cachedFields(t).fields {
			fp := encFieldPlan{name: f.name, key: int(keyIDs.Add(1) - 1), direct: true, index: f.index,
				omitEmpty: f.omitEmpty, omitZero: f.omitZero, plan: buildEncPlan(f.typ, building)}
			fp.kind = fp.plan.kind // a scalar's plan is complete
			ft := t
			for i, x := range f.index {
				if i > 0 && ft.Kind() == reflect.Pointer {
					fp.direct = false
					ft = ft.Elem()
				}
				fp.off += ft.Field(x).Offset
				ft = ft.Field(x).Type
			}
			p.omits = p.omits || !fp.direct || fp.omitEmpty || fp.omitZero
			p.fields = append(p.fields, fp)
		}
	}
	return p
}

// saveTyped writes a value of a type outside save's switch.
func (e *encState) saveTyped(v any) error {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	pl := encPlanFor(t)
	if pl.rf != nil {
		return pl.rf(e, rv)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Map:
		p := rv.UnsafePointer()
		return pl.enc(e, unsafe.Pointer(&p), pl)
	case reflect.Struct, reflect.Array, reflect.Slice:
		if t.Size() > unsafe.Sizeof(uintptr(0)) {
			// The interface holds a pointer to its copy of the value.
			return pl.enc(e, (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1], pl)
		}
	}
	c := reflect.New(t)
	c.Elem().Set(rv)
	return pl.enc(e, c.UnsafePointer(), pl)
}

func encReflect(e *encState, p unsafe.Pointer, pl *encPlan) error {
	return pl.rf(e, reflect.NewAt(pl.t, p).Elem())
}

func encBool(e *encState, p unsafe.Pointer, _ *encPlan) error {
	e.saveBool(*(*bool)(p))
	return nil
}

func intEncoder(size uintptr) func(e *encState, p unsafe.Pointer, _ *encPlan) error {
	switch size {
	case 8:
		return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(*(*int64)(p)); return nil }
	case 4:
		return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(int64(*(*int32)(p))); return nil }
	case 2:
		return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(int64(*(*int16)(p))); return nil }
	}
	return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(int64(*(*int8)(p))); return nil }
}

func uintEncoder(size uintptr) func(e *encState, p unsafe.Pointer, _ *encPlan) error {
	switch size {
	case 8:
		return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveUint(*(*uint64)(p)); return nil }
	case 4:
		return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(int64(*(*uint32)(p))); return nil }
	case 2:
		return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(int64(*(*uint16)(p))); return nil }
	}
	return func(e *encState, p unsafe.Pointer, _ *encPlan) error { e.saveInt(int64(*(*uint8)(p))); return nil }
}

func encFloat32(e *encState, p unsafe.Pointer, _ *encPlan) error {
	e.saveFloat(float64(*(*float32)(p)))
	return nil
}

func encFloat64(e *encState, p unsafe.Pointer, _ *encPlan) error {
	e.saveFloat(*(*float64)(p))
	return nil
}

func encString(e *encState, p unsafe.Pointer, _ *encPlan) error {
	_, err := e.saveStrIdx(*(*string)(p))
	return err
}

// boundary ends a frame that has reached its target size, as save does
// before each value.
func (e *encState) boundary() {
	if len(e.b) >= e.frameEnd {
		e.nextFrame()
	}
}

func (e *encState) nextFrame() {
	e.endFrame()
	e.startFrame()
}

func (e *encState) encValue(p unsafe.Pointer, pl *encPlan) error {
	e.boundary()
	return e.encAt(p, pl)
}

// encAt writes the value at p: scalars inline, the rest through pl.enc.
func (e *encState) encAt(p unsafe.Pointer, pl *encPlan) error {
	switch pl.kind {
	case ekInt64:
		e.saveInt(*(*int64)(p))
	case ekFloat64:
		e.saveFloat(*(*float64)(p))
	case ekString:
		_, err := e.saveStrIdx(*(*string)(p))
		return err
	case ekBool:
		e.saveBool(*(*bool)(p))
	default:
		return pl.enc(e, p, pl)
	}
	return nil
}

func encPtr(e *encState, p unsafe.Pointer, pl *encPlan) error {
	ptr := *(*unsafe.Pointer)(p)
	if ptr == nil {
		e.b = append(e.b, opNone)
		return nil
	}
	if pl.elem.t.Kind() == reflect.Struct {
		// Shared pointers keep their identity (one Python object).
		id := idKey{p: boxAt(pl.idWord, ptr), kind: 'p'}
		if i, ok := e.lookupID(id); ok {
			e.writeGet(i)
			return nil
		}
		e.pendingID = id
	}
	if err := e.enter(); err != nil {
		return err
	}
	err := pl.elem.enc(e, ptr, pl.elem)
	e.pendingID = idKey{}
	e.depth--
	return err
}

func encSlice(e *encState, p unsafe.Pointer, pl *encPlan) error {
	h := (*sliceHdr)(p)
	if h.cap > 0 && e.depth < e.m.maxDepth {
		// enter cannot fail, so the slice is memoized next: store its
		// identity with the index memoize gives it, in the same probe as
		// the lookup.
		if i, en := e.memoID.lookupOrAdd(pl.idWord, h.data, h.len, 's', e.memoN); en != nil {
			e.writeGet(i)
			return nil
		}
		e.depth++
		e.emptyList()
		e.memoize()
	} else {
		var id idKey
		if h.cap > 0 {
			id = idKey{p: boxAt(pl.idWord, h.data), n: h.len, kind: 's'}
			if i, ok := e.lookupID(id); ok {
				e.writeGet(i)
				return nil
			}
		}
		if err := e.enter(); err != nil {
			return err
		}
		e.emptyList()
		e.memoizeID(id)
	}
	err := e.listItems(h.data, h.len, pl.elem)
	e.depth--
	return err
}

func encArray(e *encState, p unsafe.Pointer, pl *encPlan) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.emptyList()
	e.memoize()
	err := e.listItems(p, pl.t.Len(), pl.elem)
	e.depth--
	return err
}

func (e *encState) emptyList() {
	if e.proto >= 1 {
		e.b = append(e.b, opEmptyList)
	} else {
		e.b = append(e.b, opMark, opList)
	}
}

// listItems writes n items of type elem stored from data on.
func (e *encState) listItems(data unsafe.Pointer, n int, elem *encPlan) error {
	if n < batchSize && e.proto >= 1 {
		// One batch, as the batcher writes it for batchList.
		if n == 0 {
			return nil
		}
		if n > 1 {
			e.b = append(e.b, opMark)
		}
		if err := e.items(data, 0, n, elem); err != nil {
			return err
		}
		if n == 1 {
			e.b = append(e.b, opAppend)
		} else {
			e.b = append(e.b, opAppends)
		}
		return nil
	}
	for b := e.batches(n, batchList); b.next(); {
		e.openBatch(&b)
		if err := e.items(data, b.lo, b.hi, elem); err != nil {
			return err
		}
		e.closeBatch(&b, opAppend, opAppends)
	}
	return nil
}

// items writes items lo to hi-1 of type elem stored from data on, with a
// loop per scalar type (no call through elem.enc per item).
func (e *encState) items(data unsafe.Pointer, lo, hi int, elem *encPlan) error {
	size := elem.t.Size()
	switch elem.kind {
	case ekInt64:
		for i := lo; i < hi; i++ {
			e.boundary()
			e.saveInt(*(*int64)(unsafe.Add(data, uintptr(i)*size)))
		}
	case ekFloat64:
		for i := lo; i < hi; i++ {
			e.boundary()
			e.saveFloat(*(*float64)(unsafe.Add(data, uintptr(i)*size)))
		}
	case ekString:
		for i := lo; i < hi; i++ {
			e.boundary()
			if _, err := e.saveStrIdx(*(*string)(unsafe.Add(data, uintptr(i)*size))); err != nil {
				return err
			}
		}
	case ekBool:
		for i := lo; i < hi; i++ {
			e.boundary()
			e.saveBool(*(*bool)(unsafe.Add(data, uintptr(i)*size)))
		}
	default:
		for i := lo; i < hi; i++ {
			e.boundary()
			if err := elem.enc(e, unsafe.Add(data, uintptr(i)*size), elem); err != nil {
				return err
			}
		}
	}
	return nil
}

// encStruct writes a struct as a dict of its fields, in field order.
func encStruct(e *encState, p unsafe.Pointer, pl *encPlan) error {
	id := e.pendingID
	e.pendingID = idKey{}
	if err := e.enter(); err != nil {
		return err
	}
	e.emptyDict()
	e.memoizeID(id)
	n := len(pl.fields)
	if !pl.omits && n > 0 && n < batchSize {
		err := e.structFields(p, pl)
		e.depth--
		return err
	}
	if pl.omits {
		n = 0
		for i := range pl.fields {
			if _, ok := fieldAt(p, pl, i); ok {
				n++
			}
		}
	}
	f := 0
	for b := e.batches(n, batchDict); b.next(); {
		e.openBatch(&b)
		for k := b.lo; k < b.hi; k++ {
			fp, ok := fieldAt(p, pl, f)
			for ; !ok; fp, ok = fieldAt(p, pl, f) {
				f++
			}
			if err := e.structItem(&pl.fields[f], fp); err != nil {
				return err
			}
			f++
		}
		e.closeBatch(&b, opSetitem, opSetitems)
	}
	e.depth--
	return nil
}

// structFields writes the items of a struct whose fields are all written,
// in one batch (as batchDict does for fewer than 1000 items).
func (e *encState) structFields(p unsafe.Pointer, pl *encPlan) error {
	single := len(pl.fields) == 1 || e.proto == 0
	if !single {
		e.b = append(e.b, opMark)
	}
	for i := range pl.fields {
		f := &pl.fields[i]
		e.boundary()
		// saveKey's common case inline: the key written before in this
		// encode, fetched with a BINGET.
		if k := f.key; k < len(e.keys) && uint32(e.keys[k]-1) < 256 && e.proto >= 1 {
			e.b = append(e.b, opBinget, byte(e.keys[k]-1))
		} else if err := e.saveKey(f); err != nil {
			return err
		}
		e.boundary()
		// encAt, inline: one call less per field.
		fp := unsafe.Add(p, f.off)
		var err error
		switch f.kind {
		case ekInt64:
			e.saveInt(*(*int64)(fp))
		case ekFloat64:
			e.saveFloat(*(*float64)(fp))
		case ekString:
			_, err = e.saveStrIdx(*(*string)(fp))
		case ekBool:
			e.saveBool(*(*bool)(fp))
		default:
			err = f.plan.enc(e, fp, f.plan)
		}
		if err != nil {
			return err
		}
		if e.proto == 0 {
			e.b = append(e.b, opSetitem)
		}
	}
	switch {
	case e.proto == 0:
	case single:
		e.b = append(e.b, opSetitem)
	default:
		e.b = append(e.b, opSetitems)
	}
	return nil
}

// fieldAt returns the address of field i, or false when it is left out.
func fieldAt(p unsafe.Pointer, pl *encPlan, i int) (unsafe.Pointer, bool) {
	if !pl.omits {
		return unsafe.Add(p, pl.fields[i].off), true
	}
	return fieldAtSlow(p, pl, i)
}

func fieldAtSlow(p unsafe.Pointer, pl *encPlan, i int) (unsafe.Pointer, bool) {
	f := &pl.fields[i]
	if f.direct && !f.omitEmpty && !f.omitZero {
		return unsafe.Add(p, f.off), true
	}
	v, ok := fieldByIndexNoAlloc(reflect.NewAt(pl.t, p).Elem(), f.index)
	if !ok || f.omitEmpty && isEmptyValue(v) || f.omitZero && isZeroValue(v) {
		return nil, false
	}
	return v.Addr().UnsafePointer(), true
}

func (e *encState) structItem(f *encFieldPlan, p unsafe.Pointer) error {
	e.boundary()
	if err := e.saveKey(f); err != nil {
		return err
	}
	return e.encValue(p, f.plan)
}

// saveKey writes a field name: a str memoized on first use, fetched by
// the memo index cached for this encode afterwards.
func (e *encState) saveKey(f *encFieldPlan) error {
	if f.key < len(e.keys) && e.keys[f.key] > 0 {
		if i := e.keys[f.key] - 1; i < 256 && e.proto >= 1 {
			e.b = append(e.b, opBinget, byte(i))
			return nil
		}
		e.writeGet(int(e.keys[f.key] - 1))
		return nil
	}
	idx, err := e.saveKeyStr(f.name)
	if err != nil {
		return err
	}
	if f.key >= len(e.keys) {
		e.keys = slices.Grow(e.keys, f.key+1-len(e.keys))[:f.key+1]
	}
	if idx < math.MaxInt32 {
		e.keys[f.key] = int32(idx + 1)
		e.keysUsed = append(e.keysUsed, int32(f.key))
	}
	return nil
}

// mapItem is a map entry while a map is written: the index of its key and
// value copies, and pre, the key's first 8 bytes big-endian, which decides
// most comparisons of the sort by itself.
type mapItem struct {
	pre uint64
	i   int
}

func keyPrefix(k string) uint64 {
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(unsafe.Slice(unsafe.StringData(k), 8))
	}
	// Byte by byte: copying into an array called memmove per key.
	var pre uint64
	for i := range len(k) {
		pre |= uint64(k[i]) << (56 - 8*i)
	}
	return pre
}

// mapScratch holds the copies of one map's keys and values while it is
// written; an encState keeps one per map type for the next encode, with
// the iterator and key value that reading a map takes (two allocations a
// map otherwise).
type mapScratch struct {
	keys  []string
	items []mapItem
	sort  mapSorter
	vals  reflect.Value // an addressable []V, resized without allocating
	it    reflect.MapIter
	k     reflect.Value // a K the iterator writes each key to
	kp    *string       // k's address (K's kind is String)
	busy  bool          // in use by a map being written
}

func (e *encState) takeScratch(t reflect.Type, n int) *mapScratch {
	sc := e.maps[t]
	switch {
	case sc == nil:
		sc = newMapScratch(t)
		if e.maps == nil {
			e.maps = make(map[reflect.Type]*mapScratch)
		}
		e.maps[t] = sc
	case sc.busy:
		// A map of the same type inside one being written: scratch of
		// its own, not kept.
		sc = newMapScratch(t)
	}
	sc.busy = true
	if sc.vals.Cap() < n {
		sc.vals.Set(reflect.MakeSlice(sc.vals.Type(), n, n))
	} else {
		sc.vals.SetLen(n) // Slice would allocate a header per map
	}
	sc.keys, sc.items = slices.Grow(sc.keys[:0], n), slices.Grow(sc.items[:0], n)
	return sc
}

func newMapScratch(t reflect.Type) *mapScratch {
	sc := &mapScratch{vals: reflect.New(reflect.SliceOf(t.Elem())).Elem(), k: reflect.New(t.Key()).Elem()}
	// The key is read through its address, not with k.String() and its
	// kind check twice per entry.
	sc.kp = (*string)(sc.k.Addr().UnsafePointer())
	return sc
}

func (e *encState) putScratch(sc *mapScratch) {
	sc.vals.Clear() // keep no user values alive
	clear(sc.keys)
	*sc.kp = ""
	sc.it.Reset(reflect.Value{})
	sc.busy = false
	if sc.vals.Cap() > 1<<16 {
		sc.vals.SetZero()
		sc.keys, sc.items, sc.sort = nil, nil, mapSorter{}
	}
}

// encStrMap writes a string-keyed map as a dict, in key order (Go maps
// have none).
func encStrMap(e *encState, p unsafe.Pointer, pl *encPlan) error {
	mp := *(*unsafe.Pointer)(p)
	var id idKey
	if mp != nil {
		id = idKey{p: mp, kind: 'm'}
		if i, ok := e.lookupID(id); ok {
			e.writeGet(i)
			return nil
		}
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.emptyDict()
	e.memoizeID(id)
	m := reflect.NewAt(pl.t, p).Elem()
	n := m.Len()
	if n == 0 {
		e.depth--
		return nil
	}
	// Copy the values out (a map cannot be addressed) and sort the keys.
	sc := e.takeScratch(pl.t, n)
	err := e.strMapEntries(sc, m, pl)
	e.putScratch(sc)
	e.depth--
	return err
}

// strMapEntries writes the n entries of map m through scratch sc.
// touchAhead is how many entries ahead of the one being written
// strMapEntries reads a byte of the value and of the key (see there).
const touchAhead = 8

func (e *encState) strMapEntries(sc *mapScratch, m reflect.Value, pl *encPlan) error {
	n := m.Len()
	kp := sc.kp
	sc.it.Reset(m)
	for it := &sc.it; it.Next(); {
		sc.vals.Index(len(sc.keys)).SetIterValue(it)
		sc.k.SetIterKey(it)
		sc.items = append(sc.items, mapItem{keyPrefix(*kp), len(sc.keys)})
		sc.keys = append(sc.keys, *kp)
	}
	keys := sc.keys
	sc.items = sc.sort.sort(sc.items, keys)
	data, size := sc.vals.UnsafePointer(), pl.elem.t.Size()
	run := 0
	if n > bigMapKeys {
		run = e.beginRun()
	}
	var touch uintptr // kept, so that the reads are not dropped
	for b := e.batches(n, batchDict); b.next(); {
		e.openBatch(&b)
		for i := b.lo; i < b.hi; i++ {
			e.boundary()
			it := sc.items[i]
			if j := i + touchAhead; j < n && size > 0 {
				// The entries are written in key order, which is not the
				// order their copies were made in: each value's copy (and
				// its key's bytes) is a cache miss of its own, taken one
				// after another. Reading a byte of the entry touchAhead
				// on starts its misses while this one is written (Go has
				// no prefetch): -6 to -9% time for 10k records.
				nx := sc.items[j].i
				vp := unsafe.Add(data, uintptr(nx)*size)
				touch += uintptr(*(*byte)(vp)) + uintptr(*(*byte)(unsafe.Add(vp, size-1)))
				if k := keys[nx]; len(k) > 0 {
					touch += uintptr(k[0])
				}
			}
			var err error
			if run != 0 {
				_, err = e.saveRunKey(keys[it.i], run)
			} else {
				_, err = e.saveKeyStr(keys[it.i])
			}
			if err != nil {
				return err
			}
			e.boundary()
			vp := unsafe.Add(data, uintptr(it.i)*size)
			if el := pl.elem; el.kind == ekOther {
				err = el.enc(e, vp, el) // encAt's case for a struct, without its frame
			} else {
				err = e.encAt(vp, el)
			}
			if err != nil {
				return err
			}
		}
		e.closeBatch(&b, opSetitem, opSetitems)
	}
	e.touched = touch
	return nil
}

// sort sorts items by key (pre, then the whole key) and returns them:
// items, or the sorter's scratch holding them, which then takes items as
// its scratch. A long map is sorted by its keys' prefixes with an LSD
// radix sort (stable, so equal prefixes keep their order until their keys
// are compared), which costs a fraction of comparison sorting. The digits
// cover only the bits where the prefixes differ, in as few passes as
// digits of up to 11 bits take (8 for fewer than 4096 items, whose counts
// would outweigh them): keys numbered "item0".."item9999" differ in 28
// bits, three passes where byte digits took four.
func (so *mapSorter) sort(items []mapItem, keys []string) []mapItem {
	byKey := func(a, b mapItem) int {
		if a.pre != b.pre {
			return cmp.Compare(a.pre, b.pre)
		}
		return strings.Compare(keys[a.i], keys[b.i])
	}
	n := len(items)
	if n < 256 {
		slices.SortFunc(items, byKey)
		return items
	}
	var or, and uint64 = 0, math.MaxUint64
	for i := range items {
		or |= items[i].pre
		and &= items[i].pre
	}
	if diff := or ^ and; diff != 0 {
		items = so.radix(items, diff)
	}
	// Keys that share their prefix: compare them whole.
	for i := 1; i < n; i++ {
		if items[i].pre != items[i-1].pre {
			continue
		}
		lo, hi := i-1, i+1
		for hi < n && items[hi].pre == items[lo].pre {
			hi++
		}
		slices.SortFunc(items[lo:hi], byKey)
		i = hi
	}
	return items
}

// mapSorter holds the scratch of sorting a map's items.
type mapSorter struct {
	tmp   []mapItem
	count []uint32
}

// radix sorts items by the bits of pre set in diff (the others are equal
// in every item) and returns them, in items or in so.tmp.
func (so *mapSorter) radix(items []mapItem, diff uint64) []mapItem {
	const maxDigit = 1 << 11
	n := len(items)
	lo := uint(bits.TrailingZeros64(diff))
	span := uint(64-bits.LeadingZeros64(diff)) - lo
	maxBits := uint(11)
	if n < 1<<12 {
		maxBits = 8
	}
	passes := (span + maxBits - 1) / maxBits
	width := (span + passes - 1) / passes
	mask := uint64(1)<<width - 1
	// One row of counts per pass, plus one that the last pass counts into
	// and nothing reads.
	so.count = slices.Grow(so.count[:0], int(passes+1)*maxDigit)[:(passes+1)*maxDigit]
	clear(so.count)
	// The first digit is counted here, each next one by the pass before.
	c := (*[maxDigit]uint32)(so.count)
	for i := range items {
		c[(items[i].pre>>lo)&mask&(maxDigit-1)]++
	}
	so.tmp = slices.Grow(so.tmp[:0], n)[:n]
	src, dst := items, so.tmp
	for p := range passes {
		c := (*[maxDigit]uint32)(so.count[p*maxDigit:])
		next := (*[maxDigit]uint32)(so.count[(p+1)*maxDigit:])
		at := uint32(0)
		for b := range c[:mask+1] {
			k := c[b]
			c[b] = at
			at += k
		}
		shift := (lo + p*width) & 63
		nshift := (shift + width) & 63
		for i := range src {
			it := src[i]
			b := (it.pre >> shift) & mask & (maxDigit - 1)
			next[(it.pre>>nshift)&mask&(maxDigit-1)]++
			dst[c[b]] = it
			c[b]++
		}
		src, dst = dst, src
	}
	so.tmp = dst
	return src
}
