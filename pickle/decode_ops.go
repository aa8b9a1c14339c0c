package pickle

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The generic decoder's opcode loop: one small function per opcode family
// (og-rek's loadX per opcode, encoding/json's one function per kind).

// run executes opcodes up to STOP and returns the (not yet finalized) value.
func (s *decState) run() (any, error) {
	for {
		pos := s.pos
		if pos+10 > len(s.data) {
			// Near the end of what is there: read the opcode carefully.
			if v, done, err := s.runSlow(); done || err != nil {
				return v, err
			}
			continue
		}
		op := s.data[pos]
		s.opAt, s.op = pos, op
		s.pos = pos + 1
		var err error
		switch op {
		case opBinint1, opBinint2, opBinint, opLong1, opBinfloat:
			err = s.loadNumber(op)
		case opShortBinunicode:
			s.pos++
			err = s.loadUnicode(uint64(s.data[pos+1]))
		case opMemoize:
			n := len(s.stack)
			if n <= s.fence {
				return nil, s.underflow()
			}
			v := s.stack[n-1]
			if m := len(s.memo); s.memoCount == m && m < cap(s.memo) && m < s.m.maxMemo && s.memoSparse == nil {
				// The next entry of a dense memo with room (memoPut).
				if typeWord(v) == listWord {
					s.shareList(listOf(v))
				}
				s.memo = s.memo[:m+1]
				s.memo[m] = v
				s.memoCount++
			} else {
				err = s.memoPut(uint64(s.memoCount), v)
			}
		case opBinget:
			s.pos++
			idx := int(s.data[pos+1])
			if idx < len(s.memo) {
				// A str (a dict key, mostly) inline: memoGet
				// without pushedAgain.
				if v := s.memo[idx]; typeWord(v) == stringWord {
					if !s.tryPush(v) {
						err = s.push(v)
					}
					break
				}
			}
			err = s.memoGet(uint64(idx))
		case opLongBinget:
			s.pos += 4
			idx := uint64(binary.LittleEndian.Uint32(s.data[pos+1:]))
			if idx < uint64(len(s.memo)) {
				if v := s.memo[idx]; typeWord(v) == stringWord {
					if !s.tryPush(v) {
						err = s.push(v)
					}
					break
				}
			}
			err = s.memoGet(idx)
		case opMark:
			s.mark()
		case opAppend, opAppends, opSetitem, opSetitems:
			err = s.loadAdd(op)
		case opNone, opNewtrue, opNewfalse, opEmptyList, opEmptyDict:
			err = s.loadEmpty(op)
		case opStop:
			return s.pop()
		default:
			err = s.step(op)
		}
		if err != nil {
			return nil, err
		}
	}
}

// runSlow executes one opcode when fewer bytes than the longest fixed
// argument remain (a stream reads more here).
func (s *decState) runSlow() (any, bool, error) {
	if s.pos >= len(s.data) {
		s.opAt, s.op = s.pos, 0
		if err := s.ensure(1); err != nil {
			return nil, true, err
		}
	}
	s.opAt = s.pos
	op := s.data[s.pos]
	s.op = op
	s.pos++
	if op == opStop {
		v, err := s.pop()
		return v, true, err
	}
	return nil, false, s.step(op)
}

// loadNumber is BININT1, BININT2, BININT, LONG1 of up to 8 bytes and
// BINFLOAT with their arguments in the data (run checked 10 bytes). A
// number followed by another (a list's items) starts numRun.
func (s *decState) loadNumber(op byte) error {
	data, pos := s.data, s.pos
	var v any
	switch op {
	case opBinint1:
		s.pos = pos + 1
		v = boxInt(int64(data[pos]))
	case opBinint2:
		s.pos = pos + 2
		v = s.boxInt(int64(binary.LittleEndian.Uint16(data[pos:])))
	case opBinint:
		s.pos = pos + 4
		v = s.boxInt(int64(int32(binary.LittleEndian.Uint32(data[pos:]))))
	case opLong1:
		k := int(data[pos])
		if k > 8 {
			return s.loadBinInt(op)
		}
		s.pos = pos + 1 + k
		v = s.boxInt(long64At(data, pos+1, k))
	default:
		s.pos = pos + 8
		v = s.boxFloat(math.Float64frombits(binary.BigEndian.Uint64(data[pos:])))
	}
	if !s.tryPush(v) {
		return s.push(v)
	}
	if p := s.pos; p < len(data) && numberOps[data[p]] {
		return s.numRun()
	}
	return nil
}

