package server

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// Repr returns Python's repr() of a decoded pickle value (None, bool, int,
// float, str, bytes, list, tuple, dict, set, …), e.g. {1: '1', '2': 2}.
// Values Go does not know print as <module.Name object>.
func Repr(v any) string {
	var b strings.Builder
	repr(&b, v, 0)
	return b.String()
}

func repr(b *strings.Builder, v any, depth int) {
	if depth > 100 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(floatRepr(x))
	case string:
		b.WriteString(strRepr(x))
	case []byte:
		b.WriteString(bytesRepr(x))
	case pickle.ByteArray:
		b.WriteString("bytearray(" + bytesRepr(x) + ")")
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			repr(b, e, depth+1)
		}
		b.WriteByte(']')
	case pickle.Tuple:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			repr(b, e, depth+1)
		}
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *pickle.Dict:
		b.WriteByte('{')
		for i, kv := range x.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			repr(b, kv[0], depth+1)
			b.WriteString(": ")
			repr(b, kv[1], depth+1)
		}
		b.WriteByte('}')
	case *pickle.Set:
		if x.Len() == 0 {
			b.WriteString("set()")
			return
		}
		setRepr(b, x.Items(), depth)
	case *pickle.FrozenSet:
		b.WriteString("frozenset(")
		if x.Len() > 0 {
			setRepr(b, x.Items(), depth)
		}
		b.WriteByte(')')
	case *pickle.PythonError:
		b.WriteString(x.Type.Name)
		repr(b, x.Args, depth+1)
	case pickle.Global:
		b.WriteString("<class '" + x.String() + "'>")
	case *pickle.Object:
		if x.Class() == (pickle.Global{Module: "builtins", Name: "slice"}) && len(x.Args) == 3 {
			b.WriteString("slice")
			repr(b, x.Args, depth+1)
			return
		}
		b.WriteString("<" + x.Class().String() + " object>")
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

func setRepr(b *strings.Builder, items []any, depth int) {
	b.WriteByte('{')
	for i, e := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		repr(b, e, depth+1)
	}
	b.WriteByte('}')
}

// floatRepr formats like Python's repr(float): shortest round-trip digits,
// scientific notation below 1e-4 and from 1e16.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func strRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func bytesRepr(p []byte) string {
	q := byte('\'')
	if strings.IndexByte(string(p), '\'') >= 0 && strings.IndexByte(string(p), '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for _, c := range p {
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// typeName is Python's type(v).__name__ for a decoded value.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case pickle.ByteArray:
		return "bytearray"
	case []any:
		return "list"
	case pickle.Tuple:
		return "tuple"
	case *pickle.Dict:
		return "dict"
	case *pickle.Set:
		return "set"
	case *pickle.FrozenSet:
		return "frozenset"
	case *pickle.Object:
		return x.Class().Name
	}
	return fmt.Sprintf("%T", v)
}

// number returns v as a big.Float-comparable value: ok is false for
// non-numbers. bool counts as int, as in Python.
func number(v any) (*big.Float, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewFloat(1), true
		}
		return big.NewFloat(0), true
	case int:
		return new(big.Float).SetInt64(int64(x)), true
	case int64:
		return new(big.Float).SetInt64(x), true
	case *big.Int:
		return new(big.Float).SetInt(x), true
	case float64:
		if math.IsNaN(x) {
			return nil, false
		}
		return big.NewFloat(x), true
	}
	return nil, false
}

// pyEqual is Python's == for decoded values.
func pyEqual(a, b any) bool {
	if fa, ok := a.(float64); ok && math.IsNaN(fa) {
		return false
	}
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na.Cmp(nb) == 0
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []any:
		y, ok := b.([]any)
		return ok && seqEqual(x, y)
	case pickle.Tuple:
		y, ok := b.(pickle.Tuple)
		return ok && seqEqual(x, y)
	case *pickle.Dict:
		y, ok := b.(*pickle.Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, kv := range x.Items() {
			w, found := y.Get(kv[0])
			if !found || !pyEqual(kv[1], w) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	}
	return reflect.DeepEqual(a, b)
}

func seqEqual(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !pyEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// pyCompare is Python's ordering (<) for numbers, str, bytes, lists and
// tuples; other pairs are a TypeError.
func pyCompare(a, b any) (int, error) {
	if na, ok := number(a); ok {
		if nb, ok := number(b); ok {
			return na.Cmp(nb), nil
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case []byte:
		if y, ok := b.([]byte); ok {
			return strings.Compare(string(x), string(y)), nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			return seqCompare(x, y)
		}
	case pickle.Tuple:
		if y, ok := b.(pickle.Tuple); ok {
			return seqCompare(x, y)
		}
	}
	return 0, wire.PyErr("TypeError", fmt.Sprintf("'<' not supported between instances of '%s' and '%s'", typeName(a), typeName(b)))
}

func seqCompare(x, y []any) (int, error) {
	for i := 0; i < len(x) && i < len(y); i++ {
		if pyEqual(x[i], y[i]) {
			continue
		}
		return pyCompare(x[i], y[i])
	}
	return len(x) - len(y), nil
}

// sortValues sorts like list.sort (stable); the first incomparable pair
// is returned as TypeError.
func sortValues(items []any, reverse bool) error {
	var err error
	sort.SliceStable(items, func(i, j int) bool {
		if err != nil {
			return false
		}
		a, b := items[i], items[j]
		if reverse {
			a, b = b, a
		}
		c, e := pyCompare(a, b)
		if e != nil {
			err = e
		}
		return c < 0
	})
	return err
}
