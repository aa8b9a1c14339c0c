package pool_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pool"
	"github.com/mpwire/mpwire/process"
)

// TestPoolFailsFast: workers that cannot get going make the pool fail with
// the workers' own error instead of restarting them forever while calls
// wait for their contexts. The contexts here are long (60 s); the pool must
// answer on its own.
func TestPoolFailsFast(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)

	t.Run("an initializer that cannot be imported fails New with the traceback", func(t *testing.T) {
		rec, logger := logtest.New()
		p, err := pool.Config{Python: py.Path, Path: []string{pyharness.Dir()}, Processes: 2, Stderr: io.Discard,
			Initializer: "no_such_module_i22:init", Logger: logger}.New(ctx)
		require.Error(t, err)
		assert.Nil(t, p)
		assert.ErrorIs(t, err, process.ErrBootstrap)
		var ee *process.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, ee.Stderr, "ModuleNotFoundError: No module named 'no_such_module_i22'")
		assert.Contains(t, err.Error(), "No module named 'no_such_module_i22'")
		assert.NotEmpty(t, rec.Find("pool: starting a worker failed"))
	})

	t.Run("an initializer that raises fails the calls with ErrWorkerFailed", func(t *testing.T) {
		rec, logger := logtest.New()
		p, err := pool.Config{Python: py.Path, Path: []string{pyharness.Dir()}, Processes: 2, Stderr: io.Discard,
			Initializer: "pool_funcs:failing_init", InitArgs: []any{"no database"}, Logger: logger}.New(ctx)
		require.NoError(t, err, "the workers bootstrap; the initializer runs after")
		defer p.Terminate()
		var out []int
		err = p.Map(ctx, "pool_funcs:square", intsUpTo(10), &out)
		require.ErrorIs(t, err, pool.ErrWorkerFailed)
		require.NoError(t, ctx.Err(), "Map returned only because its context ended")
		var ee *process.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, ee.Stderr, "RuntimeError: no database")
		assert.Contains(t, err.Error(), "RuntimeError: no database")

		assert.ErrorIs(t, p.Apply(ctx, "pool_funcs:square", []any{2}, nil, nil), pool.ErrWorkerFailed, "later calls fail at once")
		require.NoError(t, p.Join(ctx), "the pool terminated itself")
		assert.Empty(t, p.Pids())
		assertNoPoolSemaphores(t, p)

		died := rec.Find("before the pool's first result")
		require.NotEmpty(t, died)
		assert.Equal(t, slog.LevelWarn, died[0].Level)
		assert.Equal(t, "1", died[0].Attrs["exitcode"])
		assert.Equal(t, "RuntimeError: no database", died[0].Attrs["stderr"])
		gaveUp := rec.Find("workers keep failing")
		require.Len(t, gaveUp, 1)
		assert.Equal(t, slog.LevelError, gaveUp[0].Level)
	})

	t.Run("Go workers with an unregistered initializer", func(t *testing.T) {
		self, err := os.Executable()
		require.NoError(t, err)
		p, err := pool.Config{Executable: []string{self}, Processes: 2, Initializer: "no_such_init", Stderr: io.Discard}.New(ctx)
		require.NoError(t, err)
		defer p.Terminate()
		_, err = pool.MapOf[int64](ctx, p, "square", intsUpTo(10))
		require.ErrorIs(t, err, pool.ErrWorkerFailed)
		require.NoError(t, ctx.Err())
		var ee *process.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, ee.Stderr, `no Go function registered as "no_such_init"`)
	})

	t.Run("a worker killed after results is replaced, not a failure", func(t *testing.T) {
		rec, logger := logtest.New()
		p, err := pool.Config{Python: py.Path, Path: []string{pyharness.Dir()}, Processes: 1, Logger: logger}.New(ctx)
		require.NoError(t, err)
		defer p.Terminate()
		var pid int
		require.NoError(t, p.Apply(ctx, "pool_funcs:pid", nil, nil, &pid))
		// Kill it inside a task (not in get(), where it would hold the
		// inqueue's read lock and stall any pool, Python's too).
		mark := filepath.Join(t.TempDir(), "running")
		p.ApplyAsync(ctx, "pool_funcs:touch_sleep", []any{mark, 30}, nil)
		waitFile(t, ctx, mark)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		_, err = rec.Wait(ctx, "pool: worker exited with an error")
		require.NoError(t, err)
		var got []int
		require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(5), &got))
		assert.Equal(t, []int{0, 1, 4, 9, 16}, got)
		assert.Empty(t, rec.Find("workers keep failing"))
		assert.False(t, errors.Is(p.Close(), pool.ErrWorkerFailed))
	})
}
