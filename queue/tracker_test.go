package queue_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// TestTrackerUnlinksAbandonedNames: a queue created with Config.Tracker whose
// creator never closes it (as if it crashed) has its names unlinked by
// Python's resource tracker once the tracker's last user is gone; a queue
// closed normally is unregistered (the tracker warns about nothing).
func TestTrackerUnlinksAbandonedNames(t *testing.T) {
	py := pyharness.DefaultT(t)
	tr, err := process.StartResourceTracker(py.Path)
	require.NoError(t, err)
	defer tr.Close()

	closed, err := queue.Config{Tracker: tr}.NewJoinable(0)
	require.NoError(t, err)
	require.NoError(t, closed.Close())

	abandoned, err := queue.Config{Tracker: tr}.New(0)
	require.NoError(t, err)
	names := abandoned.Names()
	for _, n := range names {
		require.FileExists(t, pyharness.ShmDir+"/sem."+n[1:])
	}
	require.NoError(t, tr.Close()) // the last user of the tracker goes away
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case <-tr.Done():
	case <-ctx.Done():
		t.Fatal("the tracker did not exit")
	}
	for _, n := range names {
		_, err := os.Stat(pyharness.ShmDir + "/sem." + n[1:])
		assert.True(t, os.IsNotExist(err), "%s still exists", n)
	}
	_ = abandoned.Abort() // unregistering with the dead tracker fails; nothing is left to unlink
}
