package manager_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
)

// TestGoClientPool: the Go server's Pool typeid from a Go client, with
// Python functions named by pickle.Global: map, apply_async (an
// AsyncResult proxy), a worker's exception, imap (an Iterator proxy), and
// the bound on worker processes (Config.MaxWorkers).
func TestGoClientPool(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	s := server.Config{Listener: listener.Config{Authkey: testKey}, MaxWorkers: 3,
		Pool: pool.Config{Python: py.Path}}.New()
	ok(t, s.Listen("tcp", "127.0.0.1:0"))
	defer s.Close()
	c := dialT(t, ctx, "tcp", s.Addr().String())
	neg := pickle.Global{Module: "operator", Name: "neg"}

	p := must(c.Create(ctx, "Pool", []any{2}, nil))(t)
	got := must(p.Call(ctx, "map", []any{neg, []any{1, 2, 3}}, nil))(t)
	if !pickle.Equal(got, []any{int64(-1), int64(-2), int64(-3)}) {
		t.Fatalf("map = %v", got)
	}
	r := must(p.Call(ctx, "apply_async", []any{pickle.Global{Module: "operator", Name: "mul"}, pickle.Tuple{int64(6), int64(7)}}, nil))(t).(*manager.Proxy)
	if r.TypeID() != "AsyncResult" {
		t.Fatalf("apply_async returned a %s proxy", r.TypeID())
	}
	if v := must(r.Call(ctx, "get", []any{30}, nil))(t); v != int64(42) {
		t.Fatalf("get = %v", v)
	}
	if v := must(r.Call(ctx, "successful", nil, nil))(t); v != true {
		t.Fatalf("successful = %v", v)
	}
	ok(t, r.Close())
	_, err := p.Call(ctx, "apply", []any{pickle.Global{Module: "math", Name: "sqrt"}, pickle.Tuple{int64(-1)}}, nil)
	if !manager.IsPythonError(err, "ValueError") {
		t.Fatalf("apply(math.sqrt, (-1,)): %v, want a ValueError", err)
	}
	it := &manager.IteratorProxy{Proxy: must(p.Call(ctx, "imap", []any{neg, []any{4, 5}}, nil))(t).(*manager.Proxy)}
	var items []any
	for {
		v, more, err := it.Next(ctx)
		ok(t, err)
		if !more {
			break
		}
		items = append(items, v)
	}
	if !pickle.Equal(items, []any{int64(-4), int64(-5)}) {
		t.Fatalf("imap yielded %v", items)
	}
	ok(t, it.Close())

	// Two workers run; a Pool(2) more would pass MaxWorkers 3.
	_, err = c.Create(ctx, "Pool", []any{2}, nil)
	var re *manager.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("Pool(2) past MaxWorkers: %v, want a RemoteError", err)
	}
	// Released workers count no more.
	_, err = p.Call(ctx, "terminate", nil, nil)
	ok(t, err)
	ok(t, p.Close())
	p2 := must(c.Create(ctx, "Pool", []any{3}, nil))(t)
	_, err = p2.Call(ctx, "close", nil, nil)
	ok(t, err)
	_, err = p2.Call(ctx, "join", nil, nil)
	ok(t, err)
	ok(t, p2.Close())
	waitObjects(t, context.Background(), c, 0)
}
