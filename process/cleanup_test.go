package process_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
	"github.com/mpwire/mpwire/sharedmem"
)

// roleLeak creates a Queue (three named semaphores) and a SharedMemory
// segment, never closes them, sends their names on Conn(0) and then ends
// the way kwargs["how"] says:
//
//	exit          return (exit 0) without cleaning up, once the parent says so
//	cleanup       the same, after a deferred process.CleanupResources()
//	signal        install CleanupResourcesOnSignal() and wait to be signalled
//	wait          wait to be killed
//	own-tracker   start a Python tracker (kwargs["python"]), make it the
//	              default, then create, report and wait to be killed or exit
func roleLeak(ctx context.Context, child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	how, _ := child.Kwarg("how")
	switch how {
	case "cleanup":
		defer process.CleanupResources()
	case "signal":
		defer process.CleanupResourcesOnSignal()()
	case "own-tracker", "own-tracker-exit":
		py, _ := child.Kwarg("python")
		tr, err := process.StartResourceTracker(fmt.Sprint(py))
		if err != nil {
			return err
		}
		process.SetDefaultTracker(tr)
	}
	q, err := queue.New(0)
	if err != nil {
		return err
	}
	shm, err := sharedmem.Create("", 4096)
	if err != nil {
		return err
	}
	names := append(q.Names(), shm.TrackerName())
	if err := conn.Send(ctx, names); err != nil {
		return err
	}
	switch how {
	case "signal", "wait", "own-tracker":
		<-ctx.Done()
		return errors.New("never signalled")
	}
	var goAhead string // the parent has seen the names
	return conn.Recv(ctx, &goAhead)
}

// shmFile is the /dev/shm file of a tracker name: sem.mp-x for a
// semaphore "/mp-x", psm_x for a segment "/psm_x".
func shmFile(name string) string {
	n := strings.TrimPrefix(name, "/")
	if strings.HasPrefix(n, "mp-") {
		n = "sem." + n
	}
	return pyharness.ShmDir + "/" + n
}

func exist(names []string) []string {
	var left []string
	for _, n := range names {
		if _, err := os.Stat(shmFile(n)); err == nil {
			left = append(left, n)
		}
	}
	return left
}

// startLeaker starts this test binary as a Go worker playing roleLeak and
// returns the names it created.
func startLeaker(t *testing.T, ctx context.Context, spec process.Spec, kwargs map[string]any) (*process.Process, []string) {
	t.Helper()
	ours, theirs := pipeT(t)
	spec.Executable = []string{worker(t)}
	spec.Args = []any{theirs}
	spec.Kwargs = kwargs
	kwargs["role"] = "leak"
	p, err := process.Start(ctx, spec)
	require.NoError(t, err)
	theirs.Close()
	t.Cleanup(func() { _ = p.Kill(); _ = p.Wait(context.Background()) })
	var names []string
	require.NoError(t, ours.Recv(ctx, &names))
	require.Len(t, names, 4)
	require.Equal(t, names, exist(names), "the worker's names exist while it runs")
	holdOpen(t, names)
	require.NoError(t, ours.Send(ctx, "go ahead"))
	return p, names
}

// holdOpen keeps the files open until the test ends. Unlinking does not
// care, but the test harness of concurrently running tests removes
// /dev/shm entries that nobody holds: held, the names can only go by a
// real sem_unlink/shm_unlink, which is what the tests check.
func holdOpen(t *testing.T, names []string) {
	for _, n := range names {
		f, err := os.Open(shmFile(n))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
	}
}

func requireGone(t *testing.T, names []string, why string) {
	t.Helper()
	require.Eventually(t, func() bool { return len(exist(names)) == 0 }, 30*time.Second, 20*time.Millisecond,
		"%s: left in /dev/shm: %v", why, exist(names))
}

