package pool_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// TestPythonExecutorGoWorkers: CPython's own concurrent.futures
// ProcessPoolExecutor (mpwire.GoProcessPoolExecutor) whose workers are this
// Go binary, on every interpreter: the executor's internals differ between
// versions (workers spawned eagerly on 3.8 and on demand from 3.9,
// cancel_futures from 3.9, max_tasks_per_child and exit_pid from 3.11, the
// broken-pool path reworked in 3.12, the pid-on-exit handling in 3.13).
func TestPythonExecutorGoWorkers(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		r := runParentScript(t, py, "executor_parent.py", "all")
		get := func(name string) map[string]any {
			t.Helper()
			m, ok := r[name]
			require.True(t, ok, "scenario %s missing", name)
			return m
		}
		t.Run("submit and map return results in order", func(t *testing.T) {
			assert.Equal(t, 49.0, get("submit")["got"])
			assert.Equal(t, 64.0, get("submit")["by_name"], "a plain name string")
			assert.Equal(t, squares(200), nums(get("map")["got"]))
			assert.Equal(t, squares(100), nums(get("map-chunksize")["got"]))
			var want []int64
			for i := 0; i < 50; i++ {
				want = append(want, int64(3*i))
			}
			assert.Equal(t, want, nums(get("map-two-iterables")["got"]))
			assert.Empty(t, get("map-empty")["got"])
			assert.Equal(t, 42.0, get("partial")["got"], "functools.partial(GoFunc('add'), 40)(2)")
			assert.Equal(t, []any{[]any{1.0, "two"}, map[string]any{"k": 3.0}}, get("kwargs")["got"])
			e := get("echo")
			assert.Equal(t, e["want"], e["got"])
		})
		t.Run("as_completed, wait, cancel and map timeouts behave as with Python workers", func(t *testing.T) {
			a := get("as-completed")
			assert.Equal(t, 30.0, a["n"])
			assert.Equal(t, squares(30), nums(a["got"]))
			w := get("wait")
			assert.Equal(t, []any{"fast"}, w["first"], "FIRST_COMPLETED returns the finished call only")
			assert.Equal(t, 2.0, w["all_done"])
			assert.Equal(t, []any{"released", 9.0}, w["results"])
			assert.Equal(t, "TimeoutError", get("map-timeout")["raised"])
			c := get("cancel")
			assert.Equal(t, false, c["busy_cancel"], "a running call cannot be cancelled")
			assert.Equal(t, "released", c["busy"])
			assert.GreaterOrEqual(t, c["ncancelled"], 8.0, "at most max_workers+1 calls reach the call queue")
			assert.Equal(t, true, c["consistent"])
			assert.Equal(t, true, c["results_ok"])
		})
		t.Run("Go errors and panics arrive as Python exceptions with the Go traceback", func(t *testing.T) {
			e := get("error")
			assert.Equal(t, "RuntimeError", e["type"])
			assert.Equal(t, "boom", e["msg"])
			assert.Equal(t, "_RemoteTraceback", e["remote_type"])
			assert.Contains(t, e["remote"], "Go function fail")
			p := get("panic")
			assert.Equal(t, "RuntimeError", p["type"])
			assert.Contains(t, p["msg"], "oh no")
			assert.Contains(t, p["remote"], "goroutine", "the remote traceback carries the Go stack")
			v := get("valueerror")
			assert.Equal(t, "ValueError", v["type"])
			assert.Equal(t, true, v["is_valueerror"], "isinstance(future.exception(), ValueError)")
			assert.Equal(t, "bad value", v["msg"])
			assert.Equal(t, "NotImplementedError", get("unknown")["type"])
			assert.Contains(t, get("unknown")["msg"], `"nosuch"`)
			assert.Equal(t, "TypeError", get("bad-arg")["type"])
			u := get("unpicklable")
			assert.Equal(t, "TypeError", u["type"], "a result pickle cannot carry is an exception, as in Python")
			assert.Contains(t, u["msg"], "cannot pickle")
			assert.Equal(t, "TypeError", get("map-one-fails")["type"], "add takes two arguments")
			assert.Equal(t, squares(5), nums(get("after-errors")["got"]))
		})
		t.Run("a Python callable is refused with a TypeError that says how to name it", func(t *testing.T) {
			pc := get("python-callable")
			for _, k := range []string{"submit", "map", "init"} {
				m, ok := pc[k].(map[string]any)
				require.True(t, ok, "%s did not raise", k)
				assert.Equal(t, "TypeError", m["type"], k)
				assert.Contains(t, m["msg"], "pool.Register", k)
				assert.Contains(t, m["msg"], "GoFunc", k)
			}
		})
		t.Run("the initializer runs in every worker", func(t *testing.T) {
			assert.Equal(t, []int64{42, 42, 42, 42, 42, 42}, nums(get("initializer")["got"]))
		})
		t.Run("a worker that dies breaks the pool with BrokenProcessPool", func(t *testing.T) {
			for _, name := range []string{"broken-panic", "broken-exit", "broken-initializer"} {
				b := get(name)
				assert.Equal(t, "BrokenProcessPool", b["type"], name)
				assert.Equal(t, true, b["is_broken"], name)
				after, _ := b["after"].(map[string]any)
				assert.Equal(t, "BrokenProcessPool", after["type"], "%s: submit after the break", name)
				assertGone(t, intList(b["pids"]))
			}
		})
		t.Run("shutdown stops the workers and releases the queues", func(t *testing.T) {
			s := get("shutdown")
			assert.Equal(t, squares(10), nums(s["got"]))
			assert.Equal(t, []any{0.0, 0.0}, s["exitcodes"], "workers exit cleanly at the None sentinel")
			assert.Equal(t, []any{false, false}, s["alive"])
			assert.Len(t, s["names"], 5, "call queue: rlock, wlock, sem; result queue: rlock, wlock")
			assert.Empty(t, s["left"], "semaphores unlinked")
			assert.Equal(t, "RuntimeError", s["after"].(map[string]any)["type"])
			assertGone(t, intList(s["pids"]))
			if !py.AtLeast(3, 9) {
				return
			}
			c := get("shutdown-cancel-futures")
			assert.Equal(t, "released", c["busy"])
			assert.GreaterOrEqual(t, c["ncancelled"], 18.0)
			assert.Equal(t, true, c["consistent"])
		})
		t.Run("max_tasks_per_child replaces workers (3.11+)", func(t *testing.T) {
			m := get("maxtasks")
			if !py.AtLeast(3, 11) {
				assert.Equal(t, true, m["skipped"])
				assert.Equal(t, "TypeError", m["refused"].(map[string]any)["type"])
				assert.Contains(t, m["refused"].(map[string]any)["msg"], "3.11")
				return
			}
			pids := nums(m["pids"])
			require.Len(t, pids, 6)
			for i := 0; i < 6; i += 2 {
				assert.Equal(t, pids[i], pids[i+1], "two tasks per worker: %v", pids)
			}
			assert.NotEqual(t, pids[0], pids[2], "%v", pids)
			assert.NotEqual(t, pids[2], pids[4], "%v", pids)
			assert.Equal(t, squares(7), nums(m["got"]), "queued calls survive the worker replacement (CPython gh-115634)")
		})
		t.Run("asyncio run_in_executor", func(t *testing.T) {
			a := get("asyncio")
			assert.Equal(t, squares(20), nums(a["got"]))
			assert.Equal(t, 0.1, a["slept"])
			e, _ := a["error"].(map[string]any)
			assert.Equal(t, "ValueError", e["type"])
			assert.Equal(t, "from asyncio", e["msg"])
		})
		t.Run("a GoFunc pickles through multiprocessing without Python code", func(t *testing.T) {
			g := get("gofunc-pickle")
			assert.Nil(t, g["error"])
			assert.Equal(t, true, g["same"], "ForkingPickler writes the bytes pickle writes")
			assert.Equal(t, true, g["roundtrip"])
		})
		t.Run("a fork-context lock in initargs is refused before a worker starts", func(t *testing.T) {
			f := get("forkctx")
			if f["skipped"] == true {
				t.Skip("no fork start method")
			}
			assert.Equal(t, true, f["is_fork_error"])
			assert.True(t, strings.Contains(f["msg"].(string), "initargs[0]"), f["msg"])
		})
	})
}

func intList(v any) []int {
	var out []int
	for _, x := range v.([]any) {
		out = append(out, int(x.(float64)))
	}
	sort.Ints(out)
	return out
}
