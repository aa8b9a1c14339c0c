package pickle_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
)

// pyTypeNames prints, for each value at each protocol, its pickle (hex)
// and type(value).__name__.
const pyTypeNames = `
import argparse, collections, datetime, decimal, json, pickle
values = [None, True, 7, 2**100, 1.5, "s", b"b", bytearray(b"x"), [1], (1,), {1: 2},
          {1}, frozenset(), complex(1, 2), datetime.date(2020, 1, 2), decimal.Decimal("1.5"),
          collections.OrderedDict(a=1), argparse.Namespace(a=1), ValueError("v"), KeyError("k")]
for v in values:
    for proto in (0, 2, 4, 5):
        print(json.dumps({"hex": pickle.dumps(v, proto).hex(), "name": type(v).__name__, "proto": proto}))
`

// TestTypeNameIsPythons decodes CPython's pickles of values of many types
// (an object of a plain class at protocol 0 goes through
// copyreg._reconstructor) and checks TypeName against type(v).__name__.
func TestTypeNameIsPythons(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 30*time.Second)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", pyTypeNames}})
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var c struct {
				Hex, Name string
				Proto     int
			}
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			data, err := hex.DecodeString(c.Hex)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := pickle.Unmarshal(data, &v); err != nil {
				t.Fatalf("%s at protocol %d: %v", c.Name, c.Proto, err)
			}
			if got := pickle.TypeName(v); got != c.Name {
				t.Errorf("TypeName of a %s at protocol %d (%T) = %q", c.Name, c.Proto, v, got)
			}
			n++
		}
		if n < 80 {
			t.Fatalf("only %d values from Python", n)
		}
	})
}

func TestTypeNameOfGoValues(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "NoneType"},
		{int8(1), "int"},
		{uint64(1), "int"},
		{big.NewInt(1), "int"},
		{float32(1), "float"},
		{map[string]any{}, "dict"},
		{map[any]any{}, "dict"},
		{[]any{}, "list"},
		{pickle.Tuple{}, "tuple"},
		{pickle.ByteArray{}, "bytearray"},
		{&pickle.Object{Callable: pickle.Global{Module: "m", Name: "C"}}, "C"},
		{&pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "KeyError"}}, "KeyError"},
		{pickle.Global{Module: "m", Name: "f"}, "pickle.Global"},
		{&pickle.Object{CallableValue: pickle.Global{Module: "m", Name: "f"}}, "*pickle.Object"},
		{struct{}{}, "struct {}"},
	} {
		if got := pickle.TypeName(tc.v); got != tc.want {
			t.Errorf("TypeName(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func ExampleTypeName() {
	var v any
	// pickle.dumps((1, 'a', None), 4)
	if err := pickle.Unmarshal([]byte("\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00K\x01\x8c\x01a\x94N\x87\x94."), &v); err != nil {
		panic(err)
	}
	fmt.Println(pickle.TypeName(v))
	for _, item := range v.(pickle.Tuple) {
		fmt.Printf("'%s' object\n", pickle.TypeName(item))
	}
	// Output:
	// tuple
	// 'int' object
	// 'str' object
	// 'NoneType' object
}
