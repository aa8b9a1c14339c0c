package process_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// startPy starts a Python child of this process running proc_target:<fn>.
func startPy(t *testing.T, ctx context.Context, py pyharness.Interpreter, fn string, spec process.Spec) (*process.Process, *pyharness.SyncBuffer) {
	t.Helper()
	var stderr pyharness.SyncBuffer
	spec.Python = py.Path
	spec.Target = "proc_target:" + fn
	spec.Path = []string{pyharness.Dir()}
	spec.Stderr = &stderr
	spec.Setpgid = true
	spec.Env = append(spec.Env, "PYTHONDONTWRITEBYTECODE=1")
	p, err := process.Start(ctx, spec)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		_ = p.Wait(context.Background())
		if t.Failed() {
			t.Logf("%s stderr:\n%s", fn, stderr.String())
		}
	})
	return p, &stderr
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// childPids lists the processes whose parent is this one (zombies included).
func childPids(t *testing.T) []string {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var kids []string
	me := strconv.Itoa(os.Getpid())
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may contain spaces, so split after ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == me {
			kids = append(kids, st)
		}
	}
	return kids
}

// fdArg hands a file to a spawned child the way Python reduces fd-holding
// objects while spawning (popen_spawn_posix._DupFd).
type fdArg struct{ f *os.File }

func (a fdArg) ReduceForSpawn(s *process.Spawning) (any, error) { return s.DupFd(int(a.f.Fd())) }