// numberOps are the opcodes that loadNumber reads.
var numberOps = [256]bool{opBinint1: true, opBinint2: true, opBinint: true, opLong1: true, opBinfloat: true}

// numRun reads a run of numbers, from the one whose opcode is at s.pos
// (possibly none: the stack may be full, fewer than 10 bytes left), as
// loadNumber would, each boxed straight onto the stack in one loop,
// instead of a pass through run's switch and two calls per number
// (boxInt, words), while the stack has room and no limit is near:
// tryPush's checks, objects and stack room once for the run, the
// allocation budget where a slab is allocated. It stops at anything else,
// a LONG1 longer than 8 bytes, the last 10 bytes of the data or a limit,
// for run to read (and push to decide).
func (s *decState) numRun() error {
	data, pos := s.data, s.pos
	n := len(s.stack)
	lim := min(cap(s.stack), n+s.m.maxObjects-s.objects)
	stack := s.stack[:cap(s.stack)]
	n0 := n
	sl := &s.slabs
	words, at := sl.words, sl.wordsAt
	for pos+10 <= len(data) && n < lim {
		op, opAt := data[pos], pos
		var x int64
		typ := int64Word
		switch op {
		case opBinint1:
			x = int64(data[pos+1])
			pos += 2
		case opBinint2:
			x = int64(binary.LittleEndian.Uint16(data[pos+1:]))
			pos += 3
		case opBinint:
			x = int64(int32(binary.LittleEndian.Uint32(data[pos+1:])))
			pos += 5
		case opLong1:
			k := int(data[pos+1])
			if k > 8 {
				goto out
			}
			x = long64At(data, pos+2, k)
			pos += 2 + k
		case opBinfloat:
			x = int64(binary.BigEndian.Uint64(data[pos+1:]))
			typ = float64Word
			pos += 9
		default:
			goto out
		}
		switch {
		case typ == int64Word && x >= -smallIntBias && x < smallIntMax:
			stack[n] = smallInts[x+smallIntBias]
		case at < len(words):
			// boxInt and boxFloat: a word of the slab.
			words[at] = uint64(x)
			stack[n] = boxAt(typ, unsafe.Pointer(&words[at]))
			at++
		default:
			sl.wordsAt, s.pos = at, pos // (words sizes a slab by the input left)
			p := s.words(1)
			*(*int64)(p) = x
			v := boxAt(typ, p)
			words, at = sl.words, sl.wordsAt
			if s.alloc > s.allocMax {
				// A new slab past the budget's soft mark: push decides
				// (as after tryPush).
				s.stack, s.objects, s.pos = stack[:n], s.objects+n-n0, pos
				s.opAt, s.op = opAt, op
				return s.push(v)
			}
			stack[n] = v
		}
		n++
	}
out:
	sl.wordsAt = at
	s.stack, s.objects, s.pos = stack[:n], s.objects+n-n0, pos
	return nil
}

