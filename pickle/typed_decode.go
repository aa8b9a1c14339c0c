package pickle

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// The typed decoder reads the opcodes of a pickle straight into a Go value
// (a struct, a slice, a string-keyed map...), driven by the decode plan of
// its type (typed_plan.go), without building the generic value first. It
// reads one value at a time, recursively, as CPython's pickler writes plain
// data (a list is EMPTY_LIST, MEMOIZE and its items in APPEND/APPENDS
// batches; a dict EMPTY_DICT, MEMOIZE, SETITEM/SETITEMS batches), which is
// the stack machine's own semantics for those opcodes: whatever it accepts
// decodes as the generic path would. Anything else — another opcode, a
// value the type cannot hold, a shared value it cannot share, a limit —
// makes it give up (errFallback) and the decode starts over through the
// generic value and converter.go, which decides and words every error.
//
// Its memo holds typed values, so references stay shared: a list read twice
// into the same slice type gives slices with one backing array, a dict read
// twice into *T the same pointer, a str one Go string.

var errFallback = errors.New("pickle: typed decoding falls back to the generic path")

// typedFallbacks counts the decodes the typed decoder handed over (tests).
var typedFallbacks atomic.Int64

// typedReread counts the bytes the typed decoder read twice, reading ahead
// (followedBy), in all decodes (tests: the budget bounds it by the input).
var typedReread atomic.Int64

// tmemo is a memo entry of the typed decoder. It holds no pointers, so
// that the GC neither scans the memo nor runs write barriers as it is
// written: a pickle of plain data memoizes most of its values (CPython
// writes MEMOIZE after every str, list and dict), and with pointers in it
// the memo cost more than the values (write barriers on every entry while
// a GC cycle marks, a memo as large as the result to scan). Pointers live
// in the decoder's refs and chunks, named here by index.
type tmemo struct {
	// n is the offset of the str in data (mStr) or the slice length
	// (mSlice). It is 32 bits, like the rest (the typed decoder leaves an
	// input over math.MaxInt32 bytes to the generic path): an entry is 24
	// bytes, and a pickle of records writes ~3 entries a record, a memo of
	// ~1 MB per 10k records written again on every decode
	// (docs/benchmarks.md, issue 19 round 6).
	n int32
	// c is the length of the str (mStr) or the slice capacity (mSlice).
	c int32
	// ref is, for mStr with fMade, the string chunk (tdec.chunks) holding
	// the string's bytes; for mSlice, mAt and mMap the index in tdec.refs
	// of the slice data, the location, the map.
	ref int32
	// at is the offset of a made string's bytes in its chunk; for mSlice
	// and mAt the offset of the location in refs[ref] (dataRef).
	at int32
	// plan is the id of the value's plan (mSlice, mAt, mMap); for mStr
	// the struct plan whose field index is cached in field.
	plan  uint32
	field int16
	kind  uint8
	flags uint8
}

// tmemo flags.
const (
	fMade   = 1 << iota // mStr: the string is made (ref, at)
	fViaPtr             // mAt: a struct read into a new *T (its ref), shared as that pointer
)

const (
	mNone    uint8 = iota
	mStr           // a str at data[n:n+c]
	mOpen          // a container being read
	mSlice         // a list or tuple read into a slice
	mAt            // a struct or array stored at its ref
	mMap           // a map
	mPtr           // a struct read into a new *T (its ref is the pointer)
	mDiscard       // read into nothing
)

