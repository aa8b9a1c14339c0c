package pickle

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
	"unsafe"

	"github.com/mpwire/mpwire/internal/pystr"
)

// Python str values may hold lone surrogates (U+D800–U+DFFF), which
// pickle writes with the 'surrogatepass' error handler. The codec keeps
// them in Go strings in that same 3-byte form (as WTF-8 does), so they
// survive a round trip.

// validPyUTF8 reports whether b is UTF-8, allowing encoded surrogates.
func validPyUTF8(b []byte) bool {
	if len(b) <= 16 && asciiShort(unsafe.String(unsafe.SliceData(b), len(b))) || utf8.Valid(b) {
		return true
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		if c == 0xED && i+2 < len(b) && b[i+1] >= 0xA0 && b[i+1] <= 0xBF && b[i+2]&0xC0 == 0x80 {
			i += 3
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		i += n
	}
	return true
}

func validPyUTF8String(s string) bool {
	if len(s) <= 16 && asciiShort(s) || utf8.ValidString(s) {
		return true
	}
	return validPyUTF8([]byte(s))
}

// appendRune and nextPyRune hold surrogates in 'surrogatepass' form; the
// rule lives in internal/pystr, shared with the tools that print these strings.
func appendRune(b []byte, r rune) []byte { return pystr.AppendRune(b, r) }

func nextPyRune(s string, i int) (rune, int) { return pystr.NextRune(s, i) }

// unquoteString decodes the argument of the protocol-0 STRING opcode: a
// quoted Python 2 str repr, unescaped like codecs.escape_decode. As in
// CPython the whole line must be quoted: nothing (no space, no '\r') may
// follow the closing quote.
func unquoteString(l []byte) ([]byte, error) {
	if len(l) < 2 || l[0] != l[len(l)-1] || (l[0] != '\'' && l[0] != '"') {
		return nil, errors.New("the STRING opcode argument must be quoted")
	}
	return pystr.EscapeDecode(l[1 : len(l)-1])
}

// decodeRawUnicodeEscape decodes the argument of the protocol-0 UNICODE
// opcode ('raw-unicode-escape': latin-1 bytes plus \uXXXX and \UXXXXXXXX).
// A malformed escape is an error, as in CPython.
func decodeRawUnicodeEscape(l []byte) (string, error) { return pystr.DecodeRawUnicodeEscapeStrict(l) }

// appendRawUnicodeEscape writes s as protocol 0's UNICODE argument, the way
// pickle.py does (backslash, NUL, \n, \r and \x1a escaped as \u00XX).
func appendRawUnicodeEscape(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, n := nextPyRune(s, i)
		i += n
		switch {
		case r == '\\' || r == 0 || r == '\n' || r == '\r' || r == 0x1a:
			b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
		case r < 0x100:
			b = append(b, byte(r))
		case r < 0x10000:
			b = append(b, '\\', 'u')
			b = appendHex(b, uint32(r), 4)
		default:
			b = append(b, '\\', 'U')
			b = appendHex(b, uint32(r), 8)
		}
	}
	return b
}

func appendHex(b []byte, v uint32, n int) []byte {
	for k := n - 1; k >= 0; k-- {
		b = append(b, "0123456789abcdef"[(v>>(4*uint(k)))&15])
	}
	return b
}

// asciiShort reports whether s, of at most 16 bytes, is ASCII, with two
// loads instead of a loop.
func asciiShort(s string) bool {
	n := len(s)
	var w uint64
	switch {
	case n >= 8:
		b := unsafe.Slice(unsafe.StringData(s), n)
		w = binary.LittleEndian.Uint64(b) | binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		b := unsafe.Slice(unsafe.StringData(s), n)
		w = uint64(binary.LittleEndian.Uint32(b) | binary.LittleEndian.Uint32(b[n-4:]))
	default:
		for i := 0; i < n; i++ {
			w |= uint64(s[i])
		}
	}
	return w&0x8080808080808080 == 0
}
