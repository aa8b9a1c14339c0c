//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// BenchmarkSemAcquireRelease is one uncontended Acquire+Release pair on a
// raw Sem (two CAS operations, no system call).
func BenchmarkSemAcquireRelease(b *testing.B) {
	s := createTemp(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Acquire(ctx); err != nil {
			b.Fatal(err)
		}
		if err := s.Release(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockVsPython times an uncontended Lock acquire+release pair in
// Go and, in the same run, Python's lock.acquire(); lock.release() (timeit,
// best of 3) on the same Python-created spawn-context Lock, for every
// interpreter. It reports py-ns/op and how many times faster Go is.
func BenchmarkLockVsPython(b *testing.B) {
	all, err := pyharness.Interpreters()
	require.NoError(b, err)
	for _, py := range all {
		b.Run(py.Name(), func(b *testing.B) {
			p := startPeer(b, py)
			name := p.ok("new l Lock")
			l, err := Rebuild(State{Kind: Semaphore, MaxValue: 1, Name: name})
			require.NoError(b, err)
			defer l.Close()
			pyNs, err := strconv.ParseFloat(p.ok("bench l 200000"), 64)
			require.NoError(b, err)

			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := l.Acquire(ctx); err != nil {
					b.Fatal(err)
				}
				if err := l.Release(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			goNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(pyNs, "py-ns/op")
			b.ReportMetric(pyNs/goNs, "x-faster")
		})
	}
}

// BenchmarkContendedHandoff has two goroutines pass one unit back and forth
// through the futex (each Acquire usually sleeps).
func BenchmarkContendedHandoff(b *testing.B) {
	ping := createTemp(b, 0)
	pong := createTemp(b, 0)
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < b.N; i++ {
			if ping.Acquire(ctx) != nil || pong.Release() != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ping.Release(); err != nil {
			b.Fatal(err)
		}
		if err := pong.Acquire(ctx); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}
