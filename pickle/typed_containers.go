package pickle

import (
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"strings"
	"unsafe"
)

// Containers of the typed decoder: lists and tuples into slices and
// arrays, dicts into structs and string-keyed maps, pointers.

// seqBuilder collects the items of a list or tuple. A slice is built in
// its destination (grown there like append), so the header costs nothing.
type seqBuilder struct {
	p     unsafe.Pointer // destination
	pl    *decPlan       // nil: drop the items
	data  unsafe.Pointer // backing array (slices)
	n, c  int
	start int   // offset of the list in the data
	ck    *slab // the slab the items are carved from (nil: an array of their own)
	ckAt  int   // where in it
	// dref is the index in refs of data when it is an array of the
	// slice's own (valid when refs holds data there: see dataRef).
	dref int32
}

// A slab holds the items of many short slices of one type: most lists in
// a pickle are short, and one allocation per list would cost more than
// their items.
type slab struct {
	pl  *decPlan
	hdr sliceHdr // len is the part carved out
	// ref is the index in refs of hdr.data (valid when refs holds it
	// there: see dataRef).
	ref int32
}

// estimateAt is how many items a list or dict has when the decoder first
// sizes it by the bytes per item so far and the bytes left (a map again at
// 16 times that).
const estimateAt = 64

// carveSize is how many items a slice gets from a slab before it needs an
// array of its own; slabBytes the size of a slab.
const (
	carveSize = 4
	slabBytes = 4 << 10
)

func (d *tdec) newSeq(p unsafe.Pointer, pl *decPlan) (seqBuilder, error) {
	if pl != nil {
		switch pl.kind {
		case pkArray:
			clear(unsafe.Slice((*byte)(p), pl.size))
		case pkSlice:
			*(*sliceHdr)(p) = sliceHdr{}
		default:
			return seqBuilder{}, errFallback
		}
	}
	return seqBuilder{p: p, pl: pl, start: d.s.pos}, nil
}

// item reads the next item of a sequence.
func (d *tdec) item(b *seqBuilder) error {
	if b.n >= d.maxContainer {
		return errFallback
	}
	pl := b.pl
	switch {
	case pl == nil:
		b.n++
		return d.value(nil, nil)
	case pl.kind == pkArray:
		i := b.n
		b.n++
		if i >= pl.arrLen {
			return d.value(nil, nil)
		}
		return d.value(unsafe.Add(b.p, uintptr(i)*pl.elem.size), pl.elem)
	}
	if b.n == b.c {
		if err := d.grow(b); err != nil {
			return err
		}
	}
	ep := unsafe.Add(b.data, uintptr(b.n)*pl.elem.size)
	b.n++
	if pl.elem.kind <= pkString && d.fast(ep, pl.elem) {
		return nil
	}
	if s := d.s; pl.elem.kind == pkStruct && s.pos < len(s.data) && s.data[s.pos] == opEmptyDict && d.objects < d.maxObjects {
		// A record: straight to it, as structValue (inline here).
		s.pos++
		d.objects++
		if ok, err := d.record(ep, pl.elem, b); ok || err != nil {
			return err
		}
		s.pos--
		d.objects--
	}
	return d.value(ep, pl.elem)
}

// structValue reads the next value into the struct at p: a dict as
// CPython writes a record straight through record (as value and dict
// would go), anything else through value.
func (d *tdec) structValue(p unsafe.Pointer, pl *decPlan) error {
	if s := d.s; s.pos < len(s.data) && s.data[s.pos] == opEmptyDict && d.objects < d.maxObjects {
		s.pos++
		d.objects++
		if ok, err := d.record(p, pl, nil); ok || err != nil {
			return err
		}
		s.pos--
		d.objects--
	}
	return d.value(p, pl)
}

// grow makes room for more items: a short run from a slab first, then an
// array of the slice's own, doubled each time (or grown to the size the
// input left suggests, for a long list). Items already read stay valid
// where they are (memo entries may point at them).
func (d *tdec) grow(b *seqBuilder) error {
	size := b.pl.elem.size
	if b.c == 0 && size <= 64 {
		return d.carve(b)
	}
	add := max(4, b.c)
	if read := d.s.pos - b.start; b.n >= estimateAt && read > 0 {
		// Past estimateAt items, the bytes per item so far and the
		// bytes left estimate the length (with 1/8 to spare; at least
		// ×1.25, at most ×16 or what twice the bytes left would hold).
		left := len(d.s.data) - d.s.pos
		est := b.n + left/max(1, read/b.n)
		add = min(max(est+est/8+16-b.c, b.c/4), max(16*b.c, 2*left/max(1, int(size))))
	}
	if err := d.charge(uintptr(b.c+add) * size); err != nil {
		return err
	}
	h := (*sliceHdr)(b.p)
	*h = sliceHdr{b.data, b.n, b.c}
	reflect.NewAt(b.pl.t, b.p).Elem().Grow(add)
	b.data, b.c, b.ck = h.data, h.cap, nil
	return nil
}

// carve gives a new slice its first items from the slab of its type.
func (d *tdec) carve(b *seqBuilder) error {
	var ck *slab
	for _, c := range d.slabs {
		if c.pl == b.pl {
			ck = c
			break
		}
	}
	if ck == nil {
		ck = &slab{pl: b.pl}
		d.slabs = append(d.slabs, ck)
	}
	size := b.pl.elem.size
	if ck.hdr.cap-ck.hdr.len < carveSize {
		n := max(16, slabBytes/max(1, int(size)))
		if err := d.charge(uintptr(n) * size); err != nil {
			return err
		}
		ck.hdr = sliceHdr{}
		reflect.NewAt(b.pl.t, unsafe.Pointer(&ck.hdr)).Elem().Grow(n)
	}
	b.ck, b.ckAt = ck, ck.hdr.len
	b.data, b.c = unsafe.Add(ck.hdr.data, uintptr(ck.hdr.len)*size), carveSize
	ck.hdr.len += carveSize
	return nil
}

