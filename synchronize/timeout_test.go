package synchronize_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/synchronize"
)

// TestTimeoutRules: ctx-first calls report the end of ctx as an error; the
// …Timeout helpers report their own time limit as Python's False.
func TestTimeoutRules(t *testing.T) {
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("Event", func(t *testing.T) {
		ev, err := synchronize.NewEvent()
		require.NoError(t, err)
		defer ev.Close()
		set, err := ev.Wait(short())
		assert.False(t, set)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		set, err = ev.WaitTimeout(context.Background(), 20*time.Millisecond)
		assert.False(t, set)
		assert.NoError(t, err)
		require.NoError(t, ev.Set(context.Background()))
		set, err = ev.Wait(short())
		assert.True(t, set)
		assert.NoError(t, err)
	})
	t.Run("Condition", func(t *testing.T) {
		c, err := synchronize.NewCondition(nil)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Acquire(context.Background()))
		defer c.Release()
		assert.ErrorIs(t, c.Wait(short()), context.DeadlineExceeded)
		ok, err := c.WaitTimeout(context.Background(), 20*time.Millisecond)
		assert.False(t, ok)
		assert.NoError(t, err)
		ok, err = c.WaitFor(short(), func() bool { return false })
		assert.False(t, ok)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("SemLock", func(t *testing.T) {
		s, err := synchronize.NewSemaphore(0)
		require.NoError(t, err)
		defer s.Close()
		assert.ErrorIs(t, s.Acquire(short()), context.DeadlineExceeded)
		ok, err := s.AcquireTimeout(context.Background(), 0)
		assert.False(t, ok)
		assert.NoError(t, err)
		ok, err = s.AcquireTimeout(short(), time.Hour)
		assert.False(t, ok)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "ctx ending before d is an error, not Python's False")
		require.NoError(t, s.Release())
		ok, err = s.AcquireTimeout(context.Background(), 0)
		assert.True(t, ok)
		assert.NoError(t, err)
	})
}
