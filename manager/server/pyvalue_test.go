package server

import (
	"testing"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

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