type tdec struct {
	s       *decState
	memo    []tmemo
	refs    []unsafe.Pointer // what memo entries point at (tmemo.ref)
	chunks  []unsafe.Pointer // the string slabs, and long strings (tmemo.ref of a str)
	depth   int
	objects int
	budget  int          // bytes that lookahead may read again
	ahead   map[int]bool // followedBy answers by position
	// lookahead counts the followedBy reads under way; rebound is set
	// when one of them rebinds a memo index (a BINPUT over a live index:
	// the rewind truncates the memo but cannot undo a rebinding), which
	// makes the decode fall back.
	lookahead int
	rebound   bool
	slabs     []*slab // slabs of short slices, by type
	// lastSlab is the slab strList carved from last (saves the search).
	lastSlab *slab
	// The last string chunk (d.chunks' last) and the part of it in use:
	// kept as a pointer and offsets, so that carving a string writes no
	// pointer (a slice field's update runs a write barrier check).
	slabBase        unsafe.Pointer
	slabAt, slabEnd int32
	alloc           int64
	limit           int64
	// scratch and scratchSize locate the scratch value of the map being
	// read (mapValue); inScratch are the memo entries of values in it.
	scratch, scratchSize uintptr
	inScratch            []int
	// The decode mode's limits, here to save loads in the hot paths.
	maxObjects, maxContainer, maxMemo, maxDepth int
	// memoGen changes whenever a memo entry may stop meaning what it did:
	// one overwritten (BINPUT) or dropped (the memo cut back), and at each
	// decode. keys holds from one generation to the next.
	memoGen uint32
	keys    keyCache
}

// keyCache is the keys of the records last read into one struct type, by
// their place in the record: CPython writes every record after the first
// as the same BINGETs of its keys, in the same order, so structPairs can
// check a key as its two bytes instead of looking it up in the memo and
// the struct's fields, and read the value as the field's kind was found
// then (keyRun; docs/benchmarks.md, issue 19 round 8). An entry is a fact
// about the memo (a BINGET of idx names the field), so it holds while no
// memo entry changes (memoGen).
type keyCache struct {
	plan uint32 // the struct's plan id (0: none)
	gen  uint32 // memoGen when it was filled
	slot [keySlots]keySlot
}

const keySlots = 16

type keySlot struct {
	off  uintptr  // the field's offset in the struct
	plan *decPlan // the field's plan
	key  uint16   // the key's two bytes: BINGET and its memo index
	act  uint8    // how keyRun reads the value (kNone: not cached)
}

// keySlot.act: the field's kind, as structPairs reads it.
const (
	kNone    uint8 = iota
	kInt64         // int64 (BININT1, BININT2, BININT)
	kFloat64       // float64 (BINFLOAT)
	kBool          // bool (NEWTRUE, NEWFALSE)
	kStr           // string (SHORT_BINUNICODE and its MEMOIZE: strMemo)
	kStrs          // []string (a list as strList reads it)
	kOther         // read by structPairs' general path
)

// slabChunk is the most string bytes one allocation holds.
const slabChunk = 32 << 10

var tdecPool = make(chan *tdec, 4)

// decodeTyped tries the typed decoder: nil or a decode error means done;
// errFallback means the generic path must decode this pickle.
//
// It writes only into storage that the generic path would replace or that
// it makes itself, so that giving up leaves no trace: the target must be
// the zero value (it is zeroed again on giving up) or a slice (whose
// header is put back).
func (s *decState) decodeTyped(rv reflect.Value) error {
	pl := planFor(rv.Type().Elem())
	if !pl.fast || len(s.data) > math.MaxInt32 {
		return errFallback
	}
	dst := rv.Elem()
	var old sliceHdr
	switch {
	case dst.Kind() == reflect.Slice:
		old = *(*sliceHdr)(rv.UnsafePointer())
	case !dst.IsZero():
		return errFallback
	}
	var d *tdec
	select {
	case d = <-tdecPool:
	default:
		d = &tdec{}
	}
	d.s, d.depth, d.objects, d.alloc = s, 0, 0, 0
	budget := len(s.data) + 4096
	d.budget = budget
	d.limit = s.m.allocLimit(len(s.data))
	d.maxObjects, d.maxContainer, d.maxMemo, d.maxDepth = s.m.maxObjects, s.m.maxContainer, s.m.maxMemo, s.m.maxDepth
	err := d.top(rv.UnsafePointer(), pl)
	if d.budget != budget {
		typedReread.Add(int64(budget - d.budget))
	}
	if err != nil {
		s.pos = 0
		typedFallbacks.Add(1)
		if dst.Kind() == reflect.Slice {
			*(*sliceHdr)(rv.UnsafePointer()) = old
		} else {
			dst.SetZero()
		}
	}
	d.release()
	return err
}