func pipeT(t *testing.T) (*connection.Conn, *connection.Conn) {
	a, b, err := connection.Pipe(true)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestGoParentPythonChild(t *testing.T) {
	fdsBefore := openFDs(t)
	t.Run("each version", func(t *testing.T) { pyharness.ForEach(t, goParentPythonChild) })
	t.Run("no fds or child processes are leaked", func(t *testing.T) {
		require.Eventually(t, func() bool { return openFDs(t) <= fdsBefore }, 5*time.Second, 20*time.Millisecond,
			"fds: %d before, %d after", fdsBefore, openFDs(t))
		assert.Empty(t, childPids(t), "children of the test process")
	})
}

func goParentPythonChild(t *testing.T, py pyharness.Interpreter) {
	t.Parallel() // the leak checks above run once all versions are done
	ctx := pyharness.Context(t, 90*time.Second)
	t.Run("the child echoes on a Pipe and is a normal multiprocessing child", func(t *testing.T) {
		ours, theirs := pipeT(t)
		key := []byte("0123456789abcdef0123456789abcdef")
		p, _ := startPy(t, ctx, py, "echo", process.Spec{
			Args:    []any{theirs, map[string]any{"k": "v", "n": 3}},
			Kwargs:  map[string]any{"flag": true},
			Name:    "PyEcho",
			Authkey: key,
		})
		theirs.Close()
		require.NoError(t, ours.Send(ctx, "ping"))
		var reply map[string]any
		require.NoError(t, ours.Recv(ctx, &reply))
		require.NoError(t, p.Wait(context.Background()))
		assert.True(t, p.Exited())
		assert.Equal(t, 0, p.ExitCode())
		assert.Equal(t, "PyEcho", reply["name"])
		assert.EqualValues(t, p.Pid(), reply["pid"])
		assert.EqualValues(t, os.Getpid(), reply["parent_pid"])
		assert.Equal(t, true, reply["parent_alive"])
		assert.Equal(t, false, reply["daemon"])
		assert.Equal(t, key, reply["authkey"])
		assert.Equal(t, "spawn", reply["start_method"])
		assert.Equal(t, "ping", reply["msg"])
		assert.Equal(t, py.Version()[:len(reply["python"].(string))], reply["python"])
		data, ok := reply["data"].(*pickle.Dict)
		require.True(t, ok, "data is %T", reply["data"])
		v, _ := data.Get("k")
		assert.Equal(t, "v", v)
		kw, ok := reply["kwargs"].(*pickle.Dict)
		require.True(t, ok)
		v, _ = kw.Get("flag")
		assert.Equal(t, true, v)
	})

	t.Run("an exception in the target exits with 1 and a traceback", func(t *testing.T) {
		p, stderr := startPy(t, ctx, py, "fail", process.Spec{Args: []any{int64(5)}, Name: "PyFail"})
		err := p.Wait(context.Background())
		var ee *process.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 1, ee.Code)
		assert.False(t, ee.Signaled())
		s := stderr.String()
		assert.Contains(t, s, "Process PyFail:\nTraceback (most recent call last):")
		assert.Contains(t, s, "ValueError: ('failing on purpose', (5,))")
	})

	t.Run("sys.exit codes round-trip", func(t *testing.T) {
		p, _ := startPy(t, ctx, py, "exit_with", process.Spec{Args: []any{int64(3)}})
		var ee *process.ExitError
		require.ErrorAs(t, p.Wait(context.Background()), &ee)
		assert.Equal(t, 3, ee.Code)
		assert.True(t, strings.HasPrefix(p.Name(), "SpawnProcess-"), p.Name())
	})

	t.Run("sys.exit() without a code is 1 in 3.8 and 0 in 3.9+", func(t *testing.T) {
		p, _ := startPy(t, ctx, py, "exit_with", process.Spec{Args: []any{nil}})
		_ = p.Wait(context.Background())
		require.True(t, p.Exited())
		if py.AtLeast(3, 9) {
			assert.Equal(t, 0, p.ExitCode())
		} else {
			assert.Equal(t, 1, p.ExitCode())
		}
	})

	t.Run("terminate, kill and context cancellation", func(t *testing.T) {
		for _, how := range []string{"terminate", "kill", "cancel"} {
			ours, theirs := pipeT(t)
			cctx, cancel := context.WithCancel(ctx)
			p, _ := startPy(t, cctx, py, "sleep_forever", process.Spec{Args: []any{theirs}})
			theirs.Close()
			var ready string
			require.NoError(t, ours.Recv(ctx, &ready))
			assert.True(t, p.IsAlive())
			assert.ErrorIs(t, p.Close(), process.ErrRunning)
			want := -int(syscall.SIGKILL)
			switch how {
			case "terminate":
				require.NoError(t, p.Terminate())
				want = -int(syscall.SIGTERM)
			case "kill":
				require.NoError(t, p.Kill())
			case "cancel":
				cancel()
			}
			exited, err := p.JoinTimeout(ctx, 20*time.Second)
			require.NoError(t, err, how)
			require.True(t, exited, how)
			assert.True(t, p.Exited())
			assert.Equal(t, want, p.ExitCode(), how)
			assert.NoError(t, p.Close())
			assert.NoError(t, p.Terminate(), "signalling an exited process is a no-op")
			cancel()
		}
	})

	t.Run("a 300 KiB argument does not hang", func(t *testing.T) {
		blob := make([]byte, 300*1024)
		_, _ = rand.Read(blob)
		ours, theirs := pipeT(t)
		p, _ := startPy(t, ctx, py, "digest", process.Spec{Args: []any{theirs, blob}})
		theirs.Close()
		var reply map[string]any
		require.NoError(t, ours.Recv(ctx, &reply))
		require.NoError(t, p.Wait(context.Background()))
		sum := sha256.Sum256(blob)
		assert.EqualValues(t, len(blob), reply["len"])
		assert.Equal(t, hex.EncodeToString(sum[:]), reply["sha256"])
	})

	t.Run("a SpawnReducer value reaches the child as an inherited fd", func(t *testing.T) {
		var fds [2]int
		var perr error
		fds[0], fds[1], perr = sysfd.Pipe(false)
		require.NoError(t, perr)
		r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
		defer r.Close()
		defer w.Close()
		_, err := w.WriteString("bytes through a pipe")
		require.NoError(t, err)
		ours, theirs := pipeT(t)
		p, _ := startPy(t, ctx, py, "read_dupfd", process.Spec{Args: []any{theirs, fdArg{r}}})
		theirs.Close()
		var reply pickle.Tuple
		require.NoError(t, ours.Recv(ctx, &reply))
		require.NoError(t, p.Wait(context.Background()))
		assert.Equal(t, pickle.Tuple{"multiprocessing.popen_spawn_posix._DupFd", []byte("bytes through a pipe")}, reply)
	})

	t.Run("the resource tracker cleans up after a killed child", func(t *testing.T) {
		tr, err := process.StartResourceTracker(py.Path)
		require.NoError(t, err)
		ours, theirs := pipeT(t)
		p, _ := startPy(t, ctx, py, "make_lock", process.Spec{Args: []any{theirs}, Tracker: tr})
		theirs.Close()
		var name string
		require.NoError(t, ours.Recv(ctx, &name))
		path := pyharness.ShmDir + "/sem." + strings.TrimPrefix(name, "/")
		require.FileExists(t, path)
		require.NoError(t, p.Kill())
		require.Error(t, p.Wait(context.Background()))
		assert.FileExists(t, path, "nobody unlinked it yet")
		require.NoError(t, tr.Close())
		assert.NoFileExists(t, path, "the tracker unlinked the killed child's semaphore")
	})
}

