package queue

import (
	"context"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/pickle"
)

// TestLoggerRecordsFailures: Config.Logger gets the feeder's write errors
// and the Gets that hit a limit, with the limit's name.
func TestLoggerRecordsFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("an item over MaxItem", func(t *testing.T) {
		rec, logger := logtest.New()
		q, err := Config{MaxItem: 64, Logger: logger}.New(0)
		require.NoError(t, err)
		defer q.Close()
		require.NoError(t, q.Put(ctx, make([]byte, 200)))
		var v any
		err = q.Get(ctx, &v)
		require.ErrorIs(t, err, connection.ErrFrameTooLarge)
		e := rec.Find("exceeds the size limit")
		require.Len(t, e, 1)
		assert.Equal(t, slog.LevelWarn, e[0].Level)
		assert.Equal(t, "queue.Config.MaxItem", e[0].Attrs["limit"])
		assert.Equal(t, q.Names()[0], e[0].Attrs["queue"])
		_ = q.Get(ctx, &v)
		assert.Len(t, rec.Find("exceeds the size limit"), 1, "logged once, not on every later Get")
	})

	t.Run("an item over a decoder limit", func(t *testing.T) {
		rec, logger := logtest.New()
		dec, err := pickle.DecOptions{MaxObjects: 10}.DecMode()
		require.NoError(t, err)
		q, err := Config{DecMode: dec, Logger: logger}.New(0)
		require.NoError(t, err)
		defer q.Close()
		items := make([]any, 100)
		for i := range items {
			items[i] = int64(i)
		}
		require.NoError(t, q.Put(ctx, items))
		var v any
		err = q.Get(ctx, &v)
		require.ErrorIs(t, err, pickle.ErrLimit)
		e := rec.Find("decoder limit")
		require.Len(t, e, 1)
		assert.Equal(t, "pickle.DecOptions", e[0].Attrs["limit"])
		assert.Contains(t, e[0].Attrs["err"], "more than 10 objects")
	})

	t.Run("a feeder that cannot write", func(t *testing.T) {
		rec, logger := logtest.New()
		var handled []error
		q, err := Config{Logger: logger, OnFeederError: func(err error) { handled = append(handled, err) }}.New(0)
		require.NoError(t, err)
		defer q.Abort()
		require.NoError(t, q.reader.Close()) // nobody can read: the feeder's write fails (EPIPE)
		require.NoError(t, q.Put(ctx, "lost"))
		e, err := rec.Wait(ctx, "feeder could not write")
		require.NoError(t, err)
		assert.Equal(t, slog.LevelError, e.Level)
		assert.Contains(t, e.Attrs["err"], "broken pipe")
		require.NoError(t, q.Close())
		require.NoError(t, q.JoinThread(ctx))
		require.Len(t, handled, 1, "OnFeederError still gets the error")
		assert.ErrorIs(t, handled[0], syscall.EPIPE)
	})
}
