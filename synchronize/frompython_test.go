package synchronize_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/synchronize"
)

// pickleEvent makes a spawn-context Event and Condition in Python, pickles
// them as a spawn parent does (ForkingPickler with a spawning popen set),
// prints the pickles, then reports the Event's state after each line of
// input.
const pickleEvent = `
import sys, multiprocessing as mp
from multiprocessing import context, reduction
ctx = mp.get_context("spawn")
ev, cond = ctx.Event(), ctx.Condition()
class P:
    def duplicate_for_child(self, fd): return fd
context.set_spawning_popen(P())
print(bytes(reduction.ForkingPickler.dumps(ev)).hex(), bytes(reduction.ForkingPickler.dumps(cond)).hex(), flush=True)
context.set_spawning_popen(None)
for line in sys.stdin:
    if line.strip() == "wait":
        print(ev.wait(10), flush=True)
    else:
        print(ev.is_set(), flush=True)
`

// TestOpenPythonEvent: a Go process opens an Event pickled by Python (as a
// Go worker receives it from a Python parent) and both sides see each
// other's set/clear.
func TestOpenPythonEvent(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 30*time.Second)
		in, inw := io.Pipe()
		defer inw.Close()
		p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", pickleEvent}, Stdin: in})
		line, err := p.ReadLine(ctx)
		require.NoError(t, err)
		var hexes [2]string
		_, err = fmt.Sscan(line, &hexes[0], &hexes[1])
		require.NoError(t, err)
		decode := func(h string) any {
			b, err := hex.DecodeString(h)
			require.NoError(t, err)
			var v any
			require.NoError(t, pickle.Unmarshal(b, &v))
			return v
		}
		ev, err := synchronize.OpenEvent(decode(hexes[0]))
		require.NoError(t, err)
		defer ev.Close()
		cond, err := synchronize.OpenCondition(decode(hexes[1]))
		require.NoError(t, err)
		defer cond.Close()
		assert.Equal(t, "RLock", cond.Lock().Class())

		ask := func(cmd string) string {
			_, err := io.WriteString(inw, cmd+"\n")
			require.NoError(t, err)
			l, err := p.ReadLine(ctx)
			require.NoError(t, err)
			return l
		}
		assert.Equal(t, "False", ask("is_set"))
		require.NoError(t, ev.Set(ctx))
		assert.Equal(t, "True", ask("is_set"))
		require.NoError(t, ev.Clear(ctx))
		_, err = io.WriteString(inw, "wait\n")
		require.NoError(t, err)
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, ev.Set(ctx)) // wakes the Python waiter through the Condition protocol
		l, err := p.ReadLine(ctx)
		require.NoError(t, err)
		assert.Equal(t, "True", l)
		inw.Close()
		require.NoError(t, p.Wait())
	})
}
