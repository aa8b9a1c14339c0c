package pickle

import (
	"encoding/binary"
	"io"
	"math"
	"math/big"
	mbits "math/bits"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Marshal returns the protocol-4 pickle of v, framed and memoized like
// CPython's C pickler (so plain data gives the same bytes as
// pickle.dumps(obj, 4)). See the package documentation for the Go ⇄ Python
// type table.
func Marshal(v any) ([]byte, error) { return defaultEncMode.Marshal(v) }

// An Encoder writes pickles to a stream, one Write per Encode.
// An Encoder is not safe for concurrent use.
type Encoder struct {
	w   io.Writer
	m   *encMode
	buf []byte
}

// NewEncoder returns an Encoder writing protocol-4 pickles to w.
func NewEncoder(w io.Writer) *Encoder { return defaultEncMode.NewEncoder(w) }

// Encode writes the pickle of v.
func (enc *Encoder) Encode(v any) error {
	b, err := enc.m.AppendMarshal(enc.buf[:0], v)
	if err != nil {
		return err
	}
	if cap(b) <= 1<<20 {
		enc.buf = b
	}
	_, err = enc.w.Write(b)
	return err
}

func (m *encMode) NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w, m: m} }

func (m *encMode) Marshal(v any) ([]byte, error) {
	return m.AppendMarshal(make([]byte, 0, 64), v)
}

func (m *encMode) AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encPool.Get().(*encState)
	e.reset(m, dst)
	if m.proto >= 2 {
		e.b = append(e.b, opProto, byte(m.proto))
	}
	if m.frames {
		e.startFrame()
	}
	err := e.save(v)
	if err == nil {
		e.b = append(e.b, opStop)
		if m.frames {
			e.endFrame()
		}
	}
	out := e.b
	e.release()
	if err != nil {
		return dst, err
	}
	return out, nil
}

// idKey identifies a mutable Go value for the memo (Python's id()).
type idKey struct {
	p    any // a pointer
	n    int // length, for slices
	kind byte
}

type encState struct {
	m          *encMode
	b          []byte
	proto      int
	frameStart int // offset of the current frame's reserved header, -1 if none
	// frameEnd is the length of b at which the current frame has reached
	// its target size (math.MaxInt without a frame): one comparison
	// before each value.
	frameEnd   int
	memoN      int
	memoID     idMemo         // pointer identities
	memoGlobal map[Global]int // globals, by name
	// modules maps a global's module name to the first string of that
	// content written as one in this encode (saveGlobal).
	modules map[string]string
	memoStr strMemo
	// []any, Tuple and *Dict are in memoID too, keyed by their words
	// (sliceKey, memoDictKind).
	calling  map[idKey]callFrame // objects whose arguments are being written (beginCall)
	strCache slotCache           // strings found in memoStr: repeated dict keys skip its probe
	// memoKey holds the dict keys written in this encode by content
	// (saveKeyStr); keyCache the recent short ones.
	memoKey   strMemo
	run       keyRun  // the keys of the large map written last (saveRunKey)
	runSeq    int     // the id of the last run begun
	touched   uintptr // a sum of bytes read ahead (strMapEntries)
	keyCache  slotCache
	depth     int
	pendingID idKey // identity of the pointer whose struct is being encoded
	// keys[k] is 1 + the memo index of struct field key k (typed_encode.go)
	// in this encode, 0 if not written yet; keysUsed lists the k set.
	keys     []int32
	keysUsed []int32
	maps     map[reflect.Type]*mapScratch // typed_encode.go
	// strMaps[i] is the scratch of the map[string]any being written at
	// nesting level i of such maps; strMapTop levels are in use.
	strMaps   []*strMapScratch
	strMapTop int
}

var encPool = sync.Pool{New: func() any { return &encState{} }}

func (e *encState) reset(m *encMode, dst []byte) {
	e.m, e.b, e.proto, e.frameStart, e.frameEnd, e.memoN, e.depth, e.pendingID = m, dst, m.proto, -1, math.MaxInt, 0, 0, idKey{}
}

func (e *encState) release() {
	e.b = nil
	// Keep the memo tables (clearing is cheaper than regrowing them),
	// but not one much larger than this encode needed: clearing it again
	// after every small encode would cost more than regrowing it.
	e.memoID.reset()
	clear(e.memoGlobal)
	clear(e.modules)
	e.strCache.reset()
	e.memoStr.reset()
	e.keyCache.reset()
	e.memoKey.reset()
	e.run.reset()
	e.runSeq = 0
	for _, k := range e.keysUsed {
		e.keys[k] = 0
	}
	e.keysUsed = e.keysUsed[:0]
	clear(e.calling)
	e.strMapTop = 0
	encPool.Put(e)
}

// Framing, as pickle.py's _Framer: a frame is committed when it holds at
// least 64 KiB at the start of an object, and large str/bytes payloads are
// written outside frames.

