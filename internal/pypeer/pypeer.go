// Package pypeer drives a Python child that serves test commands: the Go
// test sends a pickled tuple (op, args...) on a duplex Conn and the child
// answers each with one pickled value (queue_peer.probe and
// queue_sync_peer.sync_probe in pyfixtures). It imports testing; only
// tests use it.
package pypeer

import (
	"context"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// Peer is a running command-serving Python child. It belongs to one test
// goroutine.
type Peer struct {
	// Proc is the child.
	Proc *process.Process

	t      testing.TB
	ctx    context.Context
	ctl    *connection.Conn
	stderr pyharness.SyncBuffer
}

// Start runs target ("module:function" in pyfixtures) in a spawned child
// of interpreter py, with args and then the child's end of the command
// Conn as arguments. Receives and waits are bounded by ctx. When the test
// ends the child is killed, and its stderr logged if the test failed.
func Start(t testing.TB, ctx context.Context, py pyharness.Interpreter, target string, args ...any) *Peer {
	t.Helper()
	ours, theirs, err := connection.Pipe(true)
	if err != nil {
		t.Fatal(err)
	}
	p := &Peer{t: t, ctx: ctx, ctl: ours}
	p.Proc, err = process.Start(ctx, process.Spec{Python: py.Path, Target: target, Path: []string{pyharness.Dir()},
		Args: append(args[:len(args):len(args)], theirs), Stderr: &p.stderr, Env: []string{"PYTHONDONTWRITEBYTECODE=1"}})
	theirs.Close()
	if err != nil {
		ours.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Proc.Kill()
		_ = p.Proc.Wait(context.Background())
		ours.Close()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", target, p.stderr.String())
		}
	})
	return p
}

// Send sends the command cmd without waiting for the answer.
func (p *Peer) Send(cmd ...any) {
	p.t.Helper()
	b, err := pickle.Marshal(pickle.Tuple(cmd))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.ctl.SendBytes(p.ctx, b); err != nil {
		p.t.Fatal(err)
	}
}

// Recv returns the next answer.
func (p *Peer) Recv() any {
	p.t.Helper()
	b, err := p.ctl.RecvBytes(p.ctx)
	if err != nil {
		p.t.Fatalf("no answer from the Python peer: %v\nstderr: %s", err, p.stderr.String())
	}
	var v any
	if err := pickle.Unmarshal(b, &v); err != nil {
		p.t.Fatal(err)
	}
	return v
}

// Call sends cmd and returns its answer.
func (p *Peer) Call(cmd ...any) any {
	p.t.Helper()
	p.Send(cmd...)
	return p.Recv()
}

// Silent reports whether the child sent nothing for d.
func (p *Peer) Silent(d time.Duration) bool {
	p.t.Helper()
	ready, err := p.ctl.PollTimeout(p.ctx, d)
	if err != nil {
		p.t.Fatal(err)
	}
	return !ready
}

// Exit sends ("exit",), expects the answer "bye" and waits for the child to
// exit with status 0.
func (p *Peer) Exit() {
	p.t.Helper()
	if v := p.Call("exit"); v != "bye" {
		p.t.Errorf("exit answered %#v, want \"bye\"", v)
	}
	if err := p.Proc.Wait(p.ctx); err != nil {
		p.t.Fatalf("Python peer: %v\nstderr: %s", err, p.stderr.String())
	}
}

// Stderr returns what the child wrote to its standard error so far.
func (p *Peer) Stderr() string { return p.stderr.String() }
