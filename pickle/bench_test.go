package pickle_test

// Benchmarks of the codec on pickles written by CPython's C pickler
// (pyfixtures/pickle_bench.py), with gopickle and og-rek decoding the same
// bytes as peers, and a side-by-side runner that times CPython on the same
// bytes in the same run:
//
//	MPWIRE_BENCH_COMPARE=1 go test -run TestBenchCompare -v ./pickle/
//
// (run it without -race; it is skipped otherwise and never decides CI).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	ogórek "github.com/kisielk/og-rek"
	gopickle "github.com/nlpodyssey/gopickle/pickle"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
)

// benchWorkloads are the names pickle_bench.py writes.
var benchWorkloads = []string{"small_dicts_10k", "ints_100k", "bytes_1mib", "nonascii_str_10k", "deep_nesting_400", "records_by_name_10k"}

// BenchRec is a record of pickle_bench.py's small_dicts_10k, with its
// fields in the dict's order (so encoding it gives CPython's bytes).
type BenchRec struct {
	ID    int64    `pickle:"id"`
	Name  string   `pickle:"name"`
	Score float64  `pickle:"score"`
	Tags  []string `pickle:"tags"`
	OK    bool     `pickle:"ok"`
}

// typedWorkloads decode CPython's bytes of a workload into a Go type.
var typedWorkloads = []struct {
	name   string
	target func() any
}{
	{"small_dicts_10k", func() any { return new([]BenchRec) }},
	{"records_by_name_10k", func() any { return new(map[string]BenchRec) }},
	{"ints_100k", func() any { return new([]int64) }},
	{"nonascii_str_10k", func() any { return new([]string) }},
}