// TestNothingLeftBehind: a Go process that creates a Queue and a
// SharedMemory and never closes them leaves nothing in /dev/shm, in each
// way mpwire supports (the Python parent's tracker is covered by
// TestPythonParentGoWorker's "leak" scenario); and, as documented, only a
// tracker covers SIGKILL.
func TestNothingLeftBehind(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 120*time.Second)

	t.Run("a tracker the Go parent passes to its Go worker", func(t *testing.T) {
		tr, err := process.StartResourceTracker(py.Path)
		require.NoError(t, err)
		defer tr.Close()
		p, names := startLeaker(t, ctx, process.Spec{Tracker: tr}, map[string]any{"how": "exit"})
		require.NoError(t, p.Wait(ctx))
		assert.Equal(t, names, exist(names), "the tracker waits for its last user (this test) to go")
		require.NoError(t, tr.Close())
		requireGone(t, names, "after the tracker's last user left")
	})

	t.Run("the default tracker is passed on when Spec names none", func(t *testing.T) {
		tr, err := process.StartResourceTracker(py.Path)
		require.NoError(t, err)
		defer tr.Close()
		prev := process.SetDefaultTracker(tr)
		defer process.SetDefaultTracker(prev)
		p, names := startLeaker(t, ctx, process.Spec{}, map[string]any{"how": "exit"})
		require.NoError(t, p.Wait(ctx))
		process.SetDefaultTracker(prev)
		require.NoError(t, tr.Close())
		requireGone(t, names, "after the tracker's last user left")
	})

	for _, end := range []string{"exit", "SIGKILL"} {
		t.Run("a tracker the creator started itself, then "+end, func(t *testing.T) {
			how := "own-tracker-exit"
			if end == "SIGKILL" {
				how = "own-tracker"
			}
			var stderr pyharness.SyncBuffer // the tracker inherits the worker's
			p, names := startLeaker(t, ctx, process.Spec{Stderr: &stderr}, map[string]any{"how": how, "python": py.Path})
			if end == "SIGKILL" {
				require.NoError(t, p.Kill())
			}
			_ = p.Wait(ctx)
			requireGone(t, names, "after the creator "+end)
			require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "leaked semaphore objects") },
				10*time.Second, 20*time.Millisecond, "Python's tracker warns about what it cleaned up: %q", stderr.String())
		})
	}

	t.Run("CleanupResources at the end of main", func(t *testing.T) {
		p, names := startLeaker(t, ctx, process.Spec{}, map[string]any{"how": "cleanup"})
		require.NoError(t, p.Wait(ctx))
		assert.Empty(t, exist(names), "unlinked before the process exited")
	})

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run("CleanupResourcesOnSignal, "+sig.String(), func(t *testing.T) {
			p, names := startLeaker(t, ctx, process.Spec{}, map[string]any{"how": "signal"})
			require.NoError(t, p.Signal(sig))
			var ee *process.ExitError
			require.ErrorAs(t, p.Wait(ctx), &ee)
			assert.Equal(t, -int(sig), ee.Code, "the process still dies of the signal")
			assert.Empty(t, exist(names))
		})
	}

	t.Run("without a tracker, SIGKILL leaves the names (documented)", func(t *testing.T) {
		p, names := startLeaker(t, ctx, process.Spec{}, map[string]any{"how": "wait"})
		require.NoError(t, p.Kill())
		_ = p.Wait(ctx)
		assert.Equal(t, names, exist(names))
		for _, n := range names {
			require.NoError(t, os.Remove(shmFile(n)))
		}
	})
}

// TestCleanupResourcesInProcess: the registry lists what this process
// created and has not unlinked; CleanupResources unlinks exactly those.
func TestCleanupResourcesInProcess(t *testing.T) {
	before := process.Resources()
	q, err := queue.New(0)
	require.NoError(t, err)
	shm, err := sharedmem.Create("", 4096)
	require.NoError(t, err)
	defer shm.Close()
	names := append(q.Names(), shm.TrackerName())
	got := map[string]string{}
	for _, r := range process.Resources() {
		got[r.Name] = r.Type
	}
	for _, n := range q.Names() {
		assert.Equal(t, process.ResourceSemaphore, got[n], n)
	}
	assert.Equal(t, process.ResourceSharedMemory, got[shm.TrackerName()])

	closed, err := queue.New(0)
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	for _, r := range process.Resources() {
		assert.NotContains(t, closed.Names(), r.Name, "a closed queue's names are forgotten")
	}

	require.NoError(t, process.CleanupResources())
	assert.Empty(t, exist(names))
	assert.Empty(t, process.Resources())
	_ = before
	require.NoError(t, q.Abort(), "a queue whose names were cleaned up still closes")
}
