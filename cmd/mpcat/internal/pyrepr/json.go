package pyrepr

import (
	"encoding/json"
	"math"
	"math/big"

	"github.com/mpwire/mpwire/pickle"
)

// JSON converts a generic decoded value to a JSON-friendly tree: None, bool,
// str and list map to null, booleans, strings and arrays; ints to JSON
// numbers of any size; finite floats to numbers. Everything JSON cannot say
// directly is an object with a "type" member: {"type": "float", "repr":
// "nan"}, {"type": "bytes", "hex": "..."}, {"type": "tuple", "items": [...]},
// {"type": "dict", "items": [[k, v], ...]} (keys need not be strings),
// {"type": "set"|"frozenset", "items": [...]}, {"type": "bytearray", "hex"},
// and {"type": "object", "repr": "..."} for instances, classes and
// exceptions. A container that contains itself is {"type": "recursion"}.
//
// Like Repr, the tree is bounded: after MaxNodes values the rest are
// {"type": "truncated"}.
func JSON(v any) any { return jsonN(v, MaxNodes) }

func jsonN(v any, limit int) any {
	n := limit
	return toJSON(v, map[any]bool{}, &n)
}

// MaxNodes bounds the values one JSON call converts.
const MaxNodes = 1 << 20

func toJSON(v any, seen map[any]bool, n *int) any {
	if *n--; *n < 0 {
		return map[string]any{"type": "truncated"}
	}
	if id := identity(v); id != nil {
		if seen[id] {
			return map[string]any{"type": "recursion"}
		}
		seen[id] = true
		defer delete(seen, id)
	}
	list := func(xs []any) []any {
		out := make([]any, len(xs))
		for i, x := range xs {
			out[i] = toJSON(x, seen, n)
		}
		return out
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case int64:
		return x
	case int:
		return x
	case *big.Int:
		return json.Number(x.String())
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return map[string]any{"type": "float", "repr": Repr(x)}
		}
		return x
	case []byte:
		return map[string]any{"type": "bytes", "hex": hexString(x)}
	case pickle.ByteArray:
		return map[string]any{"type": "bytearray", "hex": hexString(x)}
	case []any:
		return list(x)
	case pickle.Tuple:
		return map[string]any{"type": "tuple", "items": list(x)}
	case *pickle.Dict:
		items := make([]any, 0, x.Len())
		for k, v := range x.All() {
			items = append(items, []any{toJSON(k, seen, n), toJSON(v, seen, n)})
		}
		return map[string]any{"type": "dict", "items": items}
	case *pickle.Set:
		return map[string]any{"type": "set", "items": list(x.Items())}
	case *pickle.FrozenSet:
		return map[string]any{"type": "frozenset", "items": list(x.Items())}
	}
	return map[string]any{"type": "object", "repr": Repr(v)}
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

func hexString(p []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(p))
	for i, c := range p {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&15]
	}
	return string(out)
}