// BenchmarkDecodeTyped decodes CPython's bytes straight into Go values.
func BenchmarkDecodeTyped(b *testing.B) {
	data := workloadBytes(b)
	for _, w := range typedWorkloads {
		b.Run(w.name, func(b *testing.B) {
			d := data[w.name]
			b.SetBytes(int64(len(d)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := pickle.Unmarshal(d, w.target()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeTyped encodes the typed values decoded from CPython's
// bytes (the bytes are CPython's own).
func BenchmarkEncodeTyped(b *testing.B) {
	data := workloadBytes(b)
	for _, w := range typedWorkloads {
		b.Run(w.name, func(b *testing.B) {
			p := w.target()
			if err := pickle.Unmarshal(data[w.name], p); err != nil {
				b.Fatal(err)
			}
			v := reflect.ValueOf(p).Elem().Interface()
			em, err := pickle.EncOptions{}.EncMode()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data[w.name])))
			b.ReportAllocs()
			var buf []byte
			for i := 0; i < b.N; i++ {
				if buf, err = em.AppendMarshal(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var (
	benchMu   sync.Mutex
	benchData map[string][]byte
)

// workloadBytes returns CPython's protocol-4 pickle of each workload,
// generated once per test binary by the default interpreter.
func workloadBytes(tb testing.TB) map[string][]byte {
	tb.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if benchData != nil {
		return benchData
	}
	py := pyharness.DefaultT(tb)
	dir, err := os.MkdirTemp("", "mpw-bench")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := pyharness.Context(tb, 60*time.Second)
	pyharness.RunT(tb, ctx, pyharness.Cmd{Python: py, Script: "pickle_bench.py", Args: []string{"gen", dir}})
	m := map[string][]byte{}
	for _, name := range benchWorkloads {
		b, err := os.ReadFile(filepath.Join(dir, name+".pickle"))
		if err != nil {
			tb.Fatalf("workload %s: %v", name, err)
		}
		m[name] = b
	}
	benchData = m
	return m
}

type benchImpl struct {
	name string
	fn   func(b *testing.B, data []byte)
}

func decodeImpls() []benchImpl {
	return []benchImpl{
		{"mpwire", func(b *testing.B, data []byte) {
			for i := 0; i < b.N; i++ {
				var v any
				if err := pickle.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"gopickle", func(b *testing.B, data []byte) {
			for i := 0; i < b.N; i++ {
				u := gopickle.NewUnpickler(bytes.NewReader(data))
				if _, err := u.Load(); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"og-rek", func(b *testing.B, data []byte) {
			cfg := &ogórek.DecoderConfig{PyDict: true, StrictUnicode: true}
			for i := 0; i < b.N; i++ {
				if _, err := ogórek.NewDecoderWithConfig(bytes.NewReader(data), cfg).Decode(); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
}

func encodeImpls() []benchImpl {
	return []benchImpl{
		{"mpwire", func(b *testing.B, data []byte) {
			var v any
			if err := pickle.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
			em, err := pickle.EncOptions{Protocol: 4}.EncMode()
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = em.AppendMarshal(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"og-rek", func(b *testing.B, data []byte) {
			v, err := ogórek.NewDecoderWithConfig(bytes.NewReader(data), &ogórek.DecoderConfig{PyDict: true, StrictUnicode: true}).Decode()
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			cfg := &ogórek.EncoderConfig{Protocol: 4, StrictUnicode: true}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf.Reset()
				if err := ogórek.NewEncoderWithConfig(&buf, cfg).Encode(v); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
}

// BenchmarkDecode decodes CPython's bytes into generic values; SetBytes is
// the pickle size, so MB/s compare across implementations.
func BenchmarkDecode(b *testing.B) {
	data := workloadBytes(b)
	for _, name := range benchWorkloads {
		for _, impl := range decodeImpls() {
			b.Run(name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(data[name])))
				b.ReportAllocs()
				impl.fn(b, data[name])
			})
		}
	}
}

// BenchmarkEncode encodes the decoded generic value at protocol 4 (og-rek
// encodes its own decoded value); SetBytes is CPython's pickle size.
func BenchmarkEncode(b *testing.B) {
	data := workloadBytes(b)
	for _, name := range benchWorkloads {
		for _, impl := range encodeImpls() {
			b.Run(name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(data[name])))
				b.ReportAllocs()
				impl.fn(b, data[name])
			})
		}
	}
}

type pyTiming struct {
	Name    string  `json:"name"`
	Bytes   int     `json:"bytes"`
	LoadsNs float64 `json:"loads_ns"`
	DumpsNs float64 `json:"dumps_ns"`
	Python  string  `json:"python"`
	CPickle bool    `json:"c_pickle"`
}

// TestBenchCompare prints a Markdown table of ns/op for CPython's C pickle,
// mpwire, gopickle and og-rek on identical bytes, measured in this run. It
// only runs with MPWIRE_BENCH_COMPARE=1 and asserts nothing about speed.
func TestBenchCompare(t *testing.T) {
	if os.Getenv("MPWIRE_BENCH_COMPARE") != "1" {
		t.Skip("set MPWIRE_BENCH_COMPARE=1 to time mpwire against CPython, gopickle and og-rek (run without -race)")
	}
	py := pyharness.DefaultT(t)
	data := workloadBytes(t)
	dir := t.TempDir()
	for name, b := range data {
		if err := os.WriteFile(filepath.Join(dir, name+".pickle"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := pyharness.Context(t, 10*time.Minute)
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "pickle_bench.py", Args: []string{"time", dir, "--repeat", "3"}, Env: []string{"MPWIRE_WATCHDOG=600"}})
	pyt := map[string]pyTiming{}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r pyTiming
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !r.CPickle {
			t.Fatalf("CPython %s is not using the C pickler", r.Python)
		}
		pyt[r.Name] = r
	}
	// Best of three, like the Python side's best of --repeat 3.
	nsop := func(fn func(b *testing.B, data []byte), d []byte) (float64, int64) {
		best, allocs := 0.0, int64(0)
		for i := 0; i < 3; i++ {
			r := testing.Benchmark(func(b *testing.B) { b.ReportAllocs(); fn(b, d) })
			if r.N == 0 {
				return 0, 0
			}
			if ns := float64(r.T.Nanoseconds()) / float64(r.N); best == 0 || ns < best {
				best, allocs = ns, r.AllocsPerOp()
			}
		}
		return best, allocs
	}
	var sb strings.Builder
	load := "n/a"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Fprintf(&sb, "Measured %s; %s, CPython %s (C _pickle), GOMAXPROCS=%d, nproc=%d, %s/%s, load average %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), py.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, load)
	sb.WriteString("| workload | pickle bytes | CPython loads | mpwire decode | gopickle decode | og-rek decode | mpwire/CPython | mpwire/gopickle | mpwire/og-rek | CPython dumps | mpwire encode | og-rek encode | mpwire/CPython |\n")
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	dec, enc := decodeImpls(), encodeImpls()
	for _, name := range benchWorkloads {
		p := pyt[name]
		d := data[name]
		mdec, _ := nsop(dec[0].fn, d)
		gdec, _ := nsop(dec[1].fn, d)
		odec, _ := nsop(dec[2].fn, d)
		menc, _ := nsop(enc[0].fn, d)
		oenc, _ := nsop(enc[1].fn, d)
		fmt.Fprintf(&sb, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, len(d),
			fmtNs(p.LoadsNs), fmtNs(mdec), fmtNs(gdec), fmtNs(odec), ratio(mdec, p.LoadsNs), ratio(mdec, gdec), ratio(mdec, odec),
			fmtNs(p.DumpsNs), fmtNs(menc), fmtNs(oenc), ratio(menc, p.DumpsNs))
	}
	sb.WriteString("\nns/op, lower is better; a ratio below 1.00× means mpwire is faster. Same bytes for every column (CPython's protocol-4 pickle).\n")
	t.Log("\n" + sb.String())
	if path := os.Getenv("MPWIRE_BENCH_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func fmtNs(ns float64) string {
	switch {
	case ns <= 0:
		return "n/a"
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}
