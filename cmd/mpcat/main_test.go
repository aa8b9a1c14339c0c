package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// mpcatBin is the mpcat binary built once for the tests that run it as a
// command.
var mpcatBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mpcat-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mpcatBin = filepath.Join(dir, "mpcat")
	out, err := exec.Command("go", "build", "-o", mpcatBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building mpcat: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testKeyHex = "736563726574" // b'secret'

// waitFor polls buf until it contains want or ctx ends.
func waitFor(t *testing.T, ctx context.Context, buf *pyharness.SyncBuffer, want string) string {
	t.Helper()
	for {
		s := buf.String()
		if i := strings.Index(s, want); i >= 0 {
			return s[i+len(want):]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %q in output: %v; output so far:\n%s", want, ctx.Err(), s)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// literalsFile is the checked-in corpus of Python literals.
func literalsFile(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "literals.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// literalLines returns the literals of the corpus (no comments or blanks).
func literalLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(literalsFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
			out = append(out, l)
		}
	}
	return out
}

// pyReport is a GOT/ECHO line of mpcat_peer.py.
type pyReport struct {
	Repr string `json:"repr"`
	Type string `json:"type"`
	Same *bool  `json:"same"`
	Want string `json:"want"`
}

// readReports reads n lines tagged tag from p.
func readReports(t *testing.T, ctx context.Context, p *pyharness.Proc, tag string, n int) []pyReport {
	t.Helper()
	var out []pyReport
	for len(out) < n {
		line, err := p.ReadLine(ctx)
		if err != nil {
			t.Fatalf("reading %s lines (%d of %d): %v", tag, len(out), n, err)
		}
		rest, ok := strings.CutPrefix(line, tag+" ")
		if !ok {
			continue
		}
		var r pyReport
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			t.Fatalf("bad report %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// checkSame fails for every report whose value was not the literal sent.
func checkSame(t *testing.T, lits []string, reps []pyReport) {
	t.Helper()
	for i, r := range reps {
		if r.Same == nil || !*r.Same {
			t.Errorf("literal %d %s: Python received %s (%s), want %s", i, lits[i], r.Repr, r.Type, r.Want)
		}
	}
}

// outputLines splits mpcat's stdout into lines.
func outputLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
