package sharedmem

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// Kind classifies ctypes simple types.
type Kind int

// The kinds of ctypes simple types sharedctypes uses.
const (
	Signed   Kind = iota + 1 // c_byte, c_short, c_int, c_long, c_longlong
	Unsigned                 // c_ubyte, c_ushort, c_uint, c_ulong, c_ulonglong
	Float                    // c_float, c_double
	Bool                     // c_bool
	Char                     // c_char: one byte, Python bytes of length 1
	WChar                    // c_wchar: a UCS-4 code point on Linux, Python str of length 1
)

// CType is a ctypes simple type as laid out on Linux x86-64 (and other
// 64-bit little-endian Linux targets): its ctypes class name (the GLOBAL a
// pickle names), array typecode, size and kind.
type CType struct {
	Name string // ctypes class, e.g. "c_int"
	Code byte   // sharedctypes typecode ('i'), or '?' for c_bool (not a Python typecode)
	Size int
	Kind Kind
}

// The ctypes types of multiprocessing.sharedctypes.typecode_to_type, plus
// c_bool. c_longlong and c_ulonglong are aliases of c_long and c_ulong on
// 64-bit Linux, so Python pickles Value('q') with GLOBAL ctypes.c_long.
var (
	CChar      = CType{"c_char", 'c', 1, Char}
	CWchar     = CType{"c_wchar", 'u', 4, WChar}
	CByte      = CType{"c_byte", 'b', 1, Signed}
	CUbyte     = CType{"c_ubyte", 'B', 1, Unsigned}
	CShort     = CType{"c_short", 'h', 2, Signed}
	CUshort    = CType{"c_ushort", 'H', 2, Unsigned}
	CInt       = CType{"c_int", 'i', 4, Signed}
	CUint      = CType{"c_uint", 'I', 4, Unsigned}
	CLong      = CType{"c_long", 'l', 8, Signed}
	CUlong     = CType{"c_ulong", 'L', 8, Unsigned}
	CLonglong  = CType{"c_longlong", 'q', 8, Signed}
	CUlonglong = CType{"c_ulonglong", 'Q', 8, Unsigned}
	CFloat     = CType{"c_float", 'f', 4, Float}
	CDouble    = CType{"c_double", 'd', 8, Float}
	CBool      = CType{"c_bool", '?', 1, Bool}
)

var ctypesByCode = map[byte]CType{}

// ctypesByName maps the class names that can appear in a pickle (aliases
// resolve to one class: c_int8 is c_byte, c_int64 and c_longlong are c_long,
// c_size_t is c_ulong, ...) to their types.
var ctypesByName = map[string]CType{}

func init() {
	for _, t := range []CType{CChar, CWchar, CByte, CUbyte, CShort, CUshort, CInt, CUint, CLong, CUlong,
		CLonglong, CUlonglong, CFloat, CDouble, CBool} {
		ctypesByCode[t.Code] = t
		ctypesByName[t.Name] = t
	}
	for alias, t := range map[string]CType{
		"c_int8": CByte, "c_uint8": CUbyte, "c_int16": CShort, "c_uint16": CUshort,
		"c_int32": CInt, "c_uint32": CUint, "c_int64": CLong, "c_uint64": CUlong,
		"c_size_t": CUlong, "c_ssize_t": CLong,
	} {
		ctypesByName[alias] = t
	}
}

// TypeCode returns the ctype for a sharedctypes typecode ("c", "u", "b",
// "B", "h", "H", "i", "I", "l", "L", "q", "Q", "f", "d") or "?" (c_bool).
func TypeCode(code string) (CType, error) {
	if len(code) == 1 {
		if t, ok := ctypesByCode[code[0]]; ok {
			return t, nil
		}
	}
	return CType{}, fmt.Errorf("%w: unknown typecode %q", ErrType, code)
}

// TypeName returns the ctype for a ctypes class name ("c_int", "c_double",
// "c_int64", ...).
func TypeName(name string) (CType, error) {
	if t, ok := ctypesByName[name]; ok {
		return t, nil
	}
	return CType{}, fmt.Errorf("%w: unsupported ctypes type %q", ErrType, name)
}

// String is the ctypes class name.
func (t CType) String() string { return t.Name }

// aligned reports whether p is a multiple of the type's natural alignment,
// which makes 4- and 8-byte accesses single-copy atomic.
func aligned(b []byte, size int) bool { return uintptr(unsafe.Pointer(&b[0]))%uintptr(size) == 0 }

// loadBits reads the raw little-endian bits of one element. 4- and 8-byte
// elements are read with atomic loads (Python's own accesses are plain C
// loads and stores of naturally aligned words, so nothing tears).
func loadBits(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		if aligned(b, 4) {
			return uint64(atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[0]))))
		}
		return uint64(binary.LittleEndian.Uint32(b))
	default:
		if aligned(b, 8) {
			return atomic.LoadUint64((*uint64)(unsafe.Pointer(&b[0])))
		}
		return binary.LittleEndian.Uint64(b)
	}
}

func storeBits(b []byte, size int, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		if aligned(b, 4) {
			atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[0])), uint32(v))
			return
		}
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		if aligned(b, 8) {
			atomic.StoreUint64((*uint64)(unsafe.Pointer(&b[0])), v)
			return
		}
		binary.LittleEndian.PutUint64(b, v)
	}
}

