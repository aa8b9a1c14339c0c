package process_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// worker is the Go worker binary of the interop tests: this test binary
// (see TestMain).
func worker(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

// TestPythonParentGoWorker runs pyfixtures/proc_parent.py, a Python parent
// that starts this test binary as a Go worker with mpwire.GoProcess, through
// every scenario, and checks what the parent saw.
func TestPythonParentGoWorker(t *testing.T) {
	exe := worker(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel() // each version has its own Python parent and workers
		// Generous: ten worker starts per version, on a machine that may be
		// running the whole suite (the fixture's watchdog must not fire first).
		ctx := pyharness.Context(t, 170*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "proc_parent.py",
			Args: []string{"--go", exe, "--scenario", "all", "--watchdog", "160"}})
		require.NoError(t, proc.Wait())
		out, err := proc.Stdout()
		require.NoError(t, err)
		res := pyharness.Scenarios(t, out)

		t.Run("a Pipe end and plain data reach the worker, which replies", func(t *testing.T) {
			e := res["echo"]
			require.NotNil(t, e, "no echo result in %q", out)
			assert.Equal(t, 0.0, e["exitcode"])
			for _, k := range []string{"alive_after_start", "pid_ok", "sentinel", "data_ok", "parent_pid_ok", "authkey_ok"} {
				assert.Equal(t, true, e[k], k)
			}
			reply, _ := e["reply"].(map[string]any)
			require.NotNil(t, reply, "echo reply: %v", e["reply"])
			assert.Equal(t, "GoEcho", reply["name"])
			assert.Equal(t, "MainProcess", reply["parent_name"])
			assert.Equal(t, true, reply["parent_alive"])
			assert.Equal(t, true, reply["daemon"])
			assert.Equal(t, true, reply["target_none"])
			assert.Equal(t, 7.0, reply["extra"])
			assert.Equal(t, map[string]any{"msg": "ping", "from": float64(proc.Pid())}, reply["msg"])
			assert.GreaterOrEqual(t, reply["tracker_fd"], 3.0, "the worker got the tracker's pipe")
		})
		t.Run("exit codes round-trip", func(t *testing.T) {
			assert.Equal(t, map[string]any{"0": 0.0, "3": 3.0}, res["exit"]["codes"])
		})
		t.Run("plain multiprocessing with set_executable starts a Go worker too", func(t *testing.T) {
			assert.Equal(t, 5.0, res["set_executable"]["exitcode"])
		})
		t.Run("a Go panic exits with 1 and a stack on stderr", func(t *testing.T) {
			assert.Equal(t, 1.0, res["panic"]["exitcode"])
			assert.Contains(t, proc.Stderr(), "Process GoPanic:\npanic: panicking on purpose")
		})
		t.Run("a returned error exits with 1 like a Python exception", func(t *testing.T) {
			assert.Equal(t, 1.0, res["error"]["exitcode"])
			assert.Contains(t, proc.Stderr(), "Process GoError:\nfailing on purpose")
		})
		t.Run("terminate and kill", func(t *testing.T) {
			assert.Equal(t, -float64(syscall.SIGTERM), res["terminate"]["exitcode"])
			assert.Equal(t, -float64(syscall.SIGKILL), res["kill"]["exitcode"])
			assert.Equal(t, false, res["terminate"]["alive_after_join"])
			assert.Equal(t, "ready", res["kill"]["ready"])
		})
		t.Run("a 300 KiB argument does not hang", func(t *testing.T) {
			assert.Equal(t, 0.0, res["large"]["exitcode"])
			assert.Equal(t, true, res["large"]["len_ok"])
			assert.Equal(t, true, res["large"]["sha_ok"])
		})
		t.Run("every multiprocessing kind arrives in its reduced form; Value/Array memory is readable", func(t *testing.T) {
			assert.Equal(t, 0.0, res["kinds"]["exitcode"])
			assert.Equal(t, []any{
				"multiprocessing.connection.rebuild_connection r=true w=false",
				"multiprocessing.connection.rebuild_connection r=false w=true",
				"multiprocessing.synchronize.Lock",
				"multiprocessing.synchronize.RLock",
				"multiprocessing.synchronize.Semaphore",
				"multiprocessing.synchronize.BoundedSemaphore",
				"multiprocessing.synchronize.Event",
				"multiprocessing.synchronize.Condition",
				"multiprocessing.sharedctypes.synchronized c_int=42",
				"multiprocessing.sharedctypes.synchronized c_double=1,2",
				"multiprocessing.queues.Queue",
				"multiprocessing.queues.SimpleQueue",
				"multiprocessing.queues.JoinableQueue",
				"[]interface {}",
			}, res["kinds"]["kinds"])
		})
		t.Run("GoProcess behaves like a Process around errors", func(t *testing.T) {
			a := res["api"]
			require.NotNil(t, a)
			assert.Equal(t, "FileNotFoundError", a["missing"])
			assert.Equal(t, "PermissionError", a["not_executable"])
			assert.Equal(t, "FileNotFoundError", a["not_on_path"])
			assert.Nil(t, a["exitcode_before_start"])
			assert.Contains(t, a["repr_initial"], "<GoSpawnProcess name='SpawnProcess-")
			assert.Equal(t, "AssertionError", a["start_twice"])
			assert.Equal(t, "ValueError", a["close_running"])
			assert.Equal(t, true, a["in_active_children"])
			assert.Equal(t, -float64(syscall.SIGTERM), a["exitcode"])
			assert.Equal(t, "ValueError", a["closed_pid"], "a closed process refuses pid, as in Python")
		})
		t.Run("the parent leaks no fds and no children", func(t *testing.T) {
			assert.Equal(t, []any{}, res["fds"]["leaked"])
			assert.Equal(t, []any{}, res["fds"]["children"])
		})
		t.Run("the parent's resource tracker unlinks what the worker registered", func(t *testing.T) {
			r := res["register"]
			require.NotNil(t, r)
			assert.Equal(t, 0.0, r["exitcode"])
			name, _ := r["name"].(string)
			require.True(t, strings.HasPrefix(name, "/mp-gw"), name)
			require.Eventually(t, func() bool {
				_, err := os.Stat(pyharness.ShmDir + "/sem." + name[1:])
				return os.IsNotExist(err)
			}, 30*time.Second, 50*time.Millisecond)
		})
		t.Run("the parent's tracker unlinks what the worker created and never closed", func(t *testing.T) {
			r := res["leak"]
			require.NotNil(t, r)
			assert.Equal(t, 0.0, r["exitcode"])
			raw, _ := r["names"].([]any)
			require.Len(t, raw, 4, "three semaphores and a shared memory segment")
			names := make([]string, len(raw))
			for i, n := range raw {
				names[i], _ = n.(string)
			}
			requireGone(t, names, "after the Python parent exited")
			// The tracker says it cleaned them up (the harness of other
			// tests may remove unheld /dev/shm entries too).
			stderr := proc.Stderr()
			assert.Contains(t, stderr, "leaked shared_memory objects")
			assert.Contains(t, stderr, "leaked semaphore objects")
		})
		t.Run("no /dev/shm entries are left", func(t *testing.T) {
			// The kinds scenario's semaphores are unlinked when the parent
			// drops them (or by its tracker once it exits).
			sems, _ := res["kinds"]["sems"].([]any)
			require.NotEmpty(t, sems)
			require.Eventually(t, func() bool {
				for _, n := range sems {
					if _, err := os.Stat(pyharness.ShmDir + "/sem." + strings.TrimPrefix(n.(string), "/")); err == nil {
						return false
					}
				}
				return true
			}, 30*time.Second, 50*time.Millisecond, "left: some of %v", sems)
		})
	})
}

