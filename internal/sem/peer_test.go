//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// peer is a running pyfixtures/sem_peer.py: one command line in, one
// answer line out.
type peer struct {
	t    testing.TB
	ctx  context.Context
	proc *pyharness.Proc
	in   *os.File
	py   pyharness.Interpreter
}

func startPeer(t testing.TB, py pyharness.Interpreter) *peer {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	ctx := pyharness.Context(t, 60*time.Second)
	proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "sem_peer.py", Stdin: r})
	r.Close()
	// Registered after StartT, so it runs first: EOF lets the peer exit
	// cleanly (and its finalizers unlink what it created).
	t.Cleanup(func() {
		w.Close()
		exited := make(chan struct{})
		go func() { _ = proc.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: sem_peer.py did not exit after EOF on stdin", py.Name())
		}
	})
	line, err := proc.ReadLine(ctx)
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("ready %d.%d", py.Major, py.Minor), line)
	return &peer{t: t, ctx: ctx, proc: proc, in: w, py: py}
}

// send writes a command without waiting for its answer.
func (p *peer) send(format string, args ...any) {
	p.t.Helper()
	_, err := fmt.Fprintf(p.in, format+"\n", args...)
	require.NoError(p.t, err)
}

// answer reads the next answer line.
func (p *peer) answer() string {
	p.t.Helper()
	line, err := p.proc.ReadLine(p.ctx)
	require.NoError(p.t, err)
	return line
}

// ok sends a command and returns the result after "ok ", failing the test
// on an error answer.
func (p *peer) ok(format string, args ...any) string {
	p.t.Helper()
	p.send(format, args...)
	return p.okAnswer(fmt.Sprintf(format, args...))
}

func (p *peer) okAnswer(what string) string {
	p.t.Helper()
	a := p.answer()
	require.True(p.t, a == "ok" || strings.HasPrefix(a, "ok "), "%s: Python answered %q", what, a)
	return strings.TrimPrefix(strings.TrimPrefix(a, "ok"), " ")
}

// fails sends a command that must raise, and returns "Type: message".
func (p *peer) fails(format string, args ...any) string {
	p.t.Helper()
	p.send(format, args...)
	a := p.answer()
	require.True(p.t, strings.HasPrefix(a, "err "), "%s: Python answered %q, want an exception", fmt.Sprintf(format, args...), a)
	return strings.TrimPrefix(a, "err ")
}

// acquired parses an "acquire" answer ("True 0.101").
func acquired(t testing.TB, result string) bool {
	t.Helper()
	f := strings.Fields(result)
	require.Len(t, f, 2, "acquire answer %q", result)
	require.Contains(t, []string{"True", "False"}, f[0])
	return f[0] == "True"
}
