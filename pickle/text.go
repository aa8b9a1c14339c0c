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
// as its 3-byte form (ED A0..BF xx), as Python's 'surrogatepass' writes it
// (docs/spec.md). It runs the automaton wtf8DFA a byte at a time, with no
// branch but the loop's, after skipping ASCII 32, 16 or 8 bytes at a time where no
// sequence is open (docs/benchmarks.md, issue 19 round 6). The
// byte-at-a-time definition it replaced is refValidWTF8 in the tests.
func validWTF8(s string) bool {
	n := len(s)
	i := 0
	for i+8 <= n && load64(s, i)&hiBits == 0 {
		i += 8
		for i+32 <= n {
			t := s[i : i+32]
			if (load64(t, 0)|load64(t, 8)|load64(t, 16)|load64(t, 24))&hiBits != 0 {
				break
			}
			i += 32
		}
	}
	var st uint64 // the state, in its low 6 bits
	for ; i+16 <= n; i += 16 {
		b := s[i : i+16]
		if st&63 == 0 && (load64(b, 0)|load64(b, 8))&hiBits == 0 {
			continue
		}
		t0, t1, t2, t3 := wtf8DFA[b[0]], wtf8DFA[b[1]], wtf8DFA[b[2]], wtf8DFA[b[3]]
		st = t0 >> (st & 63)
		st = t1 >> (st & 63)
		st = t2 >> (st & 63)
		st = t3 >> (st & 63)
		t4, t5, t6, t7 := wtf8DFA[b[4]], wtf8DFA[b[5]], wtf8DFA[b[6]], wtf8DFA[b[7]]
		st = t4 >> (st & 63)
		st = t5 >> (st & 63)
		st = t6 >> (st & 63)
		st = t7 >> (st & 63)
		t8, t9, t10, t11 := wtf8DFA[b[8]], wtf8DFA[b[9]], wtf8DFA[b[10]], wtf8DFA[b[11]]
		st = t8 >> (st & 63)
		st = t9 >> (st & 63)
		st = t10 >> (st & 63)
		st = t11 >> (st & 63)
		t12, t13, t14, t15 := wtf8DFA[b[12]], wtf8DFA[b[13]], wtf8DFA[b[14]], wtf8DFA[b[15]]
		st = t12 >> (st & 63)
		st = t13 >> (st & 63)
		st = t14 >> (st & 63)
		st = t15 >> (st & 63)
	}
	if i+8 <= n {
		if b := s[i : i+8]; st&63 != 0 || load64(b, 0)&hiBits != 0 {
			t0, t1, t2, t3 := wtf8DFA[b[0]], wtf8DFA[b[1]], wtf8DFA[b[2]], wtf8DFA[b[3]]
			st = t0 >> (st & 63)
			st = t1 >> (st & 63)
			st = t2 >> (st & 63)
			st = t3 >> (st & 63)
			t4, t5, t6, t7 := wtf8DFA[b[4]], wtf8DFA[b[5]], wtf8DFA[b[6]], wtf8DFA[b[7]]
			st = t4 >> (st & 63)
			st = t5 >> (st & 63)
			st = t6 >> (st & 63)
			st = t7 >> (st & 63)
		}
		i += 8
	}
	if n < 8 {
		for ; i < n; i++ {
			st = wtf8DFA[s[i]] >> (st & 63)
		}
		return st&63 == dfaAccept
	}
	// The last n-i (< 8) bytes, unrolled: the end of the last 8 bytes.
	t := s[n-8:]
	_ = t[7]
	switch n - i {
	case 7:
		st = wtf8DFA[t[1]] >> (st & 63)
		fallthrough
	case 6:
		st = wtf8DFA[t[2]] >> (st & 63)
		fallthrough
	case 5:
		st = wtf8DFA[t[3]] >> (st & 63)
		fallthrough
	case 4:
		st = wtf8DFA[t[4]] >> (st & 63)
		fallthrough
	case 3:
		st = wtf8DFA[t[5]] >> (st & 63)
		fallthrough
	case 2:
		st = wtf8DFA[t[6]] >> (st & 63)
		fallthrough
	case 1:
		st = wtf8DFA[t[7]] >> (st & 63)
	}
	return st&63 == dfaAccept
}

