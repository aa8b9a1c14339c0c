package sharedmem

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mpwire/mpwire/pickle"
)

// Layout is the binary layout of a ShareableList, which changed in CPython
// 3.9 (docs/spec.md#shareablelist). Both start with the item count N (int64) and end with
// N 8-byte struct format strings and N back-transform codes; they differ in
// the header after N.
type Layout int

const (
	// LayoutAuto means: when opening, recognise the layout from the header
	// (a 3.9+ header's first offset is always 0, a 3.8 header's first
	// allocated size never is); when creating, Layout39.
	LayoutAuto Layout = iota
	// Layout38 is CPython 3.8's: N int64 allocated sizes, one per item.
	Layout38
	// Layout39 is CPython 3.9+'s: N+1 int64 cumulative offsets from the
	// start of the data area.
	Layout39
)

// String names the layout.
func (l Layout) String() string {
	switch l {
	case LayoutAuto:
		return "auto"
	case Layout38:
		return "3.8"
	case Layout39:
		return "3.9+"
	}
	return "Layout(" + strconv.Itoa(int(l)) + ")"
}

// LayoutFor returns the layout CPython major.minor reads and writes.
func LayoutFor(major, minor int) Layout {
	if major == 3 && minor <= 8 {
		return Layout38
	}
	return Layout39
}

// Struct formats and back-transform codes of ShareableList slots.
const (
	fmtInt   = "q"
	fmtFloat = "d"
	fmtBool  = "xxxxxxx?"
	fmtNone  = "xxxxxx?x"

	codeAsIs  = 0
	codeStr   = 1
	codeBytes = 2
	codeNone  = 3

	slotAlign = 8
)

// globalShareableList is multiprocessing.shared_memory.ShareableList.
var globalShareableList = pickle.Global{Module: "multiprocessing.shared_memory", Name: "ShareableList"}

// globalPartial is functools.partial, which ShareableList pickles through.
var globalPartial = pickle.Global{Module: "functools", Name: "partial"}

// ShareableList mirrors multiprocessing.shared_memory.ShareableList: a
// fixed-length list of int, float, bool, str, bytes and None values packed
// into a SharedMemory segment that Python processes open by name.
//
// Go values: int64 (any Go integer type is accepted by Set, if it fits),
// float64 (float32 accepted), bool, string, []byte and nil. As in Python,
// str and bytes slots keep the capacity they were created with (a multiple
// of 8 bytes) and trailing NUL bytes are lost on read.
//
// The methods are safe for concurrent use by goroutines; like Python's, a
// ShareableList does no locking between processes.
type ShareableList struct {
	mu  sync.Mutex
	shm *SharedMemory
	v   *listView
}

// listView is a validated view of a ShareableList's header. Counts and
// offsets are read once (as Python does); formats and codes are re-read
// and re-validated on every access, since other processes change them.
type listView struct {
	buf       []byte
	layout    Layout
	n         int
	offs      []int // n+1 cumulative offsets from dataStart
	dataStart int
	fmtStart  int
	codeStart int
}

func le64(b []byte, off int) int64 { return int64(binary.LittleEndian.Uint64(b[off:])) }

