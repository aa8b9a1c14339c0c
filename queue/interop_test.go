package queue_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/pypeer"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/queue"
)

// TestPythonParentGoWorker runs pyfixtures/queue_parent.py: a Python
// parent whose queues a Go worker (this test binary) rebuilds from the
// spawn payload and uses.
func TestPythonParentGoWorker(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel() // each version is independent; most of the time is process start-up
		ctx := pyharness.Context(t, 90*time.Second)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "queue_parent.py",
			Args: []string{"--go", exe, "--scenario", "all"}})
		res := pyharness.Scenarios(t, out)
		t.Run("seed 000: a Go child puts 'Python' and the Python parent gets it", func(t *testing.T) {
			r := res["seed"]
			require.NotNil(t, r, out)
			assert.Equal(t, "Python", r["got"])
			assert.Equal(t, 0.0, r["exitcode"])
			assert.Equal(t, 0.0, r["qsize"])
		})
		for _, name := range []string{"echo-queue", "echo-joinable", "echo-simple"} {
			t.Run(name+": every sample value goes Python→Go→Python unchanged", func(t *testing.T) {
				r := res[name]
				require.NotNil(t, r, out)
				assert.Equal(t, 0.0, r["exitcode"])
				assert.Greater(t, r["n"], 50.0)
				assert.Equal(t, []any{}, r["bad"])
				if name == "echo-joinable" {
					assert.Equal(t, true, r["joined"], "the Go worker's task_done calls let join() return")
				}
			})
		}
		t.Run("a Python join() returns after the Go worker's TaskDone calls (maxsize 5)", func(t *testing.T) {
			r := res["joinable"]
			require.NotNil(t, r, out)
			assert.Equal(t, true, r["joined"])
			assert.Len(t, r["drained"], 50)
			assert.Equal(t, 0.0, r["exitcode"])
		})
		t.Run("Full and Empty in a Go worker on a Python Queue(1), qsize agrees", func(t *testing.T) {
			r := res["timeouts"]
			require.NotNil(t, r, out)
			g, _ := r["go"].(map[string]any)
			require.NotNil(t, g, "no go result in %v", r)
			assert.Equal(t, "Empty", g["get_nowait_empty"])
			assert.Equal(t, "Empty", g["get_timeout_empty"])
			assert.Equal(t, "ok", g["put_nowait_1"])
			assert.Equal(t, "Full", g["put_nowait_2"])
			assert.Equal(t, "Full", g["put_timeout_2"])
			// The timeout is honoured, not cut short; no upper bound but a
			// hang's: a loaded CI machine under -race may take long to wake.
			for _, k := range []string{"get_timeout_waited", "put_timeout_waited"} {
				assert.GreaterOrEqual(t, g[k], 0.15, k)
				assert.Less(t, g[k], 10.0, k)
			}
			assert.Equal(t, 1.0, g["qsize"])
			assert.Equal(t, true, g["full"])
			assert.Equal(t, 1.0, r["py_qsize"])
			assert.Equal(t, true, r["py_full"])
			assert.Equal(t, "one", r["got"])
			assert.Equal(t, "Empty", r["after"])
			assert.Equal(t, 0.0, r["final_qsize"])
		})
	})
}

// startProbe starts a Python child running queue_peer.probe on q.
func startProbe(t *testing.T, ctx context.Context, py pyharness.Interpreter, q any) *pypeer.Peer {
	t.Helper()
	return pypeer.Start(t, ctx, py, "queue_peer:probe", q)
}

// goSamples are Go values and what a Python child reports for them:
// type(x).__name__ and the value it puts back (decoded generically).
func goSamples() []struct {
	v        any
	pyType   string
	expected any
} {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	d := pickle.NewDict()
	_ = d.Set("a", int64(1))
	_ = d.Set(int64(2), pickle.Tuple{"b", nil})
	set, _ := pickle.NewSet(int64(1), int64(2)) // ints: Python iterates them in this order whatever the hash seed
	return []struct {
		v        any
		pyType   string
		expected any
	}{
		{nil, "NoneType", nil},
		{true, "bool", true},
		{42, "int", int64(42)},
		{int64(-1 << 40), "int", int64(-1 << 40)},
		{uint64(1 << 63), "int", new(big.Int).SetUint64(1 << 63)},
		{big1, "int", big1},
		{3.25, "float", 3.25},
		{"Python", "str", "Python"},
		{"ünï ☃ 𝄞", "str", "ünï ☃ 𝄞"},
		{[]byte{0, 1, 255}, "bytes", []byte{0, 1, 255}},
		{pickle.ByteArray("ba"), "bytearray", pickle.ByteArray("ba")},
		{[]any{int64(1), "two", nil}, "list", []any{int64(1), "two", nil}},
		{pickle.Tuple{int64(1), "t"}, "tuple", pickle.Tuple{int64(1), "t"}},
		{d, "dict", d},
		{set, "set", set},
		{map[string]int{"k": 7}, "dict", mustDict("k", int64(7))},
		{bytes.Repeat([]byte("z"), 200000), "bytes", bytes.Repeat([]byte("z"), 200000)},
		{time.Date(2024, 2, 29, 12, 0, 0, 5000, time.UTC), "datetime", nil},
		{90 * time.Second, "timedelta", nil},
	}
}

