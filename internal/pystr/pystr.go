// Package pystr holds the Python text rules that more than one mpwire
// package needs, so each lives in one place: how a Python str with lone
// surrogates is held in a Go string (the 'surrogatepass' form the pickle
// package decodes to), and the two escape codecs of protocol-0 pickles
// (codecs.escape_decode for STRING, raw-unicode-escape for UNICODE).
package pystr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendRune appends r to b as UTF-8, writing surrogates (U+D800–U+DFFF)
// in their 3-byte 'surrogatepass' form so that they round-trip.
func AppendRune(b []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(b, 0xED, byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(b, r)
}

// NextRune decodes the code point of a Python str held in s at byte i,
// accepting surrogates in their 'surrogatepass' form. It returns the rune
// and its length in bytes (utf8.RuneError, 1 for an invalid byte).
func NextRune(s string, i int) (rune, int) {
	c := s[i]
	if c < 0x80 {
		return rune(c), 1
	}
	if c == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2]&0xC0 == 0x80 {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	}
	return utf8.DecodeRuneInString(s[i:])
}

// EscapeError is a malformed escape for EscapeDecode; Pos is the offset of
// its backslash, as in Python's codec error.
type EscapeError struct {
	Pos int
	Msg string
}

func (e *EscapeError) Error() string {
	if e.Pos < 0 {
		return e.Msg
	}
	return e.Msg + " at position " + strconv.Itoa(e.Pos)
}

// EscapeDecode is Python's codecs.escape_decode: the backslash escapes of a
// bytes literal (\\ \' \" \a \b \f \n \r \t \v, octal, \xHH, backslash-newline);
// an unknown escape is kept as is.
func EscapeDecode(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return nil, &EscapeError{Pos: -1, Msg: "Trailing \\ in string"}
		}
		c = b[i]
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
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			if i+2 >= len(b) {
				return nil, &EscapeError{Pos: i - 1, Msg: "invalid \\x escape"}
			}
			h1, ok1 := unhex(b[i+1])
			h2, ok2 := unhex(b[i+2])
			if !ok1 || !ok2 {
				return nil, &EscapeError{Pos: i - 1, Msg: "invalid \\x escape"}
			}
			out = append(out, h1<<4|h2)
			i += 2
		default:
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

// DecodeRawUnicodeEscape decodes Python's raw-unicode-escape codec (the
// argument of the protocol-0 UNICODE opcode): latin-1 bytes plus \uXXXX and
// \UXXXXXXXX escapes (a backslash before any other byte is kept with it). A
// malformed escape is kept literally, where Python raises (see
// DecodeRawUnicodeEscapeStrict); for tools that show what a pickle holds.
func DecodeRawUnicodeEscape(b []byte) string {
	s, _ := decodeRawUnicodeEscape(b, false)
	return s
}

// DecodeRawUnicodeEscapeStrict is DecodeRawUnicodeEscape that fails, as
// Python's codec does with errors='strict', on a \u or \U escape with too
// few hex digits or beyond U+10FFFF.
func DecodeRawUnicodeEscapeStrict(b []byte) (string, error) {
	return decodeRawUnicodeEscape(b, true)
}

func decodeRawUnicodeEscape(b []byte, strict bool) (string, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = AppendRune(out, rune(c))
			continue
		}
		if i+1 >= len(b) {
			out = append(out, '\\')
			break
		}
		n := 0
		switch b[i+1] {
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			out = append(out, '\\')
			out = AppendRune(out, rune(b[i+1]))
			i++
			continue
		}
		r, ok := uint32(0), i+2+n <= len(b)
		for k := i + 2; ok && k < i+2+n; k++ {
			d, good := unhex(b[k])
			ok = good
			r = r<<4 | uint32(d)
		}
		switch {
		case !ok && strict:
			return "", &EscapeError{Pos: i, Msg: "truncated \\" + string(b[i+1]) + strings.Repeat("X", n) + " escape"}
		case ok && r > 0x10FFFF && strict:
			return "", &EscapeError{Pos: i, Msg: "\\Uxxxxxxxx out of range"}
		case !ok || r > 0x10FFFF:
			out = append(out, '\\')
			continue
		}
		out = AppendRune(out, rune(r))
		i += 1 + n
	}
	return string(out), nil
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
