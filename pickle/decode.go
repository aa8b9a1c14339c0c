package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
)

// listBox is a Python list while the pickle is being decoded: lists are
// mutable and referenced through the memo, so the decoder appends to a
// shared box and turns it into a []any in the final pass (which also
// resolves self-references: the []any then contains itself).
type listBox struct {
	items []any
	small [4]any // storage for short lists: one allocation per list
	final []any
	memo  bool // stored in the memo (so it may be shared)
	walk  walkInfo
}

// decState is one decode of one pickle.
type decState struct {
	m    *decMode
	data []byte // the pickle (for a stream: what has been read so far)
	pos  int
	op   byte // current opcode
	opAt int  // its offset

	src *Decoder // non-nil when reading a stream

	stack []any
	marks []int
	fence int // len(stack) at the innermost MARK

	memo       []any
	memoSparse map[uint64]any
	memoCount  int

	objects int
	typed   bool // decoding into a typed target: keep *Object for registered classes
	proto   int  // from PROTO (0 if absent): Python 2 names are mapped below 3

	tuples map[*any]int // final pass: tuple heights (-1 in progress)
	// tupleShared is set when a tuple was pushed a second time (memo get
	// or DUP): only then can the final pass meet a tuple twice and need
	// the tuples map.
	tupleShared bool
	scratch     *decScratch

	// alloc counts the bytes typed conversion allocated (MaxAlloc).
	alloc int64

	// keys hashes dict keys and set elements for the whole pickle, so a
	// key shared by reference is hashed once (see keyHasher).
	keys keyHasher
}

// addHashed adds v to a set or frozenset under construction.
func (s *decState) addHashed(hs *hashSet, v any) error {
	s.keys.keep = true
	h, err := s.keys.key(v)
	if err != nil {
		return err
	}
	hs.addHashed(h, v)
	return nil
}

func (s *decState) errf(format string, args ...any) error {
	return &SyntaxError{Offset: int64(s.opAt), Op: s.op, Msg: fmt.Sprintf(format, args...)}
}

func (s *decState) errw(err error, format string, args ...any) error {
	return &SyntaxError{Offset: int64(s.opAt), Op: s.op, Msg: fmt.Sprintf(format, args...), Err: err}
}

func (s *decState) truncated() error {
	return &SyntaxError{Offset: int64(s.opAt), Op: s.op, Err: ErrTruncated}
}

// ensure makes n more bytes available at s.pos. For in-memory input it only
// checks; for a stream it reads (in bounded chunks: a huge claimed length
// costs memory only as the bytes actually arrive).
func (s *decState) ensure(n uint64) error {
	if uint64(len(s.data)-s.pos) >= n {
		return nil
	}
	if s.src == nil {
		return s.truncated()
	}
	if n > uint64(s.m.maxInput) || uint64(s.pos)+n > uint64(s.m.maxInput) {
		return s.errw(ErrLimit, "pickle larger than MaxInput (%d bytes)", s.m.maxInput)
	}
	for uint64(len(s.data)-s.pos) < n {
		if err := s.src.fill(int(n - uint64(len(s.data)-s.pos))); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return s.truncated()
			}
			return s.errw(err, "read")
		}
		s.data = s.src.buf[s.src.start:]
	}
	return nil
}

func (s *decState) take(n uint64) ([]byte, error) {
	if err := s.ensure(n); err != nil {
		return nil, err
	}
	b := s.data[s.pos : s.pos+int(n)]
	s.pos += int(n)
	return b, nil
}

func (s *decState) u8() (byte, error) {
	if s.pos >= len(s.data) {
		if err := s.ensure(1); err != nil {
			return 0, err
		}
	}
	b := s.data[s.pos]
	s.pos++
	return b, nil
}