// finishSeq stores the sequence and what the memo holds for it.
func (d *tdec) finishSeq(b *seqBuilder, first int) {
	e := tmemo{kind: mDiscard}
	switch {
	case b.pl == nil:
	case b.pl.kind == pkArray:
		if first >= 0 {
			e = d.atEntry(b.pl, b.p, first, nil)
		}
	case b.n == 0:
		*(*sliceHdr)(b.p) = sliceHdr{b.pl.empty, 0, 0}
		if first >= 0 {
			e = tmemo{kind: mSlice, plan: b.pl.id, ref: d.ref(b.pl.empty)}
		}
	default:
		c := b.c
		if b.ck != nil {
			// A carved slice ends at its last item (appending to it must
			// not write into its neighbour's), and gives back the rest.
			c = b.n
			if b.ck.hdr.len == b.ckAt+carveSize {
				b.ck.hdr.len = b.ckAt + b.n
			}
		}
		*(*sliceHdr)(b.p) = sliceHdr{b.data, b.n, c}
		if first >= 0 && c <= math.MaxInt32 {
			ref, at := d.dataRef(b, b.data)
			e = tmemo{kind: mSlice, plan: b.pl.id, ref: ref, at: at, n: int32(b.n), c: int32(c)}
		}
	}
	if first >= 0 {
		d.memo[first] = e
	}
}

// items reads items up to the opcode end (after a MARK).
func (d *tdec) items(b *seqBuilder, end byte) error {
	ints := b.pl != nil && b.pl.kind == pkSlice && b.pl.elem.kind == pkInt && b.pl.elem.size == 8
	strs := b.pl != nil && b.pl.kind == pkSlice && b.pl.elem.kind == pkString
	recs := b.pl != nil && b.pl.kind == pkSlice && b.pl.elem.kind == pkStruct
	for {
		if ints {
			d.intRun(b)
		}
		if recs {
			if err := d.recRun(b); err != nil {
				return err
			}
		}
		if strs {
			if err := d.strRun(b); err != nil {
				return err
			}
		}
		op := d.op()
		if op == 0 {
			var err error
			if op, err = d.peekSlow(); err != nil {
				return errFallback
			}
		}
		if op == end {
			d.s.pos++
			return nil
		}
		if err := d.item(b); err != nil {
			return err
		}
	}
}

// list reads a list after its EMPTY_LIST: memo opcodes, then APPEND and
// APPENDS batches.
func (d *tdec) list(p unsafe.Pointer, pl *decPlan) error {
	b, err := d.newSeq(p, pl)
	if err != nil {
		return err
	}
	if pl != nil && pl.kind == pkSlice && pl.elem.kind == pkString {
		if ok, err := d.strList(&b); ok || err != nil {
			return err
		}
	}
	if err := d.enter(); err != nil {
		return err
	}
	first, err := d.memoPuts(tmemo{kind: mOpen})
	if err != nil {
		return err
	}
	for {
		op := d.op()
		if op == 0 {
			var err error
			if op, err = d.peekSlow(); err != nil {
				return errFallback
			}
		}
		if op == opMark {
			d.s.pos++
			if err := d.items(&b, opAppends); err != nil {
				return err
			}
			continue
		}
		// CPython writes a lone APPEND for a list of one item, or after
		// full batches; otherwise a value here is the list's sibling.
		if !valueStart(op) || b.n%batchSize != 0 {
			break
		}
		if ok, err := d.followedBy(1, opAppend); err != nil || !ok {
			if err != nil {
				return err
			}
			break
		}
		if err := d.item(&b); err != nil {
			return err
		}
		if _, err := d.next(); err != nil { // the APPEND
			return errFallback
		}
	}
	d.depth--
	d.finishSeq(&b, first)
	return nil
}

// tuple reads MARK items TUPLE.
func (d *tdec) tuple(p unsafe.Pointer, pl *decPlan) error {
	b, err := d.newSeq(p, pl)
	if err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	if err := d.items(&b, opTuple); err != nil {
		return err
	}
	d.depth--
	first, err := d.memoPuts(tmemo{kind: mOpen})
	if err != nil {
		return err
	}
	d.finishSeq(&b, first)
	return nil
}

func (d *tdec) emptyTuple(p unsafe.Pointer, pl *decPlan) error {
	b, err := d.newSeq(p, pl)
	if err != nil {
		return err
	}
	d.finishSeq(&b, -1)
	return nil
}

// dictBuilder collects the items of a dict into a struct or a map.
type dictBuilder struct {
	p     unsafe.Pointer
	pl    *decPlan
	n     int
	m     reflect.Value  // the map
	k, v  reflect.Value  // scratch key and value of a map
	kp    unsafe.Pointer // k's address (a string's: the key type's kind is String)
	vp    unsafe.Pointer // v's address
	start int            // offset of the dict in the data
	fresh bool           // the map was made here (so it may be remade larger)
	room  int            // the size it was remade for
}

// dict reads a dict after its EMPTY_DICT: memo opcodes, then SETITEM and
// SETITEMS batches.
func (d *tdec) dict(p unsafe.Pointer, pl *decPlan) error {
	if pl != nil && pl.kind == pkStruct {
		if ok, err := d.record(p, pl, nil); ok || err != nil {
			return err
		}
	}
	b := dictBuilder{p: p, pl: pl, start: d.s.pos}
	if pl != nil {
		switch pl.kind {
		case pkStruct:
		case pkMap:
			if err := d.newMap(&b); err != nil {
				return err
			}
		default:
			return errFallback
		}
	}
	if err := d.enter(); err != nil {
		return err
	}
	first, err := d.memoPuts(tmemo{kind: mOpen})
	if err != nil {
		return err
	}
	if err := d.dictBatches(&b); err != nil {
		return err
	}
	d.depth--
	d.finishDict(&b, first)
	return nil
}

// dictBatches reads the SETITEM and SETITEMS batches of a dict.
func (d *tdec) dictBatches(b *dictBuilder) error {
	for {
		op := d.op()
		if op == 0 {
			var err error
			if op, err = d.peekSlow(); err != nil {
				return errFallback
			}
		}
		if op == opMark {
			d.s.pos++
			if err := d.pairs(b); err != nil {
				return err
			}
			continue
		}
		if !valueStart(op) || b.n%batchSize != 0 {
			return nil
		}
		if ok, err := d.followedBy(2, opSetitem); err != nil || !ok {
			return err
		}
		if err := d.pair(b); err != nil {
			return err
		}
		if _, err := d.next(); err != nil { // the SETITEM
			return errFallback
		}
	}
}

