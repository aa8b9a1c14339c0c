package sharedmem_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// peer is a running pyfixtures/shm_peer.py: a Python process that creates
// and attaches SharedMemory and ShareableList objects on command.
type peer struct {
	t    *testing.T
	ctx  context.Context
	proc *pyharness.Proc
	in   *io.PipeWriter
	py   pyharness.Interpreter
}

func startPeer(t *testing.T, py pyharness.Interpreter) *peer {
	t.Helper()
	ctx := pyharness.Context(t, 40*time.Second)
	r, w := io.Pipe()
	proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "shm_peer.py", Stdin: r,
		// The resource tracker (a grandchild) holds stdout/stderr until it
		// has cleaned up after the peer.
		KillGrace: 15 * time.Second})
	p := &peer{t: t, ctx: ctx, proc: proc, in: w, py: py}
	t.Cleanup(func() { w.Close() })
	return p
}

// on returns the peer for use in subtest t.
func (p *peer) on(t *testing.T) *peer {
	q := *p
	q.t = t
	return &q
}

// reply is one answer of the peer.
type reply struct {
	OK      json.RawMessage `json:"ok"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

// call sends one command and returns the raw answer.
func (p *peer) call(op string, kv ...any) reply {
	p.t.Helper()
	cmd := map[string]any{"op": op}
	for i := 0; i+1 < len(kv); i += 2 {
		cmd[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(cmd)
	require.NoError(p.t, err)
	_, err = p.in.Write(append(b, '\n'))
	require.NoError(p.t, err, "writing to shm_peer.py")
	line, err := p.proc.ReadLine(p.ctx)
	require.NoError(p.t, err, "reading shm_peer.py's answer to %s; stderr:\n%s", op, p.proc.Stderr())
	var r reply
	require.NoError(p.t, json.Unmarshal([]byte(line), &r), "answer %q", line)
	return r
}

// do sends a command that must succeed and decodes its result into out.
func (p *peer) do(out any, op string, kv ...any) {
	p.t.Helper()
	r := p.call(op, kv...)
	require.Empty(p.t, r.Error, "%s: Python raised %s: %s", op, r.Error, r.Message)
	if out != nil {
		require.NoError(p.t, json.Unmarshal(r.OK, out))
	}
}

// exit ends the peer and waits for it.
func (p *peer) exit() {
	p.t.Helper()
	_, _ = p.in.Write([]byte(`{"op": "exit"}` + "\n"))
	p.in.Close() // os/exec's stdin copier waits for EOF
	require.NoError(p.t, p.proc.Wait())
}

// tagged converts peer values ({"bytes": hex} for bytes, JSON numbers) to
// the Go values a ShareableList holds.
func tagged(t *testing.T, v any) any {
	switch x := v.(type) {
	case map[string]any:
		b, err := hex.DecodeString(x["bytes"].(string))
		require.NoError(t, err)
		return b
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = tagged(t, e)
		}
		return out
	}
	return v
}

// untag converts Go values to the peer's JSON form.
func untag(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"bytes": hex.EncodeToString(x)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = untag(e)
		}
		return out
	}
	return v
}

func shmExists(name string) bool {
	_, err := os.Stat("/dev/shm/" + name)
	return err == nil
}

// waitGone polls until /dev/shm/name disappears or d passes.
func waitGone(name string, d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if !shmExists(name) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return !shmExists(name)
}