// parseList validates the header of a ShareableList held in buf.
func parseList(buf []byte, layout Layout) (*listView, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("%w: ShareableList of %d bytes has no length", ErrCorrupt, len(buf))
	}
	n64 := le64(buf, 0)
	// Each item needs at least 8 header bytes, 8 format bytes and a code.
	if n64 < 0 || n64 > int64(len(buf))/17 {
		return nil, fmt.Errorf("%w: ShareableList claims %d items in %d bytes", ErrCorrupt, n64, len(buf))
	}
	n := int(n64)
	if layout == LayoutAuto {
		switch {
		case n == 0 && len(buf) >= 16:
			layout = Layout39
		case n == 0:
			layout = Layout38
		case len(buf) >= 16 && le64(buf, 8) == 0:
			layout = Layout39
		default:
			layout = Layout38
		}
	}
	v := &listView{buf: buf, layout: layout, n: n, offs: make([]int, n+1)}
	limit := int64(len(buf))
	switch layout {
	case Layout39:
		v.dataStart = 8 * (n + 2)
		if v.dataStart > len(buf) {
			return nil, fmt.Errorf("%w: ShareableList header of %d items exceeds %d bytes", ErrCorrupt, n, len(buf))
		}
		for i := 0; i <= n; i++ {
			o := le64(buf, 8+8*i)
			if o < 0 || o > limit || (i > 0 && o < int64(v.offs[i-1])) {
				return nil, fmt.Errorf("%w: ShareableList offset %d of item %d is outside the segment or decreasing", ErrCorrupt, o, i)
			}
			v.offs[i] = int(o)
		}
	case Layout38:
		v.dataStart = 8 * (n + 1)
		if v.dataStart > len(buf) {
			return nil, fmt.Errorf("%w: ShareableList header of %d items exceeds %d bytes", ErrCorrupt, n, len(buf))
		}
		sum := int64(0)
		for i := 0; i < n; i++ {
			s := le64(buf, 8+8*i)
			if s < 0 || s > limit-sum {
				return nil, fmt.Errorf("%w: ShareableList size %d of item %d is outside the segment", ErrCorrupt, s, i)
			}
			sum += s
			v.offs[i+1] = int(sum)
		}
	default:
		return nil, fmt.Errorf("sharedmem: unknown ShareableList layout %d", int(layout))
	}
	// dataStart ≤ len and offs[n] ≤ len, so these sums cannot overflow.
	v.fmtStart = v.dataStart + v.offs[n]
	v.codeStart = v.fmtStart + 8*n
	if int64(v.codeStart)+int64(n) > limit {
		return nil, fmt.Errorf("%w: ShareableList of %d items needs %d bytes, segment has %d",
			ErrCorrupt, n, int64(v.codeStart)+int64(n), len(buf))
	}
	return v, nil
}

// slotFormat is a decoded struct format of one slot.
type slotFormat struct {
	kind byte // 'q', 'd', '?' (bool at byte 7), 'n' (None: bool at byte 6), 's'
	size int
	text string
}

func (v *listView) format(i int) (slotFormat, error) {
	raw := v.buf[v.fmtStart+8*i : v.fmtStart+8*i+8]
	s := string(bytes.TrimRight(raw, "\x00"))
	switch s {
	case fmtInt:
		return slotFormat{'q', 8, s}, nil
	case fmtFloat:
		return slotFormat{'d', 8, s}, nil
	case fmtBool:
		return slotFormat{'?', 8, s}, nil
	case fmtNone:
		return slotFormat{'n', 8, s}, nil
	}
	if len(s) >= 2 && s[len(s)-1] == 's' {
		if n, err := strconv.Atoi(s[:len(s)-1]); err == nil && n >= 0 && s[0] != '+' && s[0] != '-' {
			return slotFormat{'s', n, s}, nil
		}
	}
	return slotFormat{}, fmt.Errorf("%w: item %d has unsupported struct format %q", ErrCorrupt, i, s)
}

func (v *listView) index(i int) (int, error) {
	if i < 0 {
		i += v.n
	}
	if i < 0 || i >= v.n {
		return 0, fmt.Errorf("%w: %d (length %d)", ErrIndex, i, v.n)
	}
	return i, nil
}

func (v *listView) get(i int) (any, error) {
	f, err := v.format(i)
	if err != nil {
		return nil, err
	}
	off := v.dataStart + v.offs[i]
	if f.size > len(v.buf)-off {
		return nil, fmt.Errorf("%w: item %d (%s) at %d runs past the segment end %d", ErrCorrupt, i, f.text, off, len(v.buf))
	}
	var raw any
	switch f.kind {
	case 'q':
		raw = le64(v.buf, off)
	case 'd':
		raw = math.Float64frombits(uint64(le64(v.buf, off)))
	case '?':
		raw = v.buf[off+7] != 0
	case 'n':
		raw = v.buf[off+6] != 0
	case 's':
		raw = append([]byte(nil), v.buf[off:off+f.size]...)
	}
	code := int8(v.buf[v.codeStart+i])
	switch code {
	case codeAsIs:
		return raw, nil
	case codeStr:
		b, ok := raw.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: item %d is a str with format %q", ErrCorrupt, i, f.text)
		}
		b = bytes.TrimRight(b, "\x00")
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("%w: item %d is a str that is not valid UTF-8", ErrCorrupt, i)
		}
		return string(b), nil
	case codeBytes:
		b, ok := raw.([]byte)
		if !ok {
			return nil, fmt.Errorf("%w: item %d is bytes with format %q", ErrCorrupt, i, f.text)
		}
		return bytes.TrimRight(b, "\x00"), nil
	case codeNone:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: item %d has back-transform code %d", ErrCorrupt, i, code)
}