func (d *tdec) release() {
	d.memo = d.memo[:0]
	d.memoGen++
	clear(d.refs)
	d.refs = d.refs[:0]
	clear(d.chunks)
	d.chunks = d.chunks[:0]
	d.inScratch, d.scratch, d.scratchSize = d.inScratch[:0], 0, 0
	d.s, d.slabBase, d.ahead, d.lastSlab = nil, nil, nil, nil
	d.lookahead, d.rebound = 0, false
	d.slabAt, d.slabEnd = 0, 0
	clear(d.slabs)
	d.slabs = d.slabs[:0]
	if cap(d.memo) > 1<<16 {
		d.memo = nil
	}
	if cap(d.refs) > 1<<16 {
		d.refs = nil
	}
	select {
	case tdecPool <- d:
	default:
	}
}

func (d *tdec) top(p unsafe.Pointer, pl *decPlan) error {
	op, err := d.peek()
	if err != nil {
		return errFallback
	}
	if op == opProto {
		d.s.pos++
		v, err := d.s.u8()
		if err != nil || v < 3 || v > highestProtocol {
			return errFallback
		}
		d.s.proto = int(v)
	}
	if err := d.value(p, pl); err != nil {
		return err
	}
	if op, err := d.next(); err != nil || op != opStop {
		return errFallback
	}
	return nil
}

// next reads an opcode, skipping FRAMEs (whose length must be there).
func (d *tdec) next() (byte, error) {
	s := d.s
	if p := s.pos; uint(p) < uint(len(s.data)) {
		if op := s.data[p]; op != opFrame {
			s.pos = p + 1
			return op, nil
		}
	}
	return d.nextSlow()
}

//go:noinline
func (d *tdec) nextSlow() (byte, error) {
	s := d.s
	for {
		if s.pos >= len(s.data) {
			if err := s.ensure(1); err != nil {
				return 0, err
			}
		}
		op := s.data[s.pos]
		s.pos++
		if op != opFrame {
			return op, nil
		}
		n, err := s.u64()
		if err != nil {
			return 0, err
		}
		if err := s.ensure(n); err != nil {
			return 0, err
		}
	}
}

// peek returns the next opcode without reading it (after any FRAME).
func (d *tdec) peek() (byte, error) {
	if op := d.op(); op != 0 {
		return op, nil
	}
	return d.peekSlow()
}

// op is peek's fast path: the next opcode when it is there and not a
// FRAME, else 0 (which is no opcode).
func (d *tdec) op() byte {
	s := d.s
	if p := s.pos; uint(p) < uint(len(s.data)) {
		if op := s.data[p]; op != opFrame {
			return op
		}
	}
	return 0
}

// peekSlow is peek past FRAMEs. On an error it leaves the position where
// it was, so that the next read fails too (memoPuts leaves the error to it:
// a truncated FRAME must not be skipped).
//
//go:noinline
func (d *tdec) peekSlow() (byte, error) {
	at := d.s.pos
	op, err := d.nextSlow()
	if err != nil {
		d.s.pos = at
		return op, err
	}
	d.s.pos--
	return op, nil
}

