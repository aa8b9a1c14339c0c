package pool_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
)

func newPythonPool(t *testing.T, ctx context.Context, py pyharness.Interpreter, cfg pool.Config) *pool.Pool {
	t.Helper()
	cfg.Python = py.Path
	cfg.Path = []string{pyharness.Dir()}
	cfg.Env = append(cfg.Env, "TMPDIR="+t.TempDir())
	if cfg.Processes == 0 {
		cfg.Processes = 2
	}
	p, err := cfg.New(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { p.Terminate() })
	return p
}

func intsUpTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func assertGone(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "worker %d still exists", pid)
	}
}

// TestGoPoolPythonWorkers: a Go pool whose workers run CPython's own
// multiprocessing.pool.worker, on every interpreter.
func TestGoPoolPythonWorkers(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 60*time.Second)
		p := newPythonPool(t, ctx, py, pool.Config{Initializer: "pool_funcs:init", InitArgs: []any{"ready"}})

		t.Run("Map returns typed results in order", func(t *testing.T) {
			var got []int64
			require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(1000), &got))
			assert.Equal(t, squares(1000), got)
			require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(100), &got, pool.Chunksize(7)))
			assert.Equal(t, squares(100), got)
			var empty []int64
			require.NoError(t, p.Map(ctx, "pool_funcs:square", []int{}, &empty))
			assert.Empty(t, empty)
			f, err := pool.MapOf[string](ctx, p, "math:factorial", []int{5, 30})
			require.Error(t, err, "factorial returns ints, not strings")
			_ = f
			big, err := pool.MapOf[any](ctx, p, "math:factorial", []int{5, 30})
			require.NoError(t, err)
			assert.Equal(t, int64(120), big[0])
			assert.Equal(t, "265252859812191058636308480000000", big[1].(interface{ String() string }).String())
		})
		t.Run("Starmap unpacks argument lists", func(t *testing.T) {
			var got []int
			require.NoError(t, p.Starmap(ctx, "pool_funcs:add", [][]int{{1, 2}, {3, 4}, {5, 6}}, &got))
			assert.Equal(t, []int{3, 7, 11}, got)
		})
		t.Run("Imap yields in order, ImapUnordered every result once", func(t *testing.T) {
			for _, cs := range []int{1, 9} {
				var got []int64
				for v, err := range p.Imap(ctx, "pool_funcs:square", intsUpTo(200), pool.Chunksize(cs)) {
					require.NoError(t, err)
					got = append(got, v.(int64))
				}
				assert.Equal(t, squares(200), got, "chunksize %d", cs)
				got = got[:0]
				for v, err := range p.ImapUnordered(ctx, "pool_funcs:square", intsUpTo(200), pool.Chunksize(cs)) {
					require.NoError(t, err)
					got = append(got, v.(int64))
				}
				sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
				assert.Equal(t, squares(200), got, "chunksize %d", cs)
			}
		})
		t.Run("Imap yields a failed item's exception in its place", func(t *testing.T) {
			var vals []any
			var errs int
			for v, err := range p.Imap(ctx, "pool_funcs:fail_on", [][]any{}) {
				_, _ = v, err
			}
			for v, err := range p.Imap(ctx, "pool_funcs:pid", []int{0, 1, 2}) {
				require.NoError(t, err)
				vals = append(vals, v)
			}
			assert.Len(t, vals, 3)
			for _, err := range p.Imap(ctx, "pool_funcs:fail", []string{"a", "b"}) {
				var pe *pickle.PythonError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "ValueError", pe.Type.Name)
				errs++
			}
			assert.Equal(t, 2, errs)
		})
		t.Run("Apply and ApplyAsync, with keyword arguments", func(t *testing.T) {
			var n int
			require.NoError(t, p.Apply(ctx, "pool_funcs:add", []any{40}, map[string]any{"b": 2}, &n))
			assert.Equal(t, 42, n)
			var s string
			require.NoError(t, p.Apply(ctx, "pool_funcs:initvalue", nil, nil, &s))
			assert.Equal(t, "ready", s, "the initializer ran in the worker")
			r := p.ApplyAsync(context.Background(), "pool_funcs:sleep", []any{0.2}, nil)
			assert.False(t, r.Ready())
			_, err := r.Successful()
			assert.ErrorIs(t, err, pool.ErrNotReady)
			short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			assert.ErrorIs(t, r.Get(short, nil), context.DeadlineExceeded)
			cancel()
			var f float64
			require.NoError(t, r.Get(ctx, &f))
			assert.Equal(t, 0.2, f)
			ok, err := r.Successful()
			require.NoError(t, err)
			assert.True(t, ok)
			m := p.MapAsync(context.Background(), "pool_funcs:square", []int{1, 2, 3})
			var ms []int
			require.NoError(t, m.Get(ctx, &ms))
			assert.Equal(t, []int{1, 4, 9}, ms)
		})
		t.Run("Python exceptions arrive as *pickle.PythonError with the traceback", func(t *testing.T) {
			err := p.Apply(ctx, "pool_funcs:fail", []any{"boom"}, nil, nil)
			var te *pool.TaskError
			require.ErrorAs(t, err, &te)
			var pe *pickle.PythonError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, pickle.Global{Module: "builtins", Name: "ValueError"}, pe.Type)
			assert.Equal(t, pickle.Tuple{"boom"}, pe.Args)
			assert.Contains(t, te.Traceback, "Traceback (most recent call last)")
			assert.Contains(t, te.Traceback, `raise ValueError(msg)`)
			err = p.Apply(ctx, "pool_funcs:fail_custom", []any{"mine"}, nil, nil)
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, pickle.Global{Module: "pool_funcs", Name: "CustomError"}, pe.Type)
			assert.Equal(t, pickle.Tuple{"mine", int64(7)}, pe.Args)
			var got []int
			err = p.Map(ctx, "pool_funcs:fail_on", [][]int{{1, 2}}, &got)
			require.ErrorAs(t, err, &pe, "fail_on needs two arguments")
			assert.Equal(t, "TypeError", pe.Type.Name)
			err = p.Starmap(ctx, "pool_funcs:fail_on", [][]int{{1, 2}, {2, 2}, {3, 2}}, &got)
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "KeyError", pe.Type.Name)
			// As in Python, a task whose function cannot be imported kills
			// the worker in get() (the task is lost); the pool replaces it.
			short, cancel := context.WithTimeout(ctx, 2*time.Second)
			err = p.Apply(short, "no_such_module_xyz:f", nil, nil, nil)
			cancel()
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Error(t, p.Apply(ctx, "not-a-reference", nil, nil, nil))
			require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(5), &got))
			assert.Equal(t, []int{0, 1, 4, 9, 16}, got)
		})
		t.Run("Close and Join let the workers finish and exit", func(t *testing.T) {
			pids := p.Pids()
			require.Len(t, pids, 2)
			r := p.ApplyAsync(context.Background(), "pool_funcs:sleep", []any{0.3}, nil)
			require.NoError(t, p.Close())
			assert.ErrorIs(t, p.Apply(ctx, "pool_funcs:square", []any{1}, nil, nil), pool.ErrClosed)
			require.NoError(t, p.Join(ctx))
			var f float64
			require.NoError(t, r.Get(ctx, &f), "a call made before Close completes")
			assertGone(t, pids)
		})
	})
}