// record reads a dict into the struct at p when it starts as CPython
// writes one (MEMOIZE and MARK after the EMPTY_DICT, which the caller
// read and counted), without dict's layers: they cost a record ~300
// instructions. It reports false, having read nothing, otherwise.
// in is the slice builder whose item p is (nil: none), so that the memo
// entry names p by its array's ref and offset (dataRef).
func (d *tdec) record(p unsafe.Pointer, pl *decPlan, in *seqBuilder) (bool, error) {
	s := d.s
	pos := s.pos
	if pos+1 >= len(s.data) || s.data[pos] != opMemoize || s.data[pos+1] != opMark || d.depth >= d.maxDepth ||
		len(d.memo) >= d.maxMemo {
		return false, nil
	}
	s.pos = pos + 2
	first := len(d.memo)
	d.memo = append(d.memo, tmemo{kind: mOpen})
	d.depth++
	b := dictBuilder{p: p, pl: pl, start: pos}
	if err := d.structPairs(&b); err != nil {
		return true, err
	}
	// Another batch can follow only a MARK (or a FRAME hiding one), or a
	// SETITEM after a full batch: dictBatches decides those.
	if op := s.data[min(s.pos, len(s.data)-1)]; op == opMark || op == opFrame || s.pos >= len(s.data) ||
		b.n%batchSize == 0 {
		if err := d.dictBatches(&b); err != nil {
			return true, err
		}
	}
	d.depth--
	if uintptr(p) == d.scratch && pl.size == d.scratchSize {
		// A map's value in its scratch (mapPair): nothing in it can
		// fetch it, and it is gone once stored, as inScratch would drop it.
		d.memo[first] = tmemo{kind: mDiscard}
		return true, nil
	}
	if in != nil {
		// An item of a slice's own array (never inside a map's scratch),
		// named as dataRef would, inline.
		if off, i := uintptr(p)-uintptr(in.data), int(in.dref); in.ck == nil && i < len(d.refs) && d.refs[i] == in.data &&
			off <= math.MaxInt32 {
			d.memo[first] = tmemo{kind: mAt, plan: pl.id, ref: in.dref, at: int32(off)}
			return true, nil
		}
	}
	d.memo[first] = d.atEntry(pl, p, first, in)
	return true, nil
}

func (d *tdec) newMap(b *dictBuilder) error {
	if err := d.charge(mapBytes(b.pl.t, 0)); err != nil {
		return err
	}
	b.m = reflect.NewAt(b.pl.t, b.p).Elem()
	if b.m.IsNil() {
		b.m.Set(reflect.MakeMap(b.pl.t))
		b.fresh = true
	}
	b.k = reflect.New(b.pl.t.Key()).Elem()
	b.kp = b.k.Addr().UnsafePointer()
	b.v = reflect.New(b.pl.t.Elem()).Elem()
	b.vp = b.v.Addr().UnsafePointer()
	return nil
}

func (d *tdec) finishDict(b *dictBuilder, first int) {
	if first < 0 {
		return
	}
	e := tmemo{kind: mDiscard}
	switch {
	case b.pl == nil:
	case b.pl.kind == pkStruct:
		e = d.atEntry(b.pl, b.p, first, nil)
	default:
		e = tmemo{kind: mMap, plan: b.pl.id, ref: d.ref(b.m.UnsafePointer())}
	}
	d.memo[first] = e
}

// pairs reads key, value pairs up to SETITEMS (after a MARK).
func (d *tdec) pairs(b *dictBuilder) error {
	if b.pl != nil && b.pl.kind == pkStruct {
		return d.structPairs(b)
	}
	for {
		op := d.op()
		if op == 0 {
			var err error
			if op, err = d.peekSlow(); err != nil {
				return errFallback
			}
		}
		if op == opSetitems {
			d.s.pos++
			return nil
		}
		if err := d.pair(b); err != nil {
			return err
		}
	}
}

// structPairs is pairs into a struct. A key fetched from the memo whose
// field is known (the keys of every record after the first, as CPython
// writes them) goes straight to its field; pair reads the others.
func (d *tdec) structPairs(b *dictBuilder) error {
	s, pl := d.s, b.pl
	for {
		if c := &d.keys; c.plan == pl.id && c.gen == d.memoGen {
			if err := d.keyRun(b); err != nil {
				return err
			}
		}
		if data, pos := s.data, s.pos; pos+2 < len(data) && data[pos] == opBinget {
			if i := int(data[pos+1]); i < len(d.memo) {
				if e := &d.memo[i]; e.kind == mStr && e.plan == pl.id && e.field >= 0 && b.n < d.maxContainer {
					if fp := &pl.fields[e.field]; fp.direct {
						d.cacheKey(pl, b.n, i, fp)
						s.pos = pos + 2
						b.n++
						vp := unsafe.Add(b.p, fp.off)
						if fpl := fp.plan; fpl.kind <= pkString {
							// A record's ints, floats and bools inline, as
							// fast reads them (the call and its setup were
							// ~45 instructions a field).
							if q := pos + 2; q+10 <= len(data) && d.objects < d.maxObjects {
								switch data[q] {
								case opBinint1:
									if fpl.kind == pkInt && fpl.size == 8 {
										*(*int64)(vp) = int64(data[q+1])
										s.pos, d.objects = q+2, d.objects+1
										continue
									}
								case opBinint2:
									if fpl.kind == pkInt && fpl.size == 8 {
										*(*int64)(vp) = int64(binary.LittleEndian.Uint16(data[q+1:]))
										s.pos, d.objects = q+3, d.objects+1
										continue
									}
								case opBinint:
									if fpl.kind == pkInt && fpl.size == 8 {
										*(*int64)(vp) = int64(int32(binary.LittleEndian.Uint32(data[q+1:])))
										s.pos, d.objects = q+5, d.objects+1
										continue
									}
								case opBinfloat:
									if fpl.kind == pkFloat && fpl.size == 8 {
										*(*float64)(vp) = math.Float64frombits(binary.BigEndian.Uint64(data[q+1:]))
										s.pos, d.objects = q+9, d.objects+1
										continue
									}
								case opNewtrue, opNewfalse:
									if fpl.kind == pkBool {
										*(*bool)(vp) = data[q] == opNewtrue
										s.pos, d.objects = q+1, d.objects+1
										continue
									}
								case opShortBinunicode:
									// As fastStr (s.pos is q).
									if fpl.kind == pkString && d.strMemo(vp) {
										d.objects++
										continue
									}
								}
							}
							if d.fast(vp, fpl) {
								continue
							}
						}
						if fp.plan.kind == pkSlice && fp.plan.elem.kind == pkString && pos+3 < len(data) &&
							data[pos+2] == opEmptyList && d.objects < d.maxObjects {
							// A list of tags: straight to strList, as value
							// and list would go.
							s.pos = pos + 3
							d.objects++
							sb := seqBuilder{p: vp, pl: fp.plan, start: pos + 3}
							if ok, err := d.strList(&sb); ok || err != nil {
								if err != nil {
									return err
								}
								continue
							}
							s.pos = pos + 2
							d.objects--
						}
						if err := d.value(vp, fp.plan); err != nil {
							return err
						}
						continue
					}
				}
			}
		}
		op := d.op()
		if op == 0 {
			var err error
			if op, err = d.peekSlow(); err != nil {
				return errFallback
			}
		}
		if op == opSetitems {
			s.pos++
			return nil
		}
		if err := d.pair(b); err != nil {
			return err
		}
	}
}