// value reads one value into p (nil: read and drop it).
func (d *tdec) value(p unsafe.Pointer, pl *decPlan) error {
	if pl != nil && pl.kind == pkPtr {
		return d.ptr(p, pl)
	}
	d.objects++
	if d.objects > d.maxObjects {
		return errFallback
	}
	op, err := d.next()
	if err != nil {
		return errFallback
	}
	switch op {
	case opNone:
		return setNone(p, pl)
	case opNewtrue, opNewfalse:
		return setBool(p, pl, op == opNewtrue)
	case opBinint1, opBinint2, opBinint, opLong1:
		n, err := d.intArg(op)
		if err != nil {
			return err
		}
		return setInt(p, pl, n)
	case opBinfloat:
		b, err := d.s.take(8)
		if err != nil {
			return errFallback
		}
		return setFloat(p, pl, math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinunicode, opBinunicode, opBinunicode8:
		return d.str(p, pl, op)
	case opShortBinbytes, opBinbytes, opBinbytes8:
		return d.bytes(p, pl, op)
	case opEmptyList:
		return d.list(p, pl)
	case opEmptyDict:
		return d.dict(p, pl)
	case opEmptyTuple:
		return d.emptyTuple(p, pl)
	case opMark:
		return d.tuple(p, pl)
	case opBinget, opLongBinget:
		return d.get(p, pl, op)
	}
	return errFallback
}

func setNone(p unsafe.Pointer, pl *decPlan) error {
	if pl == nil {
		return nil
	}
	switch pl.kind {
	case pkPtr, pkMap:
		*(*unsafe.Pointer)(p) = nil
	case pkSlice:
		*(*[]byte)(p) = nil
	}
	return nil
}

func setBool(p unsafe.Pointer, pl *decPlan, b bool) error {
	if pl == nil {
		return nil
	}
	switch pl.kind {
	case pkBool:
		*(*bool)(p) = b
		return nil
	case pkInt, pkUint:
		var n int64
		if b {
			n = 1
		}
		return setInt(p, pl, n)
	}
	return errFallback
}

func setInt(p unsafe.Pointer, pl *decPlan, n int64) error {
	if pl == nil {
		return nil
	}
	switch pl.kind {
	case pkInt:
		switch pl.size {
		case 8:
			*(*int64)(p) = n
		case 4:
			if int64(int32(n)) != n {
				return errFallback
			}
			*(*int32)(p) = int32(n)
		case 2:
			if int64(int16(n)) != n {
				return errFallback
			}
			*(*int16)(p) = int16(n)
		default:
			if int64(int8(n)) != n {
				return errFallback
			}
			*(*int8)(p) = int8(n)
		}
		return nil
	case pkUint:
		if n < 0 {
			return errFallback
		}
		switch pl.size {
		case 8:
			*(*uint64)(p) = uint64(n)
		case 4:
			if n > math.MaxUint32 {
				return errFallback
			}
			*(*uint32)(p) = uint32(n)
		case 2:
			if n > math.MaxUint16 {
				return errFallback
			}
			*(*uint16)(p) = uint16(n)
		default:
			if n > math.MaxUint8 {
				return errFallback
			}
			*(*uint8)(p) = uint8(n)
		}
		return nil
	case pkFloat:
		return setFloat(p, pl, float64(n))
	}
	return errFallback
}

func setFloat(p unsafe.Pointer, pl *decPlan, f float64) error {
	if pl == nil {
		return nil
	}
	if pl.kind != pkFloat {
		return errFallback
	}
	if pl.size == 8 {
		*(*float64)(p) = f
		return nil
	}
	if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
		return errFallback
	}
	*(*float32)(p) = float32(f)
	return nil
}

// intArg reads the argument of BININT1, BININT2, BININT or a LONG1 of at
// most 8 bytes.
func (d *tdec) intArg(op byte) (int64, error) {
	s := d.s
	switch op {
	case opBinint1:
		b, err := s.u8()
		return int64(b), toFallback(err)
	case opBinint2:
		v, err := s.u16()
		return int64(v), toFallback(err)
	case opBinint:
		v, err := s.u32()
		return int64(int32(v)), toFallback(err)
	}
	n, err := s.u8()
	if err != nil || n > 8 {
		return 0, errFallback
	}
	b, err := s.take(uint64(n))
	if err != nil {
		return 0, errFallback
	}
	return decodeLong64(b), nil
}

func toFallback(err error) error {
	if err != nil {
		return errFallback
	}
	return nil
}

