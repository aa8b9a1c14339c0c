package pyharness_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/sysfd"
)

func TestInterpretersAreCPythonAtLeast38(t *testing.T) {
	all, err := pyharness.Interpreters()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	seen := map[string]bool{}
	for _, py := range all {
		assert.True(t, py.AtLeast(3, pyharness.MinMinor), "%v", py)
		assert.FileExists(t, py.Path)
		assert.False(t, seen[py.Name()], "duplicate minor version %v", py)
		seen[py.Name()] = true
		t.Logf("found %s %s", py.Version(), py.Path)
	}
}

// TestPythonFrameBytes is the harness smoke test: each interpreter writes
// multiprocessing frames into an inherited socket and Go checks every byte
// (4-byte big-endian length, then the payload).
func TestPythonFrameBytes(t *testing.T) {
	payloads := [][]byte{[]byte("hello from python"), {}, {0, 1, 2, 0xff}, make([]byte, 40000)}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		fds, err := sysfd.Socketpair()
		require.NoError(t, err)
		require.NoError(t, syscall.SetNonblock(fds[0], true)) // lets os.File use the poller and deadlines
		ours := os.NewFile(uintptr(fds[0]), "ours")
		theirs := os.NewFile(uintptr(fds[1]), "theirs")
		defer ours.Close()

		args := []string{"--fd", "3"}
		for _, p := range payloads {
			args = append(args, "--hex", hex.EncodeToString(p))
		}
		ctx := pyharness.Context(t, 30*time.Second)
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{
			Python: py, Script: "frame_writer.py", Args: args,
			ExtraFiles: []*os.File{theirs},
		})
		theirs.Close()
		require.NoError(t, ours.SetReadDeadline(time.Now().Add(20*time.Second)))

		var want []byte
		for _, p := range payloads {
			want = binary.BigEndian.AppendUint32(want, uint32(len(p)))
			want = append(want, p...)
		}
		got, err := io.ReadAll(ours)
		require.NoError(t, err)
		require.NoError(t, proc.Wait())
		assert.Equal(t, len(want), len(got))
		assert.True(t, string(want) == string(got), "frames differ from Python's bytes")
		line, err := proc.Stdout()
		require.NoError(t, err)
		assert.Contains(t, line, "sent 4 frame(s) from Python "+strings.TrimPrefix(py.Name(), "py"))
	})
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 2*time.Second)
	// The child starts a grandchild in the same group; both must die.
	code := `import subprocess, sys, time
g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print(g.pid, flush=True)
time.sleep(300)`
	start := time.Now()
	proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", code}})
	line, err := proc.ReadLine(ctx)
	require.NoError(t, err)
	err = proc.Wait()
	require.Error(t, err)
	var ee *pyharness.ExitError
	require.True(t, errors.As(err, &ee), "%T %v", err, err)
	assert.Less(t, time.Since(start), 20*time.Second)
	gpid, err := strconv.Atoi(line)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join("/proc", line, "stat"))
		// Gone, or a zombie waiting for init to reap it.
		return err != nil || strings.Contains(string(b), ") Z ")
	}, 10*time.Second, 50*time.Millisecond, "grandchild %d survived", gpid)
}

func TestLeakedSemaphoresAreRemoved(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 30*time.Second)
	// Create a named semaphore the way multiprocessing names them and leak
	// it on purpose by SIGKILLing the process group (no resource tracker
	// cleanup can run).
	code := `import _multiprocessing, os, signal, sys
s = _multiprocessing.SemLock(1, 1, 1, "/mp-mpwtest" + str(os.getpid()), False)
print(s.name, flush=True)
os.killpg(os.getpgid(0), signal.SIGKILL)`
	var name string
	t.Run("leak", func(t *testing.T) {
		proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", code}})
		line, err := proc.ReadLine(ctx)
		require.NoError(t, err)
		name = "sem." + strings.TrimPrefix(line, "/")
		_ = proc.Wait()
		assert.FileExists(t, filepath.Join(pyharness.ShmDir, name))
	})
	require.NotEmpty(t, name)
	assert.NoFileExists(t, filepath.Join(pyharness.ShmDir, name), "the subtest cleanup should remove the leaked semaphore")
}

func TestSweepKeepsSemaphoresStillInUse(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 30*time.Second)
	holder := `import _multiprocessing, os, sys
s = _multiprocessing.SemLock(1, 1, 1, "/mp-mpwkeep" + str(os.getpid()), False)
print(s.name, flush=True)
sys.stdin.read()
_multiprocessing.sem_unlink(s.name)`
	stdinR, stdinW, err := os.Pipe()
	require.NoError(t, err)
	defer stdinW.Close()
	outer := t
	var name string
	t.Run("a peer that ends while another holds a semaphore", func(t *testing.T) {
		// This peer's cleanup sweeps /dev/shm for entries that appeared
		// while it ran: the holder's semaphore appears then, but is mapped
		// (under glibc's temporary name) by the still-running holder.
		other := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", "print('up', flush=True)"}})
		_, err := other.ReadLine(ctx)
		require.NoError(t, err)
		// The holder belongs to the outer test, so it outlives this one.
		h := pyharness.StartT(outer, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", holder}, Stdin: stdinR})
		line, err := h.ReadLine(ctx)
		require.NoError(t, err)
		name = "sem." + strings.TrimPrefix(line, "/")
		require.NoError(t, other.Wait())
	})
	require.NotEmpty(t, name)
	assert.FileExists(t, filepath.Join(pyharness.ShmDir, name), "the sweep removed a semaphore a live peer maps")
	stdinW.Close() // the holder unlinks its semaphore and exits
}
