package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"unsafe"
)

// listBox is a Python list while the pickle is being decoded. Lists are
// mutable and referenced through the memo, so the decoder appends to a
// shared box; the list's value is the []any boxed in place at &items from
// the start (asList): the interface value on the stack, in the memo and in
// its parents reads the header that appends update, and after the decode
// the header no longer changes. So no pass over the value converts lists,
// and a []any met while decoding is always a box's (listOf).
type listBox struct {
	items []any // the list (first: asList points at it)
	// walk is the final pass's; while decoding, its state has the
	// listShared bit when the list is in the memo or was pushed twice.
	walk walkInfo
}

// listShared marks a list that may be shared (listBox.walk.state).
const listShared = 0x80

// emptyItems is what a new list holds: empty but not nil.
var emptyItems = []any{}

// listOf returns the box of a list value (a []any made by asList).
func listOf(v any) *listBox { return (*listBox)((*eface)(unsafe.Pointer(&v)).data) }

// mark is a MARK on the stack: the stack's length and the input offset.
type mark struct{ n, pos int }

// decState is one decode of one pickle.
type decState struct {
	m    *decMode
	data []byte // the pickle (for a stream: what has been read so far)
	pos  int
	op   byte // current opcode
	opAt int  // its offset

	src *Decoder // non-nil when reading a stream

	stack []any
	marks []mark
	fence int // len(stack) at the innermost MARK

	// stackHigh is the stack's highest length when it was last shortened
	// (truncate).
	stackHigh int

	memo       []any
	memoSparse map[uint64]any
	memoCount  int

	objects int
	typed   bool // decoding into a typed target: keep *Object for registered classes
	proto   int  // from PROTO (0 if absent): Python 2 names are mapped below 3

	tuples map[*any]int // final pass: tuple heights (-1 in progress)
	// slow is set when the value needs the final pass (walk): it holds
	// instances (registered classes become Go values), or, with heights,
	// a container pushed a second time (its height may change after a
	// parent read it, or it may contain itself). Otherwise the decode
	// already made the final value.
	slow bool
	// heights is set while the decode keeps each container's height as
	// it adds items (heightOf), so that the final pass can check MaxDepth
	// without walking the value: only for an input longer than MaxDepth
	// (every container takes an opcode of at least one byte, so a shorter
	// pickle cannot nest deeper) and while not slow.
	heights bool
	// emptyMemo counts the lists in the memo that are still empty: each
	// needs an array of its own at the end (an identity; asList).
	emptyMemo int
	markAt    int // input offset of the MARK that popMark removed last
	// tupleShared is set when a tuple was pushed a second time (memo get
	// or DUP): only then can the final pass meet a tuple twice and need
	// the tuples map.
	tupleShared bool
	scratch     *decScratch

	// alloc counts the bytes the decoded value and its typed conversion
	// allocated (MaxAlloc).
	alloc    int64
	allocMax int64 // the MaxAlloc budget when last checked
	slabs    decSlabs
	one      [1]any // APPEND's item

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
	if s.objects > s.m.maxObjects || s.alloc > s.allocMax || len(s.stack) == cap(s.stack) {
		return s.pushChecked(v)
	}
	s.stack = append(s.stack, v)
	return nil
}

// tryPush is push's common case, small enough to inline into the opcode
// loop (a call per value is a tenth of a small dict's decode): it pushes
// and reports true when no limit is near and the stack has room; else the
// caller pushes with push, which checks.
func (s *decState) tryPush(v any) bool {
	n := len(s.stack)
	if s.objects >= s.m.maxObjects || s.alloc > s.allocMax || n == cap(s.stack) {
		return false
	}
	s.objects++
	s.stack = append(s.stack, v)
	return true
}

// grow2 doubles the capacity of a full slice (append grows large slices
// by 1.25×, copying them about five times over).
func grow2[T any](x []T) []T {
	if len(x) < cap(x) {
		return x
	}
	return append(make([]T, 0, max(16, 2*cap(x))), x...)
}

