package manager_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager/server"
)

// TestHostilePythonClient sends, from a real Python client, requests that
// cost little to send and used to cost the Go server exponential time or
// all its memory (pyfixtures/mgr_hostile.py): a tuple-key hash bomb, the
// str/#GETVALUE of a list holding 10^8 strings by reference, a method that
// is not exposed, list multiplication and huge ranges against the item
// bound, dict iterators, deep nesting. Each probe gets a correct value or a
// clean MemoryError/RemoteError, and a second client is served normally
// afterwards.
func TestHostilePythonClient(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 120*time.Second)
		s := server.Config{Listener: listener.Config{Authkey: testKey}, MaxItems: 1 << 16}.New()
		if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_hostile.py",
			Args: []string{"--address", "tcp:" + s.Addr().String(), "--watchdog", "110"}, Env: keyEnv})
		want := map[string]string{
			"hash-bomb": "value", "update-bomb": "value", "laughs-str": "value", "laughs-getvalue": "value",
			"not-exposed": "RemoteError", "imul": "MemoryError", "extend-range": "MemoryError",
			"list-range": "RemoteError", "array-range": "RemoteError", "mul": "MemoryError",
			"iterators": "MemoryError", "nesting": "value",
		}
		for len(want) > 0 {
			line, err := p.ReadLine(ctx)
			if err != nil {
				t.Fatalf("probes left %v: %v", want, err)
			}
			f := strings.Fields(line)
			if len(f) != 4 || f[0] != "PROBE" {
				t.Fatalf("unexpected line %q", line)
			}
			if want[f[1]] != f[2] {
				t.Errorf("probe %s: %s, want %s", f[1], f[2], want[f[1]])
			}
			delete(want, f[1])
			t.Logf("%s: %s", py.Name(), line)
		}
		if _, err := p.Expect(ctx, "SECOND OK"); err != nil {
			t.Fatal(err)
		}
		line, err := p.ReadLine(ctx)
		if err != nil || !strings.HasPrefix(line, "DONE ") {
			t.Fatalf("%q %v", line, err)
		}
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}