func (e *encState) startFrame() {
	e.frameStart = len(e.b)
	e.frameEnd = e.frameStart + 9 + frameSizeTarget
	e.b = append(e.b, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

func (e *encState) endFrame() {
	n := len(e.b) - e.frameStart - 9
	if n >= frameSizeMin {
		e.b[e.frameStart] = opFrame
		binary.LittleEndian.PutUint64(e.b[e.frameStart+1:], uint64(n))
	} else {
		copy(e.b[e.frameStart:], e.b[e.frameStart+9:])
		e.b = e.b[:len(e.b)-9]
	}
	e.frameStart, e.frameEnd = -1, math.MaxInt
}

// writeLarge writes an opcode header and a payload; a payload of at least
// 64 KiB goes outside frames (CPython's write_large_bytes).
func (e *encState) writeLarge(hdr []byte, payload string) {
	if e.frameStart >= 0 && len(payload) >= frameSizeTarget {
		e.endFrame()
		e.b = append(e.b, hdr...)
		e.b = append(e.b, payload...)
		e.startFrame()
		return
	}
	e.b = append(e.b, hdr...)
	e.b = append(e.b, payload...)
}

func (e *encState) memoize() int {
	if e.proto < 4 {
		return e.writePut()
	}
	e.b = append(e.b, opMemoize)
	idx := e.memoN
	e.memoN = idx + 1
	return idx
}

// writePut memoizes the value written last with the PUT opcodes of
// protocols 0-3.
func (e *encState) writePut() int {
	idx := e.memoN
	e.memoN++
	switch {
	case e.proto >= 1:
		if idx < 256 {
			e.b = append(e.b, opBinput, byte(idx))
		} else {
			e.b = append(e.b, opLongBinput)
			e.b = binary.LittleEndian.AppendUint32(e.b, uint32(idx))
		}
	default:
		e.b = append(e.b, opPut)
		e.b = strconv.AppendInt(e.b, int64(idx), 10)
		e.b = append(e.b, '\n')
	}
	return idx
}

func (e *encState) memoizeID(k idKey) {
	idx := e.memoize()
	if k.p != nil {
		if k.kind == 'g' {
			if e.memoGlobal == nil {
				e.memoGlobal = make(map[Global]int)
			}
			e.memoGlobal[k.p.(Global)] = idx
		} else {
			e.memoID.put(&k, idx)
		}
	}
}

func (e *encState) lookupID(k idKey) (int, bool) {
	if k.p == nil {
		return 0, false
	}
	if k.kind == 'g' {
		i, ok := e.memoGlobal[k.p.(Global)]
		return i, ok
	}
	i, ok := e.memoID.find(&k)
	return i, ok
}

func (e *encState) writeGet(idx int) {
	if uint(idx) < 256 && e.proto >= 1 {
		e.b = append(e.b, opBinget, byte(idx))
		return
	}
	e.writeGetLong(idx)
}

func (e *encState) writeGetLong(idx int) {
	switch {
	case e.proto >= 1:
		e.b = append(e.b, opLongBinget)
		e.b = binary.LittleEndian.AppendUint32(e.b, uint32(idx))
	default:
		e.b = append(e.b, opGet)
		e.b = strconv.AppendInt(e.b, int64(idx), 10)
		e.b = append(e.b, '\n')
	}
}

func (e *encState) enter() error {
	e.depth++
	if e.depth > e.m.maxDepth {
		return &UnsupportedValueError{Str: "value nested deeper than " + strconv.Itoa(e.m.maxDepth) + " levels (or a cycle the pickle cannot express)"}
	}
	return nil
}

// sliceKey identifies a []any or Tuple for the memo: its backing array,
// length and type.
type sliceKey struct {
	p     *any
	n     int
	tuple bool
}

var dictWord = typeWord((*Dict)(nil))

// Kinds of the memoID keys of generic values.
const (
	memoSliceKind = 'l'
	memoDictKind  = 'd'
)

func sliceKeyOf(x []any, tuple bool) (sliceKey, bool) {
	if cap(x) == 0 {
		return sliceKey{}, false
	}
	return sliceKey{&x[:cap(x)][0], len(x), tuple}, true
}

func (k sliceKey) typ() unsafe.Pointer {
	if k.tuple {
		return tupleWord
	}
	return listWord
}

func (e *encState) lookupSlice(x []any, tuple bool) (sliceKey, bool, int) {
	k, ok := sliceKeyOf(x, tuple)
	if !ok {
		return k, ok, -1
	}
	if i, hit := e.memoID.findWords(k.typ(), unsafe.Pointer(k.p), k.n, memoSliceKind); hit {
		return k, ok, i
	}
	return k, ok, -1
}

func (e *encState) memoizeSlice(k sliceKey, ok bool) {
	idx := e.memoize()
	if ok {
		e.memoID.putWords(k.typ(), unsafe.Pointer(k.p), k.n, memoSliceKind, idx)
	}
}

func (e *encState) lookupDict(d *Dict) (int, bool) {
	return e.memoID.findWords(dictWord, unsafe.Pointer(d), 0, memoDictKind)
}

// save writes v. The type switch covers the generic values without
// reflection; other types go through the cached reflection encoders.
func (e *encState) save(v any) error {
	e.boundary()
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, opNone)
	case string:
		return e.saveStr(x)
	case int64:
		e.saveInt(x)
	case int:
		e.saveInt(int64(x))
	case bool:
		e.saveBool(x)
	case float64:
		e.saveFloat(x)
	case []any:
		return e.saveList(x)
	case *Dict:
		return e.saveDict(x)
	case Tuple:
		return e.saveTuple(x)
	case []byte:
		return e.saveBytes(x)
	default:
		return e.saveOther(v)
	}
	return nil
}

// saveOther is save for the types past its common ones.
func (e *encState) saveOther(v any) error {
	switch x := v.(type) {
	case int32:
		e.saveInt(int64(x))
	case int16:
		e.saveInt(int64(x))
	case int8:
		e.saveInt(int64(x))
	case uint8:
		e.saveInt(int64(x))
	case uint16:
		e.saveInt(int64(x))
	case uint32:
		e.saveInt(int64(x))
	case uint:
		e.saveUint(uint64(x))
	case uint64:
		e.saveUint(x)
	case float32:
		e.saveFloat(float64(x))
	case map[string]any:
		return e.saveStrMap(x)
	case map[any]any:
		return e.saveAnyMap(x)
	case ByteArray:
		return e.saveByteArray(x)
	case *Set:
		if x == nil {
			e.b = append(e.b, opNone)
			return nil
		}
		return e.saveSet(x)
	case *FrozenSet:
		if x == nil {
			e.b = append(e.b, opNone)
			return nil
		}
		return e.saveFrozenSet(x)
	case Global:
		return e.saveGlobal(x)
	case Ext:
		return e.saveExt(x)
	case freshStr:
		return e.saveFreshStr(string(x))
	case *Object:
		if x == nil {
			e.b = append(e.b, opNone)
			return nil
		}
		return e.saveObject(x)
	case *PythonError:
		if x == nil {
			e.b = append(e.b, opNone)
			return nil
		}
		return e.saveReduce(x.Type, x.Args, nil, false, x.State, nil, nil, idKey{p: x})
	case *big.Int:
		if x == nil {
			e.b = append(e.b, opNone)
			return nil
		}
		return e.saveBig(x)
	case big.Int:
		return e.saveBig(&x)
	case time.Time:
		return e.saveTime(x)
	case time.Duration:
		return e.saveDuration(x)
	case Marshaler:
		return e.saveMarshaler(x)
	default:
		return e.saveTyped(v)
	}
	return nil
}

func (e *encState) saveMarshaler(m Marshaler) error {
	rv := reflect.ValueOf(m)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		e.b = append(e.b, opNone)
		return nil
	}
	v, err := m.MarshalPickle()
	if err != nil {
		return &MarshalerError{Type: rv.Type(), Err: err}
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	return e.save(v)
}

func (e *encState) saveBool(b bool) {
	if e.proto >= 2 {
		if b {
			e.b = append(e.b, opNewtrue)
		} else {
			e.b = append(e.b, opNewfalse)
		}
		return
	}
	if b {
		e.b = append(e.b, "I01\n"...)
	} else {
		e.b = append(e.b, "I00\n"...)
	}
}

