package manager_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/testworker"
	"github.com/mpwire/mpwire/manager"
)

var testKey = []byte("mpwire-manager-test")

// TestMain doubles as the Go child of the spawn tests (see workerRole).
func TestMain(m *testing.M) {
	testworker.Main(m, testworker.Roles{"": workerRole})
}

var (
	tcpRepr  = regexp.MustCompile(`^\('([^']*)', (\d+)\)$`)
	unixRepr = regexp.MustCompile(`^'(.*)'$`)
)

// startPyServer runs pyfixtures/mgr_server.py and returns its address.
func startPyServer(t *testing.T, ctx context.Context, py pyharness.Interpreter, family string) (network, address string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mgr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	args := []string{"--family", family}
	if family == "unix" {
		args = append(args, "--path", filepath.Join(dir, "m.sock"))
	}
	p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_server.py", Args: args,
		Env: []string{"MPWIRE_AUTHKEY=" + hex.EncodeToString(testKey)}})
	line, err := p.ReadLine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	repr, ok := strings.CutPrefix(line, "READY ")
	if !ok {
		t.Fatalf("unexpected line %q", line)
	}
	if m := tcpRepr.FindStringSubmatch(repr); m != nil {
		return "tcp", m[1] + ":" + m[2]
	}
	if m := unixRepr.FindStringSubmatch(repr); m != nil {
		return "unix", m[1]
	}
	t.Fatalf("cannot parse address %q", repr)
	return "", ""
}

func dialT(t *testing.T, ctx context.Context, network, address string) *manager.Client {
	t.Helper()
	c, err := manager.Dial(ctx, network, address, testKey)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitObjects polls number_of_objects until it equals want: decref of
// proxies closed by other processes may still be in flight.
func waitObjects(t *testing.T, ctx context.Context, c *manager.Client, want int) {
	t.Helper()
	var n int
	var err error
	for i := 0; i < 100; i++ {
		n, err = c.NumberOfObjects(ctx)
		if err == nil && n == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	info, _ := c.DebugInfo(ctx)
	t.Fatalf("number_of_objects = %d (%v), want %d; debug_info:\n%s", n, err, want, info)
}

func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%v", err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v", err)
	}
}