func (s *decState) u16() (uint16, error) {
	b, err := s.take(2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (s *decState) u32() (uint32, error) {
	b, err := s.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (s *decState) u64() (uint64, error) {
	b, err := s.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// line returns the bytes up to (not including) the next '\n'.
func (s *decState) line() ([]byte, error) {
	start := s.pos
	for i := start; ; i++ {
		if i >= len(s.data) {
			if err := s.ensure(uint64(i - s.pos + 1)); err != nil {
				return nil, err
			}
		}
		if s.data[i] == '\n' {
			s.pos = i + 1
			return s.data[start:i], nil
		}
	}
}

func (s *decState) push(v any) error {
	s.objects++
	if s.objects > s.m.maxObjects {
		return s.errw(ErrLimit, "more than %d objects", s.m.maxObjects)
	}
	s.stack = append(s.stack, v)
	return nil
}

func (s *decState) pop() (any, error) {
	n := len(s.stack)
	if n <= s.fence {
		return nil, s.errf("unpickling stack underflow")
	}
	v := s.stack[n-1]
	s.stack = s.stack[:n-1]
	return v, nil
}

func (s *decState) top() (any, error) {
	n := len(s.stack)
	if n <= s.fence {
		return nil, s.errf("unpickling stack underflow")
	}
	return s.stack[n-1], nil
}

// popMark returns the items above the innermost MARK (aliasing the stack:
// copy them before the next push) and removes them and the mark.
func (s *decState) popMark() ([]any, error) {
	if len(s.marks) == 0 {
		return nil, s.errf("could not find MARK")
	}
	m := s.marks[len(s.marks)-1]
	s.marks = s.marks[:len(s.marks)-1]
	if len(s.marks) > 0 {
		s.fence = s.marks[len(s.marks)-1]
	} else {
		s.fence = 0
	}
	items := s.stack[m:]
	s.stack = s.stack[:m]
	return items, nil
}

func (s *decState) checkLen(n int) error {
	if n > s.m.maxContainer {
		return s.errw(ErrLimit, "container of %d elements (MaxContainerLen %d)", n, s.m.maxContainer)
	}
	return nil
}

func (s *decState) memoPut(idx uint64, v any) error {
	if b, ok := v.(*listBox); ok {
		b.memo = true
	}
	if idx < uint64(len(s.memo)) {
		s.memo[idx] = v
		return nil
	}
	if s.memoSparse != nil {
		if _, ok := s.memoSparse[idx]; ok {
			s.memoSparse[idx] = v
			return nil
		}
	}
	if s.memoCount >= s.m.maxMemo {
		return s.errw(ErrLimit, "more than %d memo entries", s.m.maxMemo)
	}
	s.memoCount++
	if idx == uint64(len(s.memo)) {
		s.memo = append(s.memo, v)
		return nil
	}
	if s.memoSparse == nil {
		s.memoSparse = make(map[uint64]any)
	}
	s.memoSparse[idx] = v
	return nil
}

func (s *decState) memoGet(idx uint64) error {
	if idx < uint64(len(s.memo)) {
		v := s.memo[idx]
		if t, ok := v.(Tuple); ok && len(t) > 0 {
			s.tupleShared = true
		}
		return s.push(v)
	}
	if v, ok := s.memoSparse[idx]; ok {
		if t, ok := v.(Tuple); ok && len(t) > 0 {
			s.tupleShared = true
		}
		return s.push(v)
	}
	return s.errf("Memo value not found at index %d", idx)
}

// run executes opcodes up to STOP and returns the (not yet finalized) value.
func (s *decState) run() (any, error) {
	for {
		if s.pos >= len(s.data) {
			s.opAt, s.op = s.pos, 0
			if err := s.ensure(1); err != nil {
				return nil, err
			}
		}
		s.opAt = s.pos
		op := s.data[s.pos]
		s.op = op
		s.pos++
		var err error
		switch op {
		case opStop:
			v, err := s.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		case opProto:
			p, err := s.u8()
			if err != nil {
				return nil, err
			}
			if p > highestProtocol {
				return nil, s.errf("unsupported pickle protocol: %d", p)
			}
			s.proto = int(p)
		case opFrame:
			n, err := s.u64()
			if err != nil {
				return nil, err
			}
			// The frame must be there (as CPython checks); for a stream this
			// reads it in bounded chunks.
			if err := s.ensure(n); err != nil {
				return nil, err
			}
		case opMark:
			s.marks = append(s.marks, len(s.stack))
			s.fence = len(s.stack)
		case opNone:
			err = s.push(nil)
		case opNewtrue:
			err = s.push(true)
		case opNewfalse:
			err = s.push(false)
		case opBinint1:
			b, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.push(int64(b))
		case opBinint2:
			v, e := s.u16()
			if e != nil {
				return nil, e
			}
			err = s.push(boxInt(int64(v)))
		case opBinint:
			v, e := s.u32()
			if e != nil {
				return nil, e
			}
			err = s.push(boxInt(int64(int32(v))))
		case opLong1:
			n, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.loadLong(uint64(n))
		case opLong4:
			n, e := s.u32()
			if e != nil {
				return nil, e
			}
			if int32(n) < 0 {
				return nil, s.errf("LONG pickle has negative byte count")
			}
			err = s.loadLong(uint64(n))
		case opBinfloat:
			b, e := s.take(8)
			if e != nil {
				return nil, e
			}
			err = s.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case opShortBinunicode:
			n, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.loadUnicode(uint64(n))
		case opBinunicode:
			n, e := s.u32()
			if e != nil {
				return nil, e
			}
			err = s.loadUnicode(uint64(n))
		case opBinunicode8:
			n, e := s.u64()
			if e != nil {
				return nil, e
			}
			err = s.loadUnicode(n)
		case opShortBinbytes:
			n, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.loadBytes(uint64(n), false)
		case opBinbytes:
			n, e := s.u32()
			if e != nil {
				return nil, e
			}
			err = s.loadBytes(uint64(n), false)
		case opBinbytes8:
			n, e := s.u64()
			if e != nil {
				return nil, e
			}
			err = s.loadBytes(n, false)
		case opBytearray8:
			n, e := s.u64()
			if e != nil {
				return nil, e
			}
			err = s.loadBytes(n, true)
		case opShortBinstring:
			n, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.loadBinstring(uint64(n))
		case opBinstring:
			n, e := s.u32()
			if e != nil {
				return nil, e
			}
			if int32(n) < 0 {
				return nil, s.errf("BINSTRING pickle has negative byte count")
			}
			err = s.loadBinstring(uint64(n))
		case opEmptyList:
			err = s.push(&listBox{})
		case opEmptyDict:
			err = s.push(&Dict{})
		case opEmptySet:
			err = s.push(&Set{})
		case opEmptyTuple:
			err = s.push(Tuple{})
		case opTuple1, opTuple2, opTuple3:
			n := int(op-opTuple1) + 1
			if len(s.stack)-s.fence < n {
				return nil, s.errf("unpickling stack underflow")
			}
			t := make(Tuple, n)
			copy(t, s.stack[len(s.stack)-n:])
			s.stack = s.stack[:len(s.stack)-n]
			err = s.push(t)
		case opTuple:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			if err := s.checkLen(len(items)); err != nil {
				return nil, err
			}
			t := make(Tuple, len(items))
			copy(t, items)
			err = s.push(t)
		case opList:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			if err := s.checkLen(len(items)); err != nil {
				return nil, err
			}
			lb := &listBox{}
			if len(items) > 0 && len(items) <= len(lb.small) {
				lb.items = lb.small[:len(items)]
			} else {
				lb.items = make([]any, len(items))
			}
			copy(lb.items, items)
			err = s.push(lb)
		case opDict:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			if len(items)%2 != 0 {
				return nil, s.errf("odd number of items for DICT")
			}
			if err := s.checkLen(len(items) / 2); err != nil {
				return nil, err
			}
			d := newDictCap(len(items) / 2)
			if err := s.setItems(d, items); err != nil {
				return nil, err
			}
			err = s.push(d)
		case opFrozenset:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			if err := s.checkLen(len(items)); err != nil {
				return nil, err
			}
			fs := &FrozenSet{}
			for _, it := range items {
				if err := s.addHashed(&fs.hs, it); err != nil {
					return nil, s.errw(err, "FROZENSET element")
				}
			}
			err = s.push(fs)
		case opAppend:
			v, e := s.pop()
			if e != nil {
				return nil, e
			}
			err = s.appendTo(1, []any{v})
		case opAppends:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			err = s.appendTo(0, items)
		case opSetitem:
			if len(s.stack)-s.fence < 3 {
				return nil, s.errf("unpickling stack underflow")
			}
			n := len(s.stack)
			kv := s.stack[n-2 : n]
			s.stack = s.stack[:n-2]
			err = s.setItemsOn(kv)
		case opSetitems:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			if len(items)%2 != 0 {
				return nil, s.errf("odd number of items for SETITEMS")
			}
			err = s.setItemsOn(items)
		case opAdditems:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			t, e := s.top()
			if e != nil {
				return nil, e
			}
			set, ok := t.(*Set)
			if !ok {
				return nil, s.errf("ADDITEMS to %s", pyTypeName(t))
			}
			if err := s.checkLen(set.Len() + len(items)); err != nil {
				return nil, err
			}
			for _, it := range items {
				if err := s.addHashed(&set.hs, it); err != nil {
					return nil, s.errw(err, "set element")
				}
			}
		case opPop:
			if len(s.stack) > s.fence {
				s.stack = s.stack[:len(s.stack)-1]
			} else if _, e := s.popMark(); e != nil {
				return nil, s.errf("unpickling stack underflow")
			}
		case opPopMark:
			if _, e := s.popMark(); e != nil {
				return nil, e
			}
		case opDup:
			v, e := s.top()
			if e != nil {
				return nil, e
			}
			switch x := v.(type) {
			case *listBox:
				x.memo = true
			case Tuple:
				s.tupleShared = s.tupleShared || len(x) > 0
			}
			err = s.push(v)
		case opMemoize:
			v, e := s.top()
			if e != nil {
				return nil, e
			}
			err = s.memoPut(uint64(s.memoCount), v)
		case opBinput:
			i, e := s.u8()
			if e != nil {
				return nil, e
			}
			v, e := s.top()
			if e != nil {
				return nil, e
			}
			err = s.memoPut(uint64(i), v)
		case opLongBinput:
			i, e := s.u32()
			if e != nil {
				return nil, e
			}
			if int32(i) < 0 {
				return nil, s.errf("negative LONG_BINPUT argument")
			}
			v, e := s.top()
			if e != nil {
				return nil, e
			}
			err = s.memoPut(uint64(i), v)
		case opPut:
			i, e := s.lineIndex()
			if e != nil {
				return nil, e
			}
			v, e := s.top()
			if e != nil {
				return nil, e
			}
			err = s.memoPut(i, v)
		case opBinget:
			i, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.memoGet(uint64(i))
		case opLongBinget:
			i, e := s.u32()
			if e != nil {
				return nil, e
			}
			err = s.memoGet(uint64(i))
		case opGet:
			i, e := s.lineIndex()
			if e != nil {
				return nil, e
			}
			err = s.memoGet(i)
		case opGlobal:
			g, e := s.globalLines("GLOBAL")
			if e != nil {
				return nil, e
			}
			err = s.push(g)
		case opStackGlobal:
			name, e := s.pop()
			if e != nil {
				return nil, e
			}
			mod, e := s.pop()
			if e != nil {
				return nil, e
			}
			ms, ok1 := mod.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, s.errf("STACK_GLOBAL requires str, got %s and %s", pyTypeName(mod), pyTypeName(name))
			}
			err = s.push(Global{Module: ms, Name: ns})
		case opReduce:
			args, e := s.pop()
			if e != nil {
				return nil, e
			}
			fn, e := s.pop()
			if e != nil {
				return nil, e
			}
			t, ok := args.(Tuple)
			if !ok {
				return nil, s.errf("REDUCE arguments must be a tuple, got %s", pyTypeName(args))
			}
			v, e := s.reduce(fn, t)
			if e != nil {
				return nil, e
			}
			err = s.push(v)
		case opNewobj:
			args, e := s.pop()
			if e != nil {
				return nil, e
			}
			cls, e := s.pop()
			if e != nil {
				return nil, e
			}
			t, ok := args.(Tuple)
			if !ok {
				return nil, s.errf("NEWOBJ expected an arg tuple, got %s", pyTypeName(args))
			}
			if cls == nil {
				return nil, s.errf("NEWOBJ class argument isn't a type object")
			}
			err = s.push(newObject(cls, t, nil, true))
		case opNewobjEx:
			kw, e := s.pop()
			if e != nil {
				return nil, e
			}
			args, e := s.pop()
			if e != nil {
				return nil, e
			}
			cls, e := s.pop()
			if e != nil {
				return nil, e
			}
			t, ok := args.(Tuple)
			if !ok {
				return nil, s.errf("NEWOBJ_EX args argument must be a tuple, got %s", pyTypeName(args))
			}
			kd, ok := kw.(*Dict)
			if !ok {
				return nil, s.errf("NEWOBJ_EX kwargs argument must be a dict, got %s", pyTypeName(kw))
			}
			if cls == nil {
				return nil, s.errf("NEWOBJ_EX class argument must be a type, not NoneType")
			}
			if kd.Len() == 0 {
				kd = nil
			}
			err = s.push(newObject(cls, t, kd, true))
		case opInst:
			g, e := s.globalLines("INST")
			if e != nil {
				return nil, e
			}
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			args := make(Tuple, len(items))
			copy(args, items)
			v, e := s.instantiate(g, args)
			if e != nil {
				return nil, e
			}
			err = s.push(v)
		case opObj:
			items, e := s.popMark()
			if e != nil {
				return nil, e
			}
			if len(items) == 0 {
				return nil, s.errf("OBJ without a class")
			}
			args := make(Tuple, len(items)-1)
			copy(args, items[1:])
			v, e := s.instantiate(items[0], args)
			if e != nil {
				return nil, e
			}
			err = s.push(v)
		case opBuild:
			state, e := s.pop()
			if e != nil {
				return nil, e
			}
			t, e := s.top()
			if e != nil {
				return nil, e
			}
			switch o := t.(type) {
			case *Object:
				o.State = state
			case *PythonError:
				o.State = state
			default:
				return nil, s.errf("BUILD on %s (no __setstate__ or __dict__)", pyTypeName(t))
			}
		case opInt:
			err = s.loadTextInt(false)
		case opLong:
			err = s.loadTextInt(true)
		case opFloat:
			l, e := s.line()
			if e != nil {
				return nil, e
			}
			f, e := parsePyFloat(string(l))
			if e != nil {
				return nil, s.errf("could not convert string to float: %q", l)
			}
			err = s.push(f)
		case opString:
			l, e := s.line()
			if e != nil {
				return nil, e
			}
			b, e := unquoteString(l)
			if e != nil {
				return nil, s.errf("%v", e)
			}
			err = s.push(s.py2str(b))
		case opUnicode:
			l, e := s.line()
			if e != nil {
				return nil, e
			}
			u, e := decodeRawUnicodeEscape(l)
			if e != nil {
				return nil, s.errf("'rawunicodeescape' codec can't decode the UNICODE argument: %v", e)
			}
			err = s.push(u)
		case opPersid, opBinpersid:
			return nil, s.errw(ErrUnsupported, "persistent IDs are not supported")
		case opExt1:
			c, e := s.u8()
			if e != nil {
				return nil, e
			}
			err = s.pushExt(int32(c))
		case opExt2:
			c, e := s.u16()
			if e != nil {
				return nil, e
			}
			err = s.pushExt(int32(c))
		case opExt4:
			c, e := s.u32()
			if e != nil {
				return nil, e
			}
			err = s.pushExt(int32(c))
		case opNextBuffer, opReadonlyBuffer:
			return nil, s.errw(ErrUnsupported, "out-of-band buffers are not supported")
		default:
			return nil, s.errf("invalid load key, '\\x%02x'", op)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (s *decState) pushExt(code int32) error {
	if code <= 0 {
		return s.errf("EXT specifies code <= 0")
	}
	if g, ok := lookupExtension(code); ok {
		return s.push(g)
	}
	return s.push(Ext{Code: code})
}

func (s *decState) lineIndex() (uint64, error) {
	l, err := s.line()
	if err != nil {
		return 0, err
	}
	i, e := strconv.ParseUint(string(l), 10, 63)
	if e != nil {
		return 0, s.errf("invalid memo index %q", l)
	}
	return i, nil
}

func (s *decState) loadLong(n uint64) error {
	if n > uint64(s.m.maxLongBytes) {
		return s.errw(ErrLimit, "%d-byte integer (MaxLongBytes %d)", n, s.m.maxLongBytes)
	}
	b, err := s.take(n)
	if err != nil {
		return err
	}
	return s.push(decodeLong(b))
}

// decodeLong decodes a little-endian two's-complement integer.
func decodeLong(b []byte) any {
	n := len(b)
	if n == 0 {
		return int64(0)
	}
	if n <= 8 {
		return boxInt(decodeLong64(b))
	}
	be := make([]byte, n)
	for i := range b {
		be[n-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[n-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return normInt(v)
}

// decodeLong64 decodes a little-endian two's-complement integer of at most
// 8 bytes.
func decodeLong64(b []byte) int64 {
	n := len(b)
	if n == 0 {
		return 0
	}
	var u uint64
	for i := n - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	if b[n-1]&0x80 != 0 && n < 8 {
		u |= ^uint64(0) << (8 * uint(n))
	}
	return int64(u)
}

// smallInts holds boxed int64 values -smallIntBias..smallIntMax-1, so that
// decoding a small int allocates nothing (the runtime does the same for
// 0..255 only).
const (
	smallIntBias = 1024
	smallIntMax  = 1024
)

var smallInts = func() (t [smallIntBias + smallIntMax]any) {
	for i := range t {
		t[i] = int64(i - smallIntBias)
	}
	return t
}()

// boxInt returns v as an interface value, shared for small v.
func boxInt(v int64) any {
	if v >= -smallIntBias && v < smallIntMax {
		return smallInts[v+smallIntBias]
	}
	return v
}

func normInt(v *big.Int) any {
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

func (s *decState) loadUnicode(n uint64) error {
	b, err := s.take(n)
	if err != nil {
		return err
	}
	if !validPyUTF8(b) {
		return s.errf("'utf-8' codec can't decode the str argument")
	}
	return s.push(string(b))
}

func (s *decState) loadBytes(n uint64, array bool) error {
	b, err := s.take(n)
	if err != nil {
		return err
	}
	if array {
		return s.push(newByteArray(b))
	}
	c := bytes.Clone(b) // no zeroing of the new array before the copy
	if c == nil {
		c = []byte{}
	}
	return s.push(c)
}

func (s *decState) loadBinstring(n uint64) error {
	b, err := s.take(n)
	if err != nil {
		return err
	}
	return s.push(s.py2str(b))
}

// py2str converts a Python 2 str: string if ASCII (what Python 3's default
// encoding='ASCII' gives), []byte otherwise or with BinaryStrings.
func (s *decState) py2str(b []byte) any {
	if !s.m.binaryStrings {
		ascii := true
		for _, c := range b {
			if c >= 0x80 {
				ascii = false
				break
			}
		}
		if ascii {
			return string(b)
		}
	}
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

func (s *decState) loadTextInt(long bool) error {
	l, err := s.line()
	if err != nil {
		return err
	}
	if !long && len(l) == 2 && l[0] == '0' && (l[1] == '0' || l[1] == '1') {
		return s.push(l[1] == '1')
	}
	if long && len(l) > 0 && l[len(l)-1] == 'L' {
		l = l[:len(l)-1]
	}
	digits := 0
	for _, c := range l {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits > s.m.maxLongDigits {
		return s.errw(ErrLimit, "integer with %d decimal digits (MaxLongDigits %d)", digits, s.m.maxLongDigits)
	}
	str := string(l)
	if v, err := strconv.ParseInt(str, 10, 64); err == nil {
		return s.push(v)
	}
	v, ok := new(big.Int).SetString(str, 10)
	if !ok {
		return s.errf("invalid literal for int() with base 10: %q", l)
	}
	return s.push(normInt(v))
}

func parsePyFloat(s string) (float64, error) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return 0, err
	}
	return f, nil
}

func (s *decState) setItems(d *Dict, items []any) error {
	// The items are on the stack, so growing by their count is bounded by
	// the input.
	d.grow(len(items) / 2)
	s.keys.keep = true
	for i := 0; i+1 < len(items); i += 2 {
		h, err := s.keys.key(items[i])
		if err != nil {
			return s.errw(err, "dict key")
		}
		d.setHashed(h, items[i], items[i+1])
	}
	return nil
}

func (s *decState) setItemsOn(items []any) error {
	t, err := s.top()
	if err != nil {
		return err
	}
	switch d := t.(type) {
	case *Dict:
		if err := s.checkLen(d.Len() + len(items)/2); err != nil {
			return err
		}
		return s.setItems(d, items)
	case *Object:
		if d.DictItems == nil {
			d.DictItems = &Dict{}
		}
		if err := s.checkLen(d.DictItems.Len() + len(items)/2); err != nil {
			return err
		}
		return s.setItems(d.DictItems, items)
	}
	return s.errf("SETITEM on %s", pyTypeName(t))
}

// appendTo appends items to the list at the stack top (extra=1: APPEND,
// whose value was already popped; extra=0: APPENDS after its mark).
func (s *decState) appendTo(_ int, items []any) error {
	t, err := s.top()
	if err != nil {
		return err
	}
	switch l := t.(type) {
	case *listBox:
		if err := s.checkLen(len(l.items) + len(items)); err != nil {
			return err
		}
		if l.items == nil && len(items) > 0 && len(items) <= len(l.small) {
			l.items = l.small[:0]
		}
		l.items = appendDoubling(l.items, items)
		return nil
	case *Object:
		if err := s.checkLen(len(l.ListItems) + len(items)); err != nil {
			return err
		}
		l.ListItems = appendDoubling(l.ListItems, items)
		return nil
	}
	return s.errf("APPEND to %s", pyTypeName(t))
}

// appendDoubling appends, doubling the capacity when it grows: long lists
// arrive in batches of 1000, and append's 1.25× growth for large slices
// would copy them about four times over.
func appendDoubling(dst, items []any) []any {
	if n := len(dst) + len(items); n > cap(dst) {
		grown := make([]any, len(dst), max(n, 2*cap(dst)))
		copy(grown, dst)
		dst = grown
	}
	return append(dst, items...)
}

func newObject(cls any, args Tuple, kw *Dict, newObj bool) any {
	o := &Object{Args: args, Kwargs: kw, NewObj: newObj}
	if g, ok := cls.(Global); ok {
		o.Callable = g
	} else {
		o.CallableValue = cls
	}
	return o
}

var (
	gBytearray   = Global{"builtins", "bytearray"}
	gBytes       = Global{"builtins", "bytes"}
	gSet         = Global{"builtins", "set"}
	gFrozenset   = Global{"builtins", "frozenset"}
	gCodecsEnc   = Global{"_codecs", "encode"}
	gNewobj      = Global{"copyreg", "__newobj__"}
	gNewobjEx    = Global{"copyreg", "__newobj_ex__"}
	gList        = Global{"builtins", "list"}
	gDict        = Global{"builtins", "dict"}
	gTuple       = Global{"builtins", "tuple"}
	gObject      = Global{"builtins", "object"}
	gReconstruct = Global{"copyreg", "_reconstructor"}
	gGetattr     = Global{"builtins", "getattr"}
)

// reduce turns callable(*args) into a value without calling anything: the
// few builtins that earlier protocols use to spell plain data (bytes, sets,
// bytearray) become those values, builtin exceptions become *PythonError,
// and everything else an *Object.
func (s *decState) reduce(fn any, args Tuple) (any, error) {
	g, ok := fn.(Global)
	if !ok {
		if fn == nil {
			// Python fails on None(*args); an *Object could not say it.
			return nil, s.errf("'NoneType' object is not callable")
		}
		return newObject(fn, args, nil, false), nil
	}
	switch g {
	case gBytearray, gBytes, gCodecsEnc:
		if b, ok := bytesFromArgs(g, args); ok {
			if g == gBytearray {
				if cap(b) == 0 {
					b = make([]byte, 0, 1) // an identity of its own (newByteArray)
				}
				return ByteArray(b), nil
			}
			return b, nil
		}
	case gSet, gFrozenset:
		var items []any
		switch len(args) {
		case 0:
		case 1:
			switch a := args[0].(type) {
			case *listBox:
				items = a.items
			case Tuple:
				items = a
			default:
				return newObject(g, args, nil, false), nil
			}
		default:
			return newObject(g, args, nil, false), nil
		}
		var hs hashSet
		for _, it := range items {
			if err := s.addHashed(&hs, it); err != nil {
				return nil, s.errw(err, "set element")
			}
		}
		if g == gSet {
			return &Set{hs: hs}, nil
		}
		return &FrozenSet{hs: hs}, nil
	case gNewobj:
		if len(args) >= 1 {
			rest := make(Tuple, len(args)-1)
			copy(rest, args[1:])
			return newObject(args[0], rest, nil, true), nil
		}
	case gNewobjEx:
		if len(args) == 3 {
			a, ok1 := args[1].(Tuple)
			kw, ok2 := args[2].(*Dict)
			if ok1 && ok2 {
				if kw.Len() == 0 {
					kw = nil
				}
				return newObject(args[0], a, kw, true), nil
			}
		}
	}
	if g.Module == "builtins" && isExceptionName(g.Name) {
		return &PythonError{Type: g, Args: args}, nil
	}
	return newObject(g, args, nil, false), nil
}

// instantiate is INST and OBJ. Python calls cls(*args) as REDUCE does,
// except that without arguments a class lacking __getinitargs__ is made by
// cls.__new__(cls), skipping __init__ (Python 2 classic instances); the
// *Object records it (Inst) so that Marshal writes INST or OBJ back and
// Python makes the same choice.
func (s *decState) instantiate(cls any, args Tuple) (any, error) {
	v, err := s.reduce(cls, args)
	if o, ok := v.(*Object); ok && !o.NewObj {
		o.Inst = true
	}
	return v, err
}

// newByteArray copies b into a ByteArray with a backing array of its own,
// even when empty: bytearrays are mutable, so each one decoded is a
// distinct object whose identity Marshal keeps (it memoizes by array).
func newByteArray(b []byte) ByteArray {
	c := make([]byte, len(b), max(len(b), 1))
	copy(c, b)
	return c
}

func bytesFromArgs(g Global, args Tuple) ([]byte, bool) {
	switch len(args) {
	case 0:
		if g == gCodecsEnc {
			return nil, false
		}
		return []byte{}, true
	case 1:
		if g == gCodecsEnc {
			return nil, false
		}
		if b, ok := args[0].([]byte); ok {
			c := make([]byte, len(b))
			copy(c, b)
			return c, true
		}
	case 2:
		str, ok1 := args[0].(string)
		enc, ok2 := args[1].(string)
		if ok1 && ok2 && (enc == "latin1" || enc == "latin-1" || enc == "iso-8859-1" || enc == "ISO-8859-1") {
			return latin1(str)
		}
	}
	return nil, false
}

func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

var exceptionNames = map[string]bool{
	"BaseException": true, "Exception": true, "KeyboardInterrupt": true, "SystemExit": true,
	"GeneratorExit": true, "StopIteration": true, "StopAsyncIteration": true,
	"BaseExceptionGroup": true, "ExceptionGroup": true,
}

func isExceptionName(n string) bool {
	if exceptionNames[n] {
		return true
	}
	for _, suf := range []string{"Error", "Warning"} {
		if len(n) > len(suf) && n[len(n)-len(suf):] == suf {
			return true
		}
	}
	return false
}

// globalLines reads the module and name lines of GLOBAL or INST. Like
// CPython, it refuses an empty line (which CPython reports as truncated
// data) and names that are not UTF-8.
func (s *decState) globalLines(op string) (Global, error) {
	mod, err := s.line()
	if err != nil {
		return Global{}, err
	}
	modS := string(mod)
	name, err := s.line()
	if err != nil {
		return Global{}, err
	}
	if len(modS) == 0 || len(name) == 0 {
		return Global{}, s.errf("%s with an empty module or name line", op)
	}
	if !validPyUTF8String(modS) || !validPyUTF8(name) {
		return Global{}, s.errf("%s names must be UTF-8", op)
	}
	return s.findClass(modS, string(name)), nil
}

// findClass names a GLOBAL/INST class, mapping Python 2 names to Python 3
// ones below protocol 3 as Unpickler(fix_imports=True) does.
func (s *decState) findClass(mod, name string) Global {
	g := Global{Module: mod, Name: name}
	if s.proto < 3 {
		if n, ok := compatName[g]; ok {
			return n
		}
		if m, ok := compatImport[mod]; ok {
			g.Module = m
		}
	}
	return g
}

// finish runs the final pass over a decoded value: lists become []any,
// nesting depth is checked, registered classes become their Go types.
func (s *decState) finish(v any) (any, error) {
	out, _, err := s.walk(v, 0, false)
	return out, err
}

func (s *decState) depthErr() error {
	return &SyntaxError{Offset: int64(s.pos), Op: opStop, Msg: fmt.Sprintf("value nested deeper than MaxDepth (%d)", s.m.maxDepth), Err: ErrLimit}
}

// walk finalizes v found at nesting depth depth; it returns the value to
// store in place of v and the height of v's subtree. inKey disables
// conversions inside hashed values (their hash must not change).
func (s *decState) walk(v any, depth int, inKey bool) (any, int, error) {
	switch x := v.(type) {
	case *listBox:
		switch x.walk.state {
		case 2:
			if depth+int(x.walk.height) > s.m.maxDepth {
				return nil, 0, s.depthErr()
			}
			return x.final, int(x.walk.height), nil
		case 1:
			return x.final, 0, nil
		}
		if depth >= s.m.maxDepth {
			return nil, 0, s.depthErr()
		}
		x.walk.state = 1
		x.final = x.items
		if cap(x.final) == 0 {
			if x.memo {
				x.final = make([]any, 0, 1) // distinct identity for a shared empty list
			} else {
				x.final = []any{}
			}
		}
		h, err := s.walkSlice(x.final, depth+1, inKey)
		if err != nil {
			return nil, 0, err
		}
		x.items = nil
		x.walk.state, x.walk.height = 2, int32(h+1)
		return x.final, h + 1, nil
	case Tuple:
		if len(x) == 0 {
			return v, 1, nil
		}
		if !s.tupleShared {
			// Reached once only: no bookkeeping needed.
			if depth >= s.m.maxDepth {
				return nil, 0, s.depthErr()
			}
			h, err := s.walkSlice(x, depth+1, inKey)
			if err != nil {
				return nil, 0, err
			}
			return v, h + 1, nil
		}
		if s.tuples == nil {
			s.tuples = make(map[*any]int)
		}
		key := &x[0]
		if h, ok := s.tuples[key]; ok {
			if h < 0 {
				return v, 0, nil
			}
			if depth+h > s.m.maxDepth {
				return nil, 0, s.depthErr()
			}
			return v, h, nil
		}
		if depth >= s.m.maxDepth {
			return nil, 0, s.depthErr()
		}
		s.tuples[key] = -1
		h, err := s.walkSlice(x, depth+1, inKey)
		if err != nil {
			return nil, 0, err
		}
		s.tuples[key] = h + 1
		return v, h + 1, nil
	case *Dict:
		if st, h, done, err := s.enter(&x.walk, depth); done || err != nil {
			return v, h, err
		} else {
			_ = st
		}
		h := 0
		for i := range x.ents {
			e := &x.ents[i]
			if isLeaf(e.k) && isLeaf(e.v) {
				continue
			}
			_, kh, err := s.walk(e.k, depth+1, true)
			if err != nil {
				return nil, 0, err
			}
			nv, vh, err := s.walk(e.v, depth+1, inKey)
			if err != nil {
				return nil, 0, err
			}
			e.v = nv
			h = max(h, kh, vh)
		}
		x.walk.state, x.walk.height = 2, int32(h+1)
		return v, h + 1, nil
	case *Set:
		if _, h, done, err := s.enter(&x.walk, depth); done || err != nil {
			return v, h, err
		}
		h, err := s.walkHashed(&x.hs, depth+1)
		if err != nil {
			return nil, 0, err
		}
		x.walk.state, x.walk.height = 2, int32(h+1)
		return v, h + 1, nil
	case *FrozenSet:
		if _, h, done, err := s.enter(&x.walk, depth); done || err != nil {
			return v, h, err
		}
		h, err := s.walkHashed(&x.hs, depth+1)
		if err != nil {
			return nil, 0, err
		}
		x.walk.state, x.walk.height = 2, int32(h+1)
		return v, h + 1, nil
	case *Object:
		if _, h, done, err := s.enter(&x.walk, depth); done || err != nil {
			return v, h, err
		}
		h := 0
		var err error
		var hh int
		if x.CallableValue != nil {
			if x.CallableValue, hh, err = s.walk(x.CallableValue, depth+1, inKey); err != nil {
				return nil, 0, err
			}
			h = max(h, hh)
		}
		var a any
		if a, hh, err = s.walk(x.Args, depth+1, inKey); err != nil {
			return nil, 0, err
		}
		x.Args = a.(Tuple)
		h = max(h, hh)
		if x.Kwargs != nil {
			if _, hh, err = s.walk(x.Kwargs, depth+1, inKey); err != nil {
				return nil, 0, err
			}
			h = max(h, hh)
		}
		if x.State != nil {
			if x.State, hh, err = s.walk(x.State, depth+1, inKey); err != nil {
				return nil, 0, err
			}
			h = max(h, hh)
		}
		if x.ListItems != nil {
			if hh, err = s.walkSlice(x.ListItems, depth+1, inKey); err != nil {
				return nil, 0, err
			}
			h = max(h, hh)
		}
		if x.DictItems != nil {
			if _, hh, err = s.walk(x.DictItems, depth+1, inKey); err != nil {
				return nil, 0, err
			}
			h = max(h, hh)
		}
		x.walk.state, x.walk.height = 2, int32(h+1)
		if !inKey && !s.typed && x.CallableValue == nil {
			if t, ok := lookupClass(x.class()); ok {
				rv := reflect.New(t).Elem()
				c := converter{s: s}
				if err := c.fromObject(rv, x, t); err != nil {
					return nil, 0, err
				}
				return rv.Interface(), h + 1, nil
			}
		}
		return v, h + 1, nil
	case *PythonError:
		if _, h, done, err := s.enter(&x.walk, depth); done || err != nil {
			return v, h, err
		}
		a, h, err := s.walk(x.Args, depth+1, inKey)
		if err != nil {
			return nil, 0, err
		}
		x.Args = a.(Tuple)
		if x.State != nil {
			var hh int
			if x.State, hh, err = s.walk(x.State, depth+1, inKey); err != nil {
				return nil, 0, err
			}
			h = max(h, hh)
		}
		x.walk.state, x.walk.height = 2, int32(h+1)
		return v, h + 1, nil
	}
	return v, 0, nil
}

// enter handles a pointer container already seen (done=true) or checks the
// depth and marks it in progress.
func (s *decState) enter(w *walkInfo, depth int) (int, int, bool, error) {
	switch w.state {
	case 2:
		if depth+int(w.height) > s.m.maxDepth {
			return 0, 0, true, s.depthErr()
		}
		return 0, int(w.height), true, nil
	case 1:
		return 0, 0, true, nil
	}
	if depth >= s.m.maxDepth {
		return 0, 0, true, s.depthErr()
	}
	w.state = 1
	return 0, 0, false, nil
}

func isLeaf(v any) bool {
	switch v.(type) {
	case string, int64, nil, bool, float64, []byte, Global:
		return true
	}
	return false
}

func (s *decState) walkSlice(items []any, depth int, inKey bool) (int, error) {
	h := 0
	for i, e := range items {
		if isLeaf(e) {
			continue
		}
		ne, eh, err := s.walk(e, depth, inKey)
		if err != nil {
			return 0, err
		}
		items[i] = ne
		if eh > h {
			h = eh
		}
	}
	return h, nil
}

func (s *decState) walkHashed(hs *hashSet, depth int) (int, error) {
	h := 0
	for _, e := range hs.items {
		if isLeaf(e.k) {
			continue
		}
		_, eh, err := s.walk(e.k, depth, true)
		if err != nil {
			return 0, err
		}
		h = max(h, eh)
	}
	return h, nil
}