// cacheKey notes in d.keys that the key at place j of a record read into
// pl is a BINGET of memo index i naming the field fp (direct).
func (d *tdec) cacheKey(pl *decPlan, j, i int, fp *fieldPlan) {
	c := &d.keys
	if j >= keySlots {
		return
	}
	if c.plan != pl.id || c.gen != d.memoGen {
		*c = keyCache{plan: pl.id, gen: d.memoGen}
	}
	act := kOther
	switch fpl := fp.plan; {
	case fpl.kind == pkInt && fpl.size == 8:
		act = kInt64
	case fpl.kind == pkFloat && fpl.size == 8:
		act = kFloat64
	case fpl.kind == pkBool:
		act = kBool
	case fpl.kind == pkString:
		act = kStr
	case fpl.kind == pkSlice && fpl.elem.kind == pkString:
		act = kStrs
	}
	c.slot[j] = keySlot{off: fp.off, plan: fp.plan, key: uint16(opBinget) | uint16(i)<<8, act: act}
}

// keyRun reads the pairs of a record whose keys are the ones d.keys holds
// for their place (the caller checked d.keys is of b's plan and current),
// each value as structPairs would; it stops, having read whole pairs, at
// anything else (a key not cached, a value in another form), for
// structPairs to read. The position and the counts are kept in locals and
// stored before a call and at the end (as shortStrs).
func (d *tdec) keyRun(b *dictBuilder) error {
	s, c := d.s, &d.keys
	data, pos, j := s.data, s.pos, b.n
	// The pairs it may read: each is one more item and one more object.
	left := min(d.maxContainer-j, d.maxObjects-d.objects)
	for ; j < keySlots && left > 0 && pos+12 <= len(data); j++ {
		sl := &c.slot[j]
		// BINGET and its index in one compare (an empty slot's key, 0,
		// would match no BINGET; its act, kNone, reads nothing).
		if binary.LittleEndian.Uint16(data[pos:pos+2]) != sl.key {
			break
		}
		vp, q := unsafe.Add(b.p, sl.off), pos+2
		switch sl.act {
		case kInt64:
			switch data[q] {
			case opBinint1:
				*(*int64)(vp) = int64(data[q+1])
				pos = q + 2
			case opBinint2:
				*(*int64)(vp) = int64(binary.LittleEndian.Uint16(data[q+1 : q+3]))
				pos = q + 3
			case opBinint:
				*(*int64)(vp) = int64(int32(binary.LittleEndian.Uint32(data[q+1 : q+5])))
				pos = q + 5
			default:
				goto out
			}
		case kFloat64:
			if data[q] != opBinfloat {
				goto out
			}
			*(*float64)(vp) = math.Float64frombits(binary.BigEndian.Uint64(data[q+1 : q+9]))
			pos = q + 9
		case kBool:
			switch data[q] {
			case opNewtrue:
				*(*bool)(vp) = true
			case opNewfalse:
				*(*bool)(vp) = false
			default:
				goto out
			}
			pos = q + 1
		case kStr, kStrs:
			// Through a call: the pairs before it are stored first.
			op := data[q]
			d.objects += j - b.n
			b.n = j
			if sl.act == kStr {
				// As fastStr.
				if op != opShortBinunicode {
					goto out
				}
				s.pos = q
				if !d.strMemo(vp) {
					goto out
				}
			} else {
				// A list of tags, as structPairs reads it.
				if op != opEmptyList {
					goto out
				}
				s.pos = q + 1
				d.objects++
				sb := seqBuilder{p: vp, pl: sl.plan, start: q + 1}
				ok, err := d.strList(&sb)
				if err != nil {
					return err
				}
				d.objects--
				if !ok {
					goto out
				}
			}
			b.n++
			d.objects++
			if c.gen != d.memoGen {
				// The memo changed under it (a list read ahead).
				return nil
			}
			data, pos = s.data, s.pos
			left = min(d.maxContainer-b.n, d.maxObjects-d.objects)
			continue
		default:
			goto out
		}
		left--
	}
out:
	s.pos = pos
	d.objects += j - b.n
	b.n = j
	return nil
}

// pair reads one key and its value.
func (d *tdec) pair(b *dictBuilder) error {
	b.n++
	if b.n > d.maxContainer {
		return errFallback
	}
	if b.pl == nil {
		if err := d.discardKey(); err != nil {
			return err
		}
		return d.value(nil, nil)
	}
	if b.pl.kind == pkMap {
		return d.mapPair(b)
	}
	var local tmemo
	k, err := d.keyEntry(&local)
	if err != nil {
		return err
	}
	f := d.field(b.pl, k)
	if f < 0 {
		return d.value(nil, nil)
	}
	fp := &b.pl.fields[f]
	if fp.direct {
		vp := unsafe.Add(b.p, fp.off)
		if fp.plan.kind <= pkString && d.fast(vp, fp.plan) {
			return nil
		}
		return d.value(vp, fp.plan)
	}
	fv := fieldByIndexAlloc(reflect.NewAt(b.pl.t, b.p).Elem(), fp.index)
	return d.value(fv.Addr().UnsafePointer(), fp.plan)
}

