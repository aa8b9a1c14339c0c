package pickle

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/mpwire/mpwire/internal/pystr"
)

// DefaultMaxRepr is the default bound, in bytes, of one Repr.
const DefaultMaxRepr = 1 << 20

// ReprTruncated ends a repr cut at its bound.
const ReprTruncated = "... (repr truncated)"

// Repr returns Python's repr() of a decoded value, at most about
// DefaultMaxRepr bytes (see ReprOptions).
func Repr(v any) string { return ReprOptions{}.Repr(v) }

// ReprOptions configures Repr.
//
// Plain data (None, bool, int, float, str, bytes, bytearray, list, tuple,
// dict, set, frozenset) prints exactly as Python's repr(): the quote
// choice and escapes of str and bytes (unicode.IsPrint standing in for
// str.isprintable; lone surrogates as \udXXX), float's shortest
// round-trip form, '[...]' and '{...}' for containers that contain
// themselves. An int of more than 4300 decimal digits, which Python's repr
// refuses, prints as its hex literal. Exceptions print as Python prints
// them (KeyError('k')), complex numbers as (1+2j), slices as slice(1, 2,
// None).
//
// A pickle can share one list many times over (a = [x]*100; b = [a]*100;
// ...), so a few hundred bytes can have an exponentially long repr: the
// output is cut at MaxLen bytes and ends with ReprTruncated, and the work
// is bounded by MaxLen too, whatever the value.
type ReprOptions struct {
	// MaxLen bounds the output in bytes (0: DefaultMaxRepr; negative: no
	// bound, only for trusted values).
	MaxLen int
	// Detailed prints instances and globals, which Python would show as
	// <module.Name object at 0x…> and <class 'module.Name'>, as a readable
	// constructor call instead: module.Name.__new__(args) with state {...}.
	Detailed bool
}

// Repr returns Python's repr() of v with these options.
func (o ReprOptions) Repr(v any) string {
	return string(o.AppendRepr(nil, v))
}

// AppendRepr appends Python's repr() of v to dst.
func (o ReprOptions) AppendRepr(dst []byte, v any) []byte {
	limit := o.MaxLen
	switch {
	case limit == 0:
		limit = DefaultMaxRepr
	case limit < 0:
		limit = math.MaxInt
	}
	p := reprPrinter{b: dst, limit: len(dst) + limit, detailed: o.Detailed}
	p.repr(v)
	if p.cut {
		p.b = append(p.b, ReprTruncated...)
	}
	return p.b
}

// reprShort is the repr used in this package's error messages.
func reprShort(v any) string { return ReprOptions{MaxLen: 200}.Repr(v) }

type reprPrinter struct {
	b        []byte
	limit    int
	cut      bool
	detailed bool
	seen     map[keyID]bool // containers being printed (cycle detection)
}

// full reports whether the output reached its bound (and marks it cut).
func (p *reprPrinter) full() bool {
	if len(p.b) >= p.limit {
		p.cut = true
	}
	return p.cut
}

func (p *reprPrinter) write(s string) {
	if p.full() {
		return
	}
	if room := p.limit - len(p.b); len(s) > room {
		s = s[:room]
		p.cut = true
	}
	p.b = append(p.b, s...)
}

func (p *reprPrinter) writeByte(c byte) {
	if !p.full() {
		p.b = append(p.b, c)
	}
}

// reprIdentity names a container for cycle detection; ok is false for
// values that cannot contain themselves.
func reprIdentity(v any) (keyID, bool) {
	switch x := v.(type) {
	case []any:
		if cap(x) == 0 {
			return keyID{}, false
		}
		return keyID{unsafe.Pointer(unsafe.SliceData(x)), 0, 'l'}, true
	case Tuple:
		if len(x) == 0 {
			return keyID{}, false
		}
		return keyID{unsafe.Pointer(unsafe.SliceData(x)), 0, 't'}, true
	case *Dict:
		return keyID{unsafe.Pointer(x), 0, 'd'}, true
	case *Set:
		return keyID{unsafe.Pointer(x), 0, 'S'}, true
	case *FrozenSet:
		return keyID{unsafe.Pointer(x), 0, 'F'}, true
	case *Object:
		return keyID{unsafe.Pointer(x), 0, 'o'}, true
	case *PythonError:
		return keyID{unsafe.Pointer(x), 0, 'e'}, true
	}
	return keyID{}, false
}

