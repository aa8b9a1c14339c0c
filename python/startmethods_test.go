package python_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/testworker"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
	"github.com/mpwire/mpwire/queue"
	"github.com/mpwire/mpwire/sharedmem"
	"github.com/mpwire/mpwire/synchronize"
)

// TestMain doubles as the Go worker that pyfixtures/start_methods.py starts
// with mpwire.GoProcess (kwargs["role"]).
func TestMain(m *testing.M) {
	testworker.Main(m, testworker.Roles{
		"":           roleEcho, // python -m mpwire run names no role
		"noop":       func(context.Context, *process.ChildProcess) error { return nil },
		"forkserver": roleForkserver,
	})
}

// roleEcho answers one message on the Pipe end in argument 0 with
// ("echo", message, worker name).
func roleEcho(ctx context.Context, child *process.ChildProcess) error {
	conn, err := child.Conn(0)
	if err != nil {
		return err
	}
	defer conn.Close()
	var msg any
	if err := conn.Recv(ctx, &msg); err != nil {
		return err
	}
	return conn.Send(ctx, pickle.Tuple{"echo", msg, child.Name()})
}

// roleForkserver uses what a forkserver-context parent handed it: args (q,
// out, lock, value, array, event). For each {"n": i} on q until None it
// takes the lock, increments the Value under the Value's own lock, and puts
// {"n": i, "double": 2i} on out; then it negates the Array and sets the
// Event.
func roleForkserver(ctx context.Context, child *process.ChildProcess) error {
	q, err := queue.Open(child, child.Arg(0))
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	out, err := queue.Open(child, child.Arg(1))
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	lock, err := synchronize.OpenLock(child.Arg(2))
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	v, err := sharedmem.ValueFrom(child, child.Arg(3))
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	arr, err := sharedmem.ArrayFrom(child, child.Arg(4))
	if err != nil {
		return fmt.Errorf("array: %w", err)
	}
	ev, err := synchronize.OpenEvent(child.Arg(5))
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	for {
		// Get into any, not into a struct: the None sentinel would leave a
		// typed value unchanged and the loop would never end.
		var raw any
		if err := q.Get(ctx, &raw); err != nil {
			return err
		}
		if raw == nil {
			break
		}
		d, _ := raw.(*pickle.Dict)
		var n int64
		if d != nil {
			v, _ := d.GetString("n")
			n, _ = v.(int64)
		}
		if d == nil || d.Len() != 1 {
			return fmt.Errorf("unexpected item %v", raw)
		}
		if err := lock.Acquire(ctx); err != nil {
			return err
		}
		err := v.WithLock(ctx, func() error {
			n, err := v.Int()
			if err != nil {
				return err
			}
			return v.SetInt(n + 1)
		})
		lock.Release()
		if err != nil {
			return err
		}
		if err := out.Put(ctx, map[string]any{"n": n, "double": 2 * n}); err != nil {
			return err
		}
	}
	for i := 0; i < arr.Len(); i++ {
		f, err := arr.Float(i)
		if err != nil {
			return err
		}
		if err := arr.SetFloat(i, -f); err != nil {
			return err
		}
	}
	if err := ev.Set(ctx); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return out.JoinThread(ctx)
}