// keyEntry reads a dict key and returns its memo entry: a memoized str
// found by fastKey, or what key reads; a key that has no memo entry is
// stored in *local (the caller's variable) and local is returned.
func (d *tdec) keyEntry(local *tmemo) (*tmemo, error) {
	idx := d.fastKey()
	if idx < 0 {
		var err error
		if idx, *local, err = d.key(); err != nil {
			return nil, err
		}
	}
	if idx >= 0 {
		return &d.memo[idx], nil
	}
	return local, nil
}

// discardKey reads the key of a dict that is read into nothing. Python
// refuses an unhashable key (a list, a dict...), so only keys that are
// hashable by their opcode are read here; the generic path decides the rest.
func (d *tdec) discardKey() error {
	op, err := d.peek()
	if err != nil {
		return errFallback
	}
	switch op {
	case opBinget, opLongBinget:
		i, err := d.getIndex()
		if err != nil || d.memo[i].kind != mStr {
			return errFallback
		}
		return nil
	case opEmptyList, opEmptyDict, opEmptyTuple, opMark:
		return errFallback
	}
	return d.value(nil, nil)
}

// key reads a str key: the index of its memo entry, or -1 and the entry
// it would have.
func (d *tdec) key() (int, tmemo, error) {
	op, err := d.peek()
	if err != nil {
		return 0, tmemo{}, errFallback
	}
	switch op {
	case opShortBinunicode, opBinunicode, opBinunicode8:
		d.s.pos++
		off, n, err := d.strArg(op)
		if err != nil || n > math.MaxInt32 || !validPyUTF8(d.s.data[off:off+n]) {
			return 0, tmemo{}, errFallback
		}
		e := tmemo{kind: mStr, n: int32(off), c: int32(n)}
		i, err := d.memoPuts(e)
		return i, e, err
	case opBinget, opLongBinget:
		i, err := d.getIndex()
		if err != nil || d.memo[i].kind != mStr {
			return 0, tmemo{}, errFallback
		}
		return i, tmemo{}, nil
	}
	return 0, tmemo{}, errFallback
}

// getIndex reads BINGET or LONG_BINGET and returns a valid memo index.
func (d *tdec) getIndex() (int, error) {
	op, err := d.next()
	if err != nil {
		return 0, errFallback
	}
	var idx uint64
	if op == opBinget {
		b, err := d.s.u8()
		if err != nil {
			return 0, errFallback
		}
		idx = uint64(b)
	} else {
		v, err := d.s.u32()
		if err != nil {
			return 0, errFallback
		}
		idx = uint64(v)
	}
	if idx >= uint64(len(d.memo)) {
		return 0, errFallback
	}
	return int(idx), nil
}

// field returns the index of the struct field that the str key names (-1:
// none), cached in the key's memo entry.
func (d *tdec) field(pl *decPlan, e *tmemo) int {
	if e.plan == pl.id {
		return int(e.field)
	}
	name := ""
	if e.c > 0 {
		name = unsafe.String(&d.s.data[e.n], e.c)
	}
	f := -1
	if i, ok := pl.si.byName[name]; ok {
		f = i
	} else {
		for i := range pl.si.fields {
			if strings.EqualFold(pl.si.fields[i].name, name) {
				f = i
				break
			}
		}
	}
	if f < math.MaxInt16 {
		e.plan, e.field = pl.id, int16(f)
	}
	return f
}

// mapPair reads one key into the scratch key (a str written with its
// MEMOIZE straight into it, as fastStr), then its value into the scratch
// value, and stores them.
func (d *tdec) mapPair(b *dictBuilder) error {
	if err := d.charge(b.pl.key.size + b.pl.elem.size + 8); err != nil {
		return err
	}
	if b.fresh && (b.n == estimateAt+1 || b.n == 16*estimateAt+1) {
		// Before the key: resizeMap moves the items through the scratch.
		d.resizeMap(b, b.n-1)
	}
	if s := d.s; s.pos+1 >= len(s.data) || s.data[s.pos] != opShortBinunicode || !d.strMemo(b.kp) {
		var local tmemo
		k, err := d.keyEntry(&local)
		if err != nil {
			return err
		}
		*(*string)(b.kp) = d.memoStr(k)
	}
	b.v.SetZero()
	vp := b.vp
	lo, size, k0 := d.scratch, d.scratchSize, len(d.inScratch)
	d.scratch, d.scratchSize = uintptr(vp), b.pl.elem.size
	var err error
	if s := d.s; b.pl.elem.kind == pkStruct && s.pos < len(s.data) && s.data[s.pos] == opEmptyDict && d.objects < d.maxObjects {
		// A record: straight to it, as structValue (inline here).
		s.pos++
		d.objects++
		var ok bool
		if ok, err = d.record(vp, b.pl.elem, nil); !ok && err == nil {
			s.pos--
			d.objects--
			err = d.value(vp, b.pl.elem)
		}
	} else {
		err = d.value(vp, b.pl.elem)
	}
	d.scratch, d.scratchSize = lo, size
	if err != nil {
		return err
	}
	// The scratch value is reused: memo entries pointing into it are gone.
	if len(d.inScratch) > k0 {
		for _, i := range d.inScratch[k0:] {
			d.memo[i] = tmemo{kind: mDiscard}
		}
		d.inScratch = d.inScratch[:k0]
	}
	b.m.SetMapIndex(b.k, b.v)
	return nil
}

// atEntry is the memo entry (index i) of a struct or array stored at p,
// an item of in when in is not nil (see dataRef). One inside the scratch
// value of a map is noted in inScratch: mapValue drops it once the value
// is stored.
func (d *tdec) atEntry(pl *decPlan, p unsafe.Pointer, i int, in *seqBuilder) tmemo {
	if uintptr(p)-d.scratch < d.scratchSize {
		d.inScratch = append(d.inScratch, i)
	}
	if in != nil {
		ref, at := d.dataRef(in, p)
		return tmemo{kind: mAt, plan: pl.id, ref: ref, at: at}
	}
	return tmemo{kind: mAt, plan: pl.id, ref: d.ref(p)}
}

