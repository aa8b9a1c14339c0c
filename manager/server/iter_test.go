package server

import (
	"context"
	"errors"
	"testing"

	"github.com/mpwire/mpwire/pickle"
)

// TestDictIteratorMutationRules: a dict iterator fails for good once the
// dict's size changed (CPython's "dictionary changed size during
// iteration"), reports keys replaced at the same size, and an exhausted
// iterator stays exhausted whatever happens to the dict.
func TestDictIteratorMutationRules(t *testing.T) {
	ctx := context.Background()
	call := func(o Object, method string, args ...any) (any, error) {
		return o.CallMethod(ctx, callerID(1), method, args, nil)
	}
	pyErr := func(err error) string {
		var pe *pickle.PythonError
		if !errors.As(err, &pe) {
			return ""
		}
		return pe.Error()
	}
	newDict := func(keys ...any) *Dict {
		d := NewDict()
		for _, k := range keys {
			if _, err := call(d, "__setitem__", k, k); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	iter := func(d *Dict) *Iterator {
		v, err := call(d, "__iter__")
		if err != nil {
			t.Fatal(err)
		}
		return v.(*Iterator)
	}
	next := func(it *Iterator) (any, string) {
		v, err := call(it, "__next__")
		return v, pyErr(err)
	}

	t.Run("clear", func(t *testing.T) {
		d := newDict(int64(1), int64(2))
		it := iter(d)
		call(d, "clear")
		for range 2 { // sticky, as CPython's di_used = -1
			if _, e := next(it); e != "RuntimeError: dictionary changed size during iteration" {
				t.Fatalf("next after clear: %q", e)
			}
		}
	})
	t.Run("grow mid-iteration", func(t *testing.T) {
		d := newDict(int64(1), int64(2))
		it := iter(d)
		if v, e := next(it); v != int64(1) || e != "" {
			t.Fatalf("first: %v %q", v, e)
		}
		call(d, "__setitem__", int64(3), int64(3))
		if _, e := next(it); e != "RuntimeError: dictionary changed size during iteration" {
			t.Fatalf("next after insert: %q", e)
		}
	})
	t.Run("keys replaced at the same size", func(t *testing.T) {
		d := newDict(int64(1), int64(2))
		it := iter(d)
		call(d, "__delitem__", int64(1))
		call(d, "__setitem__", int64(5), int64(5))
		if _, e := next(it); e != "RuntimeError: dictionary keys changed during iteration" {
			t.Fatalf("next after replacing a key: %q", e)
		}
	})
	t.Run("values changed", func(t *testing.T) {
		d := newDict(int64(1), int64(2))
		it := iter(d)
		call(d, "__setitem__", int64(1), "one")
		var got []any
		for {
			v, e := next(it)
			if e == "StopIteration" {
				break
			}
			if e != "" {
				t.Fatalf("next: %q", e)
			}
			got = append(got, v)
		}
		if len(got) != 2 {
			t.Fatalf("keys %v", got)
		}
	})
	t.Run("exhausted stays exhausted", func(t *testing.T) {
		d := newDict(int64(1))
		it := iter(d)
		next(it)
		if _, e := next(it); e != "StopIteration" {
			t.Fatalf("end: %q", e)
		}
		call(d, "clear")
		if _, e := next(it); e != "StopIteration" {
			t.Fatalf("after the end and a clear: %q", e)
		}
	})
}
