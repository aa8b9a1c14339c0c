package manager_test

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

var keyEnv = []string{"MPWIRE_AUTHKEY=" + hex.EncodeToString(testKey)}

// pyClient runs pyfixtures/mgr_client.py with a role against address.
func pyClient(t *testing.T, ctx context.Context, py pyharness.Interpreter, network, address string, args ...string) *pyharness.Proc {
	t.Helper()
	return pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "mgr_client.py",
		Args: append([]string{"--address", network + ":" + address}, args...), Env: keyEnv})
}

// TestPythonClientGoServer runs CPython's stock SyncManager proxies
// (every typeid, exceptions, a BaseManager-registered typeid backed by Go
// objects) against a Go-hosted server.
func TestPythonClientGoServer(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		ctx := pyharness.Context(t, 60*time.Second)
		s := startGoServer(t)
		jobs := server.NewQueue(0)
		s.Register("get_jobs", jobs)
		s.Register("calc", server.Methods{
			"add": func(_ context.Context, args pickle.Tuple, _ *pickle.Dict) (any, error) {
				return args[0].(int64) + args[1].(int64), nil
			},
			"fail": func(context.Context, pickle.Tuple, *pickle.Dict) (any, error) {
				return nil, &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "ValueError"}, Args: pickle.Tuple{"bad", int64(7)}}
			},
		})
		p := pyClient(t, ctx, py, "tcp", s.Addr().String(), "scenario")
		line, err := p.ReadLine(ctx)
		if err != nil || !strings.HasPrefix(line, "OK ") {
			t.Fatalf("scenario: %q %v", line, err)
		}
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		c := dialT(t, ctx, "tcp", s.Addr().String())
		waitObjects(t, ctx, c, 0)
		v, err := jobs.CallMethod(ctx, nil, "get_nowait", nil, nil)
		if err != nil || v != "from-python" {
			t.Fatalf("jobs queue: %v %v", v, err)
		}
		t.Logf("%s against the Go server: %s", py.Name(), line)
	})
}

// TestMixedParties puts Go and Python parties on one Barrier (two Go
// goroutines, one Python process), one Condition (Python waits, Go
// notifies), one Lock (Python holds, Go contends) and one Queue (Go blocks
// in get with a timeout, Python puts), hosted by a Python server (on a
// unix socket) and by the Go server.
func TestMixedParties(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, host := range []string{"python", "go"} {
			t.Run(host+" server", func(t *testing.T) {
				ctx := pyharness.Context(t, 60*time.Second)
				var network, address string
				if host == "python" {
					network, address = startPyServer(t, ctx, py, "unix")
				} else {
					s := startGoServer(t)
					network, address = "tcp", s.Addr().String()
				}
				c := dialT(t, ctx, network, address)
				b := must(c.Barrier(ctx, 3, 20*time.Second))(t)
				cv := must(c.Condition(ctx))(t)
				lock := must(c.Lock(ctx))(t)
				q := must(c.Queue(ctx, 0))(t)
				p := pyClient(t, ctx, py, network, address, "mixed", b.Token().ID, cv.Token().ID, lock.Token().ID, q.Token().ID)
				var wg sync.WaitGroup
				idx := make(chan int, 3)
				for i := 0; i < 2; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						n, err := b.Wait(ctx)
						if err != nil {
							t.Error(err)
						}
						idx <- n
					}()
				}
				line, err := p.ReadLine(ctx)
				if err != nil || !strings.HasPrefix(line, "INDEX ") {
					t.Fatalf("python party: %q %v", line, err)
				}
				idx <- int(line[len("INDEX ")] - '0')
				wg.Wait()
				close(idx)
				seen := map[int]bool{}
				for n := range idx {
					seen[n] = true
				}
				if len(seen) != 3 {
					t.Fatalf("arrival indexes %v", seen)
				}
				if _, err := p.Expect(ctx, "WAITING"); err != nil {
					t.Fatal(err)
				}
				// The waiter holds the lock until it is inside wait(); then
				// our acquire succeeds and the notify reaches it.
				ok(t, cv.Acquire(ctx))
				ok(t, cv.Notify(ctx, 1))
				ok(t, cv.Release(ctx))
				line, err = p.ReadLine(ctx)
				if err != nil || line != "NOTIFIED True" {
					t.Fatalf("python waiter: %q %v", line, err)
				}
				// Lock contention: Python holds the lock for 1 s.
				if _, err := p.Expect(ctx, "LOCKED"); err != nil {
					t.Fatal(err)
				}
				if must(lock.TryAcquire(ctx))(t) {
					t.Fatal("acquired a lock Python holds")
				}
				ok(t, lock.Acquire(ctx))
				if line, err := p.ReadLine(ctx); err != nil || line != "RELEASED" {
					t.Fatalf("acquired before Python released: %q %v", line, err)
				}
				ok(t, lock.Release(ctx))
				// Blocking get with a timeout, fed by Python.
				if v := must(q.GetTimeout(ctx, 20*time.Second))(t); v != "from-python" {
					t.Fatalf("queue got %#v", v)
				}
				ok(t, p.Wait())
				ok(t, b.Close())
				ok(t, cv.Close())
				ok(t, lock.Close())
				ok(t, q.Close())
				waitObjects(t, ctx, c, 0)
				if host == "python" {
					ok(t, c.Shutdown(ctx))
				}
			})
		}
	})
}

// TestGoServerAuthSchemes: CPython clients authenticate to the Go server
// with its default {sha256} challenge (3.8–3.11 answer it with raw MD5)
// and with the legacy 20-byte challenge, then shut it down.
func TestGoServerAuthSchemes(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, scheme := range []listener.Scheme{listener.SchemeSHA256, listener.SchemeLegacy} {
			ctx := pyharness.Context(t, 30*time.Second)
			s := server.Config{Listener: listener.Config{Authkey: testKey, Scheme: scheme}}.New()
			// The legacy run also covers a unix socket address.
			network, address := "tcp", "127.0.0.1:0"
			if scheme == listener.SchemeLegacy {
				network, address = "unix", filepath.Join(t.TempDir(), "m.sock")
			}
			ok(t, s.Listen(network, address))
			defer s.Close()
			c := dialT(t, ctx, network, s.Addr().String())
			ok(t, c.Close())
			p := pyClient(t, ctx, py, network, s.Addr().String(), "shutdown")
			ok(t, p.Wait())
			select {
			case <-s.Done():
			case <-ctx.Done():
				t.Fatalf("%s: server not shut down", scheme)
			}
		}
	})
}
