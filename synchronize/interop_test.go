package synchronize_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/pypeer"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/synchronize"
)

// TestGoPrimitivesPythonChild hands Go-created Lock, Event, Condition and
// BoundedSemaphore to a Python child (process.Start), which rebuilds real
// multiprocessing objects, and drives both sides against each other.
func TestGoPrimitivesPythonChild(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 60*time.Second)
		lock, err := synchronize.NewLock()
		require.NoError(t, err)
		defer lock.Close()
		ev, err := synchronize.NewEvent()
		require.NoError(t, err)
		defer ev.Close()
		cond, err := synchronize.NewCondition(nil)
		require.NoError(t, err)
		defer cond.Close()
		bs, err := synchronize.NewBoundedSemaphore(1)
		require.NoError(t, err)
		defer bs.Close()

		pr := pypeer.Start(t, ctx, py, "queue_sync_peer:sync_probe", lock, ev, cond, bs)

		t.Run("Lock excludes across languages", func(t *testing.T) {
			require.NoError(t, lock.Acquire(ctx))
			assert.Equal(t, false, pr.Call("lock_acquire", 0.2))
			require.NoError(t, lock.Release())
			assert.Equal(t, true, pr.Call("lock_acquire", 5.0))
			ok, err := lock.TryAcquire()
			require.NoError(t, err)
			assert.False(t, ok)
			pr.Send("lock_release")
			assert.Equal(t, "ok", pr.Recv())
			ok, err = lock.AcquireTimeout(ctx, 5*time.Second)
			require.NoError(t, err)
			assert.True(t, ok)
			require.NoError(t, lock.Release())
			assert.ErrorIs(t, lock.Release(), synchronize.ErrReleasedTooManyTimes)
		})
		t.Run("a Python Event.wait is woken by a Go Set, and the reverse", func(t *testing.T) {
			pr.Send("event_wait", 10.0)
			assert.True(t, pr.Silent(300*time.Millisecond))
			require.NoError(t, ev.Set(ctx))
			assert.Equal(t, true, pr.Recv())
			set, err := ev.IsSet(ctx)
			require.NoError(t, err)
			assert.True(t, set)
			require.NoError(t, ev.Clear(ctx))
			assert.Equal(t, false, pr.Call("event_is_set"))
			assert.Equal(t, false, pr.Call("event_wait", 0.1))

			got := make(chan bool, 1)
			go func() {
				ok, err := ev.Wait(ctx)
				got <- ok && err == nil
			}()
			time.Sleep(300 * time.Millisecond)
			assert.Equal(t, "ok", pr.Call("event_set"))
			assert.True(t, <-got)
			ok, err := ev.WaitTimeout(ctx, 10*time.Millisecond)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "ok", pr.Call("event_clear"))
			ok, err = ev.WaitTimeout(ctx, 100*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)
		})
		t.Run("Condition wait/notify_all across languages", func(t *testing.T) {
			pr.Send("cond_wait", 10.0)
			assert.True(t, pr.Silent(300*time.Millisecond))
			require.NoError(t, cond.Acquire(ctx))
			require.NoError(t, cond.NotifyAll(ctx))
			require.NoError(t, cond.Release())
			assert.Equal(t, true, pr.Recv())

			woke := make(chan error, 1)
			require.NoError(t, cond.Acquire(ctx))
			go func() {
				err := cond.Wait(ctx)
				if rerr := cond.Release(); err == nil {
					err = rerr
				}
				woke <- err
			}()
			// The waiter has released the lock once Python can take it.
			time.Sleep(300 * time.Millisecond)
			assert.Equal(t, "ok", pr.Call("cond_notify_all"))
			require.NoError(t, <-woke)
			require.NoError(t, cond.Acquire(ctx))
			ok, err := cond.WaitTimeout(ctx, 100*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)
			require.NoError(t, cond.Release())
		})
		t.Run("BoundedSemaphore maxvalue is enforced on both sides", func(t *testing.T) {
			assert.Equal(t, "ValueError: semaphore or lock released too many times", pr.Call("sem_release"))
			assert.ErrorIs(t, bs.Release(), synchronize.ErrReleasedTooManyTimes)
			require.NoError(t, bs.Acquire(ctx))
			assert.Equal(t, int64(0), pr.Call("sem_value"))
			assert.Equal(t, "ok", pr.Call("sem_release"))
			v, err := bs.GetValue()
			require.NoError(t, err)
			assert.Equal(t, 1, v)
		})
		pr.Exit()
	})
}

// TestOpenFromPickledState rebuilds every primitive from the pickled form
// a spawn payload carries (here produced by the Go side's ReduceForSpawn
// and round-tripped through pickle bytes).
func TestOpenFromPickledState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	roundTrip := func(o *pickle.Object) any {
		b, err := pickle.Marshal(o)
		require.NoError(t, err)
		var v any
		require.NoError(t, pickle.Unmarshal(b, &v))
		return v
	}
	ev, err := synchronize.NewEvent()
	require.NoError(t, err)
	defer ev.Close()
	ev2, err := synchronize.OpenEvent(roundTrip(ev.Object()))
	require.NoError(t, err)
	defer ev2.Close()
	require.NoError(t, ev.Set(ctx))
	set, err := ev2.IsSet(ctx)
	require.NoError(t, err)
	assert.True(t, set)

	r, err := synchronize.NewRLock()
	require.NoError(t, err)
	defer r.Close()
	r2, err := synchronize.OpenRLock(roundTrip(r.Object()))
	require.NoError(t, err)
	defer r2.Close()
	require.NoError(t, r.Acquire(ctx))
	require.NoError(t, r.Acquire(ctx), "recursive on the same handle")
	ok, err := r2.TryAcquire()
	require.NoError(t, err)
	assert.False(t, ok)
	assert.ErrorIs(t, r2.Release(), synchronize.ErrNotOwner)
	require.NoError(t, r.Release())
	require.NoError(t, r.Release())
	ok, err = r2.TryAcquire()
	require.NoError(t, err)
	assert.True(t, ok)
	require.NoError(t, r2.Release())

	_, err = synchronize.OpenLock(roundTrip(r.Object()))
	assert.ErrorIs(t, err, synchronize.ErrBadState, "an RLock is not a Lock")
	_, err = synchronize.OpenSemLock("nope")
	assert.ErrorIs(t, err, synchronize.ErrBadState)
	bad := r.Object()
	bad.State = pickle.Tuple{int64(0), int64(0), int64(1), nil}
	_, err = synchronize.OpenSemLock(bad)
	assert.ErrorIs(t, err, synchronize.ErrBadState)

	// The creator unlinks on Close: nobody can open the name afterwards.
	s, err := synchronize.NewSemaphore(3)
	require.NoError(t, err)
	st := roundTrip(s.Object())
	require.NoError(t, s.Close())
	_, err = synchronize.OpenSemaphore(st)
	assert.Error(t, err)
}