func (e *encState) saveInt(n int64) {
	if e.proto >= 1 {
		if n >= 0 {
			if n <= 0xff {
				e.b = append(e.b, opBinint1, byte(n))
				return
			}
			if n <= 0xffff {
				e.b = append(e.b, opBinint2, byte(n), byte(n>>8))
				return
			}
		}
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			e.b = append(e.b, opBinint)
			e.b = binary.LittleEndian.AppendUint32(e.b, uint32(int32(n)))
			return
		}
	}
	if e.proto >= 2 {
		// LONG1 with the minimal two's-complement length.
		var tmp [9]byte
		binary.LittleEndian.PutUint64(tmp[:], uint64(n))
		k := 8
		if n < 0 {
			for k > 1 && tmp[k-1] == 0xff && tmp[k-2]&0x80 != 0 {
				k--
			}
		} else {
			for k > 1 && tmp[k-1] == 0 && tmp[k-2]&0x80 == 0 {
				k--
			}
		}
		e.b = append(e.b, opLong1, byte(k))
		e.b = append(e.b, tmp[:k]...)
		return
	}
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		e.b = append(e.b, opInt)
		e.b = strconv.AppendInt(e.b, n, 10)
		e.b = append(e.b, '\n')
		return
	}
	e.b = append(e.b, opLong)
	e.b = strconv.AppendInt(e.b, n, 10)
	e.b = append(e.b, 'L', '\n')
}

func (e *encState) saveUint(u uint64) {
	if u <= math.MaxInt64 {
		e.saveInt(int64(u))
		return
	}
	_ = e.saveBig(new(big.Int).SetUint64(u)) // 20 digits: no error
}

// encodeLong is pickle.encode_long: minimal little-endian two's complement.
func encodeLong(x *big.Int) []byte {
	if x.Sign() == 0 {
		return nil
	}
	n := (x.BitLen() >> 3) + 1
	v := x
	if x.Sign() < 0 {
		v = new(big.Int).Lsh(big.NewInt(1), uint(8*n))
		v.Add(v, x)
	}
	be := v.FillBytes(make([]byte, n))
	slices.Reverse(be)
	if x.Sign() < 0 && n > 1 && be[n-1] == 0xff && be[n-2]&0x80 != 0 {
		be = be[:n-1]
	}
	return be
}

// saveBig writes a big int: LONG1 or LONG4 from protocol 2, else its
// decimal text, which CPython writes (and reads) only up to 4300 digits
// (DefaultMaxLongDigits; docs/spec.md, CPython-side safety caps): beyond,
// pickle.dumps raises ValueError, and the decimal conversion would take
// time super-linear in the int's length.
func (e *encState) saveBig(x *big.Int) error {
	if x.IsInt64() {
		e.saveInt(x.Int64())
		return nil
	}
	if e.proto >= 2 {
		enc := encodeLong(x)
		if len(enc) < 256 {
			e.b = append(e.b, opLong1, byte(len(enc)))
		} else {
			e.b = append(e.b, opLong4)
			e.b = binary.LittleEndian.AppendUint32(e.b, uint32(len(enc)))
		}
		e.b = append(e.b, enc...)
		return nil
	}
	if pastMaxDigits(x) {
		return &UnsupportedValueError{Value: reflect.ValueOf(x), Str: "int of more than 4300 decimal digits needs protocol 2 (" + strconv.Itoa(x.BitLen()) + " bits)"}
	}
	e.b = append(e.b, opLong)
	e.b = x.Append(e.b, 10)
	e.b = append(e.b, 'L', '\n')
	return nil
}

func (e *encState) saveFloat(f float64) {
	if e.proto >= 1 {
		e.b = append(e.b, opBinfloat)
		e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(f))
		return
	}
	e.b = append(e.b, opFloat)
	switch {
	case math.IsInf(f, 1):
		e.b = append(e.b, "inf"...)
	case math.IsInf(f, -1):
		e.b = append(e.b, "-inf"...)
	case math.IsNaN(f):
		e.b = append(e.b, "nan"...)
	default:
		e.b = appendFloatRepr(e.b, f)
	}
	e.b = append(e.b, '\n')
}

// appendFloatRepr appends Python's repr(f) for a finite f: the shortest
// round-tripping digits, positional for exponents -4..15 (with ".0" when
// integral), else scientific with a two-digit exponent.
func appendFloatRepr(b []byte, f float64) []byte {
	sci := strconv.AppendFloat(nil, f, 'e', -1, 64)
	neg := sci[0] == '-'
	if neg {
		sci = sci[1:]
		b = append(b, '-')
	}
	ei := 0
	for ei < len(sci) && sci[ei] != 'e' {
		ei++
	}
	mant, exps := sci[:ei], sci[ei+1:]
	exp, _ := strconv.Atoi(string(exps))
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, '0', '.')
		for i := 0; i < -exp-1; i++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	if len(digits) <= exp+1 {
		b = append(b, digits...)
		for i := len(digits); i < exp+1; i++ {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...)
}

func (e *encState) saveStr(s string) error {
	_, err := e.saveStrIdx(s)
	return err
}

// saveStrIdx writes s (a GET if this string is memoized: strMemo) and
// returns its memo index.
func (e *encState) saveStrIdx(s string) (int, error) {
	if len(s) <= 2 {
		s = canonStr(s)
	}
	// A string found in the memo before (a key every record shares) is
	// in strCache, whose slot is picked by its address: one comparison
	// of the two words where the memo probes its table. (An empty slot
	// holds a nil pointer, which no string here has: canonStr gave the
	// empty string one.)
	at := strCacheSlot(s)
	if c := &e.strCache.ents[at]; unsafe.StringData(c.s) == unsafe.StringData(s) && len(c.s) == len(s) {
		e.writeGet(c.idx)
		return c.idx, nil
	}
	i, slot, ok := e.memoStr.find(s)
	if ok {
		e.strCache.put(at, s, i)
		e.writeGet(i)
		return i, nil
	}
	idx, err := e.writeStr(s)
	if err != nil {
		return 0, err
	}
	e.memoStr.put(slot, s, idx)
	return idx, nil
}

// saveKeyStr writes s, a dict key, and returns its memo index: a GET of
// the earlier key of the same content if there is one in this encode
// (doc.go, "Identity"), else as saveStrIdx writes any str (by identity).
// CPython's dicts share their keys so: literal keys are interned, the json
// module makes one str of each key text, csv.DictReader reuses its field
// names; Go's encoding/json makes a string per key per object.
func (e *encState) saveKeyStr(s string) (int, error) {
	// Keys are short and few: most recur in keyCache, a direct-mapped
	// cache picked by length and end bytes (no hash of the content); the
	// same bytes (a key every record shares) match without comparing them.
	var at uint
	n := len(s)
	if n > 0 && n <= 32 {
		at = keyShape(s)
		if c := &e.keyCache.ents[at]; len(c.s) == n && (unsafe.StringData(c.s) == unsafe.StringData(s) || c.s == s) {
			e.writeGet(c.idx)
			return c.idx, nil
		}
	}
	idx, err := e.saveKeyMemo(s)
	if err != nil {
		return 0, err
	}
	if n > 0 && n <= 32 {
		e.keyCache.put(at, s, idx)
	}
	return idx, nil
}

// bigMapKeys is the size past which a map's keys skip keyCache.
const bigMapKeys = 64