// step executes one opcode (not STOP).
func (s *decState) step(op byte) error {
	switch op {
	case opBinint1, opBinint2, opBinint, opLong1, opLong4:
		return s.loadBinInt(op)
	case opShortBinunicode, opBinunicode, opBinunicode8:
		return s.loadStr(op)
	case opMemoize, opBinput, opLongBinput, opPut:
		return s.loadPut(op)
	case opBinget, opLongBinget, opGet:
		return s.loadGet(op)
	case opMark:
		s.mark()
		return nil
	case opAppend, opAppends, opSetitem, opSetitems, opAdditems:
		return s.loadAdd(op)
	case opNone, opNewtrue, opNewfalse, opEmptyList, opEmptyDict, opEmptySet, opEmptyTuple:
		return s.loadEmpty(op)
	case opBinfloat, opFloat:
		return s.loadFloat(op)
	case opTuple1, opTuple2, opTuple3, opTuple, opList, opDict, opFrozenset:
		return s.loadBuild(op)
	case opShortBinbytes, opBinbytes, opBinbytes8, opBytearray8, opShortBinstring, opBinstring, opString, opUnicode:
		return s.loadData(op)
	case opProto, opFrame:
		return s.loadHeader(op)
	case opPop, opPopMark, opDup:
		return s.loadStackOp(op)
	case opInt, opLong:
		return s.loadTextInt(op == opLong)
	case opGlobal, opStackGlobal, opExt1, opExt2, opExt4:
		return s.loadGlobal(op)
	case opReduce, opNewobj, opNewobjEx, opInst, opObj, opBuild:
		return s.loadObject(op)
	case opPersid, opBinpersid:
		return s.errw(ErrUnsupported, "persistent IDs are not supported")
	case opNextBuffer, opReadonlyBuffer:
		return s.errw(ErrUnsupported, "out-of-band buffers are not supported")
	}
	return s.errf("invalid load key, '\\x%02x'", op)
}

// loadHeader is PROTO and FRAME.
func (s *decState) loadHeader(op byte) error {
	if op == opProto {
		p, err := s.u8()
		if err != nil {
			return err
		}
		if p > highestProtocol {
			return s.errf("unsupported pickle protocol: %d", p)
		}
		s.proto = int(p)
		return nil
	}
	n, err := s.u64()
	if err != nil {
		return err
	}
	// The frame must be there (as CPython checks); for a stream this reads
	// it in bounded chunks.
	return s.ensure(n)
}

// loadEmpty pushes a constant or a new empty container.
func (s *decState) loadEmpty(op byte) error {
	var v any
	switch op {
	case opNone:
	case opNewtrue:
		v = true
	case opNewfalse:
		v = false
	case opEmptyList:
		v = s.newList().asList()
	case opEmptyDict:
		v = s.newDict(0)
	case opEmptySet:
		v = &Set{}
	default:
		v = Tuple{}
	}
	if s.tryPush(v) {
		return nil
	}
	return s.push(v)
}

// loadBinInt is BININT1, BININT2, BININT, LONG1 and LONG4.
func (s *decState) loadBinInt(op byte) error {
	switch op {
	case opBinint1:
		b, err := s.u8()
		if err != nil {
			return err
		}
		return s.push(boxInt(int64(b)))
	case opBinint2:
		v, err := s.u16()
		if err != nil {
			return err
		}
		return s.push(s.boxInt(int64(v)))
	case opBinint:
		v, err := s.u32()
		if err != nil {
			return err
		}
		return s.push(s.boxInt(int64(int32(v))))
	case opLong1:
		n, err := s.u8()
		if err != nil {
			return err
		}
		return s.loadLong(uint64(n))
	}
	n, err := s.u32()
	if err != nil {
		return err
	}
	if int32(n) < 0 {
		return s.errf("LONG pickle has negative byte count")
	}
	return s.loadLong(uint64(n))
}

// loadFloat is BINFLOAT and FLOAT.
func (s *decState) loadFloat(op byte) error {
	if op == opBinfloat {
		b, err := s.take(8)
		if err != nil {
			return err
		}
		return s.push(s.boxFloat(math.Float64frombits(binary.BigEndian.Uint64(b))))
	}
	l, err := s.line()
	if err != nil {
		return err
	}
	f, err := parsePyFloat(string(l))
	if err != nil {
		return s.errf("could not convert string to float: %q", l)
	}
	return s.push(s.boxFloat(f))
}

