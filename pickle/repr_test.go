package pickle

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestFloatIsPythonRepr(t *testing.T) {
	// Right-hand sides are CPython's repr().
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"},
		{1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {1.5e16, "1.5e+16"}, {123456789012345678, "1.2345678901234568e+17"},
		{1e-4, "0.0001"}, {1e-5, "1e-05"}, {1.25e-7, "1.25e-07"}, {5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {1e22, "1e+22"}, {100, "100.0"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	} {
		if got := reprFloat(tc.f); got != tc.want {
			t.Errorf("reprFloat(%g) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestComplexIsPythonRepr(t *testing.T) {
	for _, tc := range []struct {
		re, im float64
		want   string
	}{
		{1, 2, "(1+2j)"}, {0, -1.5, "-1.5j"}, {math.Copysign(0, -1), 2, "(-0+2j)"}, {1.5, math.NaN(), "(1.5+nanj)"},
		{0, 0, "0j"}, {1, math.Copysign(0, -1), "(1-0j)"}, {math.Inf(1), math.Inf(-1), "(inf-infj)"},
	} {
		if got := reprComplex(tc.re, tc.im); got != tc.want {
			t.Errorf("reprComplex(%g, %g) = %s, want %s", tc.re, tc.im, got, tc.want)
		}
	}
}

func TestReprOfValues(t *testing.T) {
	d := NewDict()
	_ = d.Set("k", Tuple{int64(1)})
	_ = d.Set(Tuple{}, nil)
	self := NewDict()
	_ = self.Set("me", self)
	l := make([]any, 1)
	l[0] = l
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	fs, _ := NewFrozenSet(int64(1))
	d2 := NewDict()
	_ = d2.Set(int64(1), "1")
	_ = d2.Set("2", int64(2))
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {big1, "-123456789012345678901234567890"},
		{"it's", `"it's"`}, {`'"`, `'\'"'`}, {"\x00\u0085\u00a0\u00ad\u200b\u3000 ok", `'\x00\x85\xa0\xad\u200b\u3000 ok'`},
		{"\U000e0001\U0001f600", `'\U000e0001😀'`}, {"\xed\xa0\x80", `'\ud800'`},
		{[]byte("it's\x7f"), `b"it's\x7f"`}, {ByteArray("a"), "bytearray(b'a')"},
		{Tuple{int64(1)}, "(1,)"}, {Tuple{}, "()"}, {d, "{'k': (1,), (): None}"},
		{self, "{'me': {...}}"}, {l, "[[...]]"}, {fs, "frozenset({1})"}, {&Set{}, "set()"},
		{&PythonError{Type: Global{Module: "builtins", Name: "KeyError"}, Args: Tuple{"zz"}}, "KeyError('zz')"},
		{Global{Module: "collections", Name: "OrderedDict"}, "collections.OrderedDict"},
		{"a\nb\\", `'a\nb\\'`}, {"é\x00", `'é\x00'`}, {[]byte("a'\x00\xff"), `b"a'\x00\xff"`},
		{[]any{int64(1), "a", nil}, "[1, 'a', None]"}, {d2, "{1: '1', '2': 2}"},
	} {
		if got := (ReprOptions{Detailed: true}).Repr(tc.v); got != tc.want {
			t.Errorf("Repr(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestHugeIntsPrintInHex(t *testing.T) {
	x := new(big.Int).Lsh(big.NewInt(1), 20000)
	if got := reprInt(x); !strings.HasPrefix(got, "0x1000") || len(got) != 2+5001 {
		t.Errorf("2**20000 printed as %.20s… (%d chars)", got, len(got))
	}
	if got := reprInt(new(big.Int).Neg(x)); !strings.HasPrefix(got, "-0x1") {
		t.Errorf("-2**20000 printed as %.20s…", got)
	}
	y := new(big.Int).Exp(big.NewInt(10), big.NewInt(4299), nil) // 4300 digits: decimal, as Python
	if got := reprInt(y); len(got) != 4300 || got[0] != '1' {
		t.Errorf("10**4299 printed with %d chars", len(got))
	}
	if got := reprInt(new(big.Int).Neg(y)); len(got) != 4301 {
		t.Errorf("-10**4299 printed with %d chars", len(got))
	}
	if got := reprInt(new(big.Int).Mul(y, big.NewInt(10))); !strings.HasPrefix(got, "0x") {
		t.Errorf("10**4300 printed as %.20s…", got)
	}
}

func TestReprIsBoundedOnSharedValues(t *testing.T) {
	// 64 levels of a = [a, a]: 2^64 leaves, a few hundred pickle bytes.
	var v any = []any{}
	for i := 0; i < 64; i++ {
		v = []any{v, v}
	}
	s := ReprOptions{MaxLen: 64 << 10}.Repr(v)
	if len(s) > 64<<10+len(ReprTruncated) || !strings.HasSuffix(s, ReprTruncated) {
		t.Errorf("repr of %d bytes, suffix %q", len(s), s[len(s)-30:])
	}
	long := strings.Repeat("é", 1<<20)
	if s := (ReprOptions{MaxLen: 100}).Repr([]any{long, long}); len(s) > 100+len(ReprTruncated) || !strings.HasPrefix(s, "['éé") {
		t.Errorf("repr of a long str: %d bytes %.20q", len(s), s)
	}
}

func TestReprOfInstancesIsPythons(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{&Object{Callable: Global{"collections", "OrderedDict"}}, "<collections.OrderedDict object>"},
		{&Object{Callable: Global{"builtins", "slice"}, Args: Tuple{int64(1), nil, nil}}, "slice(1, None, None)"},
		{&Object{Callable: Global{"builtins", "complex"}, Args: Tuple{1.0, 2.0}}, "(1+2j)"},
		{Global{"builtins", "int"}, "<class 'builtins.int'>"},
		{&PythonError{Type: Global{"builtins", "ValueError"}, Args: Tuple{"x", int64(1)}}, "ValueError('x', 1)"},
	} {
		if got := Repr(tc.v); got != tc.want {
			t.Errorf("Repr = %s, want %s", got, tc.want)
		}
	}
}
