package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// TestDialPythonListener runs the mpcat binary against a Python Listener:
// every literal typed on stdin reaches Python as that exact value, and every
// frame Python sends back (the echoes, then the corpus again) is printed as
// Python's repr of it.
func TestDialPythonListener(t *testing.T) {
	lits := literalLines(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		lp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
			Args: []string{"listener", "--address", "127.0.0.1:0", "--count", strconv.Itoa(len(lits)),
				"--expect", literalsFile(t), "--send", literalsFile(t)},
			Env: []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
		line, err := lp.ReadLine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		addr, _, _ := strings.Cut(line, " ")
		cmd := exec.CommandContext(ctx, mpcatBin, "dial", "--authkey-env", "MPCAT_TEST_KEY", "--authkey-hex", addr)
		cmd.Env = append(os.Environ(), "MPCAT_TEST_KEY="+testKeyHex)
		cmd.Stdin = strings.NewReader(strings.Join(lits, "\n") + "\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("mpcat dial: %v\n%s", err, stderr.String())
		}
		got := readReports(t, ctx, lp, "GOT", len(lits))
		checkSame(t, lits, got)
		out := outputLines(stdout.String())
		if len(out) != 2*len(lits) {
			t.Fatalf("mpcat printed %d lines, want %d:\n%s\nstderr:\n%s", len(out), 2*len(lits), stdout.String(), stderr.String())
		}
		for i, r := range got {
			if out[i] != r.Repr {
				t.Errorf("echo %d: mpcat printed %s, Python's repr is %s", i, out[i], r.Repr)
			}
			if out[len(lits)+i] != r.Repr {
				t.Errorf("sent value %d: mpcat printed %s, Python's repr is %s", i, out[len(lits)+i], r.Repr)
			}
		}
		if !strings.Contains(stderr.String(), "peer closed the connection") {
			t.Errorf("stderr does not say the peer closed: %s", stderr.String())
		}
	})
}

// TestListenPythonClient runs mpcat listen in-process on an abstract and a
// path unix socket, with each challenge scheme, for a Python Client: the
// client's values are printed as Python's repr, and mpcat's stdin lines
// reach the client as the literals' values.
func TestListenPythonClient(t *testing.T) {
	lits := literalLines(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, tc := range []struct{ name, auth string }{{"abstract socket, sha256 challenge", "sha256"}, {"socket path, legacy challenge", "legacy"}} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := pyharness.Context(t, 60*time.Second)
				addr := fmt.Sprintf("@mpcat-test-%d-%d-%s", os.Getpid(), py.Minor, tc.auth)
				if tc.auth == "legacy" {
					addr = filepath.Join(t.TempDir(), "mpcat.sock")
				}
				keyFile := filepath.Join(t.TempDir(), "key")
				if err := os.WriteFile(keyFile, []byte("secret\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				var stdout, stderr pyharness.SyncBuffer
				done := make(chan int, 1)
				go func() {
					done <- run(ctx, []string{"listen", "--authkey-file", keyFile, "--auth", tc.auth, addr},
						strings.NewReader(strings.Join(lits, "\n")+"\n"), &stdout, &stderr)
				}()
				waitFor(t, ctx, &stderr, "listening on ")
				cp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
					Args: []string{"client", "--family", "unix", "--address", addr, "--no-echo",
						"--send", literalsFile(t), "--count", strconv.Itoa(len(lits)), "--expect", literalsFile(t)},
					Env: []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
				got := readReports(t, ctx, cp, "GOT", len(lits))
				checkSame(t, lits, got)
				if err := cp.Wait(); err != nil {
					t.Fatal(err)
				}
				select {
				case code := <-done:
					if code != 0 {
						t.Fatalf("mpcat listen exited %d: %s", code, stderr.String())
					}
				case <-ctx.Done():
					t.Fatalf("mpcat listen did not end after the client closed: %s", stderr.String())
				}
				out := outputLines(stdout.String())
				if len(out) != len(lits) {
					t.Fatalf("mpcat printed %d lines, want %d:\n%s", len(out), len(lits), stdout.String())
				}
				for i, r := range got {
					if out[i] != r.Repr {
						t.Errorf("value %d: mpcat printed %s, Python's repr is %s", i, out[i], r.Repr)
					}
				}
			})
		}
	})
}

// proxyLine is one --json line of mpcat proxy.
type proxyLine struct {
	Time    string `json:"time"`
	Conn    int    `json:"conn"`
	Dir     string `json:"dir"`
	Len     int    `json:"len"`
	Repr    string `json:"repr"`
	Error   string `json:"error"`
	Manager *struct {
		Kind   string         `json:"kind"`
		Fields map[string]any `json:"fields"`
	} `json:"manager"`
}

