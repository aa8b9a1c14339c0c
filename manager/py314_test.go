package manager_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// TestPython314Client: what Python 3.14's SyncManager adds (the set
// typeid, list clear/copy, dict |=, |, reversed and fromkeys, locked()),
// called by a client on each installed interpreter that registers 3.14's
// proxy types (pyfixtures/mgr_py314.py), against the Go server; every
// result is compared with the same operation on a local object.
func TestPython314Client(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		s := startGoServer(t)
		p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_py314.py",
			Args: []string{"--address", "tcp:" + s.Addr().String(), "scenario"}, Env: keyEnv})
		line, err := p.ReadLine(ctx)
		if err != nil || !strings.HasPrefix(line, "OK ") {
			t.Fatalf("scenario: %q %v", line, err)
		}
		ok(t, p.Wait())
		c := dialT(t, ctx, "tcp", s.Addr().String())
		waitObjects(t, ctx, c, 0)
		t.Logf("%s: %s", py.Name(), line)
	})
}