func worker(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestForkContextGuard: on every version, a Queue, lock, Value or Array
// made in the fork context and handed to GoProcess (in args, kwargs, nested
// containers, a user object) or GoPool (initargs) raises ForkContextError
// naming the argument and the fix, before any process starts; objects of
// a spawn or forkserver context go through.
func TestForkContextGuard(t *testing.T) {
	exe := worker(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 2*time.Minute)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "start_methods.py",
			Args: []string{"--go", exe, "--scenario", "guard"}})
		var r struct {
			Results map[string]map[string]struct {
				Exc      *string
				Msg      *string
				Children int
			}
			PythonOwn map[string]any `json:"python_own"`
			OK        map[string]struct {
				Exc, Msg *string
				Exitcode *int
			}
			GetContext struct {
				Default     string
				Fork        []*string
				GlobalAfter *string `json:"global_after"`
			} `json:"get_context"`
		}
		if err := json.Unmarshal([]byte(lastLine(out)), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(r.Results) != 12 {
			t.Fatalf("%d kinds checked, want 12:\n%s", len(r.Results), out)
		}
		for kind, cases := range r.Results {
			for name, c := range cases {
				if c.Exc == nil || *c.Exc != "ForkContextError" {
					t.Errorf("%s in %s: raised %v (%v), want ForkContextError", kind, name, deref(c.Exc), deref(c.Msg))
					continue
				}
				msg := *c.Msg
				for _, want := range []string{"'fork' context", "mpwire.get_context()", "get_context('spawn')", "set_start_method('spawn')"} {
					if !strings.Contains(msg, want) {
						t.Errorf("%s in %s: message lacks %q: %s", kind, name, want, msg)
					}
				}
				where := map[string]string{"args": "args[1]", "kwargs": "kwargs['x']", "nested": "args[0] holds",
					"holder": "args[0] (a __main__.Holder) holds", "pool": "mpwire.GoPool: initargs[0]"}[name]
				if !strings.Contains(msg, where) {
					t.Errorf("%s in %s: message does not name %q: %s", kind, name, where, msg)
				}
				if c.Children != 0 {
					t.Errorf("%s in %s: %d children running after the error", kind, name, c.Children)
				}
			}
		}
		// The versions differ in what Python itself does (docs/spec.md, SemLock):
		// the check is what makes the error the same everywhere.
		if py.AtLeast(3, 11) {
			if r.PythonOwn["pickles"] != false || !strings.Contains(fmt.Sprint(r.PythonOwn["error"]), "A SemLock created in a fork context") {
				t.Errorf("3.11+: Python's own pickling of a fork-context SemLock: %v", r.PythonOwn)
			}
		} else if r.PythonOwn["pickles"] != true || r.PythonOwn["name"] != nil {
			t.Errorf("3.8-3.10: Python pickles a fork-context SemLock with name None; got %v", r.PythonOwn)
		}
		for _, method := range []string{"spawn", "forkserver"} {
			c := r.OK[method]
			if c.Exc != nil || c.Exitcode == nil || *c.Exitcode != 0 {
				t.Errorf("%s-context objects: raised %v %v, exit code %v; want a clean start", method, deref(c.Exc), deref(c.Msg), c.Exitcode)
			}
		}
		if r.GetContext.Default != "spawn" {
			t.Errorf("mpwire.get_context() with Linux's fork default: %q, want spawn", r.GetContext.Default)
		}
		if r.GetContext.GlobalAfter != nil {
			t.Errorf("mpwire.get_context() fixed the global start method to %q", *r.GetContext.GlobalAfter)
		}
		if len(r.GetContext.Fork) != 2 || deref(r.GetContext.Fork[0]) != "ValueError" {
			t.Errorf("mpwire.get_context('fork'): %v, want ValueError", r.GetContext.Fork)
		}
	})
}

// TestForkserverObjectsToGoWorker: a Queue, Lock, Value, Array and Event
// made in the forkserver context (Python 3.14's Linux default) reach a Go
// worker and work both ways, from get_context("forkserver") and after
// set_start_method("forkserver").
func TestForkserverObjectsToGoWorker(t *testing.T) {
	exe := worker(t)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		for _, scenario := range []string{"forkserver", "forkserver-default"} {
			t.Run(scenario, func(t *testing.T) {
				ctx := pyharness.Context(t, 2*time.Minute)
				out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "start_methods.py",
					Args: []string{"--go", exe, "--scenario", scenario}})
				var r struct {
					Got        []map[string]int64
					Event      bool
					Value      int64
					Array      []float64
					LockFree   bool `json:"lock_free"`
					Exitcode   *int
					Method     string
					GetContext string `json:"get_context"`
				}
				if err := json.Unmarshal([]byte(lastLine(out)), &r); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if r.Exitcode == nil || *r.Exitcode != 0 {
					t.Fatalf("Go worker exit code %v:\n%s", r.Exitcode, out)
				}
				if r.Method != "forkserver" {
					t.Errorf("objects made with start method %q, want forkserver", r.Method)
				}
				for i, g := range r.Got {
					if g["n"] != int64(i) || g["double"] != 2*int64(i) {
						t.Errorf("item %d came back as %v", i, g)
					}
				}
				if len(r.Got) != 5 || r.Value != 5 || !r.Event || !r.LockFree {
					t.Errorf("got %d items, Value %d (want 5), event %v, lock free %v", len(r.Got), r.Value, r.Event, r.LockFree)
				}
				if fmt.Sprint(r.Array) != "[-1.5 -2.5 -3.5]" {
					t.Errorf("Array %v, want the negation of [1.5 2.5 3.5]", r.Array)
				}
				if scenario == "forkserver-default" && r.GetContext != "forkserver" {
					t.Errorf("mpwire.get_context() after set_start_method('forkserver'): %q", r.GetContext)
				}
			})
		}
	})
}

