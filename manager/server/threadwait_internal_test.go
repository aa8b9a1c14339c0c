package server

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
)

// waitFor polls cond until it holds or ctx ends (a slot is taken and given
// back by the serving goroutine after it has sent a reply, so the client
// can see the reply first).
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not reached", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// TestThreadWaitConns: while at most ThreadWaitConns connections are
// served they wait in ppoll, when more are open none does, and each
// connection keeps answering correctly through every move of its socket;
// Close ends a connection that waits in ppoll.
func TestThreadWaitConns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("connection.Config.ThreadWait is Linux-only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	key := []byte("tw-test")
	s := Config{Listener: listener.Config{Authkey: key}, ThreadWaitConns: 1}.New()
	require.NoError(t, s.Listen("unix", filepath.Join(t.TempDir(), "m.sock")))
	defer s.Close()
	dial := func() (*manager.Client, *manager.DictProxy) {
		c, err := manager.Config{Dialer: listener.Config{Authkey: key}}.Dial(ctx, "unix", s.Addr().String())
		require.NoError(t, err)
		d, err := c.Dict(ctx, nil)
		require.NoError(t, err)
		return c, d
	}
	calls := func(d *manager.DictProxy, from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			require.NoError(t, d.Set(ctx, "k", i))
			v, err := d.Get(ctx, "k")
			require.NoError(t, err)
			require.EqualValues(t, i, v)
		}
	}
	slots := func() int64 { return s.twConns.Load() }

	c1, d1 := dial()
	calls(d1, 0, 100)
	waitFor(ctx, t, "one served connection waits in ppoll", func() bool { return slots() == 1 })

	// A second one: both on the poller (each moves before its next
	// request).
	c2, d2 := dial()
	calls(d2, 0, 100)
	calls(d1, 100, 100)
	waitFor(ctx, t, "two served connections use the poller", func() bool { return slots() == 0 })
	calls(d2, 100, 100)
	require.EqualValues(t, 0, slots())

	// Back to one: it moves to ppoll again.
	require.NoError(t, d2.Close())
	require.NoError(t, c2.Close())
	waitFor(ctx, t, "the second connection ends", func() bool { return s.served.Load() == 1 })
	calls(d1, 200, 100)
	waitFor(ctx, t, "one served connection waits in ppoll again", func() bool { return slots() == 1 })
	require.NoError(t, d1.Close())
	require.NoError(t, c1.Close())
	waitFor(ctx, t, "closed connections are uncounted", func() bool { return slots() == 0 && s.served.Load() == 0 })

	// Close with a connection waiting in ppoll for its next request.
	c3, d3 := dial()
	defer c3.Close()
	calls(d3, 0, 10)
	waitFor(ctx, t, "a served connection waits in ppoll", func() bool { return slots() == 1 })
	require.NoError(t, s.Close())
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("Close did not finish with a connection waiting in ppoll")
	}
	require.Error(t, d3.Set(ctx, "k", 1), "a call after the server closed")
	require.EqualValues(t, 0, slots())
}

// TestThreadWaitConnsNone: a negative ThreadWaitConns keeps every
// connection on the poller.
func TestThreadWaitConnsNone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := Config{ThreadWaitConns: -1}.New()
	require.NoError(t, s.Listen("unix", filepath.Join(t.TempDir(), "m.sock")))
	defer s.Close()
	c, err := manager.Config{}.Dial(ctx, "unix", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	d, err := c.Dict(ctx, nil)
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		require.NoError(t, d.Set(ctx, "k", i))
	}
	require.EqualValues(t, 0, s.twConns.Load())
}
