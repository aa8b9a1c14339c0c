package server

import (
	"math"
	"math/big"
	"testing"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// TestRepr checks Repr against what CPython's repr() prints for the same
// values (outputs copied from CPython 3.11).
func TestRepr(t *testing.T) {
	d := pickle.NewDict()
	_ = d.Set(int64(1), "1")
	_ = d.Set("2", int64(2))
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {int64(-3), "-3"}, {big1, "123456789012345678901234567890"},
		{1.5, "1.5"}, {100.0, "100.0"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {0.0001, "0.0001"},
		{0.00001, "1e-05"}, {math.Inf(-1), "-inf"}, {0.1, "0.1"},
		{"it's", `"it's"`}, {"a\nb\\", `'a\nb\\'`}, {"é\x00", `'é\x00'`},
		{[]byte("a'\x00\xff"), `b"a'\x00\xff"`},
		{pickle.Tuple{int64(1)}, "(1,)"}, {pickle.Tuple{}, "()"}, {[]any{int64(1), "a", nil}, "[1, 'a', None]"},
		{d, "{1: '1', '2': 2}"},
	} {
		if got := Repr(tc.v); got != tc.want {
			t.Errorf("Repr(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestPyEqualAndCompare(t *testing.T) {
	if !pyEqual(int64(1), 1.0) || !pyEqual(true, int64(1)) || pyEqual("1", int64(1)) || pyEqual([]any{int64(1)}, pickle.Tuple{int64(1)}) {
		t.Fatal("pyEqual disagrees with Python")
	}
	items := []any{int64(3), 1.5, int64(-1), true}
	if err := sortValues(items, false); err != nil || !pyEqual(items[0], int64(-1)) || !pyEqual(items[3], int64(3)) {
		t.Fatalf("sorted %v %v", items, err)
	}
	if err := sortValues([]any{"a", int64(1)}, false); err == nil {
		t.Fatal("sorting str and int succeeded")
	}
}

func TestArrayRoundTrip(t *testing.T) {
	for _, tc := range []string{"b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "f", "d"} {
		a, err := NewArray(tc, []any{int64(1), int64(2), int64(100)})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := a.PickleValue()
		got, err := manager.ArrayItems(v)
		if err != nil || len(got) != 3 || !pyEqual(got[2], int64(100)) {
			t.Fatalf("%s: %v %v", tc, got, err)
		}
	}
	if _, err := NewArray("b", []any{int64(300)}); err == nil {
		t.Fatal("300 fits in 'b'")
	}
}
