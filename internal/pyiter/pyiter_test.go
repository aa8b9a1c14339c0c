package pyiter

import (
	"reflect"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

func TestItems(t *testing.T) {
	d := pickle.NewDict()
	d.Set("b", int64(1))
	d.Set("a", int64(2))
	for _, c := range []struct {
		in   any
		want []any
		ok   bool
	}{
		{[]any{int64(1), "x"}, []any{int64(1), "x"}, true},
		{pickle.Tuple{nil}, []any{nil}, true},
		// 'aé' + a lone surrogate U+D800 (its surrogatepass bytes) + '€'.
		{"a\u00e9\xed\xa0\x80\u20ac", []any{"a", "\u00e9", "\xed\xa0\x80", "\u20ac"}, true},
		{"", []any{}, true},
		{[]byte{0, 255}, []any{int64(0), int64(255)}, true},
		{d, []any{"b", "a"}, true},
		{int64(3), nil, false},
		{nil, nil, false},
	} {
		got, ok := Items(c.in)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Items(%#v) = %#v, %v; want %#v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