// loadAny decodes one element as Python's .value does: int64 (signed),
// uint64 (unsigned), float64, bool, []byte of length 1 (c_char) or a
// one-rune string (c_wchar).
func loadAny(t CType, b []byte) any {
	bits := loadBits(b, t.Size)
	switch t.Kind {
	case Signed:
		shift := 64 - 8*uint(t.Size)
		return int64(bits<<shift) >> shift
	case Unsigned:
		return bits
	case Float:
		if t.Size == 4 {
			return float64(math.Float32frombits(uint32(bits)))
		}
		return math.Float64frombits(bits)
	case Bool:
		return bits != 0
	case Char:
		return []byte{byte(bits)}
	case WChar:
		return string(rune(uint32(bits)))
	}
	return nil
}

// toBits encodes x for type t, with range checks (Python's ctypes would
// truncate silently; Go refuses).
func toBits(t CType, x any) (uint64, error) {
	switch t.Kind {
	case Signed, Unsigned:
		i, u, isUnsigned, ok := goInt(x)
		if !ok {
			return 0, fmt.Errorf("%w: cannot store %T in a %s", ErrType, x, t.Name)
		}
		bits := 8 * uint(t.Size)
		if t.Kind == Signed {
			maxv := uint64(1)<<(bits-1) - 1
			if isUnsigned {
				if u > maxv {
					return 0, fmt.Errorf("%w: %d in a %s", ErrRange, u, t.Name)
				}
				return u, nil
			}
			if bits < 64 && (i < -(1<<(bits-1)) || i > int64(maxv)) {
				return 0, fmt.Errorf("%w: %d in a %s", ErrRange, i, t.Name)
			}
			return uint64(i) & mask(t.Size), nil
		}
		if !isUnsigned {
			if i < 0 {
				return 0, fmt.Errorf("%w: %d in a %s", ErrRange, i, t.Name)
			}
			u = uint64(i)
		}
		if u > mask(t.Size) {
			return 0, fmt.Errorf("%w: %d in a %s", ErrRange, u, t.Name)
		}
		return u, nil
	case Float:
		var f float64
		switch y := x.(type) {
		case float64:
			f = y
		case float32:
			f = float64(y)
		case int:
			f = float64(y)
		case int64:
			f = float64(y)
		case int32:
			f = float64(y)
		default:
			return 0, fmt.Errorf("%w: cannot store %T in a %s", ErrType, x, t.Name)
		}
		if t.Size == 4 {
			return uint64(math.Float32bits(float32(f))), nil
		}
		return math.Float64bits(f), nil
	case Bool:
		if y, ok := x.(bool); ok {
			if y {
				return 1, nil
			}
			return 0, nil
		}
		return 0, fmt.Errorf("%w: cannot store %T in a %s", ErrType, x, t.Name)
	case Char:
		switch y := x.(type) {
		case byte:
			return uint64(y), nil
		case []byte:
			if len(y) == 1 {
				return uint64(y[0]), nil
			}
		case string:
			if len(y) == 1 {
				return uint64(y[0]), nil
			}
		}
		return 0, fmt.Errorf("%w: a c_char holds one byte, not %T %v", ErrType, x, x)
	case WChar:
		switch y := x.(type) {
		case rune:
			return uint64(uint32(y)), nil
		case string:
			if r, n := utf8.DecodeRuneInString(y); n == len(y) && n > 0 {
				return uint64(uint32(r)), nil
			}
		}
		return 0, fmt.Errorf("%w: a c_wchar holds one character, not %T %v", ErrType, x, x)
	}
	return 0, fmt.Errorf("%w: %s", ErrType, t.Name)
}

// goInt widens any Go integer: (i, _, false) for signed kinds, (_, u, true)
// for unsigned ones.
func goInt(x any) (i int64, u uint64, isUnsigned, ok bool) {
	switch y := x.(type) {
	case int:
		return int64(y), 0, false, true
	case int8:
		return int64(y), 0, false, true
	case int16:
		return int64(y), 0, false, true
	case int32:
		return int64(y), 0, false, true
	case int64:
		return y, 0, false, true
	case uint:
		return 0, uint64(y), true, true
	case uint8:
		return 0, uint64(y), true, true
	case uint16:
		return 0, uint64(y), true, true
	case uint32:
		return 0, uint64(y), true, true
	case uint64:
		return 0, y, true, true
	}
	return 0, 0, false, false
}

func mask(size int) uint64 {
	if size >= 8 {
		return math.MaxUint64
	}
	return 1<<(8*uint(size)) - 1
}

// Elem is the set of Go types that can view ctypes memory directly
// (Pointer, Slice): a signed ctype as the intN of its size, an unsigned one
// (and c_char, c_bool) as the uintN, c_wchar as int32 (rune), c_float and
// c_double as float32 and float64.
type Elem interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64
}

// fits checks that T views ctype t.
func fits[T Elem](t CType) error {
	var z T
	var ok bool
	switch any(z).(type) {
	case int8, int16, int64:
		ok = t.Kind == Signed
	case int32:
		ok = t.Kind == Signed || t.Kind == WChar
	case uint8:
		ok = t.Kind == Unsigned || t.Kind == Char || t.Kind == Bool
	case uint16, uint32, uint64:
		ok = t.Kind == Unsigned
	case float32, float64:
		ok = t.Kind == Float
	}
	if !ok || int(unsafe.Sizeof(z)) != t.Size {
		return fmt.Errorf("%w: %T cannot view a %s", ErrType, z, t.Name)
	}
	return nil
}
