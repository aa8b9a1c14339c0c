package manager_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// benchList returns a list proxy on a fresh server and the size of one
// __len__ request, for SetBytes.
func benchList(b *testing.B, ctx context.Context, network, address string) *manager.ListProxy {
	c, err := manager.Dial(ctx, network, address, testKey)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	l, err := c.List(ctx, []any{1, 2, 3})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	req, _ := pickle.Marshal(pickle.Tuple{l.Token().ID, "__len__", pickle.Tuple{}, pickle.NewDict()})
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	return l
}

// BenchmarkProxyCallGoServer: round trips of list.__len__ from a Go client
// to the Go-hosted server.
func BenchmarkProxyCallGoServer(b *testing.B) {
	ctx := context.Background()
	s := server.New(testKey)
	if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := benchList(b, ctx, "tcp", s.Addr().String())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Len(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxyCallGoServerParallel: concurrent calls through one client
// (the connection pool).
func BenchmarkProxyCallGoServerParallel(b *testing.B) {
	ctx := context.Background()
	s := server.New(testKey)
	if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l := benchList(b, ctx, "tcp", s.Addr().String())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Len(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProxyCallPythonServer: round trips from a Go client to a CPython
// SyncManager server.
func BenchmarkProxyCallPythonServer(b *testing.B) {
	py, err := pyharness.Default()
	if err != nil {
		b.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	network, address, stop := startPyServerB(b, ctx, py)
	defer stop()
	l := benchList(b, ctx, network, address)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Len(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateDecref: create + decref of a dict (two one-shot
// connections with handshakes) on the Go server.
func BenchmarkCreateDecref(b *testing.B) {
	ctx := context.Background()
	s := server.New(testKey)
	if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := manager.Dial(ctx, "tcp", s.Addr().String(), testKey)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.SetBytes(0)
	for i := 0; i < b.N; i++ {
		d, err := c.Dict(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func startPyServerB(b *testing.B, ctx context.Context, py pyharness.Interpreter) (string, string, func()) {
	p, err := pyharness.Start(ctx, pyharness.Cmd{Python: py, Script: "mgr_server.py", Env: keyEnv})
	if err != nil {
		b.Fatal(err)
	}
	line, err := p.ReadLine(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m := tcpRepr.FindStringSubmatch(strings.TrimPrefix(line, "READY "))
	if m == nil {
		b.Fatalf("server said %q", line)
	}
	return "tcp", m[1] + ":" + m[2], func() { p.Kill(); p.Wait() }
}

// TestSideBySideManager prints proxy-call round trips per second: Go client
// vs Python client against the same CPython server, and a Python client
// against the Go server vs against the Python server. Runs only with
// MPWIRE_BENCH=1; asserts nothing about speed.
//
//	MPWIRE_BENCH=1 go test -run TestSideBySideManager -v ./manager
func TestSideBySideManager(t *testing.T) {
	if os.Getenv("MPWIRE_BENCH") != "1" {
		t.Skip("set MPWIRE_BENCH=1 to run the side-by-side Go/Python timing")
	}
	const count = 5000
	goCalls := func(ctx context.Context, network, address string) float64 {
		c := dialT(t, ctx, network, address)
		l := must(c.List(ctx, nil))(t)
		defer l.Close()
		must(l.Len(ctx))(t)
		start := time.Now()
		for i := 0; i < count; i++ {
			must(l.Len(ctx))(t)
		}
		return count / time.Since(start).Seconds()
	}
	pyCalls := func(ctx context.Context, py pyharness.Interpreter, network, address string) float64 {
		p := pyClient(t, ctx, py, network, address, "bench", strconv.Itoa(count))
		line, err := p.ReadLine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(strings.TrimPrefix(line, "CALLS_PER_SEC "), 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		ok(t, p.Wait())
		return v
	}
	s := startGoServer(t)
	goGo := goCalls(context.Background(), "tcp", s.Addr().String())
	var rows []string
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 5*time.Minute)
		network, address := startPyServer(t, ctx, py, "tcp")
		goPy := goCalls(ctx, network, address)
		pyPy := pyCalls(ctx, py, network, address)
		pyGo := pyCalls(ctx, py, "tcp", s.Addr().String())
		rows = append(rows, fmt.Sprintf("| %s | %.0f | %.0f | %.2f× | %.0f | %.2f× |", py.Name(), pyPy, goPy, goPy/pyPy, pyGo, pyGo/pyPy))
	})
	fmt.Printf("\nmanager proxy round trips/s (len() of a shared list, %d calls, tcp loopback); Go client → Go server: %.0f/s\n", count, goGo)
	fmt.Println("| Python | Py client → Py server | Go client → Py server | Go/Py client | Py client → Go server | Go/Py server |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

// BenchmarkDictCallsGoServer32: dict set/get from 32 concurrent callers
// sharing one Client to a Go server on a unix socket, in one process (the
// profile shows both sides of a call). go run ./benchmarks (case manager)
// measures client and server in separate processes against CPython's.
func BenchmarkDictCallsGoServer32(b *testing.B) {
	ctx := context.Background()
	s := server.New(testKey)
	sock := b.TempDir() + "/m.sock"
	if err := s.Listen("unix", sock); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := manager.Config{Dialer: listener.Config{Authkey: testKey}, MaxIdleConns: -1}.Dial(ctx, "unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	d, err := c.Dict(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var next atomic.Int64
	b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		key := "k" + strconv.FormatInt(next.Add(1), 10)
		i := 0
		for pb.Next() {
			var err error
			if i&1 == 0 {
				err = d.Set(ctx, key, i)
			} else {
				_, err = d.Get(ctx, key)
			}
			if err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// cpuTime is this process's CPU time (user and system) so far: on a
// shared machine it measures a call's cost better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