// TestGoWorkerNoticesParentDeath: the Python parent dies without joining;
// the worker's Context ends with ErrParentExited — through the spawn pipe,
// or through getppid when a forked grandchild keeps the pipe open.
func TestGoWorkerNoticesParentDeath(t *testing.T) {
	exe := worker(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, hold := range []bool{false, true} {
			t.Run("pipe held open elsewhere="+strconv.FormatBool(hold), func(t *testing.T) { orphan(t, py, exe, hold) })
		}
	})
}

func orphan(t *testing.T, py pyharness.Interpreter, exe string, holdPipe bool) {
	{
		marker := filepath.Join(t.TempDir(), "marker")
		ctx := pyharness.Context(t, 40*time.Second)
		args := []string{"--go", exe, "--scenario", "orphan", "--marker", marker}
		if holdPipe {
			args = append(args, "--hold-pipe")
		}
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "proc_parent.py", Args: args})
		line, err := proc.ReadLine(ctx)
		require.NoError(t, err)
		// The orphaned worker holds the parent's stdout and stderr until it
		// notices; on a loaded machine that may take longer than the
		// harness's grace for the pipes (ErrWaitDelay), which is not what
		// this test is about.
		if err := proc.Wait(); !errors.Is(err, exec.ErrWaitDelay) {
			require.NoError(t, err)
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		require.Equal(t, "ready", m["ready"])
		pidf, _ := m["pid"].(float64)
		require.NotZero(t, pidf, "no worker pid in %q", line)
		pid := int(pidf)
		require.Eventually(t, func() bool {
			b, err := os.ReadFile(marker)
			return err == nil && strings.HasSuffix(string(b), "\n")
		}, 20*time.Second, 20*time.Millisecond, "the orphaned worker did not notice")
		b, _ := os.ReadFile(marker)
		assert.Equal(t, "parent process exited\n", string(b))
		require.Eventually(t, func() bool {
			st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			return err != nil || strings.Contains(string(st), ") Z ")
		}, 10*time.Second, 20*time.Millisecond, "worker %d still running", pid)
	}
}