// saveKeyMemo is saveKeyStr without keyCache, for the keys of a large map:
// they are distinct, so each would miss the cache and evict a key that
// recurs (a field name of the map's values).
func (e *encState) saveKeyMemo(s string) (int, error) {
	idx, kslot, ok := e.memoKey.findContent(s)
	if ok {
		e.writeGet(idx)
		return idx, nil
	}
	if len(e.run.ents) > 0 {
		if i, ok := e.run.find(s); ok {
			e.writeGet(i)
			e.memoKey.putKey(kslot, s, i)
			return i, nil
		}
	}
	// saveNewKey and putKey, inline: every key of a large *Dict comes
	// here, and the two calls cost 2% of a 10k-key dict's encode.
	if len(s) <= 2 {
		s = canonStr(s)
	}
	i, slot, ok := e.memoStr.find(s)
	if ok {
		e.writeGet(i)
	} else {
		var err error
		if i, err = e.writeStr(s); err != nil {
			return 0, err
		}
		e.memoStr.put(slot, s, i)
	}
	e.memoKey.put(kslot, s, i)
	e.memoKey.shapes.add(keyShape(s))
	return i, nil
}

// saveNewKey writes s, a dict key of no earlier key's content: by
// identity, as saveStrIdx (whose strCache could only hold this string if
// it were an earlier key).
func (e *encState) saveNewKey(s string) (int, error) {
	if len(s) <= 2 {
		s = canonStr(s)
	}
	i, slot, ok := e.memoStr.find(s)
	if ok {
		e.writeGet(i)
		return i, nil
	}
	i, err := e.writeStr(s)
	if err != nil {
		return 0, err
	}
	e.memoStr.put(slot, s, i)
	return i, nil
}

// noKeyRuns makes large maps write their keys through memoKey (tests
// compare the bytes with and without runs).
var noKeyRuns bool

// keyRun holds the keys of one large map (more than bigMapKeys) as they
// are written, in place of memoKey: the keys of a map are distinct, so
// none of them can be an earlier key of the same map, and a table of all
// of them would be probed (and written) once per key, at random, for
// the few lookups from other dicts that could match one (a map's keys
// numbering in the thousands made that table larger than the cache).
// They are written in sorted order (mapSorter sorts by the bytes, as
// strings.Compare), so the run is sorted and a lookup that misses memoKey
// searches it (find). One run is kept at a time: a large map begun while
// another's run is kept moves the older run's keys into memoKey
// (flushRun), and the older map, if it is still being written, writes its
// remaining keys through memoKey as before (its id no longer matches).
// The bytes are those of memoKey alone: every key that either holds is
// found by the same lookups.
type keyRun struct {
	ents []strEnt // the keys written, ascending, with their memo indices
	id   int      // the id of the map whose run this is (0: none)
	// shapes holds keyShape(s) of every key in ents: a lookup of a
	// string whose shape is not there skips the search.
	shapes byteSet
}

// find returns the memo index of the key of s's content in the run.
func (r *keyRun) find(s string) (int, bool) {
	if !r.shapes.has(keyShape(s)) {
		return 0, false
	}
	lo, hi := 0, len(r.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.ents[m].s < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(r.ents) && r.ents[lo].s == s {
		return r.ents[lo].idx, true
	}
	return 0, false
}

func (r *keyRun) reset() {
	clear(r.ents) // keep no user strings alive
	if cap(r.ents) > 1<<19 {
		r.ents = nil
	}
	r.ents, r.id, r.shapes = r.ents[:0], 0, byteSet{}
}

// beginRun starts the run of a large map's keys, written in sorted order
// through saveRunKey with the id it returns.
func (e *encState) beginRun() int {
	if noKeyRuns {
		return 0
	}
	e.flushRun()
	e.runSeq++
	e.run.id = e.runSeq
	return e.runSeq
}

// flushRun moves the keys of the run into memoKey.
func (e *encState) flushRun() {
	for _, en := range e.run.ents {
		if _, slot, ok := e.memoKey.findContent(en.s); !ok {
			e.memoKey.putKey(slot, en.s, en.idx)
		}
	}
	e.run.reset()
}

// saveRunKey is saveKeyMemo for a key of the large map whose run is id,
// keys given in sorted order: only an earlier key of another dict can
// share its content, and that is in memoKey (or a run's keys went there).
func (e *encState) saveRunKey(s string, id int) (int, error) {
	if e.run.id != id {
		return e.saveKeyMemo(s) // a large map inside this one took the run
	}
	if e.memoKey.mayHold(s) {
		if idx, _, ok := e.memoKey.findContent(s); ok {
			e.writeGet(idx)
			return idx, nil
		}
	}
	i, err := e.saveNewKey(s)
	if err != nil {
		return 0, err
	}
	e.run.ents = append(e.run.ents, strEnt{s: s, idx: i})
	e.run.shapes.add(keyShape(s))
	return i, nil
}

// saveDictKey writes a dict key: a str as saveKeyStr, anything else as save.
func (e *encState) saveDictKey(k any) error {
	if s, ok := k.(string); ok {
		e.boundary()
		_, err := e.saveKeyStr(s)
		return err
	}
	return e.save(k)
}

// strCacheSlot is the strCache slot of s: 8 bits of a hash of its address
// and length.
func strCacheSlot(s string) uint {
	return uint((uint64(uintptr(unsafe.Pointer(unsafe.StringData(s))))^uint64(len(s)))*0x9e3779b97f4a7c15>>56) & 255
}

// strCacheEntry is a string of strMemo and its memo index.
type strCacheEntry struct {
	s   string
	idx int
}

// slotCache is a direct-mapped cache of strings' memo indices (strCache,
// keyCache) with the slots set in this encode, which reset clears (all
// 256 are 6 KiB to write back).
type slotCache struct {
	ents [256]strCacheEntry
	used byteSet
}

func (c *slotCache) put(at uint, s string, idx int) {
	c.ents[at] = strCacheEntry{s: s, idx: idx}
	c.used.add(at)
}

func (c *slotCache) reset() {
	for w, bits := range c.used {
		for ; bits != 0; bits &= bits - 1 {
			c.ents[w*64+mbits.TrailingZeros64(bits)] = strCacheEntry{}
		}
	}
	c.used = byteSet{}
}

// saveFreshStr writes and memoizes s without sharing it with equal strings.
func (e *encState) saveFreshStr(s string) error {
	_, err := e.writeStr(s)
	return err
}

func (e *encState) writeStr(s string) (int, error) {
	n := len(s)
	if e.proto >= 4 && n < copyWTF8Max {
		// SHORT_BINUNICODE, the bytes checked while they are copied
		// (copyWTF8), and MEMOIZE, in room made once.
		l := len(e.b)
		if cap(e.b)-l < n+3 {
			e.b = slices.Grow(e.b, n+3)
		}
		b := e.b[:l+n+3]
		b[l], b[l+1], b[l+2+n] = opShortBinunicode, byte(n), opMemoize
		if !copyWTF8(b[l+2:], s) {
			return 0, invalidStrError(s)
		}
		e.b = b
		idx := e.memoN
		e.memoN = idx + 1
		return idx, nil
	}
	if !validPyUTF8String(s) {
		return 0, invalidStrError(s)
	}
	switch {
	case e.proto >= 4 && n < 256:
		e.b = append(e.b, opShortBinunicode, byte(n))
		e.b = append(e.b, s...)
	case e.proto >= 1 && uint64(n) <= math.MaxUint32:
		var hdr [5]byte
		hdr[0] = opBinunicode
		binary.LittleEndian.PutUint32(hdr[1:], uint32(n))
		e.writeLarge(hdr[:], s)
	case e.proto >= 4:
		var hdr [9]byte
		hdr[0] = opBinunicode8
		binary.LittleEndian.PutUint64(hdr[1:], uint64(n))
		e.writeLarge(hdr[:], s)
	case e.proto >= 1:
		return 0, &UnsupportedValueError{Value: reflect.ValueOf(s), Str: "str larger than 4 GiB needs protocol 4"}
	default:
		e.b = append(e.b, opUnicode)
		e.b = appendRawUnicodeEscape(e.b, s)
		e.b = append(e.b, '\n')
	}
	return e.memoize(), nil
}

func invalidStrError(s string) error {
	return &UnsupportedValueError{Value: reflect.ValueOf(s), Str: "string is not valid UTF-8: " + strconv.Quote(truncate(s, 40))}
}

// freshStr is a str that CPython creates anew (so it is not shared with
// equal strings through the memo), e.g. the latin-1 text of bytes in
// protocols 0–2.
type freshStr string

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func bytesID(b []byte, kind byte) idKey {
	if cap(b) == 0 {
		return idKey{}
	}
	return idKey{p: &b[:cap(b)][0], n: len(b), kind: kind}
}

func (e *encState) saveBytes(b []byte) error {
	id := bytesID(b, 'b')
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if e.proto < 3 {
		// Python 2 has no bytes type: pickle.py writes
		// _codecs.encode(latin-1 text, 'latin1'), or bytes() when empty.
		if len(b) == 0 {
			return e.saveReduce(gBytes, Tuple{}, nil, false, nil, nil, nil, id)
		}
		return e.saveReduce(gCodecsEnc, Tuple{freshStr(latin1Str(b)), "latin1"}, nil, false, nil, nil, nil, id)
	}
	n := len(b)
	switch {
	case n < 256:
		e.b = append(e.b, opShortBinbytes, byte(n))
		e.b = append(e.b, b...)
	case uint64(n) <= math.MaxUint32:
		var hdr [5]byte
		hdr[0] = opBinbytes
		binary.LittleEndian.PutUint32(hdr[1:], uint32(n))
		e.writeLarge(hdr[:], unsafe.String(unsafe.SliceData(b), len(b)))
	case e.proto >= 4:
		var hdr [9]byte
		hdr[0] = opBinbytes8
		binary.LittleEndian.PutUint64(hdr[1:], uint64(n))
		e.writeLarge(hdr[:], unsafe.String(unsafe.SliceData(b), len(b)))
	default:
		return &UnsupportedValueError{Value: reflect.ValueOf(b), Str: "bytes larger than 4 GiB needs protocol 4"}
	}
	e.memoizeID(id)
	return nil
}

func latin1Str(b []byte) string {
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		out = appendRune(out, rune(c))
	}
	return string(out)
}

