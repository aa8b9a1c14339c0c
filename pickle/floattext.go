package pickle

import (
	"math"
	"math/big"
	"unsafe"
)

// Protocol-0 FLOAT text below the normal range. strconv.ParseFloat
// rounds such text correctly but on a slow path (~14 µs a number against
// ~30 ns for a normal one), so a pickle of subnormal FLOATs cost ~1.2 µs
// an input byte (docs/spec.md, "CPython-side safety caps", item 12).
// parseTiny computes the same correctly rounded value with one
// big-integer division.

// tinyDigits is how many significant digits parseTiny keeps. Rounding
// points of subnormals are odd multiples of 2^-1075, whose decimal
// expansions end at the 1075th digit after the point; a value below
// 10^-306 has its first significant digit at the 307th place or later,
// so 800 digits reach past the 1075th place, and the digits dropped
// after them can only say "a little more" (a sticky 1 digit).
const tinyDigits = 800

const (
	twoTo53  = uint64(1) << 53
	tinyOnly = -306 // decimal exponents (0.d × 10^e) above this are left to strconv
)

var big5 = big.NewInt(5)

// parseTiny returns the float64 nearest to s (ties to even), when s is
// plain decimal text ([+-]digits[.digits][(e|E)[+-]digits], as strconv
// and CPython read it) whose value is below 2^-1021 and not zero; ok is
// false for anything else, which strconv.ParseFloat then reads.
func parseTiny(s string) (f float64, ok bool) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var digs [tinyDigits + 1]byte // the digits kept, and a sticky 1
	nd, exp, sticky, point := 0, 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !point:
			point = true
			continue
		case c < '0' || c > '9':
		default:
			switch {
			case nd == 0 && c == '0':
				// A leading zero: after the point it lowers the exponent.
				if point {
					exp--
				}
			case nd < tinyDigits:
				digs[nd] = c
				nd++
				if !point {
					exp++
				}
			default:
				sticky = sticky || c != '0'
				if !point {
					exp++
				}
			}
			continue
		}
		break
	}
	if nd == 0 {
		return 0, false // not a number, or zero: strconv's fast path
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return 0, false
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return 0, false
		}
		e := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			if e < 1e9 {
				e = e*10 + int(c-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	// s is 0.d1d2...dnd × 10^exp (d1 not 0), sticky if digits were dropped.
	if exp > tinyOnly {
		return 0, false
	}
	if exp < -330 {
		// Below 10^-330, under half the smallest subnormal (2^-1075 ≈
		// 2.47e-324): zero.
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if sticky {
		// The dropped digits as one nonzero digit after the kept ones.
		digs[nd] = '1'
		nd++
	}
	d, _ := new(big.Int).SetString(unsafe.String(&digs[0], nd), 10)
	q := exp - nd // the value is d × 10^q
	// n = round(d × 10^q × 2^1074) = round(d × 2^(1074+q) / 5^-q).
	den := new(big.Int).Exp(big5, big.NewInt(int64(-q)), nil)
	if sh := 1074 + q; sh >= 0 {
		d.Lsh(d, uint(sh))
	} else {
		den.Lsh(den, uint(-sh))
	}
	n, r := d.QuoRem(d, den, new(big.Int))
	if c := r.Lsh(r, 1).Cmp(den); c > 0 || c == 0 && n.Bit(0) == 1 {
		n.Add(n, big.NewInt(1))
	}
	if !n.IsUint64() || n.Uint64() >= twoTo53 {
		// 2^-1021 or more: a 53-bit significand's ulp is above 2^-1074.
		return 0, false
	}
	// Below 2^-1021 the ulp is 2^-1074 whatever the exponent field (0
	// or 1), so n is the bit pattern itself.
	bits := n.Uint64()
	if neg {
		bits |= 1 << 63
	}
	return math.Float64frombits(bits), true
}