func mustDict(kv ...any) *pickle.Dict {
	d := pickle.NewDict()
	for i := 0; i < len(kv); i += 2 {
		_ = d.Set(kv[i], kv[i+1])
	}
	return d
}

// TestGoQueuePythonChild: a Go-created Queue(2) handed to a Python child
// by process.Start, which rebuilds a real multiprocessing.Queue.
func TestGoQueuePythonChild(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 60*time.Second)
		q, err := queue.New(2)
		require.NoError(t, err)
		defer q.Close()
		p := startProbe(t, ctx, py, q)

		t.Run("a Python child gets what Go puts, of every type", func(t *testing.T) {
			for _, s := range goSamples() {
				require.NoError(t, q.Put(ctx, s.v))
				r := p.Call("get", true, 10.0).(pickle.Tuple)
				require.Equal(t, "ok", r[0], "%#v", r)
				x := r[1]
				switch s.pyType {
				case "datetime", "timedelta":
					o, ok := x.(*pickle.Object)
					require.True(t, ok, "%T", x)
					assert.Equal(t, s.pyType, o.Callable.Name)
					var back any
					if s.pyType == "datetime" {
						var tm time.Time
						require.NoError(t, remarshal(x, &tm))
						back = tm
					} else {
						var dd time.Duration
						require.NoError(t, remarshal(x, &dd))
						back = dd
					}
					assert.Equal(t, s.v, back)
				default:
					assertSame(t, s.expected, x, s.pyType)
				}
			}
		})
		t.Run("Go gets what a Python child puts", func(t *testing.T) {
			for _, s := range goSamples() {
				require.Equal(t, "ok", p.Call("put", s.v, true, nil))
				v, err := q.GetValue(ctx)
				require.NoError(t, err)
				if s.expected != nil {
					assertSame(t, s.expected, v, s.pyType)
				}
			}
		})
		t.Run("maxsize, Full, Empty and qsize agree on both sides", func(t *testing.T) {
			require.NoError(t, q.Put(ctx, "a"))
			require.Equal(t, "ok", p.Call("put", "b", true, nil))
			assert.Equal(t, int64(2), p.Call("qsize"))
			assert.Equal(t, true, p.Call("full"))
			n, err := q.Qsize()
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			assert.ErrorIs(t, q.PutNowait("c"), queue.ErrFull)
			assert.ErrorIs(t, q.PutTimeout(context.Background(), 100*time.Millisecond, "c"), queue.ErrFull)
			t0 := time.Now()
			assert.Equal(t, "Full", p.Call("put", "c", true, 0.2))
			assert.GreaterOrEqual(t, time.Since(t0), 150*time.Millisecond)
			assert.Equal(t, "Full", p.Call("put", "c", false, nil))
			// Both feeders write independently: either item may come first.
			r := p.Call("get", true, 5.0).(pickle.Tuple)
			assert.Equal(t, int64(1), p.Call("qsize"))
			var s string
			require.NoError(t, q.Get(ctx, &s))
			assert.ElementsMatch(t, []any{"a", "b"}, []any{r[1], s})
			assert.Equal(t, true, p.Call("empty"))
			assert.Equal(t, "Empty", p.Call("get", true, 0.2))
			assert.Equal(t, "Empty", p.Call("get", false, nil))
			assert.ErrorIs(t, q.GetNowait(&s), queue.ErrEmpty)
			assert.ErrorIs(t, q.GetTimeout(context.Background(), 100*time.Millisecond, &s), queue.ErrEmpty)
			n, _ = q.Qsize()
			assert.Equal(t, 0, n)
			assert.Equal(t, int64(0), p.Call("qsize"))
		})
		t.Run("a Python get blocked on an empty queue is woken by a Go Put", func(t *testing.T) {
			p.Send("get", true, 10.0)
			assert.True(t, p.Silent(300*time.Millisecond), "the Python get should block")
			require.NoError(t, q.Put(ctx, "wake"))
			assert.Equal(t, pickle.Tuple{"ok", "wake"}, p.Recv())
		})
		t.Run("a Go Get blocked on an empty queue is woken by a Python put", func(t *testing.T) {
			got := make(chan any, 1)
			go func() {
				v, err := q.GetValue(ctx)
				if err != nil {
					v = err
				}
				got <- v
			}()
			time.Sleep(300 * time.Millisecond)
			select {
			case v := <-got:
				t.Fatalf("Get returned early: %v", v)
			default:
			}
			require.Equal(t, "ok", p.Call("put", "py-wake", true, nil))
			assert.Equal(t, "py-wake", <-got)
		})
		t.Run("a Python put blocked on a full queue is woken by a Go Get", func(t *testing.T) {
			require.NoError(t, q.Put(ctx, 1))
			require.NoError(t, q.Put(ctx, 2))
			p.Send("put", 3, true, 10.0)
			assert.True(t, p.Silent(300*time.Millisecond), "the Python put should block")
			var x int
			require.NoError(t, q.Get(ctx, &x))
			assert.Equal(t, "ok", p.Recv())
			require.NoError(t, q.Get(ctx, &x))
			require.NoError(t, q.Get(ctx, &x))
			assert.Equal(t, 3, x)
		})
		t.Run("a Go Put blocked on a full queue is woken by a Python get", func(t *testing.T) {
			require.NoError(t, q.Put(ctx, 1))
			require.NoError(t, q.Put(ctx, 2))
			done := make(chan error, 1)
			go func() { done <- q.Put(ctx, 3) }()
			time.Sleep(300 * time.Millisecond)
			select {
			case err := <-done:
				t.Fatalf("Put returned early: %v", err)
			default:
			}
			assert.Equal(t, pickle.Tuple{"ok", int64(1)}, p.Call("get", true, 5.0))
			require.NoError(t, <-done)
			assert.Equal(t, pickle.Tuple{"ok", int64(2)}, p.Call("get", true, 5.0))
			assert.Equal(t, pickle.Tuple{"ok", int64(3)}, p.Call("get", true, 5.0))
		})
		p.Exit()
	})
}