// normalize turns a Go value into one of the six ShareableList kinds.
func normalize(x any) (any, error) {
	switch y := x.(type) {
	case nil, bool, int64, float64, string, []byte:
		return y, nil
	case int:
		return int64(y), nil
	case int8:
		return int64(y), nil
	case int16:
		return int64(y), nil
	case int32:
		return int64(y), nil
	case uint8:
		return int64(y), nil
	case uint16:
		return int64(y), nil
	case uint32:
		return int64(y), nil
	case uint:
		if uint64(y) > math.MaxInt64 {
			return nil, fmt.Errorf("%w: %d does not fit a ShareableList int (int64)", ErrRange, y)
		}
		return int64(y), nil
	case uint64:
		if y > math.MaxInt64 {
			return nil, fmt.Errorf("%w: %d does not fit a ShareableList int (int64)", ErrRange, y)
		}
		return int64(y), nil
	case float32:
		return float64(y), nil
	}
	return nil, fmt.Errorf("%w: a ShareableList holds int, float, bool, str, bytes or None, not %T", ErrType, x)
}

// itemFormat is the format Python's ShareableList.__init__ gives an item,
// except that str slots are sized by their UTF-8 length (Python sizes them
// by character count, which silently truncates non-ASCII strings).
func itemFormat(x any) (string, int) {
	switch y := x.(type) {
	case nil:
		return fmtNone, slotAlign
	case bool:
		return fmtBool, slotAlign
	case int64:
		return fmtInt, slotAlign
	case float64:
		return fmtFloat, slotAlign
	case string:
		n := slotAlign * (len(y)/slotAlign + 1)
		return strconv.Itoa(n) + "s", n
	case []byte:
		n := slotAlign * (len(y)/slotAlign + 1)
		return strconv.Itoa(n) + "s", n
	}
	panic("sharedmem: unnormalized value")
}

func recreationCode(x any) byte {
	switch x.(type) {
	case string:
		return codeStr
	case []byte:
		return codeBytes
	case nil:
		return codeNone
	}
	return codeAsIs
}

// putFormat writes the 8-byte NUL-padded format and the code of slot i.
func (v *listView) putFormat(i int, f string, code byte) {
	dst := v.buf[v.fmtStart+8*i : v.fmtStart+8*i+8]
	clear(dst)
	copy(dst, f)
	v.buf[v.codeStart+i] = code
}

// putValue packs a normalized value with format f at data offset off.
func putValue(dst []byte, x any, size int) {
	clear(dst[:size])
	switch y := x.(type) {
	case int64:
		binary.LittleEndian.PutUint64(dst, uint64(y))
	case float64:
		binary.LittleEndian.PutUint64(dst, math.Float64bits(y))
	case bool:
		if y {
			dst[7] = 1
		}
	case string:
		copy(dst[:size], y)
	case []byte:
		copy(dst[:size], y)
	}
}

func textLen(x any) (int, bool) {
	switch y := x.(type) {
	case string:
		return len(y), true
	case []byte:
		return len(y), true
	}
	return 0, false
}

