package main

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// serveEnv makes the test binary run as mpmanager: the Python programs of
// the tests start it as their manager server (MPWIRE_MANAGER), so the
// server code runs under the test's -race.
const serveEnv = "MPMANAGER_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// managerEnv is the environment of a Python program whose mpwire.Manager()
// starts this test binary as mpmanager.
func managerEnv(t *testing.T) []string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A -race binary sleeps a second at exit (ThreadSanitizer's
	// atexit_sleep_ms), past the 1 s a manager's shutdown waits.
	return []string{serveEnv + "=1", "MPWIRE_MANAGER=" + exe, "MPWIRE_TEST_MANAGER=" + exe, "GORACE=atexit_sleep_ms=0"}
}

// TestPythonProgramsUseManager runs real Python programs that use
// mpwire.Manager() as multiprocessing.Manager(): shared objects in spawn
// children, Pool with functions of the program's own main script, the
// server's exit with the with block; an explicit executable= and
// shutdown(); and the error that says how to install the binary.
func TestPythonProgramsUseManager(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, role := range []string{"dropin", "explicit", "notfound"} {
			t.Run(role, func(t *testing.T) {
				ctx := pyharness.Context(t, 90*time.Second)
				env := append(managerEnv(t), "MPWIRE_TEST_EMPTY="+t.TempDir())
				out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_mpwire.py", Args: []string{role}, Env: env})
				if !strings.HasPrefix(lastLine(out), "OK ") {
					t.Fatalf("%s: %q", role, out)
				}
			})
		}
	})
}

// TestServerDiesWithItsProgram: a Python program killed with SIGKILL
// cannot shut its manager down; the server (in its own session, so a
// terminal's Ctrl-C does not reach it) exits when the program's end of its
// stdin closes.
func TestServerDiesWithItsProgram(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 60*time.Second)
	p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_mpwire.py", Args: []string{"lifeline"}, Env: managerEnv(t)})
	line, err := p.ReadLine(ctx)
	if err != nil || !strings.HasPrefix(line, "PID ") {
		t.Fatalf("%q %v", line, err)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "PID "))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.Wait()
	for syscall.Kill(pid, 0) == nil {
		if ctx.Err() != nil {
			t.Fatalf("the server (pid %d) outlived its program", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