// assertSame compares generic values through their pickles (Dict and Set
// carry decoder bookkeeping that assert.Equal would compare).
func assertSame(t *testing.T, want, got any, msg string) {
	t.Helper()
	a, err := pickle.Marshal(want)
	require.NoError(t, err)
	b, err := pickle.Marshal(got)
	require.NoError(t, err)
	assert.Equal(t, a, b, "%s: want %v, got %v", msg, want, got)
}

func remarshal(in, out any) error {
	b, err := pickle.Marshal(in)
	if err != nil {
		return err
	}
	return pickle.Unmarshal(b, out)
}

// TestGoJoinableQueuePythonChild: task_done/join across languages.
func TestGoJoinableQueuePythonChild(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 60*time.Second)
		q, err := queue.NewJoinable(0)
		require.NoError(t, err)
		defer q.Close()
		p := startProbe(t, ctx, py, q)

		t.Run("a Python join() returns once Go has TaskDone'd every item", func(t *testing.T) {
			for i := 0; i < 3; i++ {
				require.NoError(t, q.Put(ctx, i))
			}
			assert.Equal(t, false, p.Call("join", 0.2))
			p.Send("join", 10.0)
			for i := 0; i < 3; i++ {
				var x int
				require.NoError(t, q.Get(ctx, &x))
				require.NoError(t, q.TaskDone(ctx))
			}
			assert.Equal(t, true, p.Recv())
		})
		t.Run("a Go Join returns once Python has task_done() every item", func(t *testing.T) {
			for i := 0; i < 2; i++ {
				require.Equal(t, "ok", p.Call("put", i, true, nil))
			}
			n, err := q.UnfinishedTasks()
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			ok, err := q.JoinTimeout(context.Background(), 100*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)
			joined := make(chan error, 1)
			go func() { joined <- q.Join(ctx) }()
			for i := 0; i < 2; i++ {
				assert.Equal(t, pickle.Tuple{"ok", int64(i)}, p.Call("get", true, 5.0))
				assert.Equal(t, "ok", p.Call("task_done"))
			}
			select {
			case err := <-joined:
				require.NoError(t, err)
			case <-ctx.Done():
				t.Fatal("Join did not return")
			}
		})
		t.Run("task_done too many times fails on both sides", func(t *testing.T) {
			assert.Equal(t, "ValueError: task_done() called too many times", p.Call("task_done"))
			assert.ErrorIs(t, q.TaskDone(ctx), queue.ErrTaskDone)
		})
		p.Exit()
	})
}

// TestGoSimpleQueuePythonChild: a Go-created SimpleQueue both ways.
func TestGoSimpleQueuePythonChild(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 60*time.Second)
		q, err := queue.NewSimple()
		require.NoError(t, err)
		defer q.Close()
		p := startProbe(t, ctx, py, q)
		require.NoError(t, q.Put(ctx, []any{"go", int64(1)}))
		assert.Equal(t, pickle.Tuple{"ok", []any{"go", int64(1)}}, p.Call("get", true, nil))
		assert.Equal(t, true, p.Call("empty"))
		require.Equal(t, "ok", p.Call("put", "py", true, nil))
		var s string
		require.NoError(t, q.Get(ctx, &s))
		assert.Equal(t, "py", s)
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		err = q.Get(short, &s)
		assert.True(t, errors.Is(err, queue.ErrEmpty), "%v", err)
		p.Exit()
	})
}