func (v *listView) set(i int, x any) error {
	x, err := normalize(x)
	if err != nil {
		return err
	}
	off := v.dataStart + v.offs[i]
	capacity := v.offs[i+1] - v.offs[i]
	var f string
	size := slotAlign
	n, isText := textLen(x)
	switch {
	case isText:
		if n > capacity {
			return fmt.Errorf("%w: item %d holds %d bytes, got %d", ErrCapacity, i, capacity, n)
		}
		// Python keeps the slot's current "Ns" format; so do we when it is
		// sane (in a list Python or Go wrote, N is the capacity).
		cur, err := v.format(i)
		if err == nil && cur.kind == 's' && n <= cur.size && cur.size <= capacity {
			f, size = cur.text, cur.size
		} else {
			f, size = strconv.Itoa(capacity)+"s", capacity
		}
	default:
		f, _ = itemFormat(x)
		if capacity < slotAlign {
			return fmt.Errorf("%w: item %d has %d bytes, a %T needs 8", ErrCorrupt, i, capacity, x)
		}
	}
	if size > len(v.buf)-off {
		return fmt.Errorf("%w: item %d (%s) at %d runs past the segment end %d", ErrCorrupt, i, f, off, len(v.buf))
	}
	v.putFormat(i, f, recreationCode(x))
	putValue(v.buf[off:], x, size)
	return nil
}

// listSize is the segment size Python's ShareableList.__init__ requests.
func listSize(layout Layout, sizes []int) int {
	n := len(sizes)
	total := 8 + 8*n + n // N, formats, codes
	if layout == Layout39 {
		total += 8 * (n + 1)
	} else {
		total += 8 * n
	}
	for _, s := range sizes {
		total += s
	}
	return total
}

// CreateShareableList creates a segment holding items in the given layout
// (LayoutAuto means Layout39; pick LayoutFor(3, minor) for the Python that
// will open it). An empty name picks a random "psm_" name. As with Create,
// the caller must Unlink the list when every process is done with it.
func CreateShareableList(name string, items []any, layout Layout) (*ShareableList, error) {
	if layout == LayoutAuto {
		layout = Layout39
	}
	if layout != Layout38 && layout != Layout39 {
		return nil, fmt.Errorf("sharedmem: unknown ShareableList layout %d", int(layout))
	}
	norm := make([]any, len(items))
	formats := make([]string, len(items))
	sizes := make([]int, len(items))
	for i, it := range items {
		x, err := normalize(it)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		norm[i] = x
		formats[i], sizes[i] = itemFormat(x)
		if len(formats[i]) > 8 {
			return nil, fmt.Errorf("%w: item %d needs a %s slot (struct format longer than 8 characters)", ErrRange, i, formats[i])
		}
	}
	shm, err := Create(name, listSize(layout, sizes))
	if err != nil {
		return nil, err
	}
	buf := shm.Bytes()
	n := len(items)
	binary.LittleEndian.PutUint64(buf, uint64(n))
	off := 0
	for i, s := range sizes {
		if layout == Layout39 {
			binary.LittleEndian.PutUint64(buf[8+8*i:], uint64(off))
		} else {
			binary.LittleEndian.PutUint64(buf[8+8*i:], uint64(s))
		}
		off += s
	}
	if layout == Layout39 {
		binary.LittleEndian.PutUint64(buf[8+8*n:], uint64(off))
	}
	v, err := parseList(buf, layout)
	if err != nil { // cannot happen: we just wrote it
		shm.Close()
		shm.Unlink()
		return nil, err
	}
	for i, x := range norm {
		v.putFormat(i, formats[i], recreationCode(x))
		putValue(buf[v.dataStart+v.offs[i]:], x, sizes[i])
	}
	return &ShareableList{shm: shm, v: v}, nil
}

// OpenShareableList attaches to the ShareableList in the named segment,
// like ShareableList(name=name), recognising the layout from the header
// (see LayoutAuto).
func OpenShareableList(name string) (*ShareableList, error) {
	return OpenShareableListLayout(name, LayoutAuto)
}

// OpenShareableListLayout is OpenShareableList with a given layout.
func OpenShareableListLayout(name string, layout Layout) (*ShareableList, error) {
	shm, err := Open(name)
	if err != nil {
		return nil, err
	}
	l, err := NewShareableList(shm, layout)
	if err != nil {
		shm.Close()
		return nil, err
	}
	return l, nil
}

// NewShareableList interprets an open segment as a ShareableList. The list
// takes over shm (its Close closes shm).
func NewShareableList(shm *SharedMemory, layout Layout) (l *ShareableList, err error) {
	defer catchFault(&err)
	defer guard()()
	buf := shm.Bytes()
	if buf == nil {
		return nil, errClosed
	}
	v, err := parseList(buf, layout)
	if err != nil {
		return nil, fmt.Errorf("segment %s: %w", shm.Name(), err)
	}
	return &ShareableList{shm: shm, v: v}, nil
}

