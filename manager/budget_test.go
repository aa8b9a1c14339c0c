package manager_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// TestItemBoundIsServerWide: the items of every list held by a server count
// against one MaxItems; growing past it is a MemoryError that changes
// nothing, and closing a proxy (the server drops the list) gives its items
// back.
func TestItemBoundIsServerWide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := manager.ServerOptions{MaxItems: 1000}.NewServer(testKey)
	if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dialT(t, ctx, "tcp", s.Addr().String())
	a := must(c.List(ctx, make([]any, 600)))(t)
	b := must(c.List(ctx, make([]any, 300)))(t)
	err := b.Extend(ctx, make([]any, 200))
	if !manager.IsPythonError(err, "MemoryError") || !strings.Contains(err.Error(), "MaxItems 1000") {
		t.Fatalf("extend past the bound: %v", err)
	}
	if n := must(b.Len(ctx))(t); n != 300 {
		t.Fatalf("the failed extend changed the list: %d items", n)
	}
	if _, err := c.List(ctx, make([]any, 200)); err == nil || !strings.Contains(err.Error(), "MemoryError") {
		t.Fatalf("creating past the bound: %v", err)
	}
	ok(t, b.Extend(ctx, make([]any, 100))) // exactly 1000
	ok(t, a.Close())
	waitObjects(t, ctx, c, 1)
	ok(t, b.Extend(ctx, make([]any, 500))) // a's 600 items were given back
	if _, err := b.Call(ctx, "__mul__", []any{int64(2)}, nil); !manager.IsPythonError(err, "MemoryError") {
		t.Fatalf("l * 2 past the bound: %v", err)
	}
}

// TestServedReprsAreBounded: the repr of a served object holding a shared
// structure of 10^8 strings is cut at pickle.DefaultMaxRepr, for every
// ready-made type that prints values.
func TestServedReprsAreBounded(t *testing.T) {
	var x any = []any{strings.Repeat("x", 10)}
	for range 4 {
		l := make([]any, 100)
		for i := range l {
			l[i] = x
		}
		x = l
	}
	d := manager.NewDict()
	if _, err := d.CallMethod(context.Background(), nil, "__setitem__", pickle.Tuple{"k", x}, nil); err != nil {
		t.Fatal(err)
	}
	arr, err := manager.NewArray("i", []any{int64(1)})
	if err != nil {
		t.Fatal(err)
	}
	ns := manager.NewNamespace(map[string]any{"a": x, "b": x, "c": x})
	for _, r := range []manager.Reprer{manager.NewList([]any{x, x}), d, manager.NewValue("O", x), ns, arr} {
		s := r.Repr()
		if len(s) > pickle.DefaultMaxRepr+100 {
			t.Errorf("%T: repr of %d bytes", r, len(s))
		}
		if _, isArr := r.(*manager.Array); !isArr && !strings.HasSuffix(s, pickle.ReprTruncated) {
			t.Errorf("%T: repr not marked as truncated: ...%s", r, s[max(len(s)-40, 0):])
		}
	}
	if got := arr.Repr(); got != "array('i', [1])" {
		t.Errorf("array repr %s", got)
	}
}