// loadStr is SHORT_BINUNICODE, BINUNICODE and BINUNICODE8.
func (s *decState) loadStr(op byte) error {
	var n uint64
	switch op {
	case opShortBinunicode:
		b, err := s.u8()
		if err != nil {
			return err
		}
		n = uint64(b)
	case opBinunicode:
		v, err := s.u32()
		if err != nil {
			return err
		}
		n = uint64(v)
	default:
		v, err := s.u64()
		if err != nil {
			return err
		}
		n = v
	}
	return s.loadUnicode(n)
}

// loadData is the bytes, bytearray, Python 2 str and protocol-0 unicode
// opcodes.
func (s *decState) loadData(op byte) error {
	switch op {
	case opString:
		l, err := s.line()
		if err != nil {
			return err
		}
		b, err := unquoteString(l)
		if err != nil {
			return s.errf("%v", err)
		}
		return s.push(s.py2str(b))
	case opUnicode:
		l, err := s.line()
		if err != nil {
			return err
		}
		u, err := decodeRawUnicodeEscape(l)
		if err != nil {
			return s.errf("'rawunicodeescape' codec can't decode the UNICODE argument: %v", err)
		}
		return s.push(u)
	}
	n, err := s.dataLen(op)
	if err != nil {
		return err
	}
	switch op {
	case opShortBinstring, opBinstring:
		return s.loadBinstring(n)
	case opBytearray8:
		return s.loadBytes(n, true)
	}
	return s.loadBytes(n, false)
}

// dataLen reads the length argument of a bytes, bytearray or BINSTRING
// opcode.
func (s *decState) dataLen(op byte) (uint64, error) {
	switch op {
	case opShortBinbytes, opShortBinstring:
		n, err := s.u8()
		return uint64(n), err
	case opBinbytes, opBinstring:
		n, err := s.u32()
		if err == nil && op == opBinstring && int32(n) < 0 {
			return 0, s.errf("BINSTRING pickle has negative byte count")
		}
		return uint64(n), err
	}
	return s.u64()
}

// loadBuild makes a tuple, list, dict or frozenset of the items on the
// stack.
func (s *decState) loadBuild(op byte) error {
	if op >= opTuple1 && op <= opTuple3 {
		n := int(op-opTuple1) + 1
		if len(s.stack)-s.fence < n {
			return s.underflow()
		}
		t := s.newTuple(s.stack[len(s.stack)-n:])
		s.truncate(len(s.stack) - n)
		return s.push(s.boxTuple(t))
	}
	items, err := s.popMark()
	if err != nil {
		return err
	}
	switch op {
	case opDict:
		if len(items)%2 != 0 {
			return s.errf("odd number of items for DICT")
		}
		if err := s.checkLen(len(items) / 2); err != nil {
			return err
		}
		d := s.newDict(len(items) / 2)
		if err := s.setItems(d, items, 0); err != nil {
			return err
		}
		return s.push(d)
	}
	if err := s.checkLen(len(items)); err != nil {
		return err
	}
	switch op {
	case opList:
		lb := s.newList()
		if len(items) > 0 {
			if s.heights {
				lb.walk.height = s.maxHeight(items)
			}
			lb.items = s.carveAny(len(items))
			copyFew(lb.items, items)
		}
		return s.push(lb.asList())
	case opFrozenset:
		fs := &FrozenSet{}
		if s.heights {
			fs.walk.height = s.maxHeight(items)
		}
		for _, it := range items {
			if err := s.addHashed(&fs.hs, it); err != nil {
				return s.errw(err, "FROZENSET element")
			}
		}
		return s.push(fs)
	}
	return s.push(s.boxTuple(s.newTuple(items)))
}