// copyWTF8Max is the length from which a str is checked and copied in two
// passes (validWTF8, then memmove) rather than by copyWTF8: on longer text
// the word stores cost more than memmove's call (docs/benchmarks.md).
const copyWTF8Max = 128

// copyWTF8 copies s to dst[:len(s)] and reports whether s is valid as
// validWTF8 has it, in one pass: the bytes go over in words while the
// automaton reads them (for short strs, where that saves the call to
// memmove; docs/benchmarks.md, issue 19 round 6). dst must be at least as
// long as s; when s is not valid, what dst holds is unspecified.
func copyWTF8(dst []byte, s string) bool {
	n := len(s)
	dst = dst[:n]
	var st uint64
	if n < 8 {
		if n >= 4 {
			// ASCII (most short strs): two overlapping words of 4.
			a, b := load32(s, 0), load32(s, n-4)
			if (a|b)&0x80808080 == 0 {
				binary.LittleEndian.PutUint32(dst, a)
				binary.LittleEndian.PutUint32(dst[n-4:], b)
				return true
			}
		}
		for i := 0; i < n; i++ {
			dst[i] = s[i]
			st = wtf8DFA[s[i]] >> (st & 63)
		}
		return st&63 == dfaAccept
	}
	i := 0
	for ; i+16 <= n; i += 16 {
		b, d := s[i:i+16], dst[i:i+16]
		w0, w1 := load64(b, 0), load64(b, 8)
		binary.LittleEndian.PutUint64(d, w0)
		binary.LittleEndian.PutUint64(d[8:], w1)
		if st&63 == 0 && (w0|w1)&hiBits == 0 {
			continue
		}
		t0, t1, t2, t3 := wtf8DFA[b[0]], wtf8DFA[b[1]], wtf8DFA[b[2]], wtf8DFA[b[3]]
		st = t0 >> (st & 63)
		st = t1 >> (st & 63)
		st = t2 >> (st & 63)
		st = t3 >> (st & 63)
		t4, t5, t6, t7 := wtf8DFA[b[4]], wtf8DFA[b[5]], wtf8DFA[b[6]], wtf8DFA[b[7]]
		st = t4 >> (st & 63)
		st = t5 >> (st & 63)
		st = t6 >> (st & 63)
		st = t7 >> (st & 63)
		t8, t9, t10, t11 := wtf8DFA[b[8]], wtf8DFA[b[9]], wtf8DFA[b[10]], wtf8DFA[b[11]]
		st = t8 >> (st & 63)
		st = t9 >> (st & 63)
		st = t10 >> (st & 63)
		st = t11 >> (st & 63)
		t12, t13, t14, t15 := wtf8DFA[b[12]], wtf8DFA[b[13]], wtf8DFA[b[14]], wtf8DFA[b[15]]
		st = t12 >> (st & 63)
		st = t13 >> (st & 63)
		st = t14 >> (st & 63)
		st = t15 >> (st & 63)
	}
	if i+8 <= n {
		b := s[i : i+8]
		w := load64(b, 0)
		binary.LittleEndian.PutUint64(dst[i:i+8], w)
		if st&63 != 0 || w&hiBits != 0 {
			t0, t1, t2, t3 := wtf8DFA[b[0]], wtf8DFA[b[1]], wtf8DFA[b[2]], wtf8DFA[b[3]]
			st = t0 >> (st & 63)
			st = t1 >> (st & 63)
			st = t2 >> (st & 63)
			st = t3 >> (st & 63)
			t4, t5, t6, t7 := wtf8DFA[b[4]], wtf8DFA[b[5]], wtf8DFA[b[6]], wtf8DFA[b[7]]
			st = t4 >> (st & 63)
			st = t5 >> (st & 63)
			st = t6 >> (st & 63)
			st = t7 >> (st & 63)
		}
		i += 8
		if i == n {
			return st&63 == dfaAccept
		}
	}
	// The last n-i (< 8) bytes: the last 8 bytes go over as one word (the
	// first of them again), and the automaton reads the new ones.
	t := s[n-8:]
	binary.LittleEndian.PutUint64(dst[n-8:], load64(t, 0))
	switch n - i {
	case 7:
		st = wtf8DFA[t[1]] >> (st & 63)
		fallthrough
	case 6:
		st = wtf8DFA[t[2]] >> (st & 63)
		fallthrough
	case 5:
		st = wtf8DFA[t[3]] >> (st & 63)
		fallthrough
	case 4:
		st = wtf8DFA[t[4]] >> (st & 63)
		fallthrough
	case 3:
		st = wtf8DFA[t[5]] >> (st & 63)
		fallthrough
	case 2:
		st = wtf8DFA[t[6]] >> (st & 63)
		fallthrough
	case 1:
		st = wtf8DFA[t[7]] >> (st & 63)
	}
	return st&63 == dfaAccept
}