// TestGoPoolRestarts: maxtasksperchild, a killed worker, terminate and
// cancellation (default interpreter: these start many processes).
func TestGoPoolRestarts(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)

	t.Run("MaxTasksPerChild=1 runs every task in a new worker", func(t *testing.T) {
		p := newPythonPool(t, ctx, py, pool.Config{MaxTasksPerChild: 1})
		var pids []int
		require.NoError(t, p.Map(ctx, "pool_funcs:pid", intsUpTo(5), &pids, pool.Chunksize(1)))
		seen := map[int]bool{}
		for _, pid := range pids {
			seen[pid] = true
		}
		assert.Len(t, seen, 5, "pids %v", pids)
		require.NoError(t, p.Close())
		require.NoError(t, p.Join(ctx))
	})
	t.Run("a killed worker is replaced", func(t *testing.T) {
		p := newPythonPool(t, ctx, py, pool.Config{Processes: 1})
		var first int
		require.NoError(t, p.Apply(ctx, "pool_funcs:pid", nil, nil, &first))
		// Kill the worker once it runs the task (not while it holds the
		// inqueue's read lock in get(), which would stall any pool).
		mark := filepath.Join(t.TempDir(), "running")
		lost := p.ApplyAsync(context.Background(), "pool_funcs:touch_sleep", []any{mark, 30}, nil)
		waitFile(t, ctx, mark)
		require.NoError(t, syscall.Kill(first, syscall.SIGKILL))
		var second int
		require.NoError(t, p.Apply(ctx, "pool_funcs:pid", nil, nil, &second))
		assert.NotEqual(t, first, second)
		assert.False(t, lost.Ready(), "the task of a killed worker is lost, as in Python")
		require.NoError(t, p.Terminate())
		assert.ErrorIs(t, lost.Get(ctx, nil), pool.ErrTerminated)
	})
	t.Run("Terminate mid-Map leaves no worker and no semaphore", func(t *testing.T) {
		p := newPythonPool(t, ctx, py, pool.Config{})
		pids := p.Pids()
		errc := make(chan error, 1)
		go func() {
			var out []float64
			items := make([]float64, 400)
			for i := range items {
				items[i] = 0.02
			}
			errc <- p.Map(ctx, "pool_funcs:sleep", items, &out, pool.Chunksize(1))
		}()
		time.Sleep(300 * time.Millisecond)
		require.NoError(t, p.Terminate())
		assert.ErrorIs(t, <-errc, pool.ErrTerminated)
		require.NoError(t, p.Join(ctx))
		assertGone(t, pids)
		assertNoPoolSemaphores(t, p)
	})
	t.Run("cancelling a Map's context stops it; the pool goes on", func(t *testing.T) {
		p := newPythonPool(t, ctx, py, pool.Config{})
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			var out []float64
			items := make([]float64, 2000)
			for i := range items {
				items[i] = 0.01
			}
			errc <- p.Map(cctx, "pool_funcs:sleep", items, &out, pool.Chunksize(1))
		}()
		time.Sleep(200 * time.Millisecond)
		t0 := time.Now()
		cancel()
		assert.ErrorIs(t, <-errc, context.Canceled)
		assert.Less(t, time.Since(t0), 2*time.Second)
		var got []int
		require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(10), &got))
		assert.Equal(t, []int{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}, got)
	})
	t.Run("cancelling New's context terminates the pool", func(t *testing.T) {
		pctx, cancel := context.WithCancel(ctx)
		p := newPythonPool(t, pctx, py, pool.Config{})
		pids := p.Pids()
		r := p.ApplyAsync(context.Background(), "pool_funcs:sleep", []any{30}, nil)
		cancel()
		require.NoError(t, p.Join(ctx))
		assert.ErrorIs(t, r.Get(ctx, nil), pool.ErrTerminated)
		assertGone(t, pids)
		assert.ErrorIs(t, p.Apply(ctx, "pool_funcs:square", []any{1}, nil, nil), pool.ErrClosed)
	})
	t.Run("a bad config is refused", func(t *testing.T) {
		_, err := pool.Config{Python: py.Path, Executable: []string{"/bin/true"}}.New(ctx)
		assert.ErrorIs(t, err, pool.ErrBadConfig, "both Python and Executable")
		_, err = pool.Config{Python: py.Path, Processes: -1}.New(ctx)
		assert.ErrorIs(t, err, pool.ErrBadConfig, "negative Processes")
		_, err = pool.Config{Python: py.Path, Initializer: "nocolon"}.New(ctx)
		assert.ErrorIs(t, err, pool.ErrBadConfig)
	})
}

