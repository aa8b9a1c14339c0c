package pool_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pool"
)

// BenchmarkGoPoolMapTiny: Go pool.Map over 2 Python workers, one tiny task
// per item (chunksize 1): the per-task dispatch cost.
func BenchmarkGoPoolMapTiny(b *testing.B) {
	py := pyharness.DefaultT(b)
	ctx := pyharness.Context(b, 120*time.Second)
	p, err := pool.Config{Python: py.Path, Path: []string{pyharness.Dir()}, Processes: 2}.New(ctx)
	require.NoError(b, err)
	defer p.Terminate()
	items := intsUpTo(1000)
	var out []int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		require.NoError(b, p.Map(ctx, "pool_funcs:square", items, &out, pool.Chunksize(1)))
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "tasks/s")
}

type benchRow struct {
	Tiny1 float64 `json:"tiny_chunk1_per_s"`
	TinyD float64 `json:"tiny_default_per_s"`
	CPU   float64 `json:"cpu_s"`
}

// TestPoolBenchTable prints the side-by-side table (MPWIRE_POOL_BENCH=1):
// Python Pool + Python workers, GoPool + Go workers (from Python), Go
// pool.Map + Python workers, with the same functions and sizes.
func TestPoolBenchTable(t *testing.T) {
	if os.Getenv("MPWIRE_POOL_BENCH") == "" {
		t.Skip("set MPWIRE_POOL_BENCH=1 to print the side-by-side pool table")
	}
	const n, rounds, items = 20000, 100000, 4
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, 300*time.Second)
	self, err := os.Executable()
	require.NoError(t, err)
	run := func(mode string) benchRow {
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "pool_bench.py", Args: []string{
			"--mode", mode, "--go", self, "--n", strconv.Itoa(n), "--rounds", strconv.Itoa(rounds), "--items", strconv.Itoa(items)}})
		var r benchRow
		require.NoError(t, json.Unmarshal([]byte(out), &r), out)
		return r
	}
	pyPy := run("python")
	pyGo := run("go")

	p, err := pool.Config{Python: py.Path, Path: []string{pyharness.Dir()}, Processes: 2}.New(ctx)
	require.NoError(t, err)
	defer p.Terminate()
	var out []int64
	require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(100), &out))
	var goPy benchRow
	t0 := time.Now()
	require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(n), &out, pool.Chunksize(1)))
	goPy.Tiny1 = n / time.Since(t0).Seconds()
	t0 = time.Now()
	require.NoError(t, p.Map(ctx, "pool_funcs:square", intsUpTo(10*n), &out))
	goPy.TinyD = 10 * n / time.Since(t0).Seconds()
	spins := make([]int, items)
	for i := range spins {
		spins[i] = rounds
	}
	t0 = time.Now()
	require.NoError(t, p.Map(ctx, "pool_funcs:spin", spins, &out, pool.Chunksize(1)))
	goPy.CPU = time.Since(t0).Seconds()

	fmt.Printf("\npool benchmarks, %s, 2 workers (tiny = square(x); cpu = %d x spin(%d))\n", py.Version(), items, rounds)
	fmt.Printf("%-34s %16s %18s %10s\n", "parent + workers", "tiny chunk=1 /s", "tiny default /s", "cpu s")
	row := func(name string, r benchRow) {
		fmt.Printf("%-34s %16.0f %18.0f %10.3f\n", name, r.Tiny1, r.TinyD, r.CPU)
	}
	row("Python Pool + Python workers", pyPy)
	row("Python GoPool + Go workers", pyGo)
	row("Go pool.Map + Python workers", goPy)
	fmt.Printf("ratios vs Python Pool + Python workers: GoPool tiny1 %.2fx, tinyD %.2fx, cpu %.1fx faster; Go parent tiny1 %.2fx, tinyD %.2fx, cpu %.2fx\n",
		pyGo.Tiny1/pyPy.Tiny1, pyGo.TinyD/pyPy.TinyD, pyPy.CPU/pyGo.CPU,
		goPy.Tiny1/pyPy.Tiny1, goPy.TinyD/pyPy.TinyD, pyPy.CPU/goPy.CPU)
	_ = context.Background
}

// BenchmarkGoPoolMapChunked: Go pool.Map of 100,000 tiny tasks over 2
// Python workers with Pool.map's default chunksize (encode/decode bound).
func BenchmarkGoPoolMapChunked(b *testing.B) {
	py := pyharness.DefaultT(b)
	ctx := pyharness.Context(b, 120*time.Second)
	p, err := pool.Config{Python: py.Path, Path: []string{pyharness.Dir()}, Processes: 2}.New(ctx)
	require.NoError(b, err)
	defer p.Terminate()
	items := intsUpTo(100000)
	var out []int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		require.NoError(b, p.Map(ctx, "pool_funcs:square", items, &out))
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "tasks/s")
}
