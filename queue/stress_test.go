package queue_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// TestStressMixedProducersConsumers: 2 Python + 2 Go producer processes
// and 2 Python + 2 Go consumer processes on one Queue(1000). Every message
// must be delivered exactly once. 20,000 messages by default;
// MPWIRE_STRESS=1 sends 1,000,000.
func TestStressMixedProducersConsumers(t *testing.T) {
	total := 20000
	timeout := 80 * time.Second
	if os.Getenv("MPWIRE_STRESS") == "1" {
		total = 1000000
		timeout = 30 * time.Minute
	} else if testing.Short() {
		total = 4000
	}
	py := pyharness.DefaultT(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	ctx := pyharness.Context(t, timeout)
	q, err := queue.New(1000)
	require.NoError(t, err)
	defer q.Close()

	start := time.Now()
	per := total / 4
	var producers, consumers []*process.Process
	stderr := &pyharness.SyncBuffer{}
	spawn := func(spec process.Spec) *process.Process {
		spec.Stderr = stderr
		spec.Path = []string{pyharness.Dir()}
		p, err := process.Start(ctx, spec)
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Kill(); _ = p.Wait(context.Background()) })
		return p
	}
	for i := 0; i < 4; i++ {
		if i < 2 {
			producers = append(producers, spawn(process.Spec{Python: py.Path, Target: "queue_peer:produce",
				Args: []any{q, i * per, per}}))
		} else {
			producers = append(producers, spawn(process.Spec{Executable: []string{exe},
				Args: []any{q}, Kwargs: map[string]any{"role": "produce", "start": i * per, "n": per}}))
		}
	}
	results := make(chan []int64, 4)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		r, w, err := connection.Pipe(false)
		require.NoError(t, err)
		if i < 2 {
			consumers = append(consumers, spawn(process.Spec{Python: py.Path, Target: "queue_peer:consume", Args: []any{q, w}}))
		} else {
			consumers = append(consumers, spawn(process.Spec{Executable: []string{exe}, Args: []any{q, w},
				Kwargs: map[string]any{"role": "consume"}}))
		}
		w.Close()
		go func(name string) {
			defer r.Close()
			b, err := r.RecvBytes(ctx)
			if err != nil {
				errs <- fmt.Errorf("%s consumer: %w", name, err)
				return
			}
			ids := make([]int64, len(b)/8)
			for j := range ids {
				ids[j] = int64(binary.NativeEndian.Uint64(b[8*j:]))
			}
			results <- ids
		}([]string{"Python", "Python", "Go", "Go"}[i])
	}
	for _, p := range producers {
		require.NoError(t, p.Wait(ctx), "stderr: %s", stderr.String())
	}
	for i := 0; i < 4; i++ {
		require.NoError(t, q.Put(ctx, nil))
	}
	seen := make([]uint8, total)
	var lost, dup, bogus int
	perConsumer := []int{}
	for i := 0; i < 4; i++ {
		select {
		case ids := <-results:
			perConsumer = append(perConsumer, len(ids))
			for _, id := range ids {
				if id < 0 || id >= int64(total) {
					bogus++
					continue
				}
				if seen[id] > 0 {
					dup++
				}
				seen[id]++
			}
		case err := <-errs:
			t.Fatalf("%v\nstderr: %s", err, stderr.String())
		case <-ctx.Done():
			t.Fatalf("consumers did not finish: %v\nstderr: %s", ctx.Err(), stderr.String())
		}
	}
	for _, p := range consumers {
		require.NoError(t, p.Wait(ctx), "stderr: %s", stderr.String())
	}
	for _, n := range seen {
		if n == 0 {
			lost++
		}
	}
	el := time.Since(start)
	t.Logf("%d messages, 2 Python + 2 Go producers, 2 Python + 2 Go consumers (%s): lost %d, duplicated %d, bogus %d; per consumer %v; %.1fs, %.0f msgs/s",
		total, py.Name(), lost, dup, bogus, perConsumer, el.Seconds(), float64(total)/el.Seconds())
	require.Zero(t, lost, "lost")
	require.Zero(t, dup, "duplicated")
	require.Zero(t, bogus, "bogus")
	n, err := q.Qsize()
	require.NoError(t, err)
	require.Zero(t, n)
}
