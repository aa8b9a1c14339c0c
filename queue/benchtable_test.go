package queue_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// TestBenchmarkTable measures, in one run, how fast items cross one
// multiprocessing.Queue between separate processes for each pairing of
// languages, and prints a table. It runs only with MPWIRE_BENCH=1:
//
//	MPWIRE_BENCH=1 go test -run TestBenchmarkTable -v ./queue
//
// Every producer and consumer is its own process (Python children run
// queue_peer.bench_produce/bench_consume; Go ones are this test binary as a
// spawned worker). The consumer times from its first item to its last.
func TestBenchmarkTable(t *testing.T) {
	if os.Getenv("MPWIRE_BENCH") != "1" {
		t.Skip("set MPWIRE_BENCH=1 to run the side-by-side queue benchmarks")
	}
	py := pyharness.DefaultT(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	ctx := pyharness.Context(t, 20*time.Minute)

	type row struct {
		name     string
		prod     []string // "py" or "go", one per producer
		cons     string
		n        int // items per producer
		size     int // 0: small ints; else bytes of that size
		rate     float64
		mbPerSec float64
	}
	small, bigN := 100000, 300
	if testing.Short() {
		small, bigN = 20000, 50
	}
	rows := []*row{
		{name: "Py→Py", prod: []string{"py"}, cons: "py", n: small},
		{name: "Go→Py", prod: []string{"go"}, cons: "py", n: small},
		{name: "Py→Go", prod: []string{"py"}, cons: "go", n: small},
		{name: "Go→Go", prod: []string{"go"}, cons: "go", n: small},
		{name: "4→1 Py", prod: []string{"py", "py", "py", "py"}, cons: "py", n: small / 4},
		{name: "4→1 Go", prod: []string{"go", "go", "go", "go"}, cons: "go", n: small / 4},
		{name: "4→1 mixed→Py", prod: []string{"go", "go", "py", "py"}, cons: "py", n: small / 4},
	}
	var all []*row
	for _, r := range rows {
		all = append(all, r)
	}
	for _, r := range rows[:4] {
		all = append(all, &row{name: r.name + " 1 MiB", prod: r.prod, cons: r.cons, n: bigN, size: 1 << 20})
	}
	for _, r := range all {
		q, err := queue.New(0)
		require.NoError(t, err)
		total := r.n * len(r.prod)
		rconn, wconn, err := connection.Pipe(false)
		require.NoError(t, err)
		var stderr pyharness.SyncBuffer
		sw := &stderr
		start := func(lang, role string, args []any, kw map[string]any) *process.Process {
			spec := process.Spec{Args: args, Stderr: sw}
			if lang == "py" {
				spec.Python, spec.Path, spec.Target = py.Path, []string{pyharness.Dir()}, "queue_peer:bench_"+role
				spec.Args = append(append([]any{}, args...), kw["n"], kw["size"])
			} else {
				spec.Executable, spec.Kwargs = []string{exe}, kw
				spec.Kwargs["role"] = "bench-" + role
			}
			p, err := process.Start(ctx, spec)
			require.NoError(t, err)
			return p
		}
		cons := startConsumer(t, ctx, r.cons, py, exe, q, wconn, total, sw)
		wconn.Close()
		var prods []*process.Process
		for _, lang := range r.prod {
			prods = append(prods, start(lang, "produce", []any{q}, map[string]any{"n": r.n, "size": r.size}))
		}
		b, err := rconn.RecvBytes(ctx)
		require.NoError(t, err, "stderr: %s", stderr.String())
		var secs float64
		require.NoError(t, pickle.Unmarshal(b, &secs))
		for _, p := range append(prods, cons) {
			require.NoError(t, p.Wait(ctx), "stderr: %s", stderr.String())
		}
		rconn.Close()
		q.Close()
		r.rate = float64(total-1) / secs
		if r.size > 0 {
			r.mbPerSec = r.rate * float64(r.size) / (1 << 20)
		}
	}
	base := map[int]float64{}
	for _, r := range all {
		if strings.HasPrefix(r.name, "Py→Py") {
			base[r.size] = r.rate
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "multiprocessing.Queue throughput, one process per producer/consumer (%s, %s)\n", py.Name(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&out, "| pairing | items | msgs/s | MiB/s | vs Py→Py |\n|---|---|---|---|---|\n")
	for _, r := range all {
		mb := "—"
		if r.size > 0 {
			mb = fmt.Sprintf("%.0f", r.mbPerSec)
		}
		kind := "small int"
		if r.size > 0 {
			kind = "1 MiB bytes"
		}
		fmt.Fprintf(&out, "| %s | %d × %s | %.0f | %s | %.2f× |\n", r.name, r.n*len(r.prod), kind, r.rate, mb, r.rate/base[r.size])
	}
	fmt.Print(out.String())
	t.Log("\n" + out.String())
}

func startConsumer(t *testing.T, ctx context.Context, lang string, py pyharness.Interpreter, exe string, q *queue.Queue, w *connection.Conn, n int, sw *pyharness.SyncBuffer) *process.Process {
	spec := process.Spec{Stderr: sw}
	if lang == "py" {
		spec.Python, spec.Path, spec.Target = py.Path, []string{pyharness.Dir()}, "queue_peer:bench_consume"
		spec.Args = []any{q, n, w}
	} else {
		spec.Executable = []string{exe}
		spec.Args = []any{q, w}
		spec.Kwargs = map[string]any{"role": "bench-consume", "n": n}
	}
	p, err := process.Start(ctx, spec)
	require.NoError(t, err)
	return p
}
