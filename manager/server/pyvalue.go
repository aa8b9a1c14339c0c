package server

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"

	"github.com/mpwire/mpwire/manager/internal/wire"
	"github.com/mpwire/mpwire/pickle"
)

// boundedReprer is implemented by the ready-made objects: their repr cut
// at max bytes, at a cost bounded by max (whatever the values share).
type boundedReprer interface {
	reprN(max int) string
}

// reprBuf builds a repr from literal parts and values within one bound.
type reprBuf struct {
	b   []byte
	max int
	cut bool
}

func newReprBuf(max int) *reprBuf { return &reprBuf{max: max} }

func (r *reprBuf) lit(s string) {
	if room := r.max - len(r.b); len(s) > room {
		s, r.cut = s[:max(room, 0)], true
	}
	r.b = append(r.b, s...)
}

func (r *reprBuf) val(v any) {
	room := r.max - len(r.b)
	if room <= 0 {
		r.cut = true
		return
	}
	r.b = pickle.ReprOptions{MaxLen: room}.AppendRepr(r.b, v)
	if bytes.HasSuffix(r.b, []byte(pickle.ReprTruncated)) {
		r.b, r.cut = r.b[:len(r.b)-len(pickle.ReprTruncated)], true
	}
}

func (r *reprBuf) String() string {
	if r.cut {
		return string(r.b) + pickle.ReprTruncated
	}
	return string(r.b)
}

// typeName is Python's type(v).__name__ for a decoded value.
func typeName(v any) string { return pickle.TypeName(v) }

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

// pyEqual is Python's == for decoded values (pickle.Equal: shared and
// self-referencing values cost their distinct containers, not their paths).
func pyEqual(a, b any) bool { return pickle.Equal(a, b) }

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
