package pickle

import (
	"errors"
	"unicode/utf8"
)

// Python str values may hold lone surrogates (U+D800–U+DFFF), which
// pickle writes with the 'surrogatepass' error handler. The codec keeps
// them in Go strings in that same 3-byte form (as WTF-8 does), so they
// survive a round trip.

// validPyUTF8 reports whether b is UTF-8, allowing encoded surrogates.
func validPyUTF8(b []byte) bool {
	if utf8.Valid(b) {
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
	if utf8.ValidString(s) {
		return true
	}
	return validPyUTF8([]byte(s))
}

// appendRune appends r as UTF-8, encoding surrogates as 'surrogatepass' does.
func appendRune(b []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

// decodePyRunes iterates over a Python str held in a Go string, yielding
// surrogates as themselves.
func nextPyRune(s string, i int) (rune, int) {
	c := s[i]
	if c < 0x80 {
		return rune(c), 1
	}
	if c == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
		return rune(0xD000) | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return r, n
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unquoteString decodes the argument of the protocol-0 STRING opcode: a
// quoted Python 2 str repr, unescaped like codecs.escape_decode.
func unquoteString(l []byte) ([]byte, error) {
	for len(l) > 0 && (l[len(l)-1] == '\r' || l[len(l)-1] == ' ') {
		l = l[:len(l)-1]
	}
	if len(l) < 2 || l[0] != l[len(l)-1] || (l[0] != '\'' && l[0] != '"') {
		return nil, errors.New("the STRING opcode argument must be quoted")
	}
	l = l[1 : len(l)-1]
	out := make([]byte, 0, len(l))
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(l) {
			return nil, errors.New("Trailing \\ in string")
		}
		c = l[i]
		switch c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(l) && l[i+1] >= '0' && l[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(l[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			if i+2 >= len(l) {
				return nil, errors.New("invalid \\x escape")
			}
			h1, ok1 := unhex(l[i+1])
			h2, ok2 := unhex(l[i+2])
			if !ok1 || !ok2 {
				return nil, errors.New("invalid \\x escape")
			}
			out = append(out, h1<<4|h2)
			i += 2
		default:
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

// decodeRawUnicodeEscape decodes the argument of the protocol-0 UNICODE
// opcode ('raw-unicode-escape': latin-1 bytes plus \uXXXX and \UXXXXXXXX).
// A malformed escape is kept literally.
func decodeRawUnicodeEscape(l []byte) string {
	out := make([]byte, 0, len(l))
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c != '\\' {
			out = appendRune(out, rune(c))
			continue
		}
		if i+1 >= len(l) {
			out = append(out, '\\')
			break
		}
		n := 0
		switch l[i+1] {
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			out = append(out, '\\')
			out = appendRune(out, rune(l[i+1]))
			i++
			continue
		}
		if i+2+n > len(l) {
			out = append(out, '\\')
			continue
		}
		var r rune
		ok := true
		for _, h := range l[i+2 : i+2+n] {
			d, good := unhex(h)
			if !good {
				ok = false
				break
			}
			r = r<<4 | rune(d)
		}
		if !ok || r > 0x10FFFF || r < 0 {
			out = append(out, '\\')
			continue
		}
		out = appendRune(out, r)
		i += 1 + n
	}
	return string(out)
}

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
