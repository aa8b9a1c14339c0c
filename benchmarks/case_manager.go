package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
)

// The manager case: dict set/get calls through SyncManager proxies from 1,
// 8, 32 and 128 concurrent callers, against a CPython SyncManager server
// (pyfixtures/mgr_server.py: Server.serve_forever, what Manager() runs in
// its server process) and against the Go server (this program re-run as a
// server process, what mpwire.Manager() starts), both on unix sockets in
// the same run. Callers are Go goroutines sharing one manager.Client, or
// Python threads spread over up to four processes (one GIL each), every
// process with its own shared dict. Throughput is calls per second of all
// callers together.

// serveEnv names the address (unix:PATH) this program serves a Go manager
// on when started as the case's server; profileEnv, if set, is where that
// server writes its CPU profile.
const (
	serveEnv   = "MPWIRE_BENCH_MANAGER"
	profileEnv = "MPWIRE_BENCH_MANAGER_PROFILE"
	// callersEnv replaces the concurrency levels (e.g. "32"), to profile
	// one of them.
	callersEnv = "MPWIRE_BENCH_MANAGER_CALLERS"
	// threadWaitEnv sets the Go server's Config.ThreadWaitConns (-1: none).
	threadWaitEnv = "MPWIRE_BENCH_MANAGER_THREADWAIT"
	// procsEnv sets the Go server's GOMAXPROCS (its clients keep theirs).
	procsEnv = "MPWIRE_BENCH_MANAGER_GOMAXPROCS"
	// clientThreadWaitEnv sets the Go callers' manager.Config.ThreadWaitConns
	// (-1: none), or "all": every connection in connection.Config.ThreadWait.
	clientThreadWaitEnv = "MPWIRE_BENCH_MANAGER_CLIENT_THREADWAIT"
	// clientProfileEnv, if set, is where this process writes a CPU
	// profile of its Go callers, over their rounds against the Go server.
	clientProfileEnv = "MPWIRE_BENCH_MANAGER_CLIENT_PROFILE"
)

// managerRepeat counts the manager case's repeats in this run.
var managerRepeat int

// managerCallers are the concurrency levels measured.
var managerCallers = []int{1, 8, 32, 128}

// serveManager returns unless this process was started as the manager
// case's server: then it serves until stdin closes and exits.
func serveManager() {
	addr := os.Getenv(serveEnv)
	if addr == "" {
		return
	}
	os.Exit(serveManagerOn(addr))
}

func serveManagerOn(addr string) int {
	if f := os.Getenv(profileEnv); f != "" {
		out, err := os.Create(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if v := os.Getenv(procsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "%s=%q: not a positive count\n", procsEnv, v)
			return 1
		}
		runtime.GOMAXPROCS(n)
	}
	// The listener's defaults, as a user gets them: 128 callers starting at
	// once dial up to 128 connections together, beyond MaxHandshakes (64),
	// and wait for each other's handshakes.
	cfg := server.Config{Listener: listener.Config{Authkey: benchKey}}
	if v := os.Getenv(threadWaitEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s=%q: %v\n", threadWaitEnv, v, err)
			return 1
		}
		cfg.ThreadWaitConns = n
	}
	srv := cfg.New()
	network, address, _ := strings.Cut(addr, ":")
	if err := srv.Listen(network, address); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Close()
	fmt.Println("READY")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// managerServer is a running server process of the case.
type managerServer struct {
	network, address string
	pid              int
	stop             func()
}

// cpuNs is the CPU time each thread of the server process has used, in ns
// (/proc/PID/task/TID/schedstat; empty if unavailable).
func (s *managerServer) cpuNs() map[string]float64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", s.pid))
	m := make(map[string]float64, len(tasks))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		var ns float64
		if _, err := fmt.Sscan(string(b), &ns); err == nil {
			m[t] = ns
		}
	}
	return m
}

// cpuSince is the CPU time the server's threads alive now have used since
// the snapshot then (all of it for threads started since). Threads that
// ended meanwhile (a CPython server's threads of short connections) are
// left out rather than counted negative.
func cpuSince(then, now map[string]float64) float64 {
	var total float64
	for t, ns := range now {
		total += ns - then[t]
	}
	return total
}