// strArg reads the length of a str or bytes opcode and checks the bytes
// are there; it returns their offset in data.
func (d *tdec) strArg(op byte) (int, int, error) {
	s := d.s
	var n uint64
	switch op {
	case opShortBinunicode, opShortBinbytes:
		b, err := s.u8()
		if err != nil {
			return 0, 0, errFallback
		}
		n = uint64(b)
	case opBinunicode, opBinbytes:
		v, err := s.u32()
		if err != nil {
			return 0, 0, errFallback
		}
		n = uint64(v)
	default:
		v, err := s.u64()
		if err != nil {
			return 0, 0, errFallback
		}
		n = v
	}
	if err := s.ensure(n); err != nil {
		return 0, 0, errFallback
	}
	off := s.pos
	s.pos += int(n)
	return off, int(n), nil
}

// newString copies b into the string slab: one allocation holds the bytes
// of many strings (the result keeps them all alive together). It also
// returns where the bytes are: the chunk (index in d.chunks) and the
// offset in it.
func (d *tdec) newString(b []byte) (string, int32, int32) {
	n := len(b)
	if n == 0 {
		return "", 0, 0
	}
	at := d.slabAt
	if n > int(d.slabEnd-at) {
		return d.newChunk(b)
	}
	p := unsafe.Add(d.slabBase, at)
	if n <= 8 && cap(b) >= 8 && d.slabEnd-at >= 8 {
		// A short string is copied as one word: the bytes past it are
		// the input's (readable to cap) and land in the unused rest of
		// the chunk, which the next strings overwrite.
		binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(p), 8), binary.LittleEndian.Uint64(b[:8]))
	} else {
		copy(unsafe.Slice((*byte)(p), n), b)
	}
	d.slabAt = at + int32(n)
	return unsafe.String((*byte)(p), n), int32(len(d.chunks) - 1), at
}

// validString is newString of b (a str's bytes) when b is valid as
// validPyUTF8 has it, else false. A short str (under copyWTF8Max bytes) is
// checked while it is copied (copyWTF8); one that fails leaves its bytes
// in the unused rest of the chunk.
func (d *tdec) validString(b []byte) (string, int32, int32, bool) {
	n := len(b)
	if n > 8 && n < copyWTF8Max && n <= int(d.slabEnd-d.slabAt) {
		at := d.slabAt
		p := unsafe.Add(d.slabBase, at)
		if !copyWTF8(unsafe.Slice((*byte)(p), n), unsafe.String(unsafe.SliceData(b), n)) {
			return "", 0, 0, false
		}
		d.slabAt = at + int32(n)
		return unsafe.String((*byte)(p), n), int32(len(d.chunks) - 1), at, true
	}
	if !validPyUTF8(b) {
		return "", 0, 0, false
	}
	str, ref, at := d.newString(b)
	return str, ref, at, true
}

// newChunk is newString when the last chunk has no room for b: a long
// string gets an allocation of its own, a short one a new chunk.
func (d *tdec) newChunk(b []byte) (string, int32, int32) {
	if len(b) >= slabChunk/4 {
		str := string(b)
		d.chunks = append(d.chunks, unsafe.Pointer(unsafe.StringData(str)))
		// The chunk in use is no longer chunks' last: the next string
		// starts a new one.
		d.slabBase, d.slabAt, d.slabEnd = nil, 0, 0
		return str, int32(len(d.chunks) - 1), 0
	}
	size := min(slabChunk, max(len(d.s.data)-d.s.pos+len(b), 64))
	chunk := make([]byte, size)
	d.chunks = append(d.chunks, unsafe.Pointer(&chunk[0]))
	d.slabBase, d.slabAt, d.slabEnd = unsafe.Pointer(&chunk[0]), 0, int32(size)
	return d.newString(b)
}

func (d *tdec) str(p unsafe.Pointer, pl *decPlan, op byte) error {
	off, n, err := d.strArg(op)
	if err != nil || n > math.MaxInt32 {
		return errFallback
	}
	b := d.s.data[off : off+n]
	if !validPyUTF8(b) {
		return errFallback
	}
	if pl != nil && pl.kind != pkString {
		return errFallback
	}
	e := tmemo{kind: mStr, n: int32(off), c: int32(n)}
	if pl != nil {
		str, ref, at := d.newString(b)
		if n > 0 {
			e.ref, e.at, e.flags = ref, at, fMade
		}
		*(*string)(p) = str
	}
	return d.memoAfter(e)
}