// dataRef names p, a location in the items of b, for a memo entry: the
// index in refs of the array holding them (a slab's, or the slice's own)
// and p's offset in it. The array is put in refs once (per slab, per
// grown array), not once per entry: a pointer store per record or list,
// with its write barrier while the collector marks, and a refs slice as
// long as the memo for the collector to scan (docs/benchmarks.md, issue 19
// round 6). A ref is used only where refs still holds that array (a
// lookahead truncates refs), else the array is put in again.
func (d *tdec) dataRef(b *seqBuilder, p unsafe.Pointer) (int32, int32) {
	if off, i := uintptr(p)-uintptr(b.data), int(b.dref); b.ck == nil && i < len(d.refs) && d.refs[i] == b.data && off <= math.MaxInt32 {
		return b.dref, int32(off)
	}
	return d.dataRefSlow(b, p)
}

func (d *tdec) dataRefSlow(b *seqBuilder, p unsafe.Pointer) (int32, int32) {
	base, ref := b.data, &b.dref
	if b.ck != nil {
		// The slab as it was when b carved its run: the slab may have
		// moved on to a new array since (an item holding a slice of the
		// same type carves from it too).
		base = unsafe.Add(b.data, -b.ckAt*int(b.pl.elem.size))
		if base != b.ck.hdr.data {
			return d.ref(p), 0
		}
		ref = &b.ck.ref
	}
	off := uintptr(p) - uintptr(base)
	if off > math.MaxInt32 {
		return d.ref(p), 0
	}
	if i := int(*ref); i >= len(d.refs) || d.refs[i] != base {
		*ref = d.ref(base)
	}
	return *ref, int32(off)
}

// refPtr is the location a memo entry of a slice, struct, array or map
// names (its ref and offset).
func (d *tdec) refPtr(e *tmemo) unsafe.Pointer {
	return unsafe.Add(d.refs[e.ref], e.at)
}

// resizeMap remakes a map that has received n items with room for the
// length that the bytes per item so far and the bytes left suggest (at
// most 16 times n, or what twice the bytes left would hold), so that it is
// not rehashed again and again as it grows.
func (d *tdec) resizeMap(b *dictBuilder, n int) {
	read := d.s.pos - b.start
	if read <= 0 {
		return
	}
	left, size := len(d.s.data)-d.s.pos, int(b.pl.key.size+b.pl.elem.size+8)
	est := min(n+left/max(1, read/n), max(16*n, 2*left/size))
	if est <= b.room || d.charge(uintptr(est*size)) != nil {
		return
	}
	b.room = est + est/8
	m := reflect.MakeMapWithSize(b.pl.t, b.room)
	for it := b.m.MapRange(); it.Next(); {
		b.k.SetIterKey(it)
		b.v.SetIterValue(it)
		m.SetMapIndex(b.k, b.v)
	}
	b.m.Set(m)
}

// ptr reads a value into a pointer target.
func (d *tdec) ptr(p unsafe.Pointer, pl *decPlan) error {
	op, err := d.peek()
	if err != nil {
		return errFallback
	}
	ep := *(*unsafe.Pointer)(p)
	switch op {
	case opNone:
		d.s.pos++
		*(*unsafe.Pointer)(p) = nil
		return nil
	case opBinget, opLongBinget:
		at := d.s.pos
		i, err := d.getIndex()
		if err != nil {
			return err
		}
		e := &d.memo[i]
		if e.kind == mAt && e.flags&fViaPtr != 0 && e.plan == pl.elem.id {
			*(*unsafe.Pointer)(p) = d.refPtr(e)
			return nil
		}
		d.s.pos = at
		if e.kind == mAt {
			ep = nil // a dict: a new pointer, as converter.go
		}
	case opEmptyDict:
		ep = nil
	}
	if ep == nil {
		if err := d.charge(pl.elem.size); err != nil {
			return err
		}
		ep = reflect.New(pl.elem.t).UnsafePointer()
		*(*unsafe.Pointer)(p) = ep
	}
	m0 := len(d.memo)
	if err := d.value(ep, pl.elem); err != nil {
		return err
	}
	if op == opEmptyDict && m0 < len(d.memo) && d.memo[m0].kind == mAt && d.refPtr(&d.memo[m0]) == ep {
		d.memo[m0].flags |= fViaPtr
	}
	return nil
}

// intRun reads a run of int items into a slice of 64-bit ints, in one
// loop; it stops at anything else (and near the end of the data).
func (d *tdec) intRun(b *seqBuilder) {
	s := d.s
	data, pos, n := s.data, s.pos, b.n
	limit := min(d.maxContainer, b.n+d.maxObjects-d.objects)
	for pos+10 <= len(data) && n < limit {
		if n == b.c {
			s.pos, d.objects, b.n = pos, d.objects+n-b.n, n
			if d.grow(b) != nil {
				return
			}
		}
		var x int64
		switch data[pos] {
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
				s.pos, d.objects, b.n = pos, d.objects+n-b.n, n
				return
			}
			x = long64At(data, pos+2, k)
			pos += 2 + k
		default:
			s.pos, d.objects, b.n = pos, d.objects+n-b.n, n
			return
		}
		*(*int64)(unsafe.Add(b.data, uintptr(n)*8)) = x
		n++
	}
	s.pos, d.objects, b.n = pos, d.objects+n-b.n, n
}

