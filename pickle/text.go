package pickle

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"github.com/mpwire/mpwire/internal/pystr"
)

// Python str values may hold lone surrogates (U+D800–U+DFFF), which
// pickle writes with the 'surrogatepass' error handler. The codec keeps
// them in Go strings in that same 3-byte form (as WTF-8 does), so they
// survive a round trip.

// validPyUTF8 reports whether b is UTF-8, allowing encoded surrogates.
func validPyUTF8(b []byte) bool { return validWTF8(unsafe.String(unsafe.SliceData(b), len(b))) }

func validPyUTF8String(s string) bool { return validWTF8(s) }

// validWTF8 reports whether s is UTF-8 in which a lone surrogate may stand
// as its 3-byte form (ED A0..BF xx), as Python's 'surrogatepass' writes it.
// A leading ASCII run is checked 8 bytes at a time, the rest a byte or a
// sequence at a time (utf8.ValidString and a second pass for surrogates
// took 16 instructions a byte on mixed text).
func validWTF8(s string) bool {
	n := len(s)
	i := 0
	for i+8 <= n && binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))&0x8080808080808080 == 0 {
		i += 8
	}
	for i < n {
		c := s[i]
		if c < 0x80 {
			i++
			continue
		}
		switch {
		case c < 0xC2:
			return false
		case c < 0xE0:
			if i+1 >= n || s[i+1]&0xC0 != 0x80 {
				return false
			}
			i += 2
		case c < 0xF0:
			if i+2 >= n || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 || c == 0xE0 && s[i+1] < 0xA0 {
				return false
			}
			i += 3
		case c < 0xF5:
			if i+3 >= n || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 || s[i+3]&0xC0 != 0x80 ||
				c == 0xF0 && s[i+1] < 0x90 || c == 0xF4 && s[i+1] > 0x8F {
				return false
			}
			i += 4
		default:
			return false
		}
	}
	return true
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
