package process

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/pickle"
)

func BenchmarkDecodePayload(b *testing.B) {
	var c captured
	for _, x := range loadCaptures(b) {
		if x.Python == "3.13" || c.payload == nil {
			c = x
		}
	}
	b.SetBytes(int64(len(c.payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := decodePayload(bytes.NewReader(c.payload), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePayload(b *testing.B) {
	args := pickle.Tuple{reduction.Connection(reduction.DupFd(5), true, true), make([]byte, 64<<10), "text", int64(3)}
	kw := pickle.NewDict()
	_ = kw.Set("role", "echo")
	p, err := encodePayload(Spec{Target: "m:f"}, "N", make([]byte, 32), "/tmp", 1, args, kw, -1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := encodePayload(Spec{Target: "m:f"}, "N", make([]byte, 32), "/tmp", 1, args, kw, -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpawnPythonChild times Start+Wait of a Python child running a
// no-op target, and reports CPython's own spawn start+join of the same
// target, measured in the same run, as python-ns/op (and the ratio).
func BenchmarkSpawnPythonChild(b *testing.B) {
	py, err := pyharness.Default()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n := 0
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Start(ctx, Spec{Python: py.Path, Target: "proc_target:noop", Path: []string{pyharness.Dir()}, Stdout: os.Stderr})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		n++
	}
	goNs := float64(time.Since(start).Nanoseconds()) / float64(n)
	b.StopTimer()
	runs := min(n, 10)
	out, err := exec.CommandContext(ctx, py.Path, pyharness.Script("proc_target.py"), "--bench", strconv.Itoa(runs)).Output()
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		b.Fatalf("unexpected output %q", out)
	}
	pyNs, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(pyNs, "python-ns/op")
	b.ReportMetric(goNs/pyNs, "go/python")
}