// TestProxyBetweenPythonPeers puts mpcat proxy between a Python Client and
// a Python Listener (both authenticating with the key): both still work
// (every echo is the value sent) and every frame is printed in both
// directions with Python's repr.
func TestProxyBetweenPythonPeers(t *testing.T) {
	lits := literalLines(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		lp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
			Args: []string{"listener", "--address", "127.0.0.1:0", "--count", strconv.Itoa(len(lits)),
				"--expect", literalsFile(t)},
			Env: []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
		line, err := lp.ReadLine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		upstream, _, _ := strings.Cut(line, " ")
		keyFile := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(keyFile, []byte(testKeyHex), 0o600); err != nil {
			t.Fatal(err)
		}
		capture := filepath.Join(t.TempDir(), "capture")
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		var stdout, stderr pyharness.SyncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(pctx, []string{"proxy", "--json", "--capture", capture, "--authkey-file", keyFile, "--authkey-hex", "127.0.0.1:0", upstream}, strings.NewReader(""), &stdout, &stderr)
		}()
		rest := waitFor(t, ctx, &stderr, "proxy listening on ")
		listenAddr, _, _ := strings.Cut(rest, ",")
		cp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
			Args: []string{"client", "--address", listenAddr, "--send", literalsFile(t)},
			Env:  []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
		echoes := readReports(t, ctx, cp, "ECHO", len(lits))
		checkSame(t, lits, echoes)
		checkSame(t, lits, readReports(t, ctx, lp, "GOT", len(lits)))
		if err := cp.Wait(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, &stderr, "[1] closed")
		stop()
		if code := <-done; code != 0 {
			t.Fatalf("proxy exited %d: %s", code, stderr.String())
		}
		var frames []proxyLine
		for _, l := range outputLines(stdout.String()) {
			var pl proxyLine
			if err := json.Unmarshal([]byte(l), &pl); err != nil {
				t.Fatalf("bad JSON line %q: %v", l, err)
			}
			frames = append(frames, pl)
		}
		if len(frames) != 2*len(lits) {
			t.Fatalf("proxy printed %d frames, want %d", len(frames), 2*len(lits))
		}
		for i, r := range echoes {
			c2s, s2c := frames[2*i], frames[2*i+1]
			if c2s.Dir != "C->S" || s2c.Dir != "S->C" || c2s.Conn != 1 {
				t.Fatalf("frame pair %d: directions %s, %s (conn %d)", i, c2s.Dir, s2c.Dir, c2s.Conn)
			}
			if c2s.Repr != r.Repr || s2c.Repr != r.Repr {
				t.Errorf("value %d: proxy printed %s / %s, Python's repr is %s", i, c2s.Repr, s2c.Repr, r.Repr)
			}
			if _, err := time.Parse(time.RFC3339Nano, c2s.Time); err != nil || c2s.Len == 0 {
				t.Errorf("frame %d: time %q, len %d", i, c2s.Time, c2s.Len)
			}
		}
		// The capture holds the same frames; mpcat dis --frames reads it.
		var disOut, disErr pyharness.SyncBuffer
		if code := run(ctx, []string{"dis", "--frames", "--json", capture}, nil, &disOut, &disErr); code != 0 {
			t.Fatalf("dis of the capture exited %d: %s", code, disErr.String())
		}
		if n := len(outputLines(disOut.String())); n != len(frames) {
			t.Errorf("dis --frames found %d pickles in the capture, the proxy printed %d frames", n, len(frames))
		}
	})
}

// TestProxyShowsManagerMessages puts mpcat proxy in front of a Python
// SyncManager server: the manager client still works through it, and the
// control requests and replies are printed in their (ident, method, args,
// kwds) / (kind, payload) form with timestamps, direction and length.
func TestProxyShowsManagerMessages(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		sp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
			Args: []string{"manager"}, Env: []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
		line, err := sp.ReadLine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		upstream, _, _ := strings.Cut(line, " ")
		keyFile := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(keyFile, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		var stdout, stderr pyharness.SyncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(pctx, []string{"proxy", "--authkey-file", keyFile, "127.0.0.1:0", upstream}, strings.NewReader(""), &stdout, &stderr)
		}()
		rest := waitFor(t, ctx, &stderr, "proxy listening on ")
		listenAddr, _, _ := strings.Cut(rest, ",")
		cp := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mpcat_peer.py",
			Args: []string{"manager-client", "--address", listenAddr}, Env: []string{"MPWIRE_AUTHKEY=" + testKeyHex}})
		for _, want := range []string{"VALUE 1", "KEYERROR 'zz'", "DONE"} {
			if _, err := cp.Expect(ctx, want); err != nil {
				t.Fatal(err)
			}
		}
		if err := cp.Wait(); err != nil {
			t.Fatal(err)
		}
		reqRE := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} \[\d+\] C->S \d+ B request ident=None method=create args=\('dict',\) kwds=\{\}$`)
		repRE := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} \[\d+\] S->C \d+ B response #RETURN \('[0-9a-f]+', \(.*'__getitem__'.*\)\)$`)
		dummyRE := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} \[\d+\] C->S \d+ B request ident=None method=dummy args=\(\) kwds=\{\}$`)
		deadline := time.Now().Add(10 * time.Second)
		for {
			var req, rep, dummy bool
			for _, l := range outputLines(stdout.String()) {
				req = req || reqRE.MatchString(l)
				rep = rep || repRE.MatchString(l)
				dummy = dummy || dummyRE.MatchString(l)
			}
			if req && rep && dummy {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("create request %v, its reply %v, dummy request %v in proxy output:\n%s", req, rep, dummy, stdout.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		if code := <-done; code != 0 {
			t.Fatalf("proxy exited %d: %s", code, stderr.String())
		}
	})
}
