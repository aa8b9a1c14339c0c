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

// TestThreadWaitConns: served connections take ThreadWaitConns slots (no
// more than that many at once), give them back when idle for twIdle or
// closed, take one again when busy, and keep answering correctly through
// every move of their socket; Close ends a connection that waits in ppoll.
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
	waitFor(ctx, t, "a busy connection takes the slot", func() bool { return slots() == 1 })

	c2, d2 := dial()
	calls(d2, 0, 100)
	calls(d1, 100, 100)
	require.EqualValues(t, 1, slots(), "one slot for two connections")

	// Both idle: whichever holds the slot gives it back, and the
	// connections stay usable.
	waitFor(ctx, t, "an idle connection gives the slot back", func() bool { return slots() == 0 })
	calls(d2, 200, 100)
	waitFor(ctx, t, "a busy connection takes the slot again", func() bool { return slots() == 1 })
	calls(d1, 300, 100)
	require.LessOrEqual(t, slots(), int64(1))

	// Closing the clients frees the slot.
	require.NoError(t, d2.Close())
	require.NoError(t, c2.Close())
	require.NoError(t, d1.Close())
	require.NoError(t, c1.Close())
	waitFor(ctx, t, "closed connections give the slot back", func() bool { return slots() == 0 })

	// Close with a connection waiting in ppoll for its next request.
	c3, d3 := dial()
	defer c3.Close()
	calls(d3, 0, 10)
	waitFor(ctx, t, "a busy connection takes the slot", func() bool { return slots() == 1 })
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