func (d *tdec) bytes(p unsafe.Pointer, pl *decPlan, op byte) error {
	off, n, err := d.strArg(op)
	if err != nil {
		return err
	}
	if pl != nil {
		if !pl.bytes {
			return errFallback
		}
		if err := d.charge(uintptr(n)); err != nil {
			return err
		}
		src := d.s.data[off : off+n]
		if pl.kind == pkArray {
			clear(unsafe.Slice((*byte)(p), pl.arrLen))
			copy(unsafe.Slice((*byte)(p), pl.arrLen), src)
		} else {
			b := make([]byte, n)
			copy(b, src)
			*(*[]byte)(p) = b
		}
	}
	// bytes are memoized, but a typed target cannot share them: a GET of
	// them falls back.
	return d.memoAfter(tmemo{kind: mDiscard})
}

// memoAfter stores e under every memo opcode that follows.
func (d *tdec) memoAfter(e tmemo) error {
	_, err := d.memoPuts(e)
	return err
}

// memoPuts stores e under the memo opcodes that follow and returns the
// index of the first (-1 if none).
func (d *tdec) memoPuts(e tmemo) (int, error) {
	// Most often one MEMOIZE follows (as CPython writes): no loop.
	s := d.s
	if p := s.pos; p+1 < len(s.data) && s.data[p] == opMemoize && len(d.memo) < d.maxMemo {
		switch s.data[p+1] {
		case opMemoize, opBinput, opLongBinput, opFrame:
		default:
			s.pos = p + 1
			d.memo = append(d.memo, e)
			return len(d.memo) - 1, nil
		}
	}
	return d.memoPutsLoop(e)
}

func (d *tdec) memoPutsLoop(e tmemo) (int, error) {
	first := -1
	for {
		op := d.op()
		if op == 0 {
			var err error
			if op, err = d.peekSlow(); err != nil {
				return first, nil // the caller's next read fails
			}
		}
		var idx uint64
		switch op {
		case opMemoize:
			d.s.pos++
			idx = uint64(len(d.memo))
		case opBinput:
			d.s.pos++
			b, err := d.s.u8()
			if err != nil {
				return first, errFallback
			}
			idx = uint64(b)
		case opLongBinput:
			d.s.pos++
			v, err := d.s.u32()
			if err != nil {
				return first, errFallback
			}
			idx = uint64(v)
		default:
			return first, nil
		}
		switch {
		case idx < uint64(len(d.memo)):
			if d.lookahead > 0 {
				// Read ahead, the entry would stay rebound after the
				// rewind and the real read would see the later binding.
				// CPython never writes this; the generic path decides.
				d.rebound = true
				return first, errFallback
			}
			d.memo[idx] = e
			d.memoGen++
		case idx == uint64(len(d.memo)) && len(d.memo) < d.maxMemo:
			d.memo = append(d.memo, e)
		default:
			return first, errFallback // sparse or too many: the generic path decides
		}
		if first < 0 {
			first = int(idx)
		}
	}
}

func (d *tdec) charge(n uintptr) error {
	d.alloc += int64(n)
	if d.alloc > d.limit {
		return errFallback
	}
	return nil
}

func (d *tdec) enter() error {
	d.depth++
	if d.depth > d.maxDepth {
		return errFallback
	}
	return nil
}

// get stores the memo entry named by BINGET or LONG_BINGET.
func (d *tdec) get(p unsafe.Pointer, pl *decPlan, op byte) error {
	var idx uint64
	if op == opBinget {
		b, err := d.s.u8()
		if err != nil {
			return errFallback
		}
		idx = uint64(b)
	} else {
		v, err := d.s.u32()
		if err != nil {
			return errFallback
		}
		idx = uint64(v)
	}
	if idx >= uint64(len(d.memo)) {
		return errFallback
	}
	e := &d.memo[idx]
	if e.kind == mNone || e.kind == mOpen {
		return errFallback
	}
	if pl == nil {
		return nil
	}
	return d.storeShared(p, pl, e)
}