func (r *runner) startGoManager(sock string) (*managerServer, error) {
	env := []string{serveEnv + "=unix:" + sock}
	for _, k := range []string{profileEnv, threadWaitEnv, procsEnv} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return r.startServerProc(sock, r.cfg.Exe, nil, env)
}

func (r *runner) startPyManager(sock string) (*managerServer, error) {
	return r.startServerProc(sock, r.cfg.Python.Path, []string{pyharness.Script("mgr_server.py"), "--family", "unix", "--path", sock, "--watchdog", "0"},
		[]string{"MPWIRE_AUTHKEY=" + hex.EncodeToString(benchKey), "PYTHONPATH=" + pyharness.Dir()})
}

// startServerProc runs a server program until stop (which closes its
// stdin, then kills it) and waits for its READY line.
func (r *runner) startServerProc(sock, exe string, args, env []string) (*managerServer, error) {
	ctx, cancel := context.WithCancel(r.ctx)
	stdin, closeStdin := io.Pipe()
	p, err := pyharness.Start(ctx, pyharness.Cmd{Python: pyharness.Interpreter{Path: exe}, Args: args, Env: env, Stdin: stdin})
	if err != nil {
		cancel()
		return nil, err
	}
	stop := func() {
		closeStdin.Close() // the Go server exits cleanly (writing its profile)
		select {
		case <-p.Done():
		case <-time.After(5 * time.Second):
		}
		cancel()
		_ = p.Wait()
	}
	rctx, rcancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer rcancel()
	line, err := p.ReadLine(rctx)
	if err != nil || !strings.HasPrefix(line, "READY") {
		stop()
		return nil, fmt.Errorf("manager server %s: %q %v", exe, line, err)
	}
	return &managerServer{network: "unix", address: sock, pid: p.Pid(), stop: stop}, nil
}

