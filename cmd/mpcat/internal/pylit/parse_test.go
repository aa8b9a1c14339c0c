package pylit

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/cmd/mpcat/internal/pyrepr"
	"github.com/mpwire/mpwire/pickle"
)

func TestParseGivesPythonValues(t *testing.T) {
	// want is Python's repr(eval(in)).
	for _, tc := range []struct{ in, want string }{
		{"None", "None"},
		{" True ", "True"},
		{"-5", "-5"},
		{"+5", "5"},
		{"--5", "5"},
		{"-True", "-1"},
		{"0x_ff", "255"},
		{"0O17", "15"},
		{"0b1_0", "2"},
		{"1_000", "1000"},
		{"000", "0"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"-9223372036854775809", "-9223372036854775809"},
		{"18446744073709551616", "18446744073709551616"},
		{"1.", "1.0"},
		{".5", "0.5"},
		{"1e3", "1000.0"},
		{"1E-3", "0.001"},
		{"1_0.5e1_0", "105000000000.0"},
		{"1e999", "inf"},
		{"-1e999", "-inf"},
		{"float('-Infinity')", "-inf"},
		{"float(' nan ')", "nan"},
		{"float(3)", "3.0"},
		{"int('-12')", "-12"},
		{`"a" 'b' """c""" '''d'''`, "'abcd'"},
		{`b'a' rb'\n' Br"\'"`, `b"a\\n\\'"`},
		{`r'\''`, `"\\'"`},
		{`'\101\x41\u0041\U00000041'`, `'AAAA'`},
		{`'\q'`, `'\\q'`},
		{`'line\
cont'`, "'linecont'"},
		{`"\ud83d\ude00"`, `'\ud83d\ude00'`},
		{`'é'`, `'é'`},
		{`'\xe9'`, `'é'`},
		{`b'\xe9\0'`, `b'\xe9\x00'`},
		{"[1, 2,]", "[1, 2]"},
		{"'ok', 3", "('ok', 3)"},
		{"1,", "(1,)"},
		{" 1 , [2] , ", "(1, [2])"},
		{"(1)", "1"},
		{"(1,)", "(1,)"},
		{"((),)", "((),)"},
		{"{1: 2, True: 3, 1.0: 4}", "{1: 4}"},
		{"{1, True, 1.0, 2}", "{1, 2}"},
		{"{(1, 2): frozenset({3})}", "{(1, 2): frozenset({3})}"},
		{"set([3, 1])", "{3, 1}"},
		{"set()", "set()"},
		{"frozenset('ab')", "frozenset({'a', 'b'})"},
		{"tuple([1])", "(1,)"},
		{"list((1, 2))", "[1, 2]"},
		{"dict(a=1, b=[2])", "{'a': 1, 'b': [2]}"},
		{"dict([(1, 2)], x=3)", "{1: 2, 'x': 3}"},
		{"bytearray(b'x')", "bytearray(b'x')"},
		{"bytearray(2)", "bytearray(b'\\x00\\x00')"},
		{"bytes([104, 105])", "b'hi'"},
		{"bytearray()", "bytearray(b'')"},
	} {
		v, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%s): %v", tc.in, err)
			continue
		}
		if got := pyrepr.Repr(v); got != tc.want {
			t.Errorf("Parse(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseTypes(t *testing.T) {
	v, err := Parse("[1, 1.0, 'a', b'a', (), {}, set(), frozenset(), bytearray(), None, True, 10**0]")
	if err == nil {
		t.Fatalf("an expression parsed: %v", v)
	}
	v, err = Parse("[1, 1.0, 'a', b'a', (), {}, set(), frozenset(), bytearray(), None, True, 99999999999999999999]")
	if err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	checks := []bool{
		is[int64](l[0]), is[float64](l[1]), is[string](l[2]), is[[]byte](l[3]), is[pickle.Tuple](l[4]),
		is[*pickle.Dict](l[5]), is[*pickle.Set](l[6]), is[*pickle.FrozenSet](l[7]), is[pickle.ByteArray](l[8]),
		l[9] == nil, l[10] == true,
	}
	for i, ok := range checks {
		if !ok {
			t.Errorf("element %d has Go type %T", i, l[i])
		}
	}
	if f, _ := Parse("float('nan')"); !math.IsNaN(f.(float64)) {
		t.Error("nan")
	}
	if f, _ := Parse("-0.0"); !math.Signbit(f.(float64)) {
		t.Error("-0.0 lost its sign")
	}
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "expected a value"},
		{"[1,", "expected a value"},
		{"[1 2]", "expected ',' or ']'"},
		{"{'a'", "expected ',', ':' or '}'"},
		{"{'a': 1, 'b'}", "expected ':'"},
		{"'abc", "unterminated string"},
		{"'''abc", "unterminated string"},
		{"x", `unknown name "x"`},
		{"open('f')", "unknown function open()"},
		{"1 2", "after the value"},
		{"1,, 2", "unexpected \", 2\""},
		{"01", "leading zeros"},
		{"1__0", "invalid number"},
		{"1_", "invalid number"},
		{"0x", "invalid number"},
		{"1j", "complex numbers are not supported"},
		{"'\\x4'", `truncated \x escape`},
		{"'\\u12'", `truncated \u escape`},
		{"'\\U00110000'", "illegal Unicode character"},
		{"'\\N{DASH}'", `\N{...}`},
		{"b'é'", "bytes can only contain ASCII"},
		{"b'a' 'b'", "cannot mix bytes and nonbytes"},
		{"{[1]: 2}", "unhashable"},
		{"{[1]}", "unhashable"},
		{"-'a'", "bad operand for unary -"},
		{"float('x')", "could not convert string to float"},
		{"set(1)", "not iterable"},
		{"set(1, 2)", "at most one positional argument"},
		{"bytes([256])", "range(0, 256)"},
		{"bytes('a')", "string argument without an encoding"},
		{strings.Repeat("[", MaxDepth+5), "nested deeper than"},
		{strings.Repeat("9", MaxIntDigits+1), "more than 4300 digits"},
	} {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%.40q) succeeded, want an error containing %q", tc.in, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%.40q) = %v, want an ErrSyntax containing %q", tc.in, err, tc.want)
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(tc.in) {
			t.Errorf("Parse(%.40q): bad offset in %v", tc.in, err)
		}
	}
}
