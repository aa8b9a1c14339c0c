package pickle

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// fast reads the next value into p when it is a scalar in one of the forms
// CPython writes most (small ints, LONG1, floats, bools, short strs with
// their MEMOIZE, a str fetched from the memo) and fits pl, with no calls
// per opcode. It reports false, having read nothing, for anything else:
// value then reads it (and decides every error). Callers skip it for a
// plan of a kind past pkString (a container: never read here).
func (d *tdec) fast(p unsafe.Pointer, pl *decPlan) bool {
	s := d.s
	data, pos := s.data, s.pos
	if pos+10 > len(data) || d.objects >= d.maxObjects {
		return false
	}
	var x int64
	n := 0
	switch data[pos] {
	case opBinint1:
		x, n = int64(data[pos+1]), 2
	case opBinint2:
		x, n = int64(binary.LittleEndian.Uint16(data[pos+1:])), 3
	case opBinint:
		x, n = int64(int32(binary.LittleEndian.Uint32(data[pos+1:]))), 5
	case opLong1:
		k := int(data[pos+1])
		if k > 8 {
			return false
		}
		x, n = long64At(data, pos+2, k), 2+k
	case opBinfloat:
		if pl.kind != pkFloat || pl.size != 8 {
			return false
		}
		*(*float64)(p) = math.Float64frombits(binary.BigEndian.Uint64(data[pos+1:]))
		return d.took(9)
	case opNewtrue, opNewfalse:
		if pl.kind != pkBool {
			return false
		}
		*(*bool)(p) = data[pos] == opNewtrue
		return d.took(1)
	case opShortBinunicode:
		return pl.kind == pkString && d.fastStr(p)
	case opBinget:
		i := int(data[pos+1])
		if i >= len(d.memo) || pl.kind != pkString || d.memo[i].kind != mStr {
			return false
		}
		e := &d.memo[i]
		*(*string)(p) = d.memoStr(e)
		return d.took(2)
	default:
		return false
	}
	switch {
	case pl.kind == pkInt && pl.size == 8:
		*(*int64)(p) = x
	case pl.kind == pkInt || pl.kind == pkUint || pl.kind == pkFloat:
		if setInt(p, pl, x) != nil {
			return false
		}
	default:
		return false
	}
	return d.took(n)
}

func (d *tdec) took(n int) bool {
	d.s.pos += n
	d.objects++
	return true
}

// fastStr reads SHORT_BINUNICODE and the MEMOIZE after it.
func (d *tdec) fastStr(p unsafe.Pointer) bool {
	if !d.strMemo(p) {
		return false
	}
	d.objects++
	return true
}

// strMemo is fastStr without counting an object (a dict's key, as key).
// The caller checked that SHORT_BINUNICODE and its length are there.
func (d *tdec) strMemo(p unsafe.Pointer) bool {
	s := d.s
	data, pos := s.data, s.pos
	k := int(data[pos+1])
	end := pos + 2 + k
	if end >= len(data) || data[end] != opMemoize || len(d.memo) >= d.maxMemo {
		return false
	}
	b := data[pos+2 : end]
	var str string
	var ref, at int32
	switch {
	case k > 0 && d.slabEnd-d.slabAt >= 8 && asciiWord(data, pos+2, k):
		// newString's common case, without its call: the str's word
		// (asciiWord checked that 8 bytes are there) into the slab.
		at = d.slabAt
		q := unsafe.Add(d.slabBase, at)
		binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(q), 8), binary.LittleEndian.Uint64(data[pos+2:]))
		d.slabAt = at + int32(k)
		str, ref = unsafe.String((*byte)(q), k), int32(len(d.chunks)-1)
	case asciiWord(data, pos+2, k):
		str, ref, at = d.newString(b)
	case k > 8 && k < copyWTF8Max && k <= int(d.slabEnd-d.slabAt):
		// validString's common case, without its call.
		at = d.slabAt
		q := unsafe.Add(d.slabBase, at)
		if !copyWTF8(unsafe.Slice((*byte)(q), k), unsafe.String(&b[0], k)) {
			return false
		}
		d.slabAt = at + int32(k)
		str, ref = unsafe.String((*byte)(q), k), int32(len(d.chunks)-1)
	default:
		var ok bool
		if str, ref, at, ok = d.validString(b); !ok {
			return false
		}
	}
	*(*string)(p) = str
	e := tmemo{kind: mStr, n: int32(pos + 2), c: int32(k), ref: ref, at: at}
	if k > 0 {
		e.flags = fMade
	}
	d.memo = append(d.memo, e)
	s.pos = end + 1
	return true
}

// fastKey reads a str key fetched from the memo (BINGET) or written with
// its MEMOIZE, and returns its memo index; -1: key reads it.
func (d *tdec) fastKey() int {
	s := d.s
	data, pos := s.data, s.pos
	if pos+2 >= len(data) {
		return -1
	}
	switch data[pos] {
	case opBinget:
		i := int(data[pos+1])
		if i >= len(d.memo) || d.memo[i].kind != mStr {
			return -1
		}
		s.pos += 2
		return i
	case opShortBinunicode:
		k := int(data[pos+1])
		end := pos + 2 + k
		if end >= len(data) || data[end] != opMemoize || len(d.memo) >= d.maxMemo ||
			!asciiWord(data, pos+2, k) && !validPyUTF8(data[pos+2:end]) {
			return -1
		}
		d.memo = append(d.memo, tmemo{kind: mStr, n: int32(pos + 2), c: int32(k)})
		s.pos = end + 1
		return len(d.memo) - 1
	}
	return -1
}

// asciiWord reports whether the n bytes at data[off:] are ASCII by reading
// them as one word, when n <= 8 and 8 bytes are there: most keys and short
// strs of a record are (validPyUTF8 costs ~40 instructions on them). False
// says nothing: validPyUTF8 decides.
func asciiWord(data []byte, off, n int) bool {
	if n > 8 || off+8 > len(data) {
		return false
	}
	return binary.LittleEndian.Uint64(data[off:])&(0x8080808080808080>>(64-8*n)) == 0
}
