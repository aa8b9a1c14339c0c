package pool_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// runPythonParent runs pyfixtures/pool_parent.py with this test binary as
// the Go worker and returns its JSON lines by scenario name.
func runPythonParent(t *testing.T, py pyharness.Interpreter, scenario string) map[string]map[string]any {
	t.Helper()
	return runParentScript(t, py, "pool_parent.py", scenario)
}

// runParentScript runs a parent fixture script (--go self --scenario s) and
// returns its JSON lines by scenario name.
func runParentScript(t *testing.T, py pyharness.Interpreter, script, scenario string) map[string]map[string]any {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	ctx := pyharness.Context(t, 80*time.Second)
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: script,
		Args: []string{"--go", self, "--scenario", scenario}})
	res := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		name, _ := m["scenario"].(string)
		require.Nil(t, m["crashed"], "scenario %s crashed:\n%s", name, m["crashed"])
		res[name] = m
	}
	return res
}

func nums(v any) []int64 {
	var out []int64
	for _, x := range v.([]any) {
		out = append(out, int64(x.(float64)))
	}
	return out
}

func squares(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i * i)
	}
	return out
}

// TestPythonPoolGoWorkers: a Python multiprocessing Pool (GoPool) whose
// workers are this Go binary, on every interpreter.
func TestPythonPoolGoWorkers(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		// The core cases on every interpreter; the slow ones (worker
		// restarts) on the default interpreter only.
		scenario := "basic,errors"
		def, _ := pyharness.Default()
		full := py.Path == def.Path && !testing.Short()
		if full {
			scenario = "all"
		}
		r := runPythonParent(t, py, scenario)
		t.Run("map, imap and starmap return results in order", func(t *testing.T) {
			assert.Equal(t, squares(1000), nums(r["map"]["got"]))
			assert.Equal(t, squares(100), nums(r["map-chunksize"]["got"]))
			assert.Empty(t, r["map-empty"]["got"])
			assert.Equal(t, squares(200), nums(r["imap"]["got"]))
			assert.Equal(t, squares(200), nums(r["imap-chunksize"]["got"]))
			var want []int64
			for i := 0; i < 50; i++ {
				want = append(want, int64(3*i))
			}
			assert.Equal(t, want, nums(r["starmap"]["got"]))
		})
		t.Run("imap_unordered returns every result once", func(t *testing.T) {
			got := nums(r["imap-unordered"]["got"])
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			assert.Equal(t, squares(200), got)
		})
		t.Run("apply, AsyncResult and callbacks behave as Python's", func(t *testing.T) {
			assert.Equal(t, 42.0, r["apply"]["got"])
			a := r["apply-async"]
			assert.Equal(t, false, a["ready_before"])
			assert.Equal(t, true, a["ready"])
			assert.Equal(t, true, a["successful"])
			assert.Equal(t, 0.2, a["got"])
			m := r["map-async-callback"]
			assert.Equal(t, squares(10), nums(m["got"]))
			assert.Equal(t, []any{m["got"]}, m["callback"])
			e := r["map-async-error-callback"]
			assert.Equal(t, false, e["successful"])
			assert.Equal(t, []any{"cb"}, e["errors"])
			assert.Equal(t, "TimeoutError", r["get-timeout"]["raised"])
			assert.Equal(t, r["echo"]["want"], r["echo"]["got"])
			assert.Equal(t, true, r["close-join"]["ok"])
		})
		t.Run("Go errors and panics raise in the Python caller", func(t *testing.T) {
			e := r["error"]
			assert.Equal(t, "RuntimeError", e["type"])
			assert.Equal(t, "boom", e["msg"])
			assert.Equal(t, "RemoteTraceback", e["remote_type"])
			assert.Contains(t, e["remote"], "Go function fail")
			p := r["panic"]
			assert.Equal(t, "RuntimeError", p["type"])
			assert.Contains(t, p["msg"], "oh no")
			assert.Contains(t, p["remote"], "goroutine", "the remote traceback carries the Go stack")
			assert.Equal(t, "ValueError", r["valueerror"]["type"])
			assert.Equal(t, "bad value", r["valueerror"]["msg"])
			assert.Equal(t, "NotImplementedError", r["unknown"]["type"])
			assert.Contains(t, r["unknown"]["msg"], `"nosuch"`)
			assert.Equal(t, "TypeError", r["bad-arg"]["type"])
			assert.Equal(t, "TypeError", r["map-one-fails"]["type"], "add takes two arguments")
			assert.Equal(t, squares(5), nums(r["after-errors"]["got"]))
			assert.Equal(t, "TypeError", r["call-in-python"]["type"])
		})
		if !full {
			return
		}
		t.Run("maxtasksperchild=1 runs every task in a new worker", func(t *testing.T) {
			pids := nums(r["maxtasks"]["pids"])
			seen := map[int64]bool{}
			for _, p := range pids {
				seen[p] = true
			}
			assert.Len(t, seen, len(pids), "pids %v", pids)
			assert.Equal(t, squares(6), nums(r["maxtasks"]["got"]))
		})
		t.Run("a killed worker is replaced", func(t *testing.T) {
			x := r["replace"]
			assert.NotEqual(t, x["first"], x["second"])
			assert.Equal(t, false, x["lost_ready"], "the killed worker's task is lost, as in Python")
			assert.Equal(t, squares(10), nums(x["after"]))
		})
		t.Run("the initializer runs in every Go worker", func(t *testing.T) {
			assert.Equal(t, []int64{42, 42, 42, 42}, nums(r["initializer"]["got"]))
		})
		t.Run("terminate mid-map leaves no worker and no semaphore", func(t *testing.T) {
			x := r["terminate"]
			assert.Equal(t, false, x["ready"])
			assert.Empty(t, x["alive"])
			for _, p := range nums(x["pids"]) {
				assert.ErrorIs(t, syscall.Kill(int(p), 0), syscall.ESRCH, "worker %d", p)
			}
			names := x["names"].([]any)
			assert.Len(t, names, 4)
			for _, n := range names {
				path := fmt.Sprintf("/dev/shm/sem.%s", strings.TrimPrefix(n.(string), "/"))
				_, err := os.Stat(path)
				assert.True(t, os.IsNotExist(err), "%s still exists", path)
			}
		})
	})
}
