package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// startListener starts mpcat_peer.py listener and returns it with its
// address.
func startListener(t *testing.T, ctx context.Context, py pyharness.Interpreter, args ...string) (*pyharness.Proc, string) {
	t.Helper()
	lp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
		Args: append([]string{"listener", "--address", "127.0.0.1:0"}, args...),
		Env:  []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
	line, err := lp.ReadLine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := strings.Cut(line, " ")
	return lp, addr
}

// dial runs mpcat dial in-process with the key from environment variable
// MPCAT_ERR_KEY (hex) and returns its exit code, stdout and stderr.
func dial(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr pyharness.SyncBuffer
	full := append([]string{"dial", "--authkey-env", "MPCAT_ERR_KEY", "--authkey-hex", "--timeout", "10s"}, args...)
	code := run(ctx, full, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestErrorsAgainstPython(t *testing.T) {
	t.Setenv("MPCAT_ERR_KEY", testKeyHex)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Run("a wrong key fails on both sides with a clear message", func(t *testing.T) {
			ctx := pyharness.Context(t, 30*time.Second)
			lp, addr := startListener(t, ctx, py, "--count", "1")
			t.Setenv("MPCAT_ERR_KEY", hex.EncodeToString([]byte("wrong")))
			code, _, stderr := dial(t, ctx, "1\n", addr)
			if code != 1 || !strings.Contains(stderr, "authentication failed") {
				t.Errorf("exit %d, stderr %q; want 1 and an authentication error", code, stderr)
			}
			if _, err := lp.Expect(ctx, "AUTHFAIL digest received was wrong"); err != nil {
				t.Error(err)
			}
		})
		t.Run("an undecodable frame is printed as hex and the session goes on", func(t *testing.T) {
			ctx := pyharness.Context(t, 30*time.Second)
			lp, addr := startListener(t, ctx, py, "--count", "1", "--raw-first", "8004deadbeef")
			code, stdout, stderr := dial(t, ctx, "[1, 'x']\n", addr)
			lines := outputLines(stdout)
			if code != 0 || len(lines) != 2 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if !strings.HasPrefix(lines[0], "# undecodable frame (6 bytes): ") || !strings.HasSuffix(lines[0], ": 8004deadbeef") {
				t.Errorf("undecodable frame printed as %q", lines[0])
			}
			if lines[1] != "[1, 'x']" {
				t.Errorf("echo printed as %q", lines[1])
			}
			if _, err := lp.Expect(ctx, "DONE"); err != nil {
				t.Error(err)
			}
		})
		t.Run("--json reports an undecodable frame with its hex and error", func(t *testing.T) {
			ctx := pyharness.Context(t, 30*time.Second)
			_, addr := startListener(t, ctx, py, "--count", "1", "--raw-first", "00")
			code, stdout, stderr := dial(t, ctx, "{'k': (1, b'\\x00')}\n", addr, "--json")
			lines := outputLines(stdout)
			if code != 0 || len(lines) != 2 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			var bad, good map[string]any
			if json.Unmarshal([]byte(lines[0]), &bad) != nil || json.Unmarshal([]byte(lines[1]), &good) != nil {
				t.Fatalf("not JSON: %q", stdout)
			}
			if bad["hex"] != "00" || bad["error"] == nil || bad["len"] != 1.0 {
				t.Errorf("undecodable frame: %v", bad)
			}
			if good["repr"] != "{'k': (1, b'\\x00')}" || good["dir"] != "recv" || good["value"] == nil {
				t.Errorf("decoded frame: %v", good)
			}
		})
		t.Run("an oversize frame is a clear error", func(t *testing.T) {
			ctx := pyharness.Context(t, 30*time.Second)
			_, addr := startListener(t, ctx, py, "--count", "0", "--raw-first", strings.Repeat("ab", 100))
			code, _, stderr := dial(t, ctx, "", addr, "--max-frame", "16")
			if code != 1 || !strings.Contains(stderr, "raise --max-frame") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
		t.Run("bad literals are reported and skipped", func(t *testing.T) {
			ctx := pyharness.Context(t, 30*time.Second)
			lp, addr := startListener(t, ctx, py, "--count", "2")
			code, stdout, stderr := dial(t, ctx, "[1,\n# a comment\n{'a'\nfoo\n2\n'end'\n", addr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, want := range []string{"line 1: not sent", "line 3: not sent", "line 4: not sent: column 1: unknown name \"foo\""} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if got := outputLines(stdout); len(got) != 2 || got[0] != "2" || got[1] != "'end'" {
				t.Errorf("stdout %q", stdout)
			}
			got := readReports(t, ctx, lp, "GOT", 2)
			if got[0].Repr != "2" || got[1].Repr != "'end'" {
				t.Errorf("Python got %+v", got)
			}
		})
		t.Run("values sent with every --protocol arrive intact", func(t *testing.T) {
			lits := literalLines(t)
			// 0, 2 and 5 on every version, 1 or 3 by turns (time).
			for _, proto := range []int{0, 2, 5, 1 + 2*(py.Minor%2)} {
				ctx := pyharness.Context(t, 30*time.Second)
				lp, addr := startListener(t, ctx, py, "--count", strconv.Itoa(len(lits)), "--expect", literalsFile(t))
				code, stdout, stderr := dial(t, ctx, strings.Join(lits, "\n")+"\n", addr, "--protocol", strconv.Itoa(proto))
				if code != 0 || strings.Contains(stderr, "not sent") {
					t.Fatalf("protocol %d: exit %d: %s", proto, code, stderr)
				}
				got := readReports(t, ctx, lp, "GOT", len(lits))
				checkSame(t, lits, got)
				if n := len(outputLines(stdout)); n != len(lits) {
					t.Errorf("protocol %d: %d echoes printed, want %d", proto, n, len(lits))
				}
			}
		})
		t.Run("--bytes sends and prints raw frames", func(t *testing.T) {
			ctx := pyharness.Context(t, 30*time.Second)
			lp, addr := startListener(t, ctx, py, "--count", "2", "--bytes")
			code, stdout, stderr := dial(t, ctx, "hello\nit's [1]\n", addr, "--bytes")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := readReports(t, ctx, lp, "GOT", 2)
			want := []string{`b'hello'`, `b"it's [1]"`}
			lines := outputLines(stdout)
			for i := range want {
				if got[i].Repr != want[i] || len(lines) != 2 || lines[i] != want[i] {
					t.Errorf("frame %d: Python got %s, mpcat printed %q; want %s", i, got[i].Repr, lines, want[i])
				}
			}
		})
	})
}