// storeShared stores a memoized value again.
func (d *tdec) storeShared(p unsafe.Pointer, pl *decPlan, e *tmemo) error {
	switch e.kind {
	case mStr:
		if pl.kind != pkString {
			return errFallback
		}
		*(*string)(p) = d.memoStr(e)
		return nil
	case mSlice:
		if e.plan == pl.id {
			*(*sliceHdr)(p) = sliceHdr{d.refPtr(e), int(e.n), int(e.c)}
			return nil
		}
	case mMap:
		if e.plan == pl.id {
			*(*unsafe.Pointer)(p) = d.refs[e.ref]
			return nil
		}
	case mAt:
		if e.plan == pl.id {
			typedCopy(pl.t, p, d.refPtr(e))
			return nil
		}
		if pl.kind == pkPtr && e.plan == pl.elem.id && e.flags&fViaPtr != 0 {
			// Read into a *T first: the same pointer.
			*(*unsafe.Pointer)(p) = d.refPtr(e)
			return nil
		}
	}
	return errFallback
}

// memoStr returns the string of a str memo entry, made once. An empty
// str is never marked made (it has no chunk).
func (d *tdec) memoStr(e *tmemo) string {
	if e.flags&fMade != 0 {
		return unsafe.String((*byte)(unsafe.Add(d.chunks[e.ref], e.at)), e.c)
	}
	return d.makeMemoStr(e)
}

func (d *tdec) makeMemoStr(e *tmemo) string {
	if e.c == 0 {
		return ""
	}
	str, ref, at := d.newString(d.s.data[e.n : int(e.n)+int(e.c)])
	e.ref, e.at, e.flags = ref, at, e.flags|fMade
	return str
}

// ref keeps p for a memo entry and returns its index in d.refs.
func (d *tdec) ref(p unsafe.Pointer) int32 {
	d.refs = append(d.refs, p)
	return int32(len(d.refs) - 1)
}

type sliceHdr struct {
	data     unsafe.Pointer
	len, cap int
}

func typedCopy(t reflect.Type, dst, src unsafe.Pointer) {
	reflect.NewAt(t, dst).Elem().Set(reflect.NewAt(t, src).Elem())
}

// valueStart reports whether op begins a value the typed decoder reads.
func valueStart(op byte) bool {
	switch op {
	case opNone, opNewtrue, opNewfalse, opBinint1, opBinint2, opBinint, opLong1, opBinfloat,
		opShortBinunicode, opBinunicode, opBinunicode8, opShortBinbytes, opBinbytes, opBinbytes8,
		opEmptyList, opEmptyDict, opEmptyTuple, opBinget, opLongBinget:
		return true
	}
	return false
}

// followedBy reports whether the next n values are followed by op (a lone
// APPEND or SETITEM): after an empty container, the next value may be its
// item or its sibling, and only what follows tells. It reads ahead and
// rewinds. Answers are kept by position, so that a run of empty
// containers is read ahead once, and the bytes read twice are bounded by
// the input's size.
func (d *tdec) followedBy(n int, op byte) (bool, error) {
	s := d.s
	start, memoLen, refsLen, objects := s.pos, len(d.memo), len(d.refs), d.objects
	if ok, seen := d.ahead[start]; seen {
		return ok, nil
	}
	ok := true
	d.lookahead++
	for i := 0; i < n && ok; i++ {
		ok = d.value(nil, nil) == nil
	}
	d.lookahead--
	if d.rebound {
		return false, errFallback
	}
	var got byte
	if ok {
		var err error
		got, err = d.next()
		ok = err == nil
	}
	d.budget -= s.pos - start
	s.pos, d.objects = start, objects
	d.memo = d.memo[:memoLen]
	d.memoGen++
	clear(d.refs[refsLen:])
	d.refs = d.refs[:refsLen]
	if d.budget < 0 {
		return false, errFallback
	}
	if d.ahead == nil {
		d.ahead = make(map[int]bool)
	}
	d.ahead[start] = ok && got == op
	return ok && got == op, nil
}
