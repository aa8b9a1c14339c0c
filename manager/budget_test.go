package manager_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
)

// TestItemBoundIsServerWide: the items of every list held by a server count
// against one MaxItems; growing past it is a MemoryError that changes
// nothing, and closing a proxy (the server drops the list) gives its items
// back.
func TestItemBoundIsServerWide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := server.Config{Listener: listener.Config{Authkey: testKey}, MaxItems: 1000}.New()
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

// TestReplyBound: a reply larger than server.Config.MaxReply is answered
// with MemoryError naming the bound (the list is unchanged); a negative
// MaxReply removes the bound, and the default is the request bound
// (Listener.Conn.MaxFrame).
func TestReplyBound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	items := make([]any, 1000)
	for i := range items {
		items[i] = fmt.Sprintf("%010d", i) // distinct: no memo references
	}
	for _, tc := range []struct {
		cfg     server.Config
		refused bool
	}{
		{server.Config{MaxReply: 4096}, true},
		{server.Config{MaxReply: -1, Listener: listener.Config{Conn: connection.Config{MaxFrame: 4096}}}, false},
		{server.Config{Listener: listener.Config{Conn: connection.Config{MaxFrame: 4096}}}, true},
		{server.Config{}, false},
	} {
		tc.cfg.Listener.Authkey = testKey
		s := tc.cfg.New()
		if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c := dialT(t, ctx, "tcp", s.Addr().String())
		l := must(c.List(ctx, nil))(t)
		for i := 0; i < len(items); i += 100 { // requests below MaxFrame
			ok(t, l.Extend(ctx, items[i:i+100]))
		}
		v, err := l.Value(ctx)
		switch {
		case tc.refused && (!manager.IsPythonError(err, "MemoryError") || !strings.Contains(err.Error(), "MaxReply 4096")):
			t.Errorf("MaxReply %d, MaxFrame %d: %v, want a MemoryError naming MaxReply 4096", tc.cfg.MaxReply, tc.cfg.Listener.Conn.MaxFrame, err)
		case !tc.refused && (err != nil || len(v) != len(items)):
			t.Errorf("MaxReply %d, MaxFrame %d: %d items, %v", tc.cfg.MaxReply, tc.cfg.Listener.Conn.MaxFrame, len(v), err)
		}
		if n := must(l.Len(ctx))(t); n != len(items) {
			t.Errorf("the list has %d items after the refused reply", n)
		}
		ok(t, l.Close())
	}
}