func waitFile(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never appeared", path)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func assertNoPoolSemaphores(t *testing.T, p *pool.Pool) {
	t.Helper()
	for _, name := range p.SemaphoreNames() {
		_, err := os.Stat("/dev/shm/sem." + name[1:])
		assert.True(t, errors.Is(err, os.ErrNotExist), "%s still exists", name)
	}
}

// TestGoPoolGoWorkers: Config.Executable runs this binary's registered
// functions through the same protocol (Go on both sides).
func TestGoPoolGoWorkers(t *testing.T) {
	ctx := pyharness.Context(t, 60*time.Second)
	self, err := os.Executable()
	require.NoError(t, err)
	p, err := pool.Config{Executable: []string{self}, Processes: 2, Initializer: "init", InitArgs: []any{9}}.New(ctx)
	require.NoError(t, err)
	defer p.Terminate()
	got, err := pool.MapOf[int64](ctx, p, "square", intsUpTo(300), pool.Chunksize(7))
	require.NoError(t, err)
	assert.Equal(t, squares(300), got)
	var sums []int64
	require.NoError(t, p.Starmap(ctx, "sum", [][]int{{1, 2, 3}, {}, {4}}, &sums))
	assert.Equal(t, []int64{6, 0, 4}, sums)
	var iv int64
	require.NoError(t, p.Apply(ctx, "initvalue", []any{nil}, nil, &iv))
	assert.Equal(t, int64(10), iv)
	err = p.Apply(ctx, "fail", []any{"from go"}, nil, nil)
	var te *pool.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "RuntimeError", te.Err.Type.Name)
	assert.Equal(t, pickle.Tuple{"from go"}, te.Err.Args)
	assert.Contains(t, te.Traceback, "Go function fail")
	require.NoError(t, p.Close())
	require.NoError(t, p.Join(ctx))
}

// TestAsyncCallsTakeContext: an async call whose context ends before its
// result is dropped, and its AsyncResult reports the context's error; the
// pool keeps working.
func TestAsyncCallsTakeContext(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	p := newPythonPool(t, ctx, py, pool.Config{Processes: 1})
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	r := p.ApplyAsync(cctx, "pool_funcs:sleep", []any{2}, nil)
	err := r.Get(ctx, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	m := p.MapAsync(cctx, "pool_funcs:square", []int{1, 2})
	_, err = m.Value(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a MapAsync whose context already ended")
	var got []int
	require.NoError(t, p.Map(ctx, "pool_funcs:square", []int{3}, &got))
	assert.Equal(t, []int{9}, got)
}
