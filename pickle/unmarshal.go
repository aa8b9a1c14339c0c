package pickle

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"sync"
)

// Unmarshal decodes one pickle (protocols 0–5) from data and stores the
// result in the value pointed to by v, with the default limits. Bytes after
// STOP are ignored, as pickle.loads does.
//
// With v of type *any the result is a generic value (see the package
// documentation for the type table); otherwise the value is stored like
// encoding/json does: structs from str-keyed dicts, maps, slices, arrays,
// sized integers with overflow checks, time.Time from datetime.datetime,
// time.Duration from datetime.timedelta, big.Int, []byte, registered
// classes and Unmarshaler. Plain data is read straight into a zero target
// (or a slice) without a generic value in between (see the package
// documentation).
func Unmarshal(data []byte, v any) error { return defaultDecMode.Unmarshal(data, v) }

// Unmarshal decodes one pickle from data into v (see the package-level
// Unmarshal).
func (m *decMode) Unmarshal(data []byte, v any) error {
	rv, err := checkTarget(v)
	if err != nil {
		return err
	}
	// A pooled state is zero but for its slabs (it is reset before Put).
	s := statePool.Get().(*decState)
	s.m, s.data = m, data
	s.borrow()
	err = s.decodeInto(v, rv)
	s.giveBack()
	sl := s.slabs.carry(len(data))
	*s = decState{}
	s.slabs = sl
	statePool.Put(s)
	return err
}

// statePool holds decoders' states between Unmarshal calls: a decState
// moved to the heap for every small pickle, and the tails of its slabs
// (which would otherwise be dropped after each decode), cost a manager
// server's call more than decoding its request does.
var statePool = sync.Pool{New: func() any { return new(decState) }}

// Decoding scratch space (stack, marks, memo) is reused across decodes:
// most pickles are small messages, and growing these from nothing each
// time costs more than decoding them.
type decScratch struct {
	stack []any
	marks []mark
	memo  []any
}

var scratchPool = sync.Pool{New: func() any {
	return &decScratch{stack: make([]any, 0, 64), marks: make([]mark, 0, 16), memo: make([]any, 0, 64)}
}}

func (s *decState) borrow() {
	sc := scratchPool.Get().(*decScratch)
	s.scratch = sc
	s.stack, s.marks, s.memo = sc.stack[:0], sc.marks[:0], sc.memo[:0]
}

func (s *decState) giveBack() {
	// A large stack is not kept: clearing it whole after every small
	// pickle would cost more than a large pickle pays to grow its own.
	// The memo is cleared only as far as it was used, and is kept up to
	// 1 MiB: a large pickle's memo is otherwise a fresh allocation of
	// about a tenth of its value, every time.
	const keep, keepMemo = 1 << 12, 1 << 16
	if cap(s.stack) > keep || cap(s.memo) > keepMemo || cap(s.marks) > keep {
		return
	}
	s.clearScratch()
	sc := s.scratch
	sc.stack, sc.marks, sc.memo = s.stack[:0], s.marks[:0], s.memo[:0]
	scratchPool.Put(sc)
	s.stack, s.marks, s.memo, s.scratch = nil, nil, nil, nil
}

// clearScratch drops the references in the stack and memo so that, pooled,
// they keep no decoded values alive (the memo only grows; the stack may
// have been longer than it is now). Slots above the highest length the
// stack had in this decode are nil already (cleared before the scratch was
// pooled, or never written), and clearing each slot is a write barrier
// while the collector marks.
func (s *decState) clearScratch() {
	clear(s.stack[:max(s.stackHigh, len(s.stack))])
	clear(s.memo)
}

func checkTarget(v any) (reflect.Value, error) {
	if _, ok := v.(*any); ok {
		if v.(*any) == nil {
			return reflect.Value{}, &InvalidUnmarshalError{reflect.TypeOf(v)}
		}
		return reflect.Value{}, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return rv, &InvalidUnmarshalError{reflect.TypeOf(v)}
	}
	return rv, nil
}

func (s *decState) decodeInto(v any, rv reflect.Value) error {
	_, generic := v.(*any)
	s.typed = !generic
	if !generic && !s.m.genericOnly {
		if err := s.decodeTyped(rv); err != errFallback {
			return err
		}
	}
	// A pickle no longer than MaxDepth cannot nest deeper (every
	// container takes an opcode); a stream's length is not known.
	s.heights = len(s.data) > s.m.maxDepth || s.src != nil
	val, err := s.run()
	if err != nil {
		return err
	}
	val, err = s.finish(val)
	if err != nil {
		return err
	}
	if p, ok := v.(*any); ok {
		*p = val
		return nil
	}
	c := converter{s: s}
	return c.assign(rv.Elem(), val)
}

// A Decoder reads pickles one after another from a stream, like
// pickle.Unpickler.load. It reads in bounded chunks (never allocating a
// length claimed by the input before the bytes arrive) and may read past
// the end of a pickle; Buffered returns what it has read but not used. A
// Decoder is not safe for concurrent use.
type Decoder struct {
	r     io.Reader
	m     *decMode
	buf   []byte
	start int // first unused byte of buf
	err   error
}

// NewDecoder returns a Decoder reading from r with the default limits.
func NewDecoder(r io.Reader) *Decoder { return defaultDecMode.NewDecoder(r) }

// NewDecoder returns a Decoder reading from r with this mode's limits.
func (m *decMode) NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r, m: m} }

// Decode reads the next pickle (up to and including STOP) and stores it in
// v like Unmarshal. At a clean end of input (no byte of a new pickle) it
// returns io.EOF; input ending inside a pickle gives a *SyntaxError
// wrapping ErrTruncated.
func (d *Decoder) Decode(v any) error {
	rv, err := checkTarget(v)
	if err != nil {
		return err
	}
	if d.start > 0 && d.start >= len(d.buf)/2 {
		n := copy(d.buf, d.buf[d.start:])
		d.buf = d.buf[:n]
		d.start = 0
	}
	if len(d.buf)-d.start == 0 {
		if err := d.fill(1); err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return err
		}
	}
	// The pooled state, as Unmarshal's (a stream of small messages shares
	// slabs too).
	s := statePool.Get().(*decState)
	s.m, s.data, s.src = d.m, d.buf[d.start:], d
	s.borrow()
	err = s.decodeInto(v, rv)
	s.giveBack()
	n := s.pos
	sl := s.slabs.carry(n)
	*s = decState{}
	s.slabs = sl
	statePool.Put(s)
	// On error the rest of the pickle is unusable: drop what was read.
	if err != nil {
		d.start = len(d.buf)
		return err
	}
	d.start += n
	return nil
}

// Buffered returns the data read from the underlying reader but not yet
// decoded.
func (d *Decoder) Buffered() io.Reader { return bytes.NewReader(d.buf[d.start:]) }

// fill reads at least n more bytes into d.buf. The buffer grows by at most
// its current size (or 64 KiB) per step, so memory follows the data that
// actually arrives.
func (d *Decoder) fill(n int) error {
	if d.err != nil {
		return d.err
	}
	got := 0
	for got < n {
		if len(d.buf) == cap(d.buf) {
			grow := max(min(n-got, max(cap(d.buf), 64<<10)), 4096)
			d.buf = slices.Grow(d.buf, grow)
		}
		k, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+k]
		got += k
		if err != nil {
			d.err = err
			if got >= n {
				return nil
			}
			return err
		}
	}
	return nil
}