// TestForkserverChildOfGoParent: a Go parent makes a Queue and a Listener
// and starts a Python child (spawn); that child starts a grandchild with the
// forkserver start method, handing it the Go-made Queue (so Go's SemLocks
// and pipe fds cross the forkserver's fd passing) and the Listener's
// address. The forkserver child talks to Go over both.
func TestForkserverChildOfGoParent(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 2*time.Minute)
		dir, err := os.MkdirTemp("", "mpw")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		key := []byte("forkserver-secret")
		addr := filepath.Join(dir, "l.sock")
		l, err := listener.Listen("unix", addr, key)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		q, err := queue.New(0)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()

		served := make(chan error, 1)
		go func() {
			c, err := l.Accept(ctx)
			if err != nil {
				served <- err
				return
			}
			defer c.Close()
			var hello map[string]any
			if err := c.Recv(ctx, &hello); err != nil {
				served <- err
				return
			}
			served <- c.Send(ctx, map[string]any{"from": "Go", "got": hello["hello"]})
		}()

		p, err := process.Start(ctx, process.Spec{Python: py.Path, Target: "start_methods:via_forkserver",
			Path: []string{pyharness.Dir()}, Args: []any{q, addr, key}, Name: "FSParent",
			Env: []string{"TMPDIR=" + dir, "PYTHONPATH=" + pyharness.PackageDir()}, Stderr: os.Stderr})
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Pid         int64
			Ppid        int64
			ParentPid   int64 `pickle:"parent_pid"`
			Name        string
			Reply       map[string]any
			StartMethod string `pickle:"start_method"`
		}
		if err := q.Get(ctx, &got); err != nil {
			p.Kill()
			t.Fatalf("getting from the forkserver child: %v", err)
		}
		if err := <-served; err != nil {
			t.Fatalf("serving the forkserver child: %v", err)
		}
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("Python parent: %v", err)
		}
		if got.Name != "FSChild" || got.Reply["from"] != "Go" || got.Reply["got"] != "from a forkserver child" {
			t.Errorf("forkserver child reported %+v", got)
		}
		// A forkserver child is forked by the server process, not by its
		// parent.
		if got.Ppid == got.ParentPid || got.ParentPid != int64(p.Pid()) {
			t.Errorf("child's ppid %d, parent %d (Go started pid %d): not a forkserver child", got.Ppid, got.ParentPid, p.Pid())
		}
	})
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestModuleCommand runs python -m mpwire version and run (GoProcess with a
// Pipe) with the package on PYTHONPATH.
func TestModuleCommand(t *testing.T) {
	exe := worker(t)
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, time.Minute)
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-m", "mpwire", "version"}})
	if !strings.HasPrefix(out, "mpwire "+python.Version()+" ") || !strings.Contains(out, pyharness.PackageDir()) {
		t.Errorf("python -m mpwire version: %q", out)
	}
	out = pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-m", "mpwire", "run", exe, "--message", "hi"}})
	if want := `"('echo', 'hi', 'GoWorker')"` + "\nexitcode 0"; strings.TrimSpace(out) != want {
		t.Errorf("python -m mpwire run: %q, want %q", out, want)
	}
}