func (p *reprPrinter) repr(v any) {
	if p.full() {
		return
	}
	if id, ok := reprIdentity(v); ok {
		if p.seen[id] {
			switch v.(type) {
			case *Dict:
				p.write("{...}")
			case []any:
				p.write("[...]")
			default:
				p.write("...")
			}
			return
		}
		if p.seen == nil {
			p.seen = make(map[keyID]bool)
		}
		p.seen[id] = true
		defer delete(p.seen, id)
	}
	switch x := v.(type) {
	case nil:
		p.write("None")
	case bool:
		if x {
			p.write("True")
		} else {
			p.write("False")
		}
	case int64:
		p.b = strconv.AppendInt(p.b, x, 10)
	case int:
		p.b = strconv.AppendInt(p.b, int64(x), 10)
	case *big.Int:
		p.write(reprInt(x))
	case float64:
		p.write(reprFloat(x))
	case string:
		p.str(x)
	case []byte:
		p.bytes(x)
	case ByteArray:
		p.write("bytearray(")
		p.bytes(x)
		p.writeByte(')')
	case []any:
		p.writeByte('[')
		p.items(x)
		p.writeByte(']')
	case Tuple:
		p.writeByte('(')
		p.items(x)
		if len(x) == 1 {
			p.writeByte(',')
		}
		p.writeByte(')')
	case *Dict:
		p.dict(x)
	case *Set:
		p.set(&x.hs, "set(", "")
	case *FrozenSet:
		p.set(&x.hs, "frozenset(", "frozenset(")
	case Global:
		if p.detailed {
			p.write(x.Module + "." + x.Name)
		} else {
			p.write("<class '" + x.Module + "." + x.Name + "'>")
		}
	case *PythonError:
		// BaseException.__repr__: Name(args) without the 1-tuple comma.
		p.write(x.Type.Name)
		p.writeByte('(')
		p.items(x.Args)
		p.writeByte(')')
	case *Object:
		p.object(x)
	default:
		// Typed Go values (registered classes, values a Go program stored).
		p.write("<" + strings.TrimPrefix(fmt.Sprintf("%T", v), "*") + ">")
	}
}

func (p *reprPrinter) items(xs []any) {
	for i, e := range xs {
		if p.full() {
			return
		}
		if i > 0 {
			p.write(", ")
		}
		p.repr(e)
	}
}

// set prints a set as Python does: empty+")" when empty, else
// name+"{elements}" and ")" if name is not empty.
func (p *reprPrinter) set(hs *hashSet, empty, name string) {
	if len(hs.items) == 0 {
		p.write(empty + ")")
		return
	}
	p.write(name + "{")
	for i := range hs.items {
		if p.full() {
			return
		}
		if i > 0 {
			p.write(", ")
		}
		p.repr(hs.items[i].k)
	}
	p.writeByte('}')
	if name != "" {
		p.writeByte(')')
	}
}

func (p *reprPrinter) dict(d *Dict) {
	p.writeByte('{')
	for i := range d.ents {
		if p.full() {
			return
		}
		if i > 0 {
			p.write(", ")
		}
		p.repr(d.ents[i].k)
		p.write(": ")
		p.repr(d.ents[i].v)
	}
	p.writeByte('}')
}

var (
	gComplex = Global{"builtins", "complex"}
	gSlice   = Global{"builtins", "slice"}
)

// object prints an instance: complex numbers and slices as Python does;
// others as <module.Name object>, or (Detailed) as the call that built them
// followed by what BUILD, APPENDS and SETITEMS applied.
func (p *reprPrinter) object(o *Object) {
	c := o.Class()
	if c == gComplex && len(o.Args) == 2 && o.State == nil {
		re, ok1 := o.Args[0].(float64)
		im, ok2 := o.Args[1].(float64)
		if ok1 && ok2 {
			p.write(reprComplex(re, im))
			return
		}
	}
	if c == gSlice && len(o.Args) == 3 && o.State == nil {
		p.write("slice")
		p.repr(o.Args)
		return
	}
	if !p.detailed {
		if o.CallableValue != nil {
			p.write("<object>")
			return
		}
		p.write("<" + c.Module + "." + c.Name + " object>")
		return
	}
	if o.CallableValue != nil {
		p.repr(o.CallableValue)
	} else {
		p.write(c.Module + "." + c.Name)
	}
	if o.NewObj {
		p.write(".__new__")
	}
	p.writeByte('(')
	p.items(o.Args)
	if o.Kwargs != nil {
		i := len(o.Args)
		for k, v := range o.Kwargs.All() {
			if p.full() {
				return
			}
			if i > 0 {
				p.write(", ")
			}
			i++
			if s, ok := k.(string); ok {
				p.write(s)
			} else {
				p.repr(k)
			}
			p.writeByte('=')
			p.repr(v)
		}
	}
	p.writeByte(')')
	if o.ListItems != nil {
		p.write(" + ")
		p.repr(o.ListItems)
	}
	if o.DictItems != nil {
		p.write(" | ")
		p.dict(o.DictItems)
	}
	if o.State != nil {
		p.write(" with state ")
		p.repr(o.State)
	}
}