// strRun reads a run of str items into a slice of strings, in one loop:
// strs fetched from the memo and short ones with their MEMOIZE (as CPython
// writes them); it stops at anything else (and near the end of the data).
func (d *tdec) strRun(b *seqBuilder) error {
	s := d.s
	for b.n < d.maxContainer && d.objects < d.maxObjects {
		data, pos := s.data, s.pos
		if pos+10 > len(data) {
			return nil
		}
		op, i := data[pos], int(data[pos+1])
		switch {
		case op == opBinget:
			if i >= len(d.memo) || d.memo[i].kind != mStr {
				return nil
			}
		case op != opShortBinunicode:
			return nil
		}
		if b.n == b.c {
			if err := d.grow(b); err != nil {
				return err
			}
		}
		if n := b.n; op == opShortBinunicode {
			if d.shortStrs(b); b.n > n {
				continue
			}
		}
		ep := unsafe.Add(b.data, uintptr(b.n)*unsafe.Sizeof(""))
		switch {
		case op == opBinget:
			*(*string)(ep) = d.memoStr(&d.memo[i])
			d.took(2)
		default:
			// A str shortStrs does not read (8 bytes or less, 128 or
			// more, no MEMOIZE after it, no room left, not valid).
			if !d.fastStr(ep) {
				return nil
			}
		}
		b.n++
	}
	return nil
}

// shortStrs is strRun's common case in a loop of its own: strs of 9-127
// bytes, each with its MEMOIZE, copied into the string chunk while the
// slice, the chunk and the memo have room. What it updates (the position,
// the slice's length, the chunk's offset, the memo, the object count) is
// kept in locals and stored once at the end: in strRun's loop each was
// loaded and stored again per str, as the string header's store through a
// pointer may alias them. The strs are checked together, after the loop,
// as the one run of bytes they make in the chunk (one validWTF8 instead of
// a copyWTF8 per str; docs/benchmarks.md, issue 19 round 7): that run is
// valid exactly when each str is, as none starts with a continuation byte
// (80-BF; such a str ends the loop), so a sequence left open at the end of
// one str fails at the next one's first byte. When the run is not valid,
// the strs are read again one at a time (shortStrsEach), which stops at the
// bad one. It stops, having read all before, at anything else, for strRun
// to read or decide.
func (d *tdec) shortStrs(b *seqBuilder) {
	if cap(d.memo)-len(d.memo) < 16 {
		d.memo = slices.Grow(d.memo, 16)
	}
	s := d.s
	data, pos := s.data, s.pos
	base, at, end := d.slabBase, d.slabAt, d.slabEnd
	ref := int32(len(d.chunks) - 1)
	m := len(d.memo)
	memo := d.memo[m:cap(d.memo)]
	most := min(len(memo), d.maxMemo-m, d.maxContainer-b.n, d.maxObjects-d.objects, b.c-b.n)
	if most <= 0 {
		return
	}
	// The slice's room as a slice, indexed: a pointer stepped past its
	// last element would point outside the allocation (checkptr rejects
	// it, and the collector could find it).
	room := unsafe.Slice((*string)(unsafe.Add(b.data, uintptr(b.n)*unsafe.Sizeof(""))), most)
	k := 0
	for ; k < most && pos+3 <= len(data); k++ {
		h := data[pos : pos+3] // opcode, length, the str's first byte
		i := int(h[1])
		e := pos + 2 + i
		if h[0] != opShortBinunicode || uint(i-9) >= copyWTF8Max-9 || i > int(end-at) ||
			h[2]&0xC0 == 0x80 || uint(e) >= uint(len(data)) || data[e] != opMemoize {
			break
		}
		q := unsafe.Add(base, at)
		// The copy, 16 bytes at a time (the last 16 again, or for 9-15
		// bytes the first and last 8): all within both the str and its
		// room in the chunk; memmove's call cost more than the moves
		// (docs/benchmarks.md, issue 19 round 7).
		sp := unsafe.Pointer(&h[2])
		if i >= 16 {
			for j := 0; j < i-16; j += 16 {
				*(*[16]byte)(unsafe.Add(q, j)) = *(*[16]byte)(unsafe.Add(sp, j))
			}
			*(*[16]byte)(unsafe.Add(q, i-16)) = *(*[16]byte)(unsafe.Add(sp, i-16))
		} else {
			*(*[8]byte)(q) = *(*[8]byte)(sp)
			*(*[8]byte)(unsafe.Add(q, i-8)) = *(*[8]byte)(unsafe.Add(sp, i-8))
		}
		room[k] = unsafe.String((*byte)(q), i)
		// Field by field: a composite literal goes through the stack.
		me := &memo[k]
		me.n, me.c, me.ref, me.at = int32(pos+2), int32(i), ref, at
		me.plan, me.field, me.kind, me.flags = 0, 0, mStr, fMade
		at += int32(i)
		pos = e + 1
	}
	// The run in two halves, split where a str starts (each str must end
	// in the automaton's accept state, so each half can start there),
	// checked side by side (validWTF8Pair).
	if k > 0 {
		run := unsafe.String((*byte)(unsafe.Add(base, d.slabAt)), int(at-d.slabAt))
		if h := int(memo[k/2].at - d.slabAt); !validWTF8Pair(run[:h], run[h:]) {
			// Forget the strs (their headers too: the slice's spare room
			// keeps nothing of a str that was not valid).
			clear(room[:k])
			d.shortStrsEach(b, most)
			return
		}
	}
	s.pos, d.slabAt = pos, at
	d.memo = d.memo[:m+k]
	b.n += k
	d.objects += k
}

// shortStrsEach is shortStrs with each str checked while it is copied
// (copyWTF8): it stops at the first that is not valid. most is what
// shortStrs found room for.
func (d *tdec) shortStrsEach(b *seqBuilder, most int) {
	s := d.s
	data, pos := s.data, s.pos
	base, at, end := d.slabBase, d.slabAt, d.slabEnd
	ref := int32(len(d.chunks) - 1)
	m := len(d.memo)
	memo := d.memo[m:cap(d.memo)]
	most = min(most, len(memo), b.c-b.n)
	if most <= 0 {
		return
	}
	room := unsafe.Slice((*string)(unsafe.Add(b.data, uintptr(b.n)*unsafe.Sizeof(""))), most)
	k := 0
	for ; k < most; k++ {
		if pos+2 >= len(data) {
			break
		}
		i := int(data[pos+1])
		e := pos + 2 + i
		if data[pos] != opShortBinunicode || i <= 8 || i >= copyWTF8Max || e >= len(data) ||
			data[e] != opMemoize || i > int(end-at) {
			break
		}
		q := unsafe.Add(base, at)
		if !copyWTF8(unsafe.Slice((*byte)(q), i), unsafe.String(&data[pos+2], i)) {
			break
		}
		room[k] = unsafe.String((*byte)(q), i)
		memo[k] = tmemo{kind: mStr, n: int32(pos + 2), c: int32(i), ref: ref, at: at, flags: fMade}
		at += int32(i)
		pos = e + 1
	}
	s.pos, d.slabAt = pos, at
	d.memo = d.memo[:m+k]
	b.n += k
	d.objects += k
}