// loadAdd is APPEND(S), SETITEM(S) and ADDITEMS.
func (s *decState) loadAdd(op byte) error {
	switch op {
	case opAppend:
		v, err := s.pop()
		if err != nil {
			return err
		}
		s.one[0] = v
		return s.appendTo(s.one[:], 0)
	case opAppends:
		items, err := s.popMark()
		if err != nil {
			return err
		}
		return s.appendTo(items, s.markAt)
	case opSetitem:
		if len(s.stack)-s.fence < 3 {
			return s.underflow()
		}
		n := len(s.stack)
		kv := s.stack[n-2 : n]
		s.truncate(n - 2)
		return s.setItemsOn(kv, 0)
	}
	items, err := s.popMark()
	if err != nil {
		return err
	}
	if op == opSetitems {
		if len(items)%2 != 0 {
			return s.errf("odd number of items for SETITEMS")
		}
		return s.setItemsOn(items, s.markAt)
	}
	return s.addItems(items)
}

func (s *decState) addItems(items []any) error {
	t, err := s.top()
	if err != nil {
		return err
	}
	set, ok := t.(*Set)
	if !ok {
		return s.errf("ADDITEMS to %s", pyTypeName(t))
	}
	if err := s.checkLen(set.Len() + len(items)); err != nil {
		return err
	}
	if s.heights {
		set.walk.height = max(set.walk.height, s.maxHeight(items))
	}
	for _, it := range items {
		if err := s.addHashed(&set.hs, it); err != nil {
			return s.errw(err, "set element")
		}
	}
	return nil
}

// loadStackOp is POP, POP_MARK and DUP.
func (s *decState) loadStackOp(op byte) error {
	switch op {
	case opPop:
		if len(s.stack) > s.fence {
			s.truncate(len(s.stack) - 1)
		} else if _, err := s.popMark(); err != nil {
			return s.underflow()
		}
		return nil
	case opPopMark:
		_, err := s.popMark()
		return err
	}
	v, err := s.top()
	if err != nil {
		return err
	}
	// CPython never writes DUP: leave the value to the final pass.
	s.slow, s.heights = true, false
	if typeWord(v) == listWord {
		s.shareList(listOf(v))
	}
	if t, ok := v.(Tuple); ok && len(t) > 0 {
		s.tupleShared = true
	}
	return s.push(v)
}

// loadPut is MEMOIZE, BINPUT, LONG_BINPUT and PUT.
func (s *decState) loadPut(op byte) error {
	var idx uint64
	switch op {
	case opMemoize:
		idx = uint64(s.memoCount)
	case opBinput:
		i, err := s.u8()
		if err != nil {
			return err
		}
		idx = uint64(i)
	case opLongBinput:
		i, err := s.u32()
		if err != nil {
			return err
		}
		if int32(i) < 0 {
			return s.errf("negative LONG_BINPUT argument")
		}
		idx = uint64(i)
	default:
		i, err := s.lineIndex()
		if err != nil {
			return err
		}
		idx = i
	}
	v, err := s.top()
	if err != nil {
		return err
	}
	return s.memoPut(idx, v)
}

// loadGet is BINGET, LONG_BINGET and GET.
func (s *decState) loadGet(op byte) error {
	switch op {
	case opBinget:
		i, err := s.u8()
		if err != nil {
			return err
		}
		return s.memoGet(uint64(i))
	case opLongBinget:
		i, err := s.u32()
		if err != nil {
			return err
		}
		return s.memoGet(uint64(i))
	}
	i, err := s.lineIndex()
	if err != nil {
		return err
	}
	return s.memoGet(i)
}