// tenPowMaxDigits is 10**DefaultMaxLongDigits, the first int past
// CPython's default limit on int to decimal string conversion
// (sys.get_int_max_str_digits(): 4300 digits).
var tenPowMaxDigits = new(big.Int).Exp(big.NewInt(10), big.NewInt(DefaultMaxLongDigits), nil)

// pastMaxDigits reports whether x has more decimal digits than CPython
// converts (tenPowMaxDigits): repr, error text and protocol-0/1 ints then
// avoid decimal text, whose conversion takes time super-linear in x's
// length.
func pastMaxDigits(x *big.Int) bool { return x.CmpAbs(tenPowMaxDigits) >= 0 }

// reprInt returns repr of a Python int. Beyond 4300 decimal digits, where
// Python's repr raises ValueError (and decimal conversion gets slow), it
// returns the hex literal of the same value instead.
func reprInt(x *big.Int) string {
	if pastMaxDigits(x) {
		s := x.Text(16)
		if s[0] == '-' {
			return "-0x" + s[1:]
		}
		return "0x" + s
	}
	return x.String()
}

// reprFloat returns repr of a Python float.
func reprFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return string(appendFloatRepr(nil, f))
}

// reprComplex returns repr of a Python complex number.
func reprComplex(re, im float64) string {
	imag := strings.TrimSuffix(reprFloat(im), ".0") + "j"
	if re == 0 && !math.Signbit(re) {
		// complex_repr: no parentheses when the real part is +0.0.
		return imag
	}
	if !strings.HasPrefix(imag, "-") {
		imag = "+" + imag
	}
	return "(" + strings.TrimSuffix(reprFloat(re), ".0") + imag + ")"
}

func (p *reprPrinter) str(s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	p.writeByte(quote)
	for i := 0; i < len(s) && !p.full(); {
		r, n := pystr.NextRune(s, i)
		if r == utf8.RuneError && n == 1 {
			// Not valid even as surrogatepass UTF-8 (cannot come from a
			// decoded pickle): show the byte like surrogateescape would.
			r = 0xDC00 | rune(s[i])
		}
		i += n
		switch {
		case r == rune(quote) || r == '\\':
			p.b = append(p.b, '\\', byte(r))
		case r == '\t':
			p.b = append(p.b, `\t`...)
		case r == '\n':
			p.b = append(p.b, `\n`...)
		case r == '\r':
			p.b = append(p.b, `\r`...)
		case r < ' ' || r == 0x7f:
			p.b = appendHexEsc(p.b, 'x', uint32(r), 2)
		case r < 0x7f:
			p.b = append(p.b, byte(r))
		case r >= 0xD800 && r <= 0xDFFF:
			p.b = appendHexEsc(p.b, 'u', uint32(r), 4)
		case unicode.IsPrint(r):
			p.b = utf8.AppendRune(p.b, r)
		case r <= 0xff:
			p.b = appendHexEsc(p.b, 'x', uint32(r), 2)
		case r <= 0xffff:
			p.b = appendHexEsc(p.b, 'u', uint32(r), 4)
		default:
			p.b = appendHexEsc(p.b, 'U', uint32(r), 8)
		}
	}
	p.writeByte(quote)
}

func (p *reprPrinter) bytes(b []byte) {
	quote := byte('\'')
	if bytes.IndexByte(b, '\'') >= 0 && bytes.IndexByte(b, '"') < 0 {
		quote = '"'
	}
	p.write("b")
	p.writeByte(quote)
	for _, c := range b {
		if p.full() {
			break
		}
		switch {
		case c == quote || c == '\\':
			p.b = append(p.b, '\\', c)
		case c == '\t':
			p.b = append(p.b, `\t`...)
		case c == '\n':
			p.b = append(p.b, `\n`...)
		case c == '\r':
			p.b = append(p.b, `\r`...)
		case c < ' ' || c >= 0x7f:
			p.b = appendHexEsc(p.b, 'x', uint32(c), 2)
		default:
			p.b = append(p.b, c)
		}
	}
	p.writeByte(quote)
}

func appendHexEsc(b []byte, kind byte, v uint32, n int) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '\\', kind)
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[(v>>(4*uint(i)))&0xf])
	}
	return b
}
