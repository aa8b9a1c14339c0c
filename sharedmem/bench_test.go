package sharedmem_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/sharedmem"
)

const benchBytes = 64 << 20

func benchData() []byte {
	b := make([]byte, benchBytes)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// BenchmarkCopySharedMemory moves 64 MiB through a SharedMemory segment:
// write it in, read it out into the reader's buffer (what shm_bench.py's
// copy_shm does in Python). Buffers are reused, as in BenchmarkCopyPipe.
func BenchmarkCopySharedMemory(b *testing.B) {
	data := benchData()
	m, err := sharedmem.Create("", benchBytes)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Unlink()
	defer m.Close()
	out := make([]byte, benchBytes)
	b.SetBytes(benchBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(m.Bytes(), data)
		copy(out, m.Bytes())
	}
}

// BenchmarkCopyPipe moves 64 MiB through a multiprocessing-style Pipe
// (SendBytes in a goroutine, RecvBytesInto a reused buffer here).
func BenchmarkCopyPipe(b *testing.B) {
	data := benchData()
	r, w, err := connection.Config{MaxFrame: 2 * benchBytes}.Pipe(false)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	out := make([]byte, benchBytes)
	b.SetBytes(benchBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		errc := make(chan error, 1)
		go func() { errc <- w.SendBytes(context.Background(), data) }()
		if _, err := r.RecvBytesInto(context.Background(), out); err != nil {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockedIncrement is one increment of a synchronized Value('i')
// under its lock (an RLock shared with Python).
func BenchmarkLockedIncrement(b *testing.B) {
	v, err := sharedmem.NewValue(sharedmem.CInt)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := v.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		x, _ := v.Int()
		_ = v.SetInt(x + 1)
		if err := v.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPythonBaseline runs pyfixtures/shm_bench.py on every interpreter
// and reports CPython's rates as metrics (MB/s for the copies,
// increments/s), for side-by-side comparison with the Go benchmarks above.
// It runs only with MPWIRE_BENCH=1.
func BenchmarkPythonBaseline(b *testing.B) {
	if os.Getenv("MPWIRE_BENCH") != "1" {
		b.Skip("set MPWIRE_BENCH=1 to measure CPython")
	}
	all, err := pyharness.Interpreters()
	if err != nil {
		b.Fatal(err)
	}
	for _, py := range all {
		b.Run(py.Name(), func(b *testing.B) {
			ctx := pyharness.Context(b, 0)
			out := pyharness.RunT(b, ctx, pyharness.Cmd{Python: py, Script: "shm_bench.py"})
			var res map[string]any
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				b.Fatalf("%v: %q", err, out)
			}
			b.ReportMetric(res["copy_shm"].(float64)/1e6, "shm-MB/s")
			b.ReportMetric(res["copy_pipe"].(float64)/1e6, "pipe-MB/s")
			b.ReportMetric(res["lock_incr"].(float64), "incr/s")
		})
	}
}