// catchFault turns a memory fault (another process truncated the segment
// under us) into an error instead of crashing the program.
func catchFault(err *error) {
	if r := recover(); r != nil {
		if re, ok := r.(interface{ Addr() uintptr }); ok {
			*err = fmt.Errorf("%w: memory fault at %#x (segment truncated by another process?)", ErrCorrupt, re.Addr())
			return
		}
		panic(r)
	}
}

// guard enables fault recovery for the calling goroutine; call as
// defer guard()() together with defer catchFault(&err).
func guard() func() {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

func (l *ShareableList) view() (*listView, error) {
	if l.shm.Bytes() == nil {
		return nil, errClosed
	}
	return l.v, nil
}

// Len is len(list).
func (l *ShareableList) Len() int { return l.v.n }

// Layout is the list's layout.
func (l *ShareableList) Layout() Layout { return l.v.layout }

// Get returns item i (negative i counts from the end): an int64, float64,
// bool, string, []byte (a copy) or nil.
func (l *ShareableList) Get(i int) (x any, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer catchFault(&err)
	defer guard()()
	v, err := l.view()
	if err != nil {
		return nil, err
	}
	if i, err = v.index(i); err != nil {
		return nil, err
	}
	return v.get(i)
}

// Set stores x at position i (negative i counts from the end). Any kind may
// replace any other; a string or []byte must fit the slot's capacity
// (ErrCapacity otherwise).
func (l *ShareableList) Set(i int, x any) (err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer catchFault(&err)
	defer guard()()
	v, err := l.view()
	if err != nil {
		return err
	}
	if i, err = v.index(i); err != nil {
		return err
	}
	return v.set(i, x)
}

// Items returns every item (Python: list(sl)).
func (l *ShareableList) Items() (items []any, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer catchFault(&err)
	defer guard()()
	v, err := l.view()
	if err != nil {
		return nil, err
	}
	items = make([]any, v.n)
	for i := range items {
		if items[i], err = v.get(i); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// Capacity is the number of bytes item i was allocated (8 for numbers,
// bool and None; a multiple of 8 for str and bytes).
func (l *ShareableList) Capacity(i int) (int, error) {
	i, err := l.v.index(i)
	if err != nil {
		return 0, err
	}
	return l.v.offs[i+1] - l.v.offs[i], nil
}

// Format is Python's .format: every item's struct format, concatenated.
func (l *ShareableList) Format() (s string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer catchFault(&err)
	defer guard()()
	v, err := l.view()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 0; i < v.n; i++ {
		f, err := v.format(i)
		if err != nil {
			return "", err
		}
		b.WriteString(f.text)
	}
	return b.String(), nil
}

// Count is Python's count(value): the number of items equal to x (with
// Python's numeric equality: 1 == 1.0 == True).
func (l *ShareableList) Count(x any) (int, error) {
	items, err := l.Items()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, it := range items {
		if pyEqual(it, x) {
			n++
		}
	}
	return n, nil
}

// Index is Python's index(value): the first position holding a value equal
// to x, or an ErrIndex error ("not in this container").
func (l *ShareableList) Index(x any) (int, error) {
	items, err := l.Items()
	if err != nil {
		return 0, err
	}
	for i, it := range items {
		if pyEqual(it, x) {
			return i, nil
		}
	}
	return -1, fmt.Errorf("%w: %v not in this container", ErrIndex, x)
}

func pyNumber(x any) (float64, bool) {
	switch y := x.(type) {
	case int64:
		return float64(y), true
	case float64:
		return y, true
	case bool:
		if y {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func pyEqual(a, b any) bool {
	b, err := normalize(b)
	if err != nil {
		return false
	}
	if ai, ok := a.(int64); ok {
		if bi, ok := b.(int64); ok {
			return ai == bi
		}
	}
	if fa, ok := pyNumber(a); ok {
		fb, ok := pyNumber(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return false
}

// SharedMemory is the underlying segment (Python's .shm).
func (l *ShareableList) SharedMemory() *SharedMemory { return l.shm }

// Name is the segment name (Python's .shm.name).
func (l *ShareableList) Name() string { return l.shm.Name() }

// Close unmaps the segment (Python: .shm.close()). Idempotent.
func (l *ShareableList) Close() error { return l.shm.Close() }

// Unlink removes the segment's name (Python: .shm.unlink()).
func (l *ShareableList) Unlink() error { return l.shm.Unlink() }

// String describes the list like Python's repr (items in Go syntax).
func (l *ShareableList) String() string {
	items, err := l.Items()
	if err != nil {
		return fmt.Sprintf("ShareableList(<%v>, name=%q)", err, l.Name())
	}
	return fmt.Sprintf("ShareableList(%v, name=%q)", items, l.Name())
}

// MarshalPickle pickles the list as Python does, by name:
// REDUCE(functools.partial(ShareableList, name=...), ()).
func (l *ShareableList) MarshalPickle() (any, error) {
	kw := pickle.NewDict()
	if err := kw.Set("name", l.Name()); err != nil {
		return nil, err
	}
	partial := &pickle.Object{
		Callable: globalPartial,
		Args:     pickle.Tuple{globalShareableList},
		State:    pickle.Tuple{globalShareableList, pickle.Tuple{}, kw, nil},
	}
	return &pickle.Object{CallableValue: partial, Args: pickle.Tuple{}}, nil
}

// globalRebuildPartial is how multiprocessing's ForkingPickler (spawn
// payloads, Queues, Connection.send) pickles a functools.partial.
var globalRebuildPartial = pickle.Global{Module: "multiprocessing.reduction", Name: "_rebuild_partial"}

// listName returns the segment name held by a decoded pickled ShareableList:
// REDUCE of functools.partial(ShareableList, name=...) with no arguments,
// the partial pickled either by the plain pickler (functools.partial with a
// (func, args, kwds, dict) state) or by multiprocessing's ForkingPickler
// (multiprocessing.reduction._rebuild_partial(func, args, kwds)).
func listName(v any) (string, error) {
	o, ok := v.(*pickle.Object)
	if !ok {
		return "", fmt.Errorf("%w: %s is not a pickled ShareableList", ErrBadState, describe(v))
	}
	p, ok := o.CallableValue.(*pickle.Object)
	if !ok || len(o.Args) != 0 {
		return "", fmt.Errorf("%w: %s is not a pickled ShareableList", ErrBadState, describe(v))
	}
	var parts pickle.Tuple // func, args, kwds
	switch p.Class() {
	case globalPartial:
		st, ok := p.State.(pickle.Tuple)
		if !ok || len(st) != 4 {
			return "", fmt.Errorf("%w: functools.partial state %T", ErrBadState, p.State)
		}
		parts = st[:3]
	case globalRebuildPartial:
		if len(p.Args) != 3 {
			return "", fmt.Errorf("%w: _rebuild_partial with %d arguments", ErrBadState, len(p.Args))
		}
		parts = p.Args
	default:
		return "", fmt.Errorf("%w: %s is not a pickled ShareableList", ErrBadState, describe(p))
	}
	if g, ok := parts[0].(pickle.Global); !ok || g != globalShareableList {
		return "", fmt.Errorf("%w: partial of %v, not ShareableList", ErrBadState, parts[0])
	}
	if args, ok := parts[1].(pickle.Tuple); !ok || len(args) != 0 {
		return "", fmt.Errorf("%w: partial(ShareableList) with positional arguments", ErrBadState)
	}
	kw, ok := parts[2].(*pickle.Dict)
	if !ok {
		return "", fmt.Errorf("%w: partial(ShareableList) keywords %T", ErrBadState, parts[2])
	}
	name, _ := kw.Get("name")
	s, ok := name.(string)
	if !ok {
		return "", fmt.Errorf("%w: partial(ShareableList) without a str name", ErrBadState)
	}
	return checkName(s)
}

// AttachList opens the ShareableList a decoded pickle names.
func AttachList(v any) (*ShareableList, error) {
	name, err := listName(v)
	if err != nil {
		return nil, err
	}
	return OpenShareableList(name)
}
