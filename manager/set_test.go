package manager_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// TestSetProxy: the Go client's SetProxy against the Go server, every
// method, Python's exceptions included.
func TestSetProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := startGoServer(t)
	c := dialT(t, ctx, "tcp", srv.Addr().String())
	s := must(c.Set(ctx, []any{1, 2, 3}))(t)
	defer s.Close()
	items := func(want ...any) {
		t.Helper()
		v := must(s.Value(ctx))(t)
		w := must(pickle.NewSet(want...))(t)
		if !pickle.Equal(v, w) {
			t.Fatalf("set holds %v, want %v", v, w)
		}
	}
	ok(t, s.Add(ctx, 4))
	ok(t, s.Discard(ctx, 1))
	ok(t, s.Discard(ctx, 99))
	items(2, 3, 4)
	if err := s.Remove(ctx, 99); !manager.IsPythonError(err, "KeyError") {
		t.Fatalf("remove(99): %v", err)
	}
	if err := s.Add(ctx, []any{1}); !manager.IsPythonError(err, "TypeError") {
		t.Fatalf("add([1]): %v", err)
	}
	if n := must(s.Len(ctx))(t); n != 3 {
		t.Fatalf("len %d", n)
	}
	if !must(s.Contains(ctx, 2))(t) || must(s.Contains(ctx, 9))(t) {
		t.Fatal("contains")
	}
	check := func(what string, got *pickle.Set, err error, want ...any) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if w := must(pickle.NewSet(want...))(t); !pickle.Equal(got, w) {
			t.Fatalf("%s = %v, want %v", what, got, w)
		}
	}
	u, err := s.Union(ctx, []any{5}, []any{6})
	check("union", u, err, 2, 3, 4, 5, 6)
	i, err := s.Intersection(ctx, []any{3, 4, 5})
	check("intersection", i, err, 3, 4)
	d, err := s.Difference(ctx, []any{2})
	check("difference", d, err, 3, 4)
	x, err := s.SymmetricDifference(ctx, []any{4, 5})
	check("symmetric_difference", x, err, 2, 3, 5)
	if !must(s.IsSubset(ctx, []any{1, 2, 3, 4}))(t) || !must(s.IsSuperset(ctx, []any{2}))(t) || !must(s.IsDisjoint(ctx, []any{7}))(t) {
		t.Fatal("subset relations")
	}
	ok(t, s.Update(ctx, []any{10, 11}))
	ok(t, s.IntersectionUpdate(ctx, []any{2, 3, 10, 11}))
	ok(t, s.DifferenceUpdate(ctx, []any{11}))
	ok(t, s.SymmetricDifferenceUpdate(ctx, []any{3, 12}))
	items(2, 10, 12)
	v := must(s.Pop(ctx))(t)
	if must(s.Contains(ctx, v))(t) {
		t.Fatalf("popped %v still in the set", v)
	}
	ok(t, s.Clear(ctx))
	if _, err := s.Pop(ctx); !manager.IsPythonError(err, "KeyError") {
		t.Fatalf("pop of an empty set: %v", err)
	}
}

// TestSetProxyNeedsServerSupport: a 3.8–3.13 SyncManager has no "set"
// typeid; Client.Set reports it.
func TestSetProxyNeedsServerSupport(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 30*time.Second)
	network, address := startPyServer(t, ctx, py, "tcp")
	c := dialT(t, ctx, network, address)
	_, err := c.Set(ctx, nil)
	var re *manager.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("Set on a %s server: %v, want a RemoteError (no 'set' typeid)", py.Name(), err)
	}
	ok(t, c.Shutdown(ctx))
}
