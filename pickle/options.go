package pickle

import (
	"fmt"
	"io"
)

// Default decoder limits (DecOptions fields left at 0 take these values).
const (
	DefaultMaxDepth        = 10000    // nesting of containers in the decoded value
	DefaultMaxMemo         = 1 << 24  // memo entries
	DefaultMaxContainerLen = 1 << 26  // elements of one list, tuple, dict, set
	DefaultMaxLongDigits   = 4300     // decimal digits of a text INT/LONG, as CPython's sys.get_int_max_str_digits()
	DefaultMaxObjects      = 1 << 27  // values created by one decode, including typed conversion
	DefaultMaxInput        = 1 << 31  // bytes of one pickle read by a streaming Decoder
	DefaultMaxLongBytes    = 1 << 20  // bytes of one LONG1/LONG4 two's-complement integer
	DefaultMaxAlloc        = 64 << 20 // bytes one decode may allocate, plus DefaultAllocPerByte per input byte
	DefaultAllocPerByte    = 64       // see DefaultMaxAlloc
	defaultEncMaxDepth     = 100000   // encoder recursion guard
	frameSizeTarget        = 64 << 10 // CPython's _FRAME_SIZE_TARGET
	frameSizeMin           = 4        // CPython's _FRAME_SIZE_MIN
	batchSize              = 1000     // CPython's _BATCHSIZE
	highestProtocol        = 5
	defaultProtocol        = 4
)

// DecOptions configures decoding. The zero value gives the safe defaults
// (DefaultMaxDepth etc.). A negative limit means "no limit" — only for
// trusted input.
type DecOptions struct {
	// MaxDepth bounds the nesting of containers (list, tuple, dict, set,
	// object) in the decoded value.
	MaxDepth int
	// MaxMemo bounds the number of memo entries (PUT/BINPUT/MEMOIZE).
	MaxMemo int
	// MaxContainerLen bounds the number of elements of one container.
	MaxContainerLen int
	// MaxLongDigits bounds the decimal digits of a protocol-0 INT/LONG
	// (CPython refuses more than 4300 digits).
	MaxLongDigits int
	// MaxLongBytes bounds the length of a binary LONG1/LONG4 integer.
	MaxLongBytes int
	// MaxObjects bounds the number of values one decode creates (stack
	// pushes, plus Go values made by typed conversion), the guard against
	// "billion laughs" pickles whose shared references expand when copied
	// into typed Go values.
	MaxObjects int
	// MaxAlloc bounds the bytes that decoding one pickle may allocate for
	// its result: the generic value (its boxes, strings, lists, dicts,
	// bytes, big ints) and what storing it into a typed Go value makes
	// (slices, maps, pointers, copies), the guard against "billion laughs"
	// pickles: a list shared many times over costs nothing in the pickle
	// and stays shared in generic values and in slices, but is copied once
	// per reference into arrays or struct values (x = ['x'*10]; x = [x]*100
	// four times is < 1 KB and 10^8 strings as [][100][100][100][1]string).
	// 0 means DefaultMaxAlloc plus DefaultAllocPerByte for every byte of
	// the pickle (a value whose Go form is at most 64 times its pickle
	// always fits); a positive value is the whole budget. Exceeding it
	// fails with a *LimitError (Limit "MaxAlloc"), wrapped in a
	// *SyntaxError when the generic value itself is over budget.
	MaxAlloc int64
	// MaxInput bounds the size in bytes of one pickle read by a Decoder
	// (Unmarshal's input is already in memory and is not limited).
	MaxInput int64
	// BinaryStrings makes protocol-0/1/2 STRING/BINSTRING/SHORT_BINSTRING
	// (Python 2 str) decode as []byte. By default they decode as string when
	// they are ASCII, and as []byte otherwise.
	BinaryStrings bool
	// AliasBytes makes Unmarshal return the bytes values (BINBYTES,
	// SHORT_BINBYTES, BINBYTES8) of generic results (any) as slices of
	// its input instead of copies: no allocation and no copy per bytes value, which is most of
	// the cost of decoding a large one. The caller must then leave the
	// input unchanged, and its memory unused, for as long as any decoded
	// value is in use. Use it only for a buffer handed to this one decode
	// (a frame received into memory of its own), never for data the caller
	// reuses. The slices' capacity is their length, so appending to one
	// copies it. bytearray values, and everything a Decoder reads (its
	// buffer is reused), are always copies.
	AliasBytes bool
}