func (e *encState) saveByteArray(b ByteArray) error {
	id := bytesID(b, 'a')
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	switch {
	case e.proto >= 5:
		var hdr [9]byte
		hdr[0] = opBytearray8
		binary.LittleEndian.PutUint64(hdr[1:], uint64(len(b)))
		e.writeLarge(hdr[:], unsafe.String(unsafe.SliceData(b), len(b)))
		e.memoizeID(id)
		return nil
	case len(b) == 0:
		return e.saveReduce(gBytearray, Tuple{}, nil, false, nil, nil, nil, id)
	default:
		return e.saveReduce(gBytearray, Tuple{[]byte(b)}, nil, false, nil, nil, nil, id)
	}
}

func (e *encState) saveList(x []any) error {
	if cap(x) > 0 && e.depth < e.m.maxDepth {
		// enter cannot fail, so the list is memoized next: store its
		// identity with the index memoize gives it, in the same probe as
		// the lookup.
		k, _ := sliceKeyOf(x, false)
		if i, en := e.memoID.lookupOrAdd(listWord, unsafe.Pointer(k.p), k.n, memoSliceKind, e.memoN); en != nil {
			e.writeGet(i)
			return nil
		}
		e.depth++
		e.emptyList()
		e.memoize()
	} else {
		key, hasKey, i := e.lookupSlice(x, false)
		if i >= 0 {
			e.writeGet(i)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		e.emptyList()
		e.memoizeSlice(key, hasKey)
	}
	if len(x) >= batchSize || e.proto < 1 {
		err := e.appendItems(x, batchList)
		e.depth--
		return err
	}
	// Shorter than a batch at protocol 1 or later: one batch (or one
	// APPEND), as the batcher writes it, without its stack frame. A deep
	// nest of lists and dicts runs through two frames per level instead
	// of three, and the stack it touches is what costs there.
	if len(x) > 1 {
		e.b = append(e.b, opMark)
	}
	for _, it := range x {
		if err := e.save(it); err != nil {
			return err
		}
	}
	switch len(x) {
	case 0:
	case 1:
		e.b = append(e.b, opAppend)
	default:
		e.b = append(e.b, opAppends)
	}
	e.depth--
	return nil
}

// appendItems writes list items (APPEND/APPENDS batches, batch.go).
func (e *encState) appendItems(items []any, style batchStyle) error {
	for b := e.batches(len(items), style); b.next(); {
		e.openBatch(&b)
		for _, it := range items[b.lo:b.hi] {
			if err := e.save(it); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opAppend, opAppends)
	}
	return nil
}

func (e *encState) saveTuple(x Tuple) error {
	n := len(x)
	if n == 0 {
		if e.proto >= 1 {
			e.b = append(e.b, opEmptyTuple)
		} else {
			e.b = append(e.b, opMark, opTuple)
		}
		return nil
	}
	key, hasKey, i := e.lookupSlice(x, true)
	if i >= 0 {
		e.writeGet(i)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	if n <= 3 && e.proto >= 2 {
		for _, it := range x {
			if err := e.save(it); err != nil {
				return err
			}
		}
		if _, _, i := e.lookupSlice(x, true); i >= 0 {
			// The tuple was pickled while pickling its elements (it is
			// recursive through a mutable container): drop the elements and
			// fetch it back, as pickle.py does.
			for k := 0; k < n; k++ {
				e.b = append(e.b, opPop)
			}
			e.writeGet(i)
			return nil
		}
		e.b = append(e.b, opTuple1+byte(n-1))
		e.memoizeSlice(key, hasKey)
		return nil
	}
	e.b = append(e.b, opMark)
	for _, it := range x {
		if err := e.save(it); err != nil {
			return err
		}
	}
	if _, _, i := e.lookupSlice(x, true); i >= 0 {
		if e.proto >= 1 {
			e.b = append(e.b, opPopMark)
		} else {
			for k := 0; k <= n; k++ {
				e.b = append(e.b, opPop)
			}
		}
		e.writeGet(i)
		return nil
	}
	e.b = append(e.b, opTuple)
	e.memoizeSlice(key, hasKey)
	return nil
}

func (e *encState) emptyDict() {
	if e.proto >= 1 {
		e.b = append(e.b, opEmptyDict)
	} else {
		e.b = append(e.b, opMark, opDict)
	}
}

func (e *encState) saveDict(d *Dict) error {
	if d == nil {
		e.b = append(e.b, opNone)
		return nil
	}
	if e.depth < e.m.maxDepth {
		// As saveList: one probe.
		if i, en := e.memoID.lookupOrAdd(dictWord, unsafe.Pointer(d), 0, memoDictKind, e.memoN); en != nil {
			e.writeGet(i)
			return nil
		}
		e.depth++
		e.emptyDict()
		e.memoize()
	} else {
		if i, ok := e.lookupDict(d); ok {
			e.writeGet(i)
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		e.emptyDict()
		idx := e.memoize()
		e.memoID.putWords(dictWord, unsafe.Pointer(d), 0, memoDictKind, idx)
	}
	ents := d.ents
	if len(ents) >= batchSize || e.proto < 1 {
		err := e.dictEntries(ents, batchDict)
		e.depth--
		return err
	}
	// One batch, as saveList writes it.
	if len(ents) > 1 {
		e.b = append(e.b, opMark)
	}
	for i := range ents {
		if err := e.saveDictKey(ents[i].k); err != nil {
			return err
		}
		if err := e.save(ents[i].v); err != nil {
			return err
		}
	}
	switch len(ents) {
	case 0:
	case 1:
		e.b = append(e.b, opSetitem)
	default:
		e.b = append(e.b, opSetitems)
	}
	e.depth--
	return nil
}

// dictEntries writes dict items (SETITEM/SETITEMS batches, batch.go).
func (e *encState) dictEntries(ents []dictEntry, style batchStyle) error {
	for b := e.batches(len(ents), style); b.next(); {
		e.openBatch(&b)
		for i := b.lo; i < b.hi; i++ {
			if err := e.saveDictKey(ents[i].k); err != nil {
				return err
			}
			if err := e.save(ents[i].v); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opSetitem, opSetitems)
	}
	return nil
}

// anyItems writes the items of a Go map with sorted keys as an exact dict.
func anyItems[K comparable, V any](e *encState, keys []K, m map[K]V) error {
	for b := e.batches(len(keys), batchDict); b.next(); {
		e.openBatch(&b)
		for _, k := range keys[b.lo:b.hi] {
			if err := e.saveDictKey(any(k)); err != nil {
				return err
			}
			if err := e.save(m[k]); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opSetitem, opSetitems)
	}
	return nil
}

func (e *encState) saveStrMap(m map[string]any) error {
	if m == nil {
		e.emptyDict()
		e.memoize()
		return nil
	}
	id := idKey{p: reflect.ValueOf(m).UnsafePointer(), kind: 'm'}
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.emptyDict()
	e.memoizeID(id)
	if len(m) == 0 {
		e.depth--
		return nil
	}
	// The keys and values in one pass, the values written from the copy
	// (looking each up again by its sorted key hashed it a second time),
	// into scratch kept for the next map at this nesting level.
	sc := e.takeStrMapScratch()
	for k, v := range m {
		sc.items = append(sc.items, mapItem{keyPrefix(k), len(sc.keys)})
		sc.keys = append(sc.keys, k)
		sc.vals = append(sc.vals, v)
	}
	sc.items = sc.sort.sort(sc.items, sc.keys)
	err := e.strMapItems(sc)
	e.putStrMapScratch(sc)
	e.depth--
	return err
}

// strMapScratch holds a map[string]any's keys, values and their order
// while it is written.
type strMapScratch struct {
	keys  []string
	vals  []any
	items []mapItem
	sort  mapSorter
}

func (e *encState) takeStrMapScratch() *strMapScratch {
	if e.strMapTop == len(e.strMaps) {
		e.strMaps = append(e.strMaps, new(strMapScratch))
	}
	sc := e.strMaps[e.strMapTop]
	e.strMapTop++
	return sc
}

func (e *encState) putStrMapScratch(sc *strMapScratch) {
	e.strMapTop--
	clear(sc.keys) // keep no user values alive
	clear(sc.vals)
	if cap(sc.keys) > 1<<16 {
		*sc = strMapScratch{}
		return
	}
	sc.keys, sc.vals, sc.items = sc.keys[:0], sc.vals[:0], sc.items[:0]
}

// strMapItems writes the items of a map[string]any in key order.
func (e *encState) strMapItems(sc *strMapScratch) error {
	run := 0
	if len(sc.items) > bigMapKeys {
		run = e.beginRun()
	}
	for b := e.batches(len(sc.items), batchDict); b.next(); {
		e.openBatch(&b)
		for _, it := range sc.items[b.lo:b.hi] {
			e.boundary()
			var err error
			if run != 0 {
				_, err = e.saveRunKey(sc.keys[it.i], run)
			} else {
				_, err = e.saveKeyStr(sc.keys[it.i])
			}
			if err != nil {
				return err
			}
			if err := e.save(sc.vals[it.i]); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opSetitem, opSetitems)
	}
	return nil
}

func (e *encState) saveAnyMap(m map[any]any) error {
	if m == nil {
		e.emptyDict()
		e.memoize()
		return nil
	}
	id := idKey{p: reflect.ValueOf(m).UnsafePointer(), kind: 'm'}
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.emptyDict()
	e.memoizeID(id)
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortKeys(keys)
	err := anyItems(e, keys, m)
	e.depth--
	return err
}

// sortKeys orders map keys deterministically (by Python type, then value).
func sortKeys(keys []any) {
	rank := func(k any) (int, string, float64) {
		switch x := k.(type) {
		case string:
			return 2, x, 0
		case int64, int, int32, int16, int8, uint, uint64, uint32, uint16, uint8, float64, float32, bool:
			f, _ := toFloat64(x)
			return 1, "", f
		}
		return 3, reprShort(k), 0
	}
	slices.SortStableFunc(keys, func(a, b any) int {
		ra, sa, fa := rank(a)
		rb, sb, fb := rank(b)
		switch {
		case ra != rb:
			return ra - rb
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
}

func toFloat64(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Bool:
		if rv.Bool() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func (e *encState) saveSet(s *Set) error {
	id := idKey{p: s}
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if e.proto < 4 {
		return e.saveReduce(gSet, Tuple{s.hs.elems()}, nil, false, nil, nil, nil, id)
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	e.b = append(e.b, opEmptySet)
	e.memoizeID(id)
	items := s.hs.items
	for b := e.batches(len(items), batchSet); b.next(); {
		e.openBatch(&b)
		for _, it := range items[b.lo:b.hi] {
			if err := e.save(it.k); err != nil {
				return err
			}
		}
		e.closeBatch(&b, opAdditems, opAdditems)
	}
	return nil
}

func (e *encState) saveFrozenSet(s *FrozenSet) error {
	id := idKey{p: s}
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if e.proto < 4 {
		return e.saveReduce(gFrozenset, Tuple{s.hs.elems()}, nil, false, nil, nil, nil, id)
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	e.b = append(e.b, opMark)
	for _, it := range s.hs.items {
		if err := e.save(it.k); err != nil {
			return err
		}
	}
	if i, ok := e.lookupID(id); ok {
		e.b = append(e.b, opPopMark)
		e.writeGet(i)
		return nil
	}
	e.b = append(e.b, opFrozenset)
	e.memoizeID(id)
	return nil
}

func (e *encState) saveGlobal(g Global) error {
	id := idKey{p: g, kind: 'g'}
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if e.proto >= 2 {
		if code, ok := extensionCode(g); ok {
			e.writeExt(code)
			return nil
		}
	}
	if e.proto >= 4 {
		// CPython memoizes by identity: the module name is one shared
		// object (an interned string), so module names go to the memo
		// by content; the qualified name is a separate object each time.
		mod, ok := e.modules[g.Module]
		if !ok {
			if e.modules == nil {
				e.modules = make(map[string]string)
			}
			mod = g.Module
			e.modules[mod] = mod
		}
		if err := e.saveStr(mod); err != nil {
			return err
		}
		if err := e.saveFreshStr(g.Name); err != nil {
			return err
		}
		e.b = append(e.b, opStackGlobal)
	} else if i := strings.LastIndexByte(g.Name, '.'); i > 0 && i < len(g.Name)-1 {
		// GLOBAL names no attribute path (Python reads "A.f" as one
		// name before protocol 4): a nested class or a method is
		// getattr(parent, name), as CPython's save_global writes it.
		parent := Global{Module: g.Module, Name: g.Name[:i]}
		return e.saveReduce(gGetattr, Tuple{parent, g.Name[i+1:]}, nil, false, nil, nil, nil, id)
	} else {
		mod, name, err := e.globalLines(g)
		if err != nil {
			return err
		}
		e.writeNameLines(opGlobal, mod, name)
	}
	e.memoizeID(id)
	return nil
}

// globalLines returns the module and name lines of GLOBAL or INST
// (protocols 0–3): Python 3 names mapped back to Python 2 ones below
// protocol 3, as pickle.Pickler(fix_imports=True) does. Each must be a
// non-empty UTF-8 line (CPython's unpickler reads an empty one as
// truncated data).
func (e *encState) globalLines(g Global) (string, string, error) {
	mod, name := g.Module, g.Name
	if e.proto < 3 {
		if n, ok := compatReverseName[g]; ok {
			mod, name = n.Module, n.Name
		} else if m, ok := compatReverseImport[mod]; ok {
			mod = m
		}
	}
	if mod == "" || name == "" || !validPyUTF8String(mod) || !validPyUTF8String(name) || hasNewline(mod) || hasNewline(name) {
		return "", "", &UnsupportedValueError{Value: reflect.ValueOf(g), Str: "global name " + strconv.Quote(g.String()) + " cannot be written before protocol 4"}
	}
	return mod, name, nil
}

// writeNameLines writes GLOBAL or INST with its two lines.
func (e *encState) writeNameLines(op byte, mod, name string) {
	e.b = append(e.b, op)
	e.b = append(e.b, mod...)
	e.b = append(e.b, '\n')
	e.b = append(e.b, name...)
	e.b = append(e.b, '\n')
}

// writeExt writes the EXT1/EXT2/EXT4 opcode for an extension code, which
// CPython does not memoize.
func (e *encState) writeExt(code int32) {
	switch {
	case code <= 0xff:
		e.b = append(e.b, opExt1, byte(code))
	case code <= 0xffff:
		e.b = append(e.b, opExt2, byte(code), byte(code>>8))
	default:
		e.b = append(e.b, opExt4)
		e.b = binary.LittleEndian.AppendUint32(e.b, uint32(code))
	}
}

func (e *encState) saveExt(x Ext) error {
	if x.Code <= 0 {
		return &UnsupportedValueError{Value: reflect.ValueOf(x), Str: "extension code " + strconv.Itoa(int(x.Code)) + " is not positive"}
	}
	if e.proto < 2 {
		return &UnsupportedValueError{Value: reflect.ValueOf(x), Str: "extension code " + strconv.Itoa(int(x.Code)) + " needs protocol 2 (EXT opcodes)"}
	}
	e.writeExt(x.Code)
	return nil
}

func hasNewline(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return true
		}
	}
	return false
}

func (e *encState) saveObject(o *Object) error {
	var fn any = o.Callable
	if o.CallableValue != nil {
		fn = o.CallableValue
	} else if o.Callable == (Global{}) {
		return &UnsupportedValueError{Value: reflect.ValueOf(o), Str: "*Object without a callable"}
	}
	if o.Inst && !o.NewObj {
		return e.saveBuilt(call{fn: fn, args: o.Args, inst: true}, o.State, o.ListItems, o.DictItems, idKey{p: o})
	}
	return e.saveReduce(fn, o.Args, o.Kwargs, o.NewObj, o.State, o.ListItems, o.DictItems, idKey{p: o})
}

// call is how an object is made: callable(*args) (REDUCE), cls.__new__(cls,
// *args, **kw) (NEWOBJ, NEWOBJ_EX) or INST/OBJ.
type call struct {
	fn     any
	args   Tuple
	kw     *Dict
	newObj bool
	inst   bool
}

// saveReduce is pickle.py's save_reduce: callable and args, REDUCE or
// NEWOBJ(_EX), memoize, then list items, dict items and BUILD state.
func (e *encState) saveReduce(fn any, args Tuple, kw *Dict, newObj bool, state any, listItems []any, dictItems *Dict, id idKey) error {
	return e.saveBuilt(call{fn: fn, args: args, kw: kw, newObj: newObj}, state, listItems, dictItems, id)
}

// saveBuilt writes an object made by c, memoizes it, then writes its list
// items (APPENDS), dict items (SETITEMS) and state (BUILD), as save_reduce.
func (e *encState) saveBuilt(c call, state any, listItems []any, dictItems *Dict, id idKey) error {
	if i, ok := e.lookupID(id); ok {
		e.writeGet(i)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	if c.args == nil {
		c.args = Tuple{}
	}
	args, end, err := e.beginCall(id, c.args)
	if err != nil {
		return err
	}
	c.args = args
	err = e.writeCall(c)
	end()
	if err != nil {
		return err
	}
	if i, ok := e.lookupID(id); ok {
		// Made while writing its own arguments (recursive through them):
		// drop this copy and fetch that one, as pickle.py does.
		e.b = append(e.b, opPop)
		e.writeGet(i)
	} else {
		e.memoizeID(id)
	}
	if listItems != nil {
		if err := e.appendItems(listItems, batchIter); err != nil {
			return err
		}
	}
	if dictItems != nil {
		if err := e.dictEntries(dictItems.ents, batchIter); err != nil {
			return err
		}
	}
	if state != nil {
		if err := e.save(state); err != nil {
			return err
		}
		e.b = append(e.b, opBuild)
	}
	return nil
}

// writeCall writes the callable, the arguments and the opcode that makes
// the object.
func (e *encState) writeCall(c call) error {
	hasKw := c.kw != nil && c.kw.Len() > 0
	switch {
	case c.inst:
		return e.writeInst(c.fn, c.args)
	case c.newObj && hasKw && e.proto >= 4:
		if err := e.saveCallable(c.fn); err != nil {
			return err
		}
		if err := e.saveTuple(c.args); err != nil {
			return err
		}
		if err := e.saveDict(c.kw); err != nil {
			return err
		}
		e.b = append(e.b, opNewobjEx)
		return nil
	case c.newObj && hasKw:
		if err := e.saveGlobal(gNewobjEx); err != nil {
			return err
		}
		if err := e.saveTuple(Tuple{c.fn, c.args, c.kw}); err != nil {
			return err
		}
	case c.newObj && e.proto >= 2:
		if err := e.saveCallable(c.fn); err != nil {
			return err
		}
		if err := e.saveTuple(c.args); err != nil {
			return err
		}
		e.b = append(e.b, opNewobj)
		return nil
	case c.newObj:
		if err := e.saveGlobal(gNewobj); err != nil {
			return err
		}
		all := make(Tuple, 0, len(c.args)+1)
		all = append(append(all, c.fn), c.args...)
		if err := e.saveTuple(all); err != nil {
			return err
		}
	default:
		if err := e.saveCallable(c.fn); err != nil {
			return err
		}
		if err := e.saveTuple(c.args); err != nil {
			return err
		}
	}
	e.b = append(e.b, opReduce)
	return nil
}

// writeInst writes an INST/OBJ instance: INST with the class's name lines
// at protocol 0, OBJ otherwise. A protocol-0 instance of a callable that
// is not a global is written as REDUCE when it has arguments (the same
// call) and as OBJ when it has none (Python reads it at any protocol).
func (e *encState) writeInst(fn any, args Tuple) error {
	g, isGlobal := fn.(Global)
	if e.proto == 0 && !isGlobal && len(args) > 0 {
		return e.writeCall(call{fn: fn, args: args})
	}
	e.b = append(e.b, opMark)
	if e.proto == 0 && isGlobal {
		mod, name, err := e.globalLines(g)
		if err != nil {
			return err
		}
		for _, a := range args {
			if err := e.save(a); err != nil {
				return err
			}
		}
		e.writeNameLines(opInst, mod, name)
		return nil
	}
	if err := e.saveCallable(fn); err != nil {
		return err
	}
	for _, a := range args {
		if err := e.save(a); err != nil {
			return err
		}
	}
	e.b = append(e.b, opObj)
	return nil
}

// callFrame is an object whose callable and arguments are being written
// (it is not memoized yet).
type callFrame struct {
	memoStart int // memo size when its arguments began
	visits    int // how many times it is being written (see beginCall)
}

// beginCall registers the object id as being made and returns the
// arguments to write, and a function to call once they are written.
//
// An object reached again while its own arguments are being written is
// written again, as pickle.py does (the outer copy is dropped afterwards:
// POP, GET). Two shapes lead there, and the decoded values cannot tell them
// apart:
//
//   - a list subclass at protocol 0 or 1 is copyreg._reconstructor(cls,
//     list, items) and Python copies items when it calls that; when items
//     holds an instance whose state holds the list subclass, pickle.py's
//     second visit writes new items (__reduce_ex__ returns a fresh list each
//     call), where fetching the list that the first visit memoized would
//     give Python a partial one to copy;
//   - K(s) with s a set holding K(s): pickle.py's second visit fetches the
//     partial set, which is right because K keeps a reference to it.
//
// So the second visit writes shallow copies of the containers that the
// first visit's arguments memoized (right for the first shape), and if that
// copy leads back to the object once more, the third visit fetches them
// from the memo (right for the second shape: the copies are left unused).
// A fourth visit would recurse forever: that structure cannot be pickled.
func (e *encState) beginCall(id idKey, args Tuple) (Tuple, func(), error) {
	if id.p == nil {
		return args, func() {}, nil
	}
	f, ok := e.calling[id]
	if !ok {
		if e.calling == nil {
			e.calling = make(map[idKey]callFrame)
		}
		e.calling[id] = callFrame{memoStart: e.memoN, visits: 1}
		return args, func() { delete(e.calling, id) }, nil
	}
	if f.visits >= 3 {
		return nil, nil, &UnsupportedValueError{Str: "object recursive through its own REDUCE arguments (cannot be pickled)"}
	}
	e.calling[id] = callFrame{memoStart: f.memoStart, visits: f.visits + 1}
	restore := func() { e.calling[id] = f }
	if f.visits == 1 {
		return e.freshArgs(args, f.memoStart), restore, nil
	}
	return args, restore, nil
}

// freshArgs returns args with shallow copies of the containers that were
// memoized at or after memo index start.
func (e *encState) freshArgs(args Tuple, start int) Tuple {
	var out Tuple
	for i, a := range args {
		c, ok := e.freshCopy(a, start)
		if !ok {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = c
	}
	if out == nil {
		return args
	}
	return out
}

func (e *encState) freshCopy(v any, start int) (any, bool) {
	switch x := v.(type) {
	case []any:
		if _, _, i := e.lookupSlice(x, false); i >= start {
			return slices.Clip(slices.Clone(x)), true
		}
	case *Dict:
		if i, ok := e.lookupDict(x); ok && i >= start {
			c := newDictCap(x.Len())
			for k, v := range x.All() {
				_ = c.Set(k, v) // hashable: x holds it
			}
			return c, true
		}
	case *Set:
		if i, ok := e.lookupID(idKey{p: x}); ok && i >= start {
			c, _ := NewSet(x.Items()...) // hashable: x holds them
			return c, true
		}
	case ByteArray:
		if i, ok := e.lookupID(bytesID(x, 'a')); ok && i >= start {
			return newByteArray(x), true
		}
	}
	return nil, false
}

func (e *encState) saveCallable(fn any) error {
	if g, ok := fn.(Global); ok {
		return e.saveGlobal(g)
	}
	return e.save(fn)
}