func (s *decState) pushChecked(v any) error {
	if s.objects > s.m.maxObjects {
		return s.errw(ErrLimit, "more than %d objects", s.m.maxObjects)
	}
	if err := s.charge(0); err != nil {
		return err
	}
	s.stack = append(grow2(s.stack), v)
	return nil
}

func (s *decState) pop() (any, error) {
	n := len(s.stack)
	if n <= s.fence {
		return nil, s.underflow()
	}
	v := s.stack[n-1]
	s.truncate(n - 1)
	return v, nil
}

// top returns the value at the top of the stack. It costs just over the
// inliner's budget, so the hot callers (setItemsOn, appendTo) read the top
// themselves.
func (s *decState) top() (any, error) {
	if n := len(s.stack); n > s.fence {
		return s.stack[n-1], nil
	}
	return nil, s.underflow()
}

// underflow is the error of an opcode that needs more values than the
// stack has above the innermost MARK (not inlined: its callers are).
//
//go:noinline
func (s *decState) underflow() error { return s.errf("unpickling stack underflow") }

// mark is MARK.
func (s *decState) mark() {
	// Only a growth stores the slice's pointer (append to itself updates
	// its length): a store of it per MARK is a write barrier while the
	// collector marks.
	if len(s.marks) == cap(s.marks) {
		s.marks = grow2(s.marks)
	}
	s.marks = append(s.marks, mark{len(s.stack), s.pos})
	s.fence = len(s.stack)
}

// popMark returns the items above the innermost MARK (aliasing the stack:
// copy them before the next push) and removes them and the mark (whose
// input offset it leaves in markAt).
func (s *decState) popMark() ([]any, error) {
	if len(s.marks) == 0 {
		return nil, s.errf("could not find MARK")
	}
	mk := s.marks[len(s.marks)-1]
	s.marks = s.marks[:len(s.marks)-1]
	if len(s.marks) > 0 {
		s.fence = s.marks[len(s.marks)-1].n
	} else {
		s.fence = 0
	}
	s.markAt = mk.pos
	items := s.stack[mk.n:]
	s.truncate(mk.n)
	return items, nil
}

// truncate shortens the stack to n values, keeping the highest length it
// had (stackHigh: giveBack clears the pooled stack up to there).
func (s *decState) truncate(n int) {
	s.stackHigh = max(s.stackHigh, len(s.stack))
	s.stack = s.stack[:n]
}

func (s *decState) checkLen(n int) error {
	if n > s.m.maxContainer {
		return s.lenErr(n)
	}
	return nil
}

func (s *decState) lenErr(n int) error {
	return s.errw(ErrLimit, "container of %d elements (MaxContainerLen %d)", n, s.m.maxContainer)
}

func (s *decState) memoPut(idx uint64, v any) error {
	if typeWord(v) == listWord {
		s.shareList(listOf(v))
	}
	if idx < uint64(len(s.memo)) {
		s.memoReplaced(s.memo[idx])
		s.memo[idx] = v
		return nil
	}
	if s.memoSparse != nil {
		if old, ok := s.memoSparse[idx]; ok {
			s.memoReplaced(old)
			s.memoSparse[idx] = v
			return nil
		}
	}
	if s.memoCount >= s.m.maxMemo {
		return s.errw(ErrLimit, "more than %d memo entries", s.m.maxMemo)
	}
	s.memoCount++
	if idx == uint64(len(s.memo)) {
		if len(s.memo) == cap(s.memo) {
			s.growMemo()
		}
		s.memo = append(s.memo, v)
		return nil
	}
	if s.memoSparse == nil {
		s.memoSparse = make(map[uint64]any)
	}
	s.memoSparse[idx] = v
	return nil
}

// growMemo makes room in a full memo. Past a few thousand entries, the
// entries per input byte so far and the bytes left estimate the final
// length (with 1/8 to spare), so a large pickle's memo is copied about
// once instead of at every doubling. Every further entry needs at least
// one byte of input (MEMOIZE), which bounds the estimate.
func (s *decState) growMemo() {
	n := len(s.memo)
	c := max(16, 2*n)
	if n >= 1<<12 && s.pos > 0 {
		left := len(s.data) - s.pos
		est := n + int(int64(n)*int64(left)/int64(s.pos))
		c = max(c, min(est+est/8, n+left))
	}
	grown := make([]any, n, c)
	copy(grown, s.memo)
	s.memo = grown
}

