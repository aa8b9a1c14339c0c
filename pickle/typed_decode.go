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

// tmemo is a memo entry of the typed decoder. It is 32 bytes: a pickle
// of plain data memoizes most of its values (CPython writes MEMOIZE after
// every str, list and dict), and the memo is written once per value.
type tmemo struct {
	// p is the slice data, the location (mAt), the map or the pointer;
	// for mStr the string's bytes (fMade) or a boxed string (fBoxed); for
	// mAny the data word of the value.
	p unsafe.Pointer
	// t is the *decPlan of the value (mSlice, mAt, mMap); for mStr the
	// struct plan whose field index is cached in field; for mAny the
	// type word of the value.
	t unsafe.Pointer
	// n is the slice length; for mStr the offset of the str in data; for
	// mAny the height of the value (see decState.walk).
	n int
	// c is the slice capacity; for mStr the length of the str.
	c     int32
	field int16
	kind  uint8
	flags uint8
}

// tmemo flags.
const (
	fMade   = 1 << iota // mStr: p is the string's bytes
	fBoxed              // mStr: p is a boxed string (a pointer to its header)
	fViaPtr             // mAt: a struct read into a new *T (p), shared as that pointer
)

// plan is the plan of a typed memo entry.
func (e *tmemo) plan() *decPlan { return (*decPlan)(e.t) }

const (
	mNone    uint8 = iota
	mStr           // a str at data[n:n+c]
	mOpen          // a container being read
	mSlice         // a list or tuple read into a slice
	mAt            // a struct or array stored at p
	mMap           // a map
	mPtr           // a struct read into a new *T (p is the pointer)
	mDiscard       // read into nothing
)

type tdec struct {
	s       *decState
	memo    []tmemo
	depth   int
	objects int
	budget  int          // bytes that lookahead may read again
	ahead   map[int]bool // followedBy answers by position
	slabs   []*slab      // slabs of short slices, by type
	slab    []byte
	alloc   int64
	limit   int64
}

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
	if !pl.fast {
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
	d.budget = len(s.data) + 4096
	d.limit = s.m.allocLimit(len(s.data))
	err := d.top(rv.UnsafePointer(), pl)
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
	clear(d.memo)
	d.memo = d.memo[:0]
	d.s, d.slab, d.ahead = nil, nil, nil
	clear(d.slabs)
	d.slabs = d.slabs[:0]
	if cap(d.memo) > 1<<16 {
		d.memo = nil
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

//go:noinline
func (d *tdec) peekSlow() (byte, error) {
	op, err := d.nextSlow()
	if err == nil {
		d.s.pos--
	}
	return op, err
}

// value reads one value into p (nil: read and drop it).
func (d *tdec) value(p unsafe.Pointer, pl *decPlan) error {
	if pl != nil && pl.kind == pkPtr {
		return d.ptr(p, pl)
	}
	d.objects++
	if d.objects > d.s.m.maxObjects {
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
// of many strings (the result keeps them all alive together).
func (d *tdec) newString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > len(d.slab) {
		if len(b) >= slabChunk/4 {
			return string(b)
		}
		d.slab = make([]byte, min(slabChunk, max(len(d.s.data)-d.s.pos+len(b), 64)))
	}
	n := copy(d.slab, b)
	str := unsafe.String(&d.slab[0], n)
	d.slab = d.slab[n:]
	return str
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
	e := tmemo{kind: mStr, n: off, c: int32(n)}
	if pl != nil {
		str := d.newString(b)
		e.p, e.flags = unsafe.Pointer(unsafe.StringData(str)), fMade
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
			d.memo[idx] = e
		case idx == uint64(len(d.memo)) && len(d.memo) < d.s.m.maxMemo:
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
	if d.depth > d.s.m.maxDepth {
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
		if e.plan() == pl {
			*(*sliceHdr)(p) = sliceHdr{e.p, e.n, int(e.c)}
			return nil
		}
	case mMap:
		if e.plan() == pl {
			*(*unsafe.Pointer)(p) = e.p
			return nil
		}
	case mAt:
		if e.plan() == pl {
			typedCopy(pl.t, p, e.p)
			return nil
		}
		if pl.kind == pkPtr && e.plan() == pl.elem && e.flags&fViaPtr != 0 {
			// Read into a *T first: the same pointer.
			*(*unsafe.Pointer)(p) = e.p
			return nil
		}
	}
	return errFallback
}

func (d *tdec) memoStr(e *tmemo) string {
	switch {
	case e.flags&fBoxed != 0:
		return *(*string)(e.p)
	case e.flags&fMade != 0:
		return unsafe.String((*byte)(e.p), e.c)
	}
	str := d.newString(d.s.data[e.n : e.n+int(e.c)])
	e.p, e.flags = unsafe.Pointer(unsafe.StringData(str)), e.flags|fMade
	return str
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
	start, memoLen, objects := s.pos, len(d.memo), d.objects
	if ok, seen := d.ahead[start]; seen {
		return ok, nil
	}
	ok := true
	for i := 0; i < n && ok; i++ {
		ok = d.value(nil, nil) == nil
	}
	var got byte
	if ok {
		var err error
		got, err = d.next()
		ok = err == nil
	}
	d.budget -= s.pos - start
	s.pos, d.objects = start, objects
	clear(d.memo[memoLen:])
	d.memo = d.memo[:memoLen]
	if d.budget < 0 {
		return false, errFallback
	}
	if d.ahead == nil {
		d.ahead = make(map[int]bool)
	}
	d.ahead[start] = ok && got == op
	return ok && got == op, nil
}
