package manager_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/process"
)

const seedDict = "{1: '1', '2': 2}"

func seedList(n int) string {
	return "[0, 1, 2, 3, 4" + strings.Repeat(", 1", n) + "]"
}

// TestSpawnPythonParentGoChild: a Python parent hands a DictProxy and a
// ListProxy to Go workers (mpwire.GoProcess) and Python workers; the Go
// workers (this test binary, workerMain) rebuild them with FromChild.
func TestSpawnPythonParentGoChild(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_spawn.py",
			Args: []string{"--go-worker", exe, "--go", "2", "--py", "1"}, Env: keyEnv})
		want := "DICT " + seedDict + "\nLIST " + seedList(3) + "\nOBJECTS 0"
		if strings.TrimSpace(out) != want {
			t.Fatalf("got\n%s\nwant\n%s", out, want)
		}
	})
}

// TestSpawnGoParentPythonChild: a Go parent passes its proxies (of a Go
// server and of a Python server) to Python children through process.Start.
func TestSpawnGoParentPythonChild(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, host := range []string{"go", "python"} {
			t.Run(host+" server", func(t *testing.T) {
				ctx := pyharness.Context(t, 60*time.Second)
				var network, address string
				if host == "python" {
					network, address = startPyServer(t, ctx, py, "tcp")
				} else {
					s := startGoServer(t)
					network, address = "tcp", s.Addr().String()
				}
				c := dialT(t, ctx, network, address)
				d := must(c.Dict(ctx, nil))(t)
				l := must(c.List(ctx, []any{0, 1, 2, 3, 4}))(t)
				for i := 0; i < 1; i++ {
					p, err := process.Start(ctx, process.Spec{Python: py.Path, Target: "mgr_spawn:seed_f",
						Path: []string{pyharness.Dir()}, Args: []any{d, l}, Stdout: os.Stderr})
					if err != nil {
						t.Fatal(err)
					}
					if err := p.Wait(ctx); err != nil {
						t.Fatalf("python child: %v", err)
					}
				}
				if r := must(d.Repr(ctx))(t); r != seedDict {
					t.Fatalf("dict %s", r)
				}
				if r := must(l.Repr(ctx))(t); r != seedList(1) {
					t.Fatalf("list %s", r)
				}
				ok(t, d.Close())
				ok(t, l.Close())
				waitObjects(t, ctx, c, 0)
				if host == "python" {
					ok(t, c.Shutdown(ctx))
				}
			})
		}
	})
}

// TestRebuildPickledProxy round-trips a proxy through its pickled form
// (what a Python process sends) and checks the reference it takes.
func TestRebuildPickledProxy(t *testing.T) {
	ctx := pyharness.Context(t, 20*time.Second)
	s := startGoServer(t)
	c := dialT(t, ctx, "tcp", s.Addr().String())
	q := must(c.Queue(ctx, 0))(t)
	red := must(q.ReduceForSpawn(nil))(t)
	p := must(manager.Rebuild(ctx, red))(t)
	if p.TypeID() != "Queue" || p.Token().ID != q.Token().ID {
		t.Fatalf("rebuilt %+v", p.Token())
	}
	if n := s.NumberOfObjects(); n != 1 {
		t.Fatalf("%d objects", n)
	}
	info := must(c.DebugInfo(ctx))(t)
	if !strings.Contains(info, "refcount=2") {
		t.Fatalf("rebuild did not incref: %s", info)
	}
	ok(t, (&manager.QueueProxy{Proxy: p}).Put(ctx, "x"))
	if v := must(q.Get(ctx))(t); v != "x" {
		t.Fatalf("got %#v", v)
	}
	ok(t, p.Close())
	ok(t, q.Close())
	waitObjects(t, ctx, c, 0)
	if _, err := manager.Rebuild(ctx, "not a proxy"); err == nil {
		t.Fatal("rebuilt a string")
	}
}