func (s *decState) memoGet(idx uint64) error {
	var v any
	if idx < uint64(len(s.memo)) {
		v = s.memo[idx]
	} else if sv, ok := s.memoSparse[idx]; ok {
		v = sv
	} else {
		return s.errf("Memo value not found at index %d", idx)
	}
	if typeWord(v) != stringWord {
		s.pushedAgain(v)
	}
	return s.push(v)
}

// memoReplaced notes a memo entry that a PUT replaced: an empty list
// there may be shared, and finish would no longer find it in the memo
// (ownEmptyLists), so the final pass gives it its array.
func (s *decState) memoReplaced(old any) {
	if typeWord(old) == listWord && cap(listOf(old).items) == 0 {
		s.slow, s.heights = true, false
	}
}

// shareList notes that a list is in the memo (or on the stack twice).
func (s *decState) shareList(l *listBox) {
	if l.walk.state&listShared == 0 {
		l.walk.state |= listShared
		if cap(l.items) == 0 {
			s.emptyMemo++
		}
	}
}

// pushedAgain notes that v, already decoded, is pushed a second time (memo
// get): a tuple may then be met twice in the final pass, and a container's
// height may change after a parent read it (it may get items, even
// itself), so heights are left to the final pass.
func (s *decState) pushedAgain(v any) {
	switch x := v.(type) {
	case nil, int64, float64, bool, []byte, Global, Ext, *big.Int:
		return
	case Tuple:
		if len(x) == 0 {
			return
		}
		s.tupleShared = true
	}
	if s.heights {
		s.slow, s.heights = true, false
	}
}

// heightOf returns the height of a value whose items are all added: 0 for
// a leaf (and the empty tuple), 1 for an empty container. A tuple's is computed from its items
// (a tuple is reached once only while heights are kept: pushedAgain); a
// tuple in a tuple, or an instance, leaves heights to the final pass.
func (s *decState) heightOf(v any) int32 {
	e := (*eface)(unsafe.Pointer(&v))
	switch e.typ {
	case stringWord, int64Word, float64Word, nil:
		return 0
	case listWord:
		return (*listBox)(e.data).walk.height + 1
	case dictWord:
		return (*Dict)(e.data).walk.height + 1
	}
	return s.heightOther(v)
}

func (s *decState) heightOther(v any) int32 {
	switch x := v.(type) {
	case bool, []byte, Global, Ext, *big.Int, ByteArray:
		return 0
	case *FrozenSet:
		return x.walk.height + 1
	case *Set:
		return x.walk.height + 1
	case Tuple:
		if len(x) == 0 {
			return 0 // a leaf (walkTuple)
		}
		h := int32(0)
		for _, it := range x {
			if t, ok := it.(Tuple); ok && len(t) > 0 {
				s.slow, s.heights = true, false
				return 0
			}
			h = max(h, s.heightOf(it))
		}
		return h + 1
	}
	s.slow, s.heights = true, false
	return 0
}

// maxHeight is the greatest height of items (heightOf, with the common
// types first and inline).
func (s *decState) maxHeight(items []any) int32 {
	h := int32(0)
	for i := range items {
		e := (*eface)(unsafe.Pointer(&items[i]))
		switch e.typ {
		case stringWord, int64Word, float64Word, boolWord, nil:
		case listWord:
			h = max(h, (*listBox)(e.data).walk.height+1)
		case dictWord:
			h = max(h, (*Dict)(e.data).walk.height+1)
		default:
			h = max(h, s.heightOther(items[i]))
		}
	}
	return h
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
	if n > 8 {
		if err := s.charge(uintptr(2 * n)); err != nil {
			return err
		}
	}
	return s.push(s.decodeLong(b))
}