type decMode struct {
	maxDepth, maxMemo, maxContainer, maxLongDigits, maxLongBytes, maxObjects int
	maxInput, maxAlloc                                                       int64
	binaryStrings                                                            bool
	aliasBytes                                                               bool
	// genericOnly turns the typed decoder off (tests compare it with the
	// generic path and converter.go).
	genericOnly bool
}

// allocLimit is the MaxAlloc budget for a pickle of n bytes.
func (m *decMode) allocLimit(n int) int64 {
	if m.maxAlloc != 0 {
		return m.maxAlloc
	}
	return DefaultMaxAlloc + DefaultAllocPerByte*int64(n)
}

func lim(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return int(^uint(0) >> 1)
	}
	return v
}

// DecMode returns an immutable decoding mode, safe for concurrent use.
func (o DecOptions) DecMode() (DecMode, error) {
	m := &decMode{
		maxDepth:      lim(o.MaxDepth, DefaultMaxDepth),
		maxMemo:       lim(o.MaxMemo, DefaultMaxMemo),
		maxContainer:  lim(o.MaxContainerLen, DefaultMaxContainerLen),
		maxLongDigits: lim(o.MaxLongDigits, DefaultMaxLongDigits),
		maxLongBytes:  lim(o.MaxLongBytes, DefaultMaxLongBytes),
		maxObjects:    lim(o.MaxObjects, DefaultMaxObjects),
		maxInput:      o.MaxInput,
		maxAlloc:      o.MaxAlloc,
		binaryStrings: o.BinaryStrings,
		aliasBytes:    o.AliasBytes,
	}
	if m.maxAlloc < 0 {
		m.maxAlloc = int64(^uint64(0) >> 1)
	}
	switch {
	case m.maxInput == 0:
		m.maxInput = DefaultMaxInput
	case m.maxInput < 0:
		m.maxInput = int64(^uint64(0) >> 1)
	}
	return m, nil
}

// DecMode is an immutable decoding configuration; its methods are safe for
// concurrent use.
type DecMode interface {
	// Unmarshal decodes one pickle from data into v (see Unmarshal).
	Unmarshal(data []byte, v any) error
	// NewDecoder returns a Decoder reading pickles from r.
	NewDecoder(r io.Reader) *Decoder
}

// EncOptions configures encoding.
type EncOptions struct {
	// Protocol is the pickle protocol, 0–5; 0 means the default, 4 (what
	// Python 3.8–3.13 send()). Use ProtocolZero for protocol 0. Protocols
	// 0 and 1 write big ints as decimal text: an int of more than 4300
	// digits fails with *UnsupportedValueError, as pickle.dumps raises
	// ValueError.
	Protocol int
	// ProtocolZero selects protocol 0 (the text protocol) when Protocol is 0.
	ProtocolZero bool
	// MaxDepth bounds the nesting of the value being encoded (default
	// 100000); deeper values, and cycles through values that a pickle cannot
	// express (e.g. a Marshaler that returns a new value each time), fail
	// with *UnsupportedValueError instead of exhausting the stack.
	MaxDepth int
	// NoFrames disables FRAME opcodes in protocol 4 and 5 (Python reads
	// either).
	NoFrames bool
}

type encMode struct {
	proto    int
	maxDepth int
	frames   bool
}

// EncMode returns an immutable encoding mode, safe for concurrent use.
func (o EncOptions) EncMode() (EncMode, error) {
	p := o.Protocol
	if p == 0 && !o.ProtocolZero {
		p = defaultProtocol
	}
	if p < 0 || p > highestProtocol {
		return nil, fmt.Errorf("pickle: unsupported protocol %d (want 0–%d)", o.Protocol, highestProtocol)
	}
	return &encMode{proto: p, maxDepth: lim(o.MaxDepth, defaultEncMaxDepth), frames: p >= 4 && !o.NoFrames}, nil
}

// EncMode is an immutable encoding configuration; its methods are safe for
// concurrent use.
type EncMode interface {
	// Marshal returns the pickle of v.
	Marshal(v any) ([]byte, error)
	// AppendMarshal appends the pickle of v to dst (for frame writers that
	// reserve a header first).
	AppendMarshal(dst []byte, v any) ([]byte, error)
	// NewEncoder returns an Encoder writing to w.
	NewEncoder(w io.Writer) *Encoder
}

var (
	defaultDecMode, _ = DecOptions{}.DecMode()
	defaultEncMode, _ = EncOptions{}.EncMode()
)