// loadGlobal is GLOBAL, STACK_GLOBAL and EXT1/2/4.
func (s *decState) loadGlobal(op byte) error {
	switch op {
	case opGlobal:
		g, err := s.globalLines("GLOBAL")
		if err != nil {
			return err
		}
		return s.push(g)
	case opStackGlobal:
		name, err := s.pop()
		if err != nil {
			return err
		}
		mod, err := s.pop()
		if err != nil {
			return err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return s.errf("STACK_GLOBAL requires str, got %s and %s", pyTypeName(mod), pyTypeName(name))
		}
		return s.push(Global{Module: ms, Name: ns})
	case opExt1:
		c, err := s.u8()
		if err != nil {
			return err
		}
		return s.pushExt(int32(c))
	case opExt2:
		c, err := s.u16()
		if err != nil {
			return err
		}
		return s.pushExt(int32(c))
	}
	c, err := s.u32()
	if err != nil {
		return err
	}
	return s.pushExt(int32(c))
}

// loadObject is REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ and BUILD.
func (s *decState) loadObject(op byte) error {
	// Instances take the final pass (walkObject).
	s.slow, s.heights = true, false
	switch op {
	case opReduce:
		return s.loadReduce()
	case opNewobj:
		return s.loadNewobj()
	case opNewobjEx:
		return s.loadNewobjEx()
	case opBuild:
		return s.loadBuildState()
	}
	var cls any
	var args Tuple
	if op == opInst {
		g, err := s.globalLines("INST")
		if err != nil {
			return err
		}
		items, err := s.popMark()
		if err != nil {
			return err
		}
		cls, args = g, append(Tuple{}, items...)
	} else {
		items, err := s.popMark()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return s.errf("OBJ without a class")
		}
		cls, args = items[0], append(make(Tuple, 0, len(items)-1), items[1:]...)
	}
	v, err := s.instantiate(cls, args)
	if err != nil {
		return err
	}
	return s.push(v)
}

func (s *decState) loadReduce() error {
	args, err := s.pop()
	if err != nil {
		return err
	}
	fn, err := s.pop()
	if err != nil {
		return err
	}
	t, ok := args.(Tuple)
	if !ok {
		return s.errf("REDUCE arguments must be a tuple, got %s", pyTypeName(args))
	}
	v, err := s.reduce(fn, t)
	if err != nil {
		return err
	}
	return s.push(v)
}

func (s *decState) loadNewobj() error {
	args, err := s.pop()
	if err != nil {
		return err
	}
	cls, err := s.pop()
	if err != nil {
		return err
	}
	t, ok := args.(Tuple)
	if !ok {
		return s.errf("NEWOBJ expected an arg tuple, got %s", pyTypeName(args))
	}
	if cls == nil {
		return s.errf("NEWOBJ class argument isn't a type object")
	}
	return s.push(newObject(cls, t, nil, true))
}

func (s *decState) loadNewobjEx() error {
	kw, err := s.pop()
	if err != nil {
		return err
	}
	args, err := s.pop()
	if err != nil {
		return err
	}
	cls, err := s.pop()
	if err != nil {
		return err
	}
	t, ok := args.(Tuple)
	if !ok {
		return s.errf("NEWOBJ_EX args argument must be a tuple, got %s", pyTypeName(args))
	}
	kd, ok := kw.(*Dict)
	if !ok {
		return s.errf("NEWOBJ_EX kwargs argument must be a dict, got %s", pyTypeName(kw))
	}
	if cls == nil {
		return s.errf("NEWOBJ_EX class argument must be a type, not NoneType")
	}
	if kd.Len() == 0 {
		kd = nil
	}
	return s.push(newObject(cls, t, kd, true))
}

// loadBuildState is BUILD: the state of an instance.
func (s *decState) loadBuildState() error {
	state, err := s.pop()
	if err != nil {
		return err
	}
	t, err := s.top()
	if err != nil {
		return err
	}
	switch o := t.(type) {
	case *Object:
		o.State = state
	case *PythonError:
		o.State = state
	default:
		return s.errf("BUILD on %s (no __setstate__ or __dict__)", pyTypeName(t))
	}
	return nil
}