// decodeLong decodes a little-endian two's-complement integer.
func (s *decState) decodeLong(b []byte) any {
	n := len(b)
	if n == 0 {
		return int64(0)
	}
	if n <= 8 {
		return s.boxInt(decodeLong64(b))
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
	var b []byte
	if pos := s.pos; n <= uint64(len(s.data)-pos) {
		// There already (take, inline).
		b = s.data[pos : pos+int(n)]
		s.pos = pos + int(n)
	} else {
		var err error
		if b, err = s.take(n); err != nil {
			return err
		}
	}
	if len(b) > 8 && len(b) < copyWTF8Max {
		v, ok := s.boxValidStr(b)
		if !ok {
			return s.errf("'utf-8' codec can't decode the str argument")
		}
		return s.push(v)
	}
	if !validPyUTF8(b) {
		return s.errf("'utf-8' codec can't decode the str argument")
	}
	v := s.boxStr(b)
	if s.tryPush(v) {
		return nil
	}
	return s.push(v)
}

func (s *decState) loadBytes(n uint64, array bool) error {
	b, err := s.take(n)
	if err != nil {
		return err
	}
	if !array && len(b) > 0 && s.m.aliasBytes && s.src == nil {
		// DecOptions.AliasBytes: the input is the caller's to give.
		return s.push(s.boxBytes(b[:len(b):len(b)]))
	}
	if err := s.charge(uintptr(len(b))); err != nil {
		return err
	}
	if array {
		return s.push(newByteArray(b))
	}
	c := bytes.Clone(b) // no zeroing of the new array before the copy
	if c == nil {
		c = []byte{}
	}
	return s.push(s.boxBytes(c))
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
		return s.push(s.boxInt(v))
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
	if strings.ContainsAny(s, "xX_") {
		// Hex floats and digit separators: strconv reads them (Go
		// syntax), CPython's unpickler does not (PyOS_string_to_double).
		return 0, strconv.ErrSyntax
	}
	if f, ok := parseTiny(s); ok {
		return f, nil
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

// setItems adds the key, value pairs in items to d; at is the input offset
// of their MARK (0 if none).
func (s *decState) setItems(d *Dict, items []any, at int) error {
	if s.heights {
		d.walk.height = max(d.walk.height, s.maxHeight(items))
	}
	// The items are on the stack, so growing by their count is bounded by
	// the input.
	if n := len(items) / 2; d.ents == nil && n >= batchSize {
		// The first of several batches: room for the estimated whole,
		// which also sizes the index (reindex) once instead of growing
		// it table by table.
		c := s.growCap(n, 0, s.batchStart(at, n, n))
		s.alloc += 32 * int64(c)
		d.ents = make([]dictEntry, 0, c)
	} else if d.ents == nil {
		d.ents = s.carveEnts(n)
	} else if n := len(d.ents) + len(items)/2; n > cap(d.ents) {
		// A large dict arrives in batches of 1000 items: growing by each
		// batch would copy it about five times over.
		c := s.growCap(n, cap(d.ents), s.batchStart(at, n, len(items)/2))
		s.alloc += 32 * int64(c)
		grown := make([]dictEntry, len(d.ents), c)
		copy(grown, d.ents)
		d.ents = grown
	}
	s.keys.keep = true
	if d.x == nil && len(d.ents)+len(items)/2 <= smallDict && setShortStrs(d, items) {
		return nil
	}
	for i := 0; i+1 < len(items); i += 2 {
		h, err := s.keys.key(items[i])
		if err != nil {
			return s.errw(err, "dict key")
		}
		d.setHashed(h, items[i], items[i+1])
	}
	return nil
}

// batchStart estimates the input offset where a container of total items
// began, from its last batch of n items whose MARK was at offset at: the
// same bytes per item before (growCap). 0 if unknown.
func (s *decState) batchStart(at, total, n int) int {
	if at <= 0 || n <= 0 || s.pos <= at {
		return 0
	}
	return max(1, s.pos-(s.pos-at)*total/n)
}

// setShortStrs adds the key, value pairs in items to a small dict with
// room for them when every new key is a short str (its own hash key) that
// is neither in d nor repeated: with one copy of the pairs (a dictEntry is
// laid out as two values), where adding them one by one stores each key
// and value, and the slice header, separately (each store a write barrier
// while the collector marks). Otherwise it adds nothing and reports false.
func setShortStrs(d *Dict, items []any) bool {
	for i := 0; i < len(items); i += 2 {
		k := items[i]
		if !isShortStr(k) {
			return false
		}
		ks := *(*string)((*eface)(unsafe.Pointer(&k)).data)
		if len(d.ents) > 0 && d.findStr(ks) >= 0 {
			return false
		}
		for j := 0; j < i; j += 2 {
			// Lengths first: keys of one length are mostly few.
			if t := *(*string)((*eface)(unsafe.Pointer(&items[j])).data); len(t) == len(ks) && t == ks {
				return false
			}
		}
	}
	m := len(d.ents)
	d.ents = d.ents[:m+len(items)/2]
	copyFew(unsafe.Slice((*any)(unsafe.Pointer(unsafe.SliceData(d.ents[m:]))), len(items)), items)
	return true
}

func (s *decState) setItemsOn(items []any, at int) error {
	n := len(s.stack)
	if n <= s.fence {
		return s.underflow()
	}
	t := s.stack[n-1] // top, inline
	switch d := t.(type) {
	case *Dict:
		if err := s.checkLen(d.Len() + len(items)/2); err != nil {
			return err
		}
		return s.setItems(d, items, at)
	case *Object:
		if d.DictItems == nil {
			d.DictItems = s.newDict(0)
		}
		if err := s.checkLen(d.DictItems.Len() + len(items)/2); err != nil {
			return err
		}
		return s.setItems(d.DictItems, items, at)
	}
	return s.errf("SETITEM on %s", pyTypeName(t))
}

// appendTo appends items to the list at the stack top (APPEND, whose
// value was already popped, or APPENDS after its mark).
//
// at is the input offset of the items' MARK (0 if none).
func (s *decState) appendTo(items []any, at int) error {
	n := len(s.stack)
	if n <= s.fence {
		return s.underflow()
	}
	t := s.stack[n-1] // top, inline
	if typeWord(t) == listWord {
		l := listOf(t)
		if err := s.checkLen(len(l.items) + len(items)); err != nil {
			return err
		}
		if s.heights {
			l.walk.height = max(l.walk.height, s.maxHeight(items))
		}
		if cap(l.items) == 0 && len(items) > 0 {
			if l.walk.state&listShared != 0 {
				s.emptyMemo--
			}
			if len(items) < batchSize {
				l.items = s.carveAny(len(items))
				copyFew(l.items, items)
				return nil
			}
		}
		l.items = s.appendItems(l, items, at)
		return nil
	}
	switch l := t.(type) {
	case *Object:
		if err := s.checkLen(len(l.ListItems) + len(items)); err != nil {
			return err
		}
		l.ListItems = appendDoubling(l.ListItems, items)
		return nil
	}
	return s.errf("APPEND to %s", pyTypeName(t))
}

// appendItems appends to a list: past a full batch, the bytes per item so
// far and the bytes left estimate the final length (with 1/8 to spare;
// at least ×1.25, at most ×16 at a time), so a long list is copied about
// once.
func (s *decState) appendItems(l *listBox, items []any, at int) []any {
	dst := l.items
	n := len(dst) + len(items)
	if n <= cap(dst) {
		return append(dst, items...)
	}
	c := s.growCap(n, cap(dst), s.batchStart(at, n, len(items)))
	s.alloc += 16 * int64(c)
	grown := make([]any, len(dst), c)
	copy(grown, dst)
	return append(grown, items...)
}

// growCap is the new capacity of a list or dict that must hold n items
// (the last of them read already) in place of room for c, begun at input
// offset start: from a full batch on, the bytes per item so far and the
// bytes left estimate the final length (with 1/8 to spare; at least ×1.25,
// at most ×16 at a time, and c 0 counts as 1000); before that, or without
// an offset, it doubles.
func (s *decState) growCap(n, c, start int) int {
	if read := s.pos - start; start > 0 && n >= batchSize && read > 0 {
		c = max(c, batchSize)
		est := n + int(int64(len(s.data)-s.pos)*int64(n)/int64(read))
		return max(n, min(max(est+est/8+16, c+c/4), 16*c))
	}
	return max(n, 2*c)
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
			case []any:
				items = a
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

// finish completes a decoded value: empty lists in the memo get arrays of
// their own, and MaxDepth is checked from the heights kept while decoding
// (or cannot be passed). Only a value that needs it (slow) gets the final
// pass, which also checks nesting depth and makes registered classes their
// Go types.
func (s *decState) finish(v any) (any, error) {
	if s.heights && !s.slow {
		if int(s.heightOf(v)) > s.m.maxDepth {
			return nil, s.depthErr()
		}
	}
	if s.slow {
		out, _, err := s.walk(v, 0, false)
		return out, err
	}
	if s.emptyMemo > 0 {
		s.ownEmptyLists()
	}
	return v, nil
}

// ownEmptyLists gives each empty list in the memo an array of its own: a
// list that may be shared has an identity (what Marshal memoizes by).
func (s *decState) ownEmptyLists() {
	own := func(v any) {
		if typeWord(v) == listWord {
			if l := listOf(v); cap(l.items) == 0 {
				l.items = make([]any, 0, 1)
			}
		}
	}
	for _, v := range s.memo {
		own(v)
	}
	for _, v := range s.memoSparse {
		own(v)
	}
}

func (s *decState) depthErr() error {
	return &SyntaxError{Offset: int64(s.pos), Op: opStop, Msg: fmt.Sprintf("value nested deeper than MaxDepth (%d)", s.m.maxDepth), Err: ErrLimit}
}

// walk finalizes v found at nesting depth depth; it returns the value to
// store in place of v and the height of v's subtree. inKey disables
// conversions inside hashed values (their hash must not change).
func (s *decState) walk(v any, depth int, inKey bool) (any, int, error) {
	switch x := v.(type) {
	case []any:
		return s.walkList(listOf(v), depth, inKey)
	case Tuple:
		h, err := s.walkTuple(x, depth, inKey)
		return v, h, err
	case *Dict:
		h, err := s.walkDict(x, depth, inKey)
		return v, h, err
	case *Set:
		h, err := s.walkSet(&x.walk, &x.hs, depth)
		return v, h, err
	case *FrozenSet:
		h, err := s.walkSet(&x.walk, &x.hs, depth)
		return v, h, err
	case *Object:
		return s.walkObject(x, depth, inKey)
	case *PythonError:
		h, err := s.walkError(x, depth, inKey)
		return v, h, err
	}
	return v, 0, nil
}

// walkList turns a list box into its []any.
func (s *decState) walkList(x *listBox, depth int, inKey bool) (any, int, error) {
	shared := x.walk.state&listShared != 0
	x.walk.state &^= listShared // the first visit: the pass's states follow
	if h, done, err := s.enter(&x.walk, depth); done || err != nil {
		return x.asList(), h, err
	}
	if cap(x.items) == 0 {
		if shared {
			x.items = make([]any, 0, 1) // distinct identity for a shared empty list
		} else {
			x.items = []any{}
		}
	}
	h, err := s.walkSlice(x.items, depth+1, inKey)
	if err != nil {
		return nil, 0, err
	}
	x.walk.state, x.walk.height = 2, int32(h+1)
	return x.asList(), h + 1, nil
}

// asList returns the list's items as a []any value, boxed in place: the
// header does not change after the final pass.
func (x *listBox) asList() any { return boxAt(listWord, unsafe.Pointer(&x.items)) }

func (s *decState) walkTuple(x Tuple, depth int, inKey bool) (int, error) {
	if len(x) == 0 {
		// A leaf (Python's empty tuple is a singleton): not checked
		// against MaxDepth where it is, so it adds no height.
		return 0, nil
	}
	if !s.tupleShared {
		// Reached once only: no bookkeeping needed.
		if depth >= s.m.maxDepth {
			return 0, s.depthErr()
		}
		h, err := s.walkSlice(x, depth+1, inKey)
		return h + 1, err
	}
	if s.tuples == nil {
		s.tuples = make(map[*any]int)
	}
	key := &x[0]
	if h, ok := s.tuples[key]; ok {
		if h < 0 {
			return 0, nil
		}
		if depth+h > s.m.maxDepth {
			return 0, s.depthErr()
		}
		return h, nil
	}
	if depth >= s.m.maxDepth {
		return 0, s.depthErr()
	}
	s.tuples[key] = -1
	h, err := s.walkSlice(x, depth+1, inKey)
	if err != nil {
		return 0, err
	}
	s.tuples[key] = h + 1
	return h + 1, nil
}

func (s *decState) walkDict(x *Dict, depth int, inKey bool) (int, error) {
	if h, done, err := s.enter(&x.walk, depth); done || err != nil {
		return h, err
	}
	h := 0
	for i := range x.ents {
		e := &x.ents[i]
		if isLeaf(e.k) && isLeaf(e.v) {
			continue
		}
		_, kh, err := s.walk(e.k, depth+1, true)
		if err != nil {
			return 0, err
		}
		nv, vh, err := s.walk(e.v, depth+1, inKey)
		if err != nil {
			return 0, err
		}
		e.v = nv
		h = max(h, kh, vh)
	}
	x.walk.state, x.walk.height = 2, int32(h+1)
	return h + 1, nil
}

func (s *decState) walkSet(w *walkInfo, hs *hashSet, depth int) (int, error) {
	if h, done, err := s.enter(w, depth); done || err != nil {
		return h, err
	}
	h, err := s.walkHashed(hs, depth+1)
	if err != nil {
		return 0, err
	}
	w.state, w.height = 2, int32(h+1)
	return h + 1, nil
}

// walkObject finalizes an instance's parts, then makes it a value of its
// registered Go type, if any.
func (s *decState) walkObject(x *Object, depth int, inKey bool) (any, int, error) {
	if h, done, err := s.enter(&x.walk, depth); done || err != nil {
		return x, h, err
	}
	var a any = x.Args
	h, err := s.walkParts(depth+1, inKey, &x.CallableValue, &a, dictPart(x.Kwargs), &x.State)
	if err != nil {
		return nil, 0, err
	}
	x.Args = a.(Tuple)
	if x.ListItems != nil {
		hh, err := s.walkSlice(x.ListItems, depth+1, inKey)
		if err != nil {
			return nil, 0, err
		}
		h = max(h, hh)
	}
	hh, err := s.walkParts(depth+1, inKey, dictPart(x.DictItems))
	if err != nil {
		return nil, 0, err
	}
	h = max(h, hh)
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
	return x, h + 1, nil
}

// dictPart is a *Dict part of an instance for walkParts (nil if none).
func dictPart(d *Dict) *any {
	if d == nil {
		return nil
	}
	var v any = d
	return &v
}

// walkParts finalizes the non-nil values that parts point to, in place,
// and returns their greatest height.
func (s *decState) walkParts(depth int, inKey bool, parts ...*any) (int, error) {
	h := 0
	for _, p := range parts {
		if p == nil || *p == nil {
			continue
		}
		nv, hh, err := s.walk(*p, depth, inKey)
		if err != nil {
			return 0, err
		}
		*p = nv
		h = max(h, hh)
	}
	return h, nil
}

func (s *decState) walkError(x *PythonError, depth int, inKey bool) (int, error) {
	if h, done, err := s.enter(&x.walk, depth); done || err != nil {
		return h, err
	}
	var a any = x.Args
	h, err := s.walkParts(depth+1, inKey, &a, &x.State)
	if err != nil {
		return 0, err
	}
	x.Args = a.(Tuple)
	x.walk.state, x.walk.height = 2, int32(h+1)
	return h + 1, nil
}

// enter handles a container already seen (done=true: its height, or 0
// while it is being walked) or checks the depth and marks it in progress.
func (s *decState) enter(w *walkInfo, depth int) (int, bool, error) {
	switch w.state {
	case 2:
		if depth+int(w.height) > s.m.maxDepth {
			return 0, true, s.depthErr()
		}
		return int(w.height), true, nil
	case 1:
		return 0, true, nil
	}
	if depth >= s.m.maxDepth {
		return 0, true, s.depthErr()
	}
	w.state = 1
	return 0, false, nil
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