func runManager(r *runner) error {
	dur := time.Second
	callers := managerCallers
	if v := os.Getenv(callersEnv); v != "" { // for profiling one level
		callers = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				return fmt.Errorf("%s=%q: not a list of positive counts", callersEnv, v)
			}
			callers = append(callers, n)
		}
	}
	if r.cfg.Short {
		dur, callers = 50*time.Millisecond, []int{1, 2}
	}
	servers := map[string]*managerServer{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	// Fresh socket names each repeat: a server may leave its socket file.
	sock, err := os.MkdirTemp(r.tmp, "mgr")
	if err != nil {
		return err
	}
	for name, start := range map[string]func(string) (*managerServer, error){"go": r.startGoManager, "py": r.startPyManager} {
		s, err := start(filepath.Join(sock, name+".sock"))
		if err != nil {
			return err
		}
		servers[name] = s
	}
	var clientProf *os.File
	if f := os.Getenv(clientProfileEnv); f != "" {
		// The first round of Go callers against the Go server, per repeat:
		// the last repeat's file is what remains.
		if clientProf, err = os.Create(f); err != nil {
			return err
		}
		defer func() {
			if clientProf != nil {
				clientProf.Close()
			}
		}()
	}
	// The two servers take turns going first from one repeat to the next,
	// so a load that rises or falls during a repeat favours neither; the
	// first repeat starts with an unrecorded warm-up round of each server
	// (its first connections, threads and heap).
	order := []string{"py", "go"}
	if managerRepeat%2 == 1 {
		order = []string{"go", "py"}
	}
	if managerRepeat == 0 && !r.cfg.Short {
		for _, srv := range order {
			s := servers[srv]
			if _, _, err := goManagerCallers(r.ctx, s.network, s.address, callers[0], dur/4, func(bool) {}); err != nil {
				return fmt.Errorf("warm-up of the %s server: %w", srv, err)
			}
		}
	}
	managerRepeat++
	for _, n := range callers {
		for _, client := range []string{"go", "py"} {
			for _, srv := range order {
				s := servers[srv]
				// The server's CPU time over the calls: read while the
				// callers' connections (a CPython server's threads) live.
				var calls, secs, cpu, ccpu float64
				var cpu0, ccpu0 map[string]float64
				self := &managerServer{pid: os.Getpid()} // Go callers: this process
				window := func(start bool) {
					if start {
						cpu0 = s.cpuNs()
						if client == "go" {
							ccpu0 = self.cpuNs()
						}
					} else {
						cpu = cpuSince(cpu0, s.cpuNs())
						if client == "go" {
							ccpu = cpuSince(ccpu0, self.cpuNs())
						}
					}
				}
				if client == "go" {
					w := window
					if srv == "go" && clientProf != nil {
						w = func(start bool) {
							if start {
								_ = pprof.StartCPUProfile(clientProf)
							} else {
								pprof.StopCPUProfile()
								clientProf.Close()
								clientProf = nil // the first such round only
							}
							window(start)
						}
					}
					calls, secs, err = goManagerCallers(r.ctx, s.network, s.address, n, dur, w)
				} else {
					calls, secs, err = r.pyManagerCallers(s.network, s.address, n, dur, window)
				}
				if err != nil {
					return fmt.Errorf("%s callers to the %s server: %w", client, srv, err)
				}
				key := fmt.Sprintf("manager/%s-clients/%d/%s-server", client, n, srv)
				r.add(key, secs*1e9/calls)
				if cpu > 0 {
					r.add(key+"/cpu", cpu/calls)
				}
				if ccpu > 0 {
					r.add(key+"/client-cpu", ccpu/calls)
				}
			}
			if k := fmt.Sprintf("manager/%s-clients/%d/", client, n); len(r.samples[k+"go-server"]) > 0 && len(r.samples[k+"py-server"]) > 0 {
				g, p := r.samples[k+"go-server"], r.samples[k+"py-server"]
				r.logf("  %s this repeat: Go server %.2fx CPython's", k, p[len(p)-1]/g[len(g)-1])
			}
			lang := map[string]string{"go": "Go", "py": "Python"}[client]
			var goal float64
			if client == "go" && n == 32 {
				goal = 5
			}
			r.compare(comparison{Case: "manager calls", Workload: fmt.Sprintf("dict set/get, %d %s callers", n, lang),
				Subject: "Go server", Baseline: "CPython SyncManager server", PerSec: true,
				SubjectKey: fmt.Sprintf("manager/%s-clients/%d/go-server", client, n),
				BaseKey:    fmt.Sprintf("manager/%s-clients/%d/py-server", client, n), Goal: goal})
		}
		if len(r.samples[fmt.Sprintf("manager/go-clients/%d/go-server/client-cpu", n)]) > 0 {
			r.compare(comparison{Case: "manager client CPU", Workload: fmt.Sprintf("per call, %d Go callers", n),
				Subject: "Go server", Baseline: "CPython SyncManager server",
				SubjectKey: fmt.Sprintf("manager/go-clients/%d/go-server/client-cpu", n),
				BaseKey:    fmt.Sprintf("manager/go-clients/%d/py-server/client-cpu", n)})
		}
		for _, client := range []string{"go", "py"} {
			if len(r.samples[fmt.Sprintf("manager/%s-clients/%d/go-server/cpu", client, n)]) > 0 {
				r.compare(comparison{Case: "manager server CPU", Workload: fmt.Sprintf("per call, %d %s callers", n, map[string]string{"go": "Go", "py": "Python"}[client]),
					Subject: "Go server", Baseline: "CPython SyncManager server",
					SubjectKey: fmt.Sprintf("manager/%s-clients/%d/go-server/cpu", client, n),
					BaseKey:    fmt.Sprintf("manager/%s-clients/%d/py-server/cpu", client, n)})
			}
		}
	}
	r.note("manager: calls per second of all callers together (one proxy call = one request and reply on a unix socket); " +
		"Go callers are goroutines sharing one manager.Client, Python callers threads in up to 4 processes (one GIL each). " +
		"Clients, server and other load share the machine's CPUs, so the Python rows are bound by the clients' own CPU. " +
		"Server CPU per call is the server process's CPU time (all threads, /proc/PID/task/*/schedstat) over the calls served; " +
		"client CPU per call the same for the benchmark process that runs the Go callers: " +
		"CPython's server runs on one core at most, the Go server on all of them.")
	return nil
}

