package pickle

import (
	"fmt"
	"math/big"
)

// TypeName returns Python's type(v).__name__ for a value as Unmarshal into
// an interface produces it ("NoneType", "int", "str", "tuple", "dict",
// ...), and for the plain Go values Marshal writes as the same Python types
// (any Go integer is "int", float32 "float", []any "list", map[string]any
// "dict"). An *Object is named by its class (the class a protocol 0–1
// copyreg._reconstructor pickle names, or the callable of its REDUCE or
// NEWOBJ), a *PythonError by its exception class. A value with no Python
// type of its own here (a Global or Ext reference, an object built by a
// computed callable, any other Go type) gives its Go type, as %T prints it.
//
// It is the name Python's own messages use ("'NoneType' object is not
// iterable"). It is safe for concurrent use.
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, *big.Int:
		return "int"
	case float64, float32:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case ByteArray:
		return "bytearray"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case *Dict, map[string]any, map[any]any:
		return "dict"
	case *Set:
		return "set"
	case *FrozenSet:
		return "frozenset"
	case *Object:
		if c := x.class(); c.Name != "" {
			return c.Name
		}
	case *PythonError:
		return x.Type.Name
	}
	return fmt.Sprintf("%T", v)
}