// recRun reads a run of records (dicts, each read by record) into a slice
// of structs in one loop: item's record case without the calls and checks
// around it per item (~40 instructions a record). It stops at anything
// else; a dict that record leaves goes to value, as item would send it.
func (d *tdec) recRun(b *seqBuilder) error {
	s, elem := d.s, b.pl.elem
	for b.n < d.maxContainer && s.pos < len(s.data) && s.data[s.pos] == opEmptyDict && d.objects < d.maxObjects {
		if b.n == b.c {
			if err := d.grow(b); err != nil {
				return err
			}
		}
		ep := unsafe.Add(b.data, uintptr(b.n)*elem.size)
		b.n++
		s.pos++
		d.objects++
		ok, err := d.record(ep, elem, b)
		if err != nil {
			return err
		}
		if !ok {
			s.pos--
			d.objects--
			return d.value(ep, elem)
		}
	}
	return nil
}

// long64At decodes the k-byte (k <= 8) two's-complement integer at
// data[i:], with 8 bytes readable there.
func long64At(data []byte, i, k int) int64 {
	if k == 0 {
		return 0
	}
	sh := uint(64 - 8*k)
	return int64(binary.LittleEndian.Uint64(data[i:])<<sh) >> sh
}

// strList reads a short list of strs into a []string in one pass, as
// CPython writes one (MEMOIZE, MARK, items, APPENDS after the EMPTY_LIST;
// each item a str fetched from the memo or a short str with its MEMOIZE):
// a record's list of tags cost ~700 instructions through list, items and
// strRun, most of it their setup. It reports false, having read nothing
// (and kept nothing), for anything else: list then reads it and decides.
func (d *tdec) strList(b *seqBuilder) (bool, error) {
	s := d.s
	data, pos := s.data, s.pos
	if pos+2 >= len(data) || data[pos] != opMemoize || data[pos+1] != opMark || d.depth >= d.maxDepth ||
		len(d.memo) >= d.maxMemo {
		return false, nil
	}
	ck := d.lastSlab
	if ck == nil || ck.pl != b.pl || ck.hdr.cap-ck.hdr.len < carveSize {
		if err := d.carve(b); err != nil {
			return false, err
		}
		ck = b.ck
	} else {
		b.ck, b.ckAt = ck, ck.hdr.len
		b.data, b.c = unsafe.Add(ck.hdr.data, uintptr(ck.hdr.len)*unsafe.Sizeof("")), carveSize
		ck.hdr.len += carveSize
	}
	d.lastSlab = ck
	first := len(d.memo)
	d.memo = append(d.memo, tmemo{kind: mOpen})
	q, n, most := pos+2, 0, min(carveSize, d.maxContainer, d.maxObjects-d.objects)
	for ; q+1 < len(data) && data[q] != opAppends; n++ {
		if n >= most {
			return d.unStrList(b, first)
		}
		ep := (*string)(unsafe.Add(b.data, uintptr(n)*unsafe.Sizeof("")))
		switch data[q] {
		case opBinget:
			i := int(data[q+1])
			if i >= first || d.memo[i].kind != mStr {
				return d.unStrList(b, first)
			}
			*ep = d.memoStr(&d.memo[i])
			q += 2
		case opShortBinunicode:
			k := int(data[q+1])
			end := q + 2 + k
			if end >= len(data) || data[end] != opMemoize || len(d.memo) >= d.maxMemo {
				return d.unStrList(b, first)
			}
			var str string
			var ref, at int32
			if asciiWord(data, q+2, k) {
				str, ref, at = d.newString(data[q+2 : end])
			} else {
				var ok bool
				if str, ref, at, ok = d.validString(data[q+2 : end]); !ok {
					return d.unStrList(b, first)
				}
			}
			*ep = str
			e := tmemo{kind: mStr, n: int32(q + 2), c: int32(k), ref: ref, at: at}
			if k > 0 {
				e.flags = fMade
			}
			d.memo = append(d.memo, e)
			q = end + 1
		default:
			return d.unStrList(b, first)
		}
	}
	// After the APPENDS, a MARK (another batch), a FRAME (which could
	// hide one) or the end of the data is for list to read; so is an
	// empty batch (a lone APPEND may follow it).
	if q+1 >= len(data) || data[q] != opAppends || n == 0 || data[q+1] == opMark || data[q+1] == opFrame {
		return d.unStrList(b, first)
	}
	s.pos = q + 1
	d.objects += n
	// As finishSeq: the slice ends at its last item, and the rest of its
	// run goes back to the slab.
	b.n = n
	if ck.hdr.len == b.ckAt+carveSize {
		ck.hdr.len = b.ckAt + n
	}
	*(*sliceHdr)(b.p) = sliceHdr{b.data, n, n}
	// The slab is in refs once (dataRef): no nesting here, so it is
	// still the array b's run was carved from.
	if i := int(ck.ref); i >= len(d.refs) || d.refs[i] != ck.hdr.data {
		ck.ref = d.ref(ck.hdr.data)
	}
	d.memo[first] = tmemo{kind: mSlice, plan: b.pl.id, ref: ck.ref, at: int32(b.ckAt) * int32(unsafe.Sizeof("")), n: int32(n), c: int32(n)}
	return true, nil
}

// unStrList undoes what strList did before it gave up. Strings it made
// stay in their slab, unused; the items written stay in the slab's run
// until another slice's items overwrite them.
func (d *tdec) unStrList(b *seqBuilder, first int) (bool, error) {
	d.memo = d.memo[:first]
	d.memoGen++
	if b.ck.hdr.len == b.ckAt+carveSize {
		b.ck.hdr.len = b.ckAt
	}
	*b = seqBuilder{p: b.p, pl: b.pl, start: b.start}
	return false, nil
}