// TestGoParentGoWorker is the bonus direction: Start with Spec.Executable
// runs this test binary as a Go worker through the same protocol.
func TestGoParentGoWorker(t *testing.T) {
	ctx := pyharness.Context(t, 30*time.Second)
	exe := worker(t)
	ours, theirs := pipeT(t)
	tr := (*process.ResourceTracker)(nil)
	p, err := process.Start(ctx, process.Spec{
		Executable: []string{exe},
		Args:       []any{theirs, pickle.Tuple{int64(1), "x"}},
		Kwargs:     map[string]any{"role": "echo", "extra": int64(7)},
		Name:       "GoFromGo",
		Tracker:    tr,
		Daemon:     true,
	})
	require.NoError(t, err)
	theirs.Close()
	require.NoError(t, ours.Send(ctx, "ping"))
	var reply map[string]any
	require.NoError(t, ours.Recv(ctx, &reply))
	require.NoError(t, p.Wait(context.Background()))
	assert.Equal(t, "GoFromGo", reply["name"])
	assert.EqualValues(t, os.Getpid(), reply["parent_pid"])
	assert.Equal(t, true, reply["daemon"])
	assert.Equal(t, p.Authkey(), reply["authkey"])
	assert.EqualValues(t, -1, reply["tracker_fd"])
	assert.Equal(t, pickle.Tuple{int64(1), "x"}, reply["data"])

	p2, err := process.Start(ctx, process.Spec{Executable: []string{exe}, Kwargs: map[string]any{"role": "exit", "code": int64(4)}})
	require.NoError(t, err)
	var ee *process.ExitError
	require.True(t, errors.As(p2.Wait(context.Background()), &ee))
	assert.Equal(t, 4, ee.Code)
}

func TestPythonFromEnvironment(t *testing.T) {
	py := pyharness.DefaultT(t)
	t.Setenv("MPWIRE_PYTHON", py.Path)
	got, err := process.Python()
	require.NoError(t, err)
	assert.Equal(t, py.Path, got)

	t.Setenv("MPWIRE_PYTHON", filepath.Join(t.TempDir(), "no-such-python"))
	_, err = process.Python()
	assert.Error(t, err)
	_, err = process.Start(context.Background(), process.Spec{Target: "m:f"})
	assert.ErrorIs(t, err, process.ErrBadSpec, "Start without Python falls back on Python(), which fails here")
}

// TestExitCodeWhileRunning: ExitCode is -1 and Exited false until the
// child is reaped (Python's exitcode None), then the exit status.
func TestExitCodeWhileRunning(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 30*time.Second)
	t.Setenv("MPWIRE_PYTHON", py.Path)
	ours, theirs := pipeT(t)
	p, err := process.Start(ctx, process.Spec{Target: "proc_target:sleep_forever", Path: []string{pyharness.Dir()}, Args: []any{theirs}})
	require.NoError(t, err)
	theirs.Close()
	var ready string
	require.NoError(t, ours.Recv(ctx, &ready))
	assert.False(t, p.Exited())
	assert.Equal(t, -1, p.ExitCode())
	exited, err := p.JoinTimeout(ctx, 10*time.Millisecond)
	assert.False(t, exited)
	assert.NoError(t, err, "JoinTimeout's own limit is not an error")
	require.NoError(t, p.Terminate())
	require.NoError(t, p.Join(ctx))
	assert.True(t, p.Exited())
	assert.Equal(t, -int(syscall.SIGTERM), p.ExitCode())
	var ee *process.ExitError
	require.ErrorAs(t, p.Wait(ctx), &ee)
	assert.True(t, ee.Signaled())
}