// The states of wtf8DFA, each a shift: dfaAccept, between sequences;
// dfaError, for good; dfaTail1-3, that many continuation bytes (80-BF) to
// come; dfaE0, dfaF0, dfaF4, after those lead bytes, whose second byte is
// A0-BF, 90-BF and 80-8F. ED (a surrogate's lead) is any E1-EF: its
// second byte may be A0-BF, as 'surrogatepass' writes.
const (
	dfaAccept = 6 * iota
	dfaError
	dfaTail1
	dfaTail2
	dfaTail3
	dfaE0
	dfaF0
	dfaF4
)

// wtf8DFA[b] holds, at bit S of each state S, the state after byte b in S
// (6 bits): a step is wtf8DFA[b] >> S, whose low 6 bits are the new state
// (the shift-based automaton of the validators that run a byte at a time
// with no branch).
var wtf8DFA = func() (t [256]uint64) {
	for b := 0; b < 256; b++ {
		next := func(s int) int {
			cont := b >= 0x80 && b <= 0xBF
			switch s {
			case dfaAccept:
				switch {
				case b < 0x80:
					return dfaAccept
				case b < 0xC2:
					return dfaError
				case b < 0xE0:
					return dfaTail1
				case b == 0xE0:
					return dfaE0
				case b < 0xF0:
					return dfaTail2
				case b == 0xF0:
					return dfaF0
				case b < 0xF4:
					return dfaTail3
				case b == 0xF4:
					return dfaF4
				}
			case dfaTail1:
				if cont {
					return dfaAccept
				}
			case dfaTail2:
				if cont {
					return dfaTail1
				}
			case dfaTail3:
				if cont {
					return dfaTail2
				}
			case dfaE0:
				if b >= 0xA0 && b <= 0xBF {
					return dfaTail1
				}
			case dfaF0:
				if b >= 0x90 && b <= 0xBF {
					return dfaTail2
				}
			case dfaF4:
				if b >= 0x80 && b <= 0x8F {
					return dfaTail2
				}
			}
			return dfaError
		}
		for s := dfaAccept; s <= dfaF4; s += 6 {
			t[b] |= uint64(next(s)) << s
		}
	}
	return t
}()

const hiBits = 0x8080808080808080

