package server

import (
	"context"
	"errors"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

// TestMethodTablesMatchExposed: every method a ready-made object exposes
// has a table entry, and the table has nothing the object does not expose
// (the client would never be allowed to call it).
func TestMethodTablesMatchExposed(t *testing.T) {
	check := func(name string, exposed []string, table map[string]bool) {
		t.Helper()
		ex := map[string]bool{}
		for _, m := range exposed {
			ex[m] = true
			if !table[m] {
				t.Errorf("%s exposes %s but has no table entry", name, m)
			}
		}
		for m := range table {
			if !ex[m] {
				t.Errorf("%s's table has %s, which it does not expose", name, m)
			}
		}
	}
	check("dict", dictExposed, names(dictMethods))
	check("list", listExposed, names(listMethods))
	check("Value", valueExposed, names(valueMethods))
	check("Array", arrayExposed, names(arrayMethods))
	check("set", setExposed, names(setMethods))
	check("Pool", poolExposed, names(poolMethods))
}

func names[T any](t builtins[T]) map[string]bool {
	m := map[string]bool{}
	for k := range t {
		m[k] = true
	}
	return m
}

// TestTableBindsArguments: calls through a table get Python's TypeErrors
// for wrong arguments, and unknown methods reach the server's fallbacks.
func TestTableBindsArguments(t *testing.T) {
	ctx := context.Background()
	d := NewDict()
	kw := pickle.NewDict()
	_ = kw.Set("key", "k")
	_ = kw.Set("value", int64(1))
	if _, err := d.CallMethod(ctx, nil, "__setitem__", nil, kw); err != nil {
		t.Fatalf("d[key=...] = value=...: %v", err)
	}
	for _, tc := range []struct {
		method string
		args   pickle.Tuple
	}{
		{"__len__", pickle.Tuple{int64(1)}},
		{"get", nil},
		{"__setitem__", pickle.Tuple{"k"}},
	} {
		_, err := d.CallMethod(ctx, nil, tc.method, tc.args, nil)
		var pe *pickle.PythonError
		if !errors.As(err, &pe) || pe.Type.Name != "TypeError" {
			t.Errorf("%s%v: %v, want a TypeError", tc.method, tc.args, err)
		}
	}
	if _, err := NewList(nil).CallMethod(ctx, nil, "no_such_method", nil, nil); !errors.Is(err, errNoMethod) {
		t.Errorf("unknown method: %v, want errNoMethod", err)
	}
	v, err := d.CallMethod(ctx, nil, "get", pickle.Tuple{"k"}, nil)
	if err != nil || v != int64(1) {
		t.Errorf("get('k') = %v, %v", v, err)
	}
}