// TestStartFailsFastWhenBootstrapFails: a Python child that cannot get to
// its target — its module does not import, the function is missing, an
// argument names a missing module, the interpreter refuses a flag — makes
// Start itself fail, with ErrBootstrap and the child's traceback, instead
// of returning a Process that then dies.
func TestStartFailsFastWhenBootstrapFails(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		for _, tc := range []struct {
			name   string
			spec   process.Spec
			stderr string
		}{
			{"the target's module does not import", process.Spec{Target: "no_such_module_i22:main"},
				"No module named 'no_such_module_i22'"},
			{"the target function does not exist", process.Spec{Target: "proc_target:no_such_function"},
				"no_such_function"},
			{"an argument names a missing module", process.Spec{Target: "proc_target:noop",
				Args: []any{pickle.Global{Module: "no_such_module_i22", Name: "f"}}},
				"No module named 'no_such_module_i22'"},
			{"the interpreter refuses a flag", process.Spec{Target: "proc_target:noop", Flags: []string{"--no-such-flag-i22"}},
				"no-such-flag-i22"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var stderr pyharness.SyncBuffer
				spec := tc.spec
				spec.Python, spec.Path, spec.Stderr = py.Path, []string{pyharness.Dir()}, &stderr
				p, err := process.Start(ctx, spec)
				require.Error(t, err)
				assert.Nil(t, p)
				assert.ErrorIs(t, err, process.ErrBootstrap)
				var ee *process.ExitError
				require.ErrorAs(t, err, &ee)
				assert.NotZero(t, ee.Code)
				assert.Contains(t, ee.Stderr, tc.stderr)
				if tc.spec.Flags == nil {
					assert.Contains(t, err.Error(), tc.stderr, "the last line of the traceback is in the message")
				}
				assert.Contains(t, stderr.String(), tc.stderr, "Spec.Stderr still gets the output")
			})
		}
		t.Run("a child that starts and exits at once is not a bootstrap failure", func(t *testing.T) {
			p, err := process.Start(ctx, process.Spec{Python: py.Path, Target: "proc_target:exit_with",
				Path: []string{pyharness.Dir()}, Args: []any{int64(4)}})
			require.NoError(t, err)
			var ee *process.ExitError
			require.ErrorAs(t, p.Wait(ctx), &ee)
			assert.Equal(t, 4, ee.Code)
		})
	})
}

// TestStartLogs: Spec.Logger records the start and the exit, with the end
// of the child's stderr when it failed.
func TestStartLogs(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 30*time.Second)
	rec, logger := logtest.New()
	p, err := process.Start(ctx, process.Spec{Python: py.Path, Target: "proc_target:fail", Path: []string{pyharness.Dir()},
		Args: []any{int64(7)}, Name: "Logged", Stderr: io.Discard, Logger: logger})
	require.NoError(t, err)
	require.Error(t, p.Wait(ctx))
	started := rec.Find("process: started")
	require.Len(t, started, 1)
	assert.Equal(t, "Logged", started[0].Attrs["name"])
	assert.Equal(t, strconv.Itoa(p.Pid()), started[0].Attrs["pid"])
	assert.Equal(t, "proc_target:fail", started[0].Attrs["target"])
	exited := rec.Find("process: exited with an error")
	require.Len(t, exited, 1)
	assert.Equal(t, slog.LevelWarn, exited[0].Level)
	assert.Equal(t, "1", exited[0].Attrs["exitcode"])
	assert.Contains(t, exited[0].Attrs["stderr"], "ValueError")
}
