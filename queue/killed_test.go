package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/sem"
	"github.com/mpwire/mpwire/queue"
)

// TestPeerKilledHoldingTheReadLock: a Python consumer blocked in get()
// holds _rlock while it waits for data (Queue.get does "with self._rlock:
// self._recv_bytes()"). Killing it leaves _rlock taken for good — POSIX
// semaphores have no owner-death detection, in Python or in Go. What
// remains: Python's get() without a timeout would hang forever; get(timeout)
// raises Empty; a Go Get returns when its context ends (ErrEmpty on a
// deadline), never hangs without one; producers are unaffected.
func TestPeerKilledHoldingTheReadLock(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	q, err := queue.New(0)
	require.NoError(t, err)
	defer q.Close()

	victim := startProbe(t, ctx, py, q)
	victim.Send("get", true, nil) // blocks inside _rlock
	rlock, err := sem.Open(q.Names()[0])
	require.NoError(t, err)
	defer rlock.Close()
	require.Eventually(t, func() bool { v, err := rlock.Value(); return err == nil && v == 0 },
		20*time.Second, 10*time.Millisecond, "the Python get never took _rlock")
	require.True(t, victim.Silent(100*time.Millisecond))
	require.NoError(t, victim.Proc.Kill())
	require.Error(t, victim.Proc.Wait(ctx))

	start := time.Now()
	var v any
	err = q.GetTimeout(context.Background(), 300*time.Millisecond, &v)
	assert.ErrorIs(t, err, queue.ErrEmpty)
	assert.Less(t, time.Since(start), 5*time.Second)

	// A cancelled context ends the wait too (within sem.WaitSlice).
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- q.Get(cctx, &v) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Get ignored its cancelled context")
	}

	// Producers still work and qsize still counts; only readers are stuck.
	require.NoError(t, q.Put(ctx, "still flowing"))
	n, err := q.Qsize()
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	other := startProbe(t, ctx, py, q)
	assert.Equal(t, "Empty", other.Call("get", true, 0.3), "Python's timed get gives up on the orphaned _rlock")
	assert.Equal(t, int64(1), other.Call("qsize"))
	other.Exit()
}