// goManagerCallers runs n goroutines of d[key] = i; d[key] through one
// Client for dur; window(true) is called just before they start and
// window(false) when they are done, before their connections close. It
// returns the calls made and the seconds they took.
func goManagerCallers(ctx context.Context, network, address string, n int, dur time.Duration, window func(start bool)) (calls, secs float64, err error) {
	cfg := manager.Config{Dialer: listener.Config{Authkey: benchKey}, MaxIdleConns: -1}
	switch v := os.Getenv(clientThreadWaitEnv); v {
	case "":
	case "all":
		cfg.Dialer.Conn.ThreadWait = true
	default:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, fmt.Errorf("%s=%q: want a count or all", clientThreadWaitEnv, v)
		}
		cfg.ThreadWaitConns = n
	}
	c, err := cfg.Dial(ctx, network, address)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	d, err := c.Dict(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer d.Close()
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	var total atomic.Int64
	var deadline time.Time
	errs := make(chan error, n)
	for k := 0; k < n; k++ {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			key := "k" + strconv.Itoa(k)
			err := d.Set(ctx, key, 0) // opens this caller's connection
			ready.Done()
			if err != nil {
				errs <- err
				return
			}
			<-start
			var local int64
			for i := 0; ; i++ {
				if err := d.Set(ctx, key, i); err != nil {
					errs <- err
					return
				}
				if _, err := d.Get(ctx, key); err != nil {
					errs <- err
					return
				}
				local += 2
				if i&7 == 0 && time.Now().After(deadline) {
					break
				}
			}
			total.Add(local)
		}()
	}
	ready.Wait()
	window(true)
	t0 := time.Now()
	deadline = t0.Add(dur)
	close(start)
	done.Wait()
	elapsed := time.Since(t0)
	window(false)
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	return float64(total.Load()), elapsed.Seconds(), nil
}

// pyManagerCallers runs n Python caller threads (pyfixtures/mgr_bench.py,
// spread over up to 4 processes) for dur, with window as for
// goManagerCallers. It returns the calls made and the seconds they took.
func (r *runner) pyManagerCallers(network, address string, n int, dur time.Duration, window func(start bool)) (calls, secs float64, err error) {
	procs := min(n, 4)
	type proc struct {
		p     *pyharness.Proc
		start *io.PipeWriter
	}
	var ps []proc
	defer func() {
		for _, p := range ps {
			p.start.Close()
			_ = p.p.Kill()
			_ = p.p.Wait()
		}
	}()
	for i := 0; i < procs; i++ {
		threads := n / procs
		if i < n%procs {
			threads++
		}
		pr, pw := io.Pipe()
		p, err := pyharness.Start(r.ctx, pyharness.Cmd{Python: r.cfg.Python, Script: "mgr_bench.py", TempDir: r.tmp,
			Args:  []string{"--address", network + ":" + address, "--threads", strconv.Itoa(threads), "--duration", strconv.FormatFloat(dur.Seconds(), 'f', -1, 64), "--watchdog", "300"},
			Env:   []string{"MPWIRE_AUTHKEY=" + hex.EncodeToString(benchKey)},
			Stdin: pr})
		if err != nil {
			return 0, 0, err
		}
		ps = append(ps, proc{p, pw})
	}
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer cancel()
	for _, p := range ps {
		if line, err := p.p.ReadLine(ctx); err != nil || line != "READY" {
			return 0, 0, fmt.Errorf("mgr_bench.py: %q %v", line, err)
		}
	}
	window(true)
	for _, p := range ps {
		if _, err := p.start.Write([]byte("\n")); err != nil {
			return 0, 0, err
		}
	}
	for _, p := range ps {
		line, err := p.p.ReadLine(ctx)
		if err != nil {
			return 0, 0, err
		}
		var c, sec float64
		if _, err := fmt.Sscanf(line, "OPS %g %g", &c, &sec); err != nil {
			return 0, 0, fmt.Errorf("mgr_bench.py: %q: %w", line, err)
		}
		calls += c
		secs = max(secs, sec)
	}
	window(false)
	if secs <= 0 || calls <= 0 {
		return 0, 0, errors.New("mgr_bench.py: nothing measured")
	}
	return calls, secs, nil
}