// load64 reads the 8 bytes at s[i:] as a little-endian word (one load:
// the compiler merges the byte loads).
func load64(s string, i int) uint64 {
	t := s[i : i+8]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// load32 reads the 4 bytes at s[i:] as a little-endian word.
func load32(s string, i int) uint32 {
	t := s[i : i+4]
	return uint32(t[0]) | uint32(t[1])<<8 | uint32(t[2])<<16 | uint32(t[3])<<24
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

// validWTF8Pair is validWTF8(a) && validWTF8(b), with the two automata
// run side by side, 16 bytes of each a loop turn. Each step waits for the
// last one's state, so one automaton over a long run is one chain of
// dependent shifts, a cycle a byte, while the loads and shifts alone would
// run faster; two chains give the processor independent work to overlap.
// (A str checked on its own, by copyWTF8, starts a chain of its own;
// shortStrs checks a run of strs as two halves split where a str starts;
// docs/benchmarks.md, issue 19 round 7.)
func validWTF8Pair(a, b string) bool {
	n := min(len(a), len(b))
	var sa, sb uint64
	i := 0
	for ; i+16 <= n; i += 16 {
		x, y := a[i:i+16], b[i:i+16]
		if (sa|sb)&63 == 0 && (load64(x, 0)|load64(x, 8)|load64(y, 0)|load64(y, 8))&hiBits == 0 {
			continue
		}
		a0, a1, a2, a3 := wtf8DFA[x[0]], wtf8DFA[x[1]], wtf8DFA[x[2]], wtf8DFA[x[3]]
		b0, b1, b2, b3 := wtf8DFA[y[0]], wtf8DFA[y[1]], wtf8DFA[y[2]], wtf8DFA[y[3]]
		sa = a0 >> (sa & 63)
		sb = b0 >> (sb & 63)
		sa = a1 >> (sa & 63)
		sb = b1 >> (sb & 63)
		sa = a2 >> (sa & 63)
		sb = b2 >> (sb & 63)
		sa = a3 >> (sa & 63)
		sb = b3 >> (sb & 63)
		a0, a1, a2, a3 = wtf8DFA[x[4]], wtf8DFA[x[5]], wtf8DFA[x[6]], wtf8DFA[x[7]]
		b0, b1, b2, b3 = wtf8DFA[y[4]], wtf8DFA[y[5]], wtf8DFA[y[6]], wtf8DFA[y[7]]
		sa = a0 >> (sa & 63)
		sb = b0 >> (sb & 63)
		sa = a1 >> (sa & 63)
		sb = b1 >> (sb & 63)
		sa = a2 >> (sa & 63)
		sb = b2 >> (sb & 63)
		sa = a3 >> (sa & 63)
		sb = b3 >> (sb & 63)
		a0, a1, a2, a3 = wtf8DFA[x[8]], wtf8DFA[x[9]], wtf8DFA[x[10]], wtf8DFA[x[11]]
		b0, b1, b2, b3 = wtf8DFA[y[8]], wtf8DFA[y[9]], wtf8DFA[y[10]], wtf8DFA[y[11]]
		sa = a0 >> (sa & 63)
		sb = b0 >> (sb & 63)
		sa = a1 >> (sa & 63)
		sb = b1 >> (sb & 63)
		sa = a2 >> (sa & 63)
		sb = b2 >> (sb & 63)
		sa = a3 >> (sa & 63)
		sb = b3 >> (sb & 63)
		a0, a1, a2, a3 = wtf8DFA[x[12]], wtf8DFA[x[13]], wtf8DFA[x[14]], wtf8DFA[x[15]]
		b0, b1, b2, b3 = wtf8DFA[y[12]], wtf8DFA[y[13]], wtf8DFA[y[14]], wtf8DFA[y[15]]
		sa = a0 >> (sa & 63)
		sb = b0 >> (sb & 63)
		sa = a1 >> (sa & 63)
		sb = b1 >> (sb & 63)
		sa = a2 >> (sa & 63)
		sb = b2 >> (sb & 63)
		sa = a3 >> (sa & 63)
		sb = b3 >> (sb & 63)
	}
	// The rest of each (the two differ in length), a byte at a time.
	for j := i; j < len(a); j++ {
		sa = wtf8DFA[a[j]] >> (sa & 63)
	}
	for j := i; j < len(b); j++ {
		sb = wtf8DFA[b[j]] >> (sb & 63)
	}
	return sa&63 == dfaAccept && sb&63 == dfaAccept
}
