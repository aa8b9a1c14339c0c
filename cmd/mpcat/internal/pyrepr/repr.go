// Package pyrepr formats decoded pickle values the way Python's repr()
// does, and as JSON, for mpcat's output.
//
// Plain data (None, bool, int, float, str, bytes, bytearray, list, tuple,
// dict, set, frozenset) gives exactly Python's repr: the quote choice and
// escapes of str and bytes (with unicode.IsPrint standing in for
// str.isprintable), float's shortest round-trip form with Python's switch to
// exponent notation, big ints, '[...]' and '{...}' for containers that
// contain themselves. Exceptions print as Python prints them (KeyError('k')),
// complex numbers as (1+2j); other instances, classes and functions, which
// Python would print with an address, get a readable constructor-like form.
package pyrepr

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mpwire/mpwire/internal/pystr"
	"github.com/mpwire/mpwire/pickle"
)

// MaxLen bounds the length of one Repr, in bytes. A pickle can share one
// list many times over (a = [x, x]; b = [a, a]; ...), so a small frame can
// have an exponentially long repr; past MaxLen the output ends with
// Truncated.
const MaxLen = 4 << 20

// Truncated ends a repr cut at MaxLen.
const Truncated = "... (repr truncated)"

// Repr returns Python's repr() of a generic decoded value (at most about
// MaxLen bytes; see Truncated).
func Repr(v any) string { return reprN(v, MaxLen) }

func reprN(v any, limit int) string {
	p := printer{seen: map[any]bool{}, limit: limit}
	p.repr(v)
	if p.cut {
		return p.b.String() + Truncated
	}
	return p.b.String()
}

// String returns repr of a Python str held in a Go string (surrogates in
// 'surrogatepass' form are printed as \udXXX, like Python).
func String(s string) string {
	var b strings.Builder
	appendStr(&b, s)
	return b.String()
}

// Bytes returns repr of a Python bytes object.
func Bytes(p []byte) string {
	var b strings.Builder
	appendBytes(&b, p)
	return b.String()
}

