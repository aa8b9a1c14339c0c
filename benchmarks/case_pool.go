package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pool"
	"github.com/mpwire/mpwire/process"
)

// This program is also the Go worker of the pool case: a GoPool or a
// GoProcessPoolExecutor starts it with no role, and it serves the
// functions below with pool.Worker (either protocol).
func init() {
	pool.Register("square", func(x int64) int64 { return x * x })
	pool.Register("spin", spin)
	workerRoles[""] = func(ctx context.Context, child *process.ChildProcess) error { return pool.Worker(ctx, child) }
}

// spin is the CPU-bound task: n rounds of an integer hash (the same as
// pyfixtures/pool_funcs.spin).
func spin(n int64) int64 {
	h := uint64(n)
	for i := int64(0); i < n; i++ {
		h ^= h << 13
		h ^= h >> 7
		h ^= h << 17
	}
	return int64(h & 0xffff)
}

type poolSide struct {
	Tiny1 []float64 `json:"tiny_chunk1_per_s"`
	TinyD []float64 `json:"tiny_default_per_s"`
	CPU   []float64 `json:"cpu_s"`
}

// runPool times a Python parent's pool of 2 workers, Python workers
// against Go workers (this program), for multiprocessing.Pool (GoPool) and
// concurrent.futures.ProcessPoolExecutor (GoProcessPoolExecutor): tiny
// tasks one per message, tiny tasks in the default chunks, and CPU-bound
// tasks. pyfixtures/pool_bench.py keeps both pools open and alternates
// short measurements between them, so that each pair sees the same machine
// load; every round is a sample.
func runPool(r *runner) error {
	rounds, items, paired := r.pick(200000, 10), r.pick(4, 1), r.pick(7, 1)
	for _, kind := range []string{"pool", "executor"} {
		// The executor keeps at most workers+1 calls in flight: each tiny
		// call is a round trip, several times slower than the Pool's.
		n := r.pick(5000, 20)
		if kind == "executor" {
			n = r.pick(1000, 20)
		}
		out, err := r.runPy(pyharness.Cmd{Python: r.cfg.Python, Script: "pool_bench.py", Args: []string{
			"--kind", kind, "--mode", "both", "--go", r.cfg.Exe, "--n", strconv.Itoa(n), "--rounds-paired", strconv.Itoa(paired),
			"--rounds", strconv.Itoa(rounds), "--items", strconv.Itoa(items)}})
		if err != nil {
			return err
		}
		var res struct {
			Python poolSide `json:"python"`
			Go     poolSide `json:"go"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			return fmt.Errorf("pool_bench.py %s: %w: %q", kind, err, out)
		}
		for mode, side := range map[string]poolSide{"python": res.Python, "go": res.Go} {
			k := "pool/" + kind + "/" + mode + "/"
			for i := range side.Tiny1 {
				r.add(k+"tiny1", 1e9/side.Tiny1[i])
				r.add(k+"tinyd", 1e9/side.TinyD[i])
				r.add(k+"cpu", side.CPU[i]*1e9/float64(items))
			}
		}
		subject, baseline, c := "GoPool + Go workers", "Pool + Python workers", "Pool (Python parent)"
		if kind == "executor" {
			subject, baseline, c = "GoProcessPoolExecutor + Go workers", "ProcessPoolExecutor + Python workers", "ProcessPoolExecutor (Python parent)"
		}
		k := "pool/" + kind + "/"
		r.compare(comparison{Case: c, Workload: fmt.Sprintf("tiny tasks (x*x), chunksize=1, 2 workers, %d tasks a round", n),
			Subject: subject, SubjectKey: k + "go/tiny1", Baseline: baseline, BaseKey: k + "python/tiny1", Goal: 1.0})
		r.compare(comparison{Case: c, Workload: fmt.Sprintf("tiny tasks, Pool.map's default chunksize, 2 workers, %d tasks a round", 10*n),
			Subject: subject, SubjectKey: k + "go/tinyd", Baseline: baseline, BaseKey: k + "python/tinyd"})
		r.compare(comparison{Case: c, Workload: fmt.Sprintf("CPU-bound tasks (spin(%d)), 2 workers, %d tasks", rounds, items),
			Subject: subject, SubjectKey: k + "go/cpu", Baseline: baseline, BaseKey: k + "python/cpu"})
	}
	r.note("Pool / ProcessPoolExecutor: a Python parent (pyfixtures/pool_bench.py) maps a function over 2 workers: Python workers " +
		"(pyfixtures/pool_funcs.py) or this program as Go workers (GoPool / GoProcessPoolExecutor from the mpwire Python package). Both " +
		"pools stay open and the parent alternates short rounds between them (order flipped each round; each round is a sample), " +
		"after a warm-up map; time per task. The parent is CPython in both columns, and with tiny tasks it is the bottleneck.")
	return nil
}
