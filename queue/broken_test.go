package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// TestProducerDiedMidItem: a Python producer dies after writing part of an
// item (its header and a few bytes). The item can never be completed, so
// the queue's stream is broken for this reader: the very first Get says so
// (connection.ErrBroken, not ErrEmpty), and so does every later one.
func TestProducerDiedMidItem(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	rec, logger := logtest.New()
	q, err := queue.Config{Logger: logger}.New(0)
	require.NoError(t, err)
	defer q.Abort()

	p, err := process.Start(ctx, process.Spec{Python: py.Path, Target: "queue_peer:die_mid_item",
		Path: []string{pyharness.Dir()}, Args: []any{q, int64(1000), int64(10)}})
	require.NoError(t, err)
	var ee *process.ExitError
	require.ErrorAs(t, p.Wait(ctx), &ee)
	require.Equal(t, 3, ee.Code, "the producer did not die where the test wanted")

	for i, get := range []func() error{
		func() error { var v any; return q.GetTimeout(ctx, 300*time.Millisecond, &v) },
		func() error { var v any; return q.GetTimeout(ctx, 300*time.Millisecond, &v) },
		func() error { _, err := q.GetPickle(ctx); return err },
	} {
		err := get()
		assert.ErrorIs(t, err, queue.ErrBroken, "get %d", i)
		t.Logf("get %d: %v", i, err)
		assert.False(t, errors.Is(err, queue.ErrEmpty), "get %d reports %v as queue.Empty", i, err)
	}
	assert.Len(t, rec.Find("partial item"), 1, "Config.Logger records the broken pipe once")
}