// Float returns repr of a Python float.
func Float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	// Shortest round-trip digits, then Python's layout (float_repr_style
	// 'short', mode 'r'): exponent form when decpt <= -4 or decpt > 16.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	neg := false
	if e[0] == '-' {
		neg = true
		e = e[1:]
	}
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	var out string
	if f == 0 {
		out = "0.0"
	} else if decpt <= -4 || decpt > 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		out = m + "e" + sign + es
	} else if decpt <= 0 {
		out = "0." + strings.Repeat("0", -decpt) + digits
	} else if decpt >= len(digits) {
		out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	} else {
		out = digits[:decpt] + "." + digits[decpt:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

type printer struct {
	b     strings.Builder
	seen  map[any]bool // containers being printed (cycle detection)
	limit int
	cut   bool
}

// identity returns a key naming v's identity for cycle detection, or nil
// for values that cannot contain themselves.
func identity(v any) any {
	switch x := v.(type) {
	case []any:
		if cap(x) == 0 {
			return nil
		}
		return &x[:1][0]
	case *pickle.Dict, *pickle.Set, *pickle.FrozenSet, *pickle.Object, *pickle.PythonError:
		return x
	case pickle.Tuple:
		if len(x) == 0 {
			return nil
		}
		return &x[0]
	}
	return nil
}

func (p *printer) repr(v any) {
	if p.cut || p.b.Len() > p.limit {
		p.cut = true
		return
	}
	if id := identity(v); id != nil {
		if p.seen[id] {
			switch v.(type) {
			case *pickle.Dict:
				p.b.WriteString("{...}")
			case []any:
				p.b.WriteString("[...]")
			default:
				p.b.WriteString("...")
			}
			return
		}
		p.seen[id] = true
		defer delete(p.seen, id)
	}
	b := &p.b
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case *big.Int:
		b.WriteString(Int(x))
	case float64:
		b.WriteString(Float(x))
	case string:
		appendStr(b, x)
	case []byte:
		appendBytes(b, x)
	case pickle.ByteArray:
		b.WriteString("bytearray(")
		appendBytes(b, x)
		b.WriteByte(')')
	case []any:
		b.WriteByte('[')
		p.items(x)
		b.WriteByte(']')
	case pickle.Tuple:
		b.WriteByte('(')
		p.items(x)
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *pickle.Dict:
		p.dict(x)
	case *pickle.Set:
		if x.Len() == 0 {
			b.WriteString("set()")
			return
		}
		b.WriteByte('{')
		p.items(x.Items())
		b.WriteByte('}')
	case *pickle.FrozenSet:
		if x.Len() == 0 {
			b.WriteString("frozenset()")
			return
		}
		b.WriteString("frozenset({")
		p.items(x.Items())
		b.WriteString("})")
	case pickle.Global:
		b.WriteString(x.Module + "." + x.Name)
	case *pickle.PythonError:
		// BaseException.__repr__: Name(args) without the 1-tuple comma.
		b.WriteString(x.Type.Name)
		b.WriteByte('(')
		p.items(x.Args)
		b.WriteByte(')')
	case *pickle.Object:
		p.object(x)
	default:
		// Typed values from RegisterClass etc. are not produced for *any
		// decoding in mpcat; print them Go-style rather than fail.
		b.WriteString("<")
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(typeName(v), "*"), "pickle."))
		b.WriteString(">")
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func (p *printer) items(xs []any) {
	for i, e := range xs {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.repr(e)
	}
}

func (p *printer) dict(d *pickle.Dict) {
	p.b.WriteByte('{')
	i := 0
	for k, v := range d.All() {
		if i > 0 {
			p.b.WriteString(", ")
		}
		i++
		p.repr(k)
		p.b.WriteString(": ")
		p.repr(v)
	}
	p.b.WriteByte('}')
}

// object prints an instance Python would show with an address: complex as
// Python does, everything else as callable(args) followed by what BUILD,
// APPENDS and SETITEMS applied.
func (p *printer) object(o *pickle.Object) {
	b := &p.b
	c := o.Class()
	if c == (pickle.Global{Module: "builtins", Name: "complex"}) && len(o.Args) == 2 && o.State == nil {
		re, ok1 := o.Args[0].(float64)
		im, ok2 := o.Args[1].(float64)
		if ok1 && ok2 {
			b.WriteString(Complex(re, im))
			return
		}
	}
	if o.CallableValue != nil {
		p.repr(o.CallableValue)
	} else {
		b.WriteString(c.Module + "." + c.Name)
	}
	if o.NewObj {
		b.WriteString(".__new__")
	}
	b.WriteByte('(')
	p.items(o.Args)
	if o.Kwargs != nil {
		i := len(o.Args)
		for k, v := range o.Kwargs.All() {
			if i > 0 {
				b.WriteString(", ")
			}
			i++
			if s, ok := k.(string); ok {
				b.WriteString(s)
			} else {
				p.repr(k)
			}
			b.WriteByte('=')
			p.repr(v)
		}
	}
	b.WriteByte(')')
	if o.ListItems != nil {
		b.WriteString(" + ")
		p.repr(o.ListItems)
	}
	if o.DictItems != nil {
		b.WriteString(" | ")
		p.dict(o.DictItems)
	}
	if o.State != nil {
		b.WriteString(" with state ")
		p.repr(o.State)
	}
}

// MaxIntDigits is CPython's default limit on int to decimal string
// conversion (sys.get_int_max_str_digits()).
const MaxIntDigits = 4300

// Int returns repr of a Python int. Beyond MaxIntDigits decimal digits, where
// Python's repr raises ValueError (and decimal conversion gets slow), it
// returns the hex literal of the same value instead.
func Int(x *big.Int) string {
	if x.BitLen() > MaxIntDigits*3 { // may have more than MaxIntDigits digits
		digits := len(x.String())
		if x.Sign() < 0 {
			digits--
		}
		if x.BitLen() > MaxIntDigits*4 || digits > MaxIntDigits {
			s := x.Text(16)
			if s[0] == '-' {
				return "-0x" + s[1:]
			}
			return "0x" + s
		}
	}
	return x.String()
}

// Complex returns repr of a Python complex number.
func Complex(re, im float64) string {
	imag := strings.TrimSuffix(Float(im), ".0") + "j"
	if re == 0 && !math.Signbit(re) {
		// complex_repr: no parentheses when the real part is +0.0.
		return imag
	}
	if !strings.HasPrefix(imag, "-") {
		imag = "+" + imag
	}
	return "(" + strings.TrimSuffix(Float(re), ".0") + imag + ")"
}

func appendStr(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, n := pystr.NextRune(s, i)
		if r == utf8.RuneError && n == 1 {
			// Not valid even as surrogatepass UTF-8 (cannot come from a
			// decoded pickle): show the byte like surrogateescape would.
			r = 0xDC00 | rune(s[i])
		}
		i += n
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			hexEsc(b, `\x`, uint32(r), 2)
		case r < 0x7f:
			b.WriteByte(byte(r))
		case r >= 0xD800 && r <= 0xDFFF:
			hexEsc(b, `\u`, uint32(r), 4)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			hexEsc(b, `\x`, uint32(r), 2)
		case r <= 0xffff:
			hexEsc(b, `\u`, uint32(r), 4)
		default:
			hexEsc(b, `\U`, uint32(r), 8)
		}
	}
	b.WriteByte(quote)
}

func appendBytes(b *strings.Builder, p []byte) {
	quote := byte('\'')
	if containsByte(p, '\'') && !containsByte(p, '"') {
		quote = '"'
	}
	b.WriteString("b")
	b.WriteByte(quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < ' ' || c >= 0x7f:
			hexEsc(b, `\x`, uint32(c), 2)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
}

func containsByte(p []byte, c byte) bool {
	for _, x := range p {
		if x == c {
			return true
		}
	}
	return false
}

func hexEsc(b *strings.Builder, prefix string, v uint32, n int) {
	const digits = "0123456789abcdef"
	b.WriteString(prefix)
	for i := n - 1; i >= 0; i-- {
		b.WriteByte(digits[(v>>(4*uint(i)))&0xf])
	}
}
