package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"

	ogórek "github.com/kisielk/og-rek"
	gopickle "github.com/nlpodyssey/gopickle/pickle"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/pickle"
)

// pickleWorkloads are the names pyfixtures/pickle_bench.py gen writes.
var pickleWorkloads = []string{"small_dicts_10k", "records_by_name_10k", "ints_100k", "bytes_1mib", "nonascii_str_10k", "deep_nesting_400"}

var pickleLabels = map[string]string{
	"small_dicts_10k":     "10k small dicts",
	"records_by_name_10k": "10k records by name",
	"ints_100k":           "100k ints",
	"bytes_1mib":          "1 MiB bytes",
	"nonascii_str_10k":    "10k non-ASCII str",
	"deep_nesting_400":    "nested 400 deep",
}

// benchRec is a record of small_dicts_10k, fields in the dict's order (so
// encoding it gives CPython's bytes).
type benchRec struct {
	ID    int64    `pickle:"id"`
	Name  string   `pickle:"name"`
	Score float64  `pickle:"score"`
	Tags  []string `pickle:"tags"`
	OK    bool     `pickle:"ok"`
}

// typedPickle are the workloads also decoded into (and encoded from) Go
// types: CPython's bytes straight into structs, maps and slices.
var typedPickle = []struct {
	name, goType string
	target       func() any
}{
	{"small_dicts_10k", "[]Rec", func() any { return new([]benchRec) }},
	{"records_by_name_10k", "map[string]Rec", func() any { return new(map[string]benchRec) }},
	{"ints_100k", "[]int64", func() any { return new([]int64) }},
	{"nonascii_str_10k", "[]string", func() any { return new([]string) }},
}

// pickleDir holds CPython's pickles of the workloads, generated once per
// run by the baseline interpreter.
func (r *runner) pickleDir() (string, error) {
	dir := filepath.Join(r.tmp, "pickles")
	if _, err := os.Stat(filepath.Join(dir, pickleWorkloads[0]+".pickle")); err == nil {
		return dir, nil
	}
	_, err := r.runPy(pyharness.Cmd{Python: r.cfg.Python, Script: "pickle_bench.py", Args: []string{"gen", dir}})
	return dir, err
}

func runPickle(r *runner) error {
	dir, err := r.pickleDir()
	if err != nil {
		return err
	}
	r.note("pickle: every implementation decodes CPython's own protocol-4 bytes of the same workload (pyfixtures/pickle_bench.py); " +
		"encode re-encodes the decoded value at protocol 4. CPython is timed with timeit in one subprocess serving the whole run (bench_py.py pickle-serve), " +
		"each workload right before mpwire's timings of it, with pymalloc's arenas pinned and after a warm-up pass over every workload " +
		"(otherwise its allocator unmaps and faults in its arenas again on every call: 2–6× slower here, docs/benchmarks.md), with its cyclic collector off as timeit does; the rows \"collector on\" time loads with it on, as programs run (no goal). " +
		"Go timings start from a collected heap (as testing.B does); faults/op are minor page faults per operation (getrusage), ~10 µs each on the VMs measured (docs/benchmarks.md). " +
		"gopickle has no encoder. stalecucumber (github.com/hydrogen18/stalecucumber) is not available from the module proxy, so it is not measured.")
	em, err := pickle.EncOptions{Protocol: 4}.EncMode()
	if err != nil {
		return err
	}
	for _, name := range pickleWorkloads {
		data, err := os.ReadFile(filepath.Join(dir, name+".pickle"))
		if err != nil {
			return err
		}
		// CPython times this workload right before mpwire does, so both
		// sides see the same minute of a shared machine.
		if err := r.cpythonServed(dir, name); err != nil {
			return err
		}
		k := "pickle/" + name + "/"
		label := pickleLabels[name] + ", " + strconv.Itoa(len(data)) + " B"
		// mpwire decode
		ns, err := r.measure(decodeN(data))
		if err != nil {
			return fmt.Errorf("mpwire decode %s: %w", name, err)
		}
		r.addMeasured(k+"mpwire/decode", ns)
		r.compare(comparison{Case: "pickle decode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/decode",
			Baseline: "CPython C pickle.loads", BaseKey: k + "cpython/loads", Goal: 1.0, Note: allocsNote(decodeN(data))})
		r.compare(comparison{Case: "pickle decode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/decode",
			Baseline: "CPython pickle.loads, collector on", BaseKey: k + "cpython/loads-gc"})
		// gopickle decode
		if ns, err := r.measure(func(n int) error {
			for i := 0; i < n; i++ {
				u := gopickle.NewUnpickler(bytes.NewReader(data))
				if _, err := u.Load(); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			r.note(fmt.Sprintf("gopickle cannot decode %s: %v", name, err))
		} else {
			r.add(k+"gopickle/decode", ns)
		}
		r.compare(comparison{Case: "pickle decode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/decode",
			Baseline: "gopickle", BaseKey: k + "gopickle/decode", Goal: 4.0})
		// og-rek decode
		cfg := &ogórek.DecoderConfig{PyDict: true, StrictUnicode: true}
		if ns, err := r.measure(func(n int) error {
			for i := 0; i < n; i++ {
				if _, err := ogórek.NewDecoderWithConfig(bytes.NewReader(data), cfg).Decode(); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			r.note(fmt.Sprintf("og-rek cannot decode %s: %v", name, err))
		} else {
			r.add(k+"ogrek/decode", ns)
		}
		r.compare(comparison{Case: "pickle decode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/decode",
			Baseline: "og-rek", BaseKey: k + "ogrek/decode"})

		// mpwire encode of its own decoded value.
		var v any
		if err := pickle.Unmarshal(data, &v); err != nil {
			return err
		}
		ns, err = r.measure(encodeN(em, v))
		if err != nil {
			return fmt.Errorf("mpwire encode %s: %w", name, err)
		}
		r.addMeasured(k+"mpwire/encode", ns)
		r.compare(comparison{Case: "pickle encode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/encode",
			Baseline: "CPython C pickle.dumps", BaseKey: k + "cpython/dumps", Goal: 1.0, Note: allocsNote(encodeN(em, v))})
		// og-rek encode of its own decoded value.
		if ov, err := ogórek.NewDecoderWithConfig(bytes.NewReader(data), cfg).Decode(); err == nil {
			var ob bytes.Buffer
			ecfg := &ogórek.EncoderConfig{Protocol: 4, StrictUnicode: true}
			if ns, err := r.measure(func(n int) error {
				for i := 0; i < n; i++ {
					ob.Reset()
					if err := ogórek.NewEncoderWithConfig(&ob, ecfg).Encode(ov); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				r.note(fmt.Sprintf("og-rek cannot encode %s: %v", name, err))
			} else {
				r.add(k+"ogrek/encode", ns)
			}
		}
		r.compare(comparison{Case: "pickle encode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/encode",
			Baseline: "og-rek", BaseKey: k + "ogrek/encode"})
		if err := timeTypedPickle(r, name, data, em); err != nil {
			return err
		}
	}
	declareTypedPickle(r)
	return nil
}

// typedPickleLabel is the table's workload label of a typed case.
func typedPickleLabel(name, goType string, size int) string {
	return pickleLabels[name] + " → " + goType + ", " + strconv.Itoa(size) + " B"
}

// timeTypedPickle times decoding CPython's bytes of workload name straight
// into its Go type (if typedPickle has one) and encoding that value,
// against CPython's loads and dumps of the same bytes (timed by runPickle
// right before).
func timeTypedPickle(r *runner, name string, data []byte, em pickle.EncMode) error {
	for _, w := range typedPickle {
		if w.name != name {
			continue
		}
		k := "pickle/" + w.name + "/"
		dec := func(n int) error {
			for i := 0; i < n; i++ {
				if err := pickle.Unmarshal(data, w.target()); err != nil {
					return err
				}
			}
			return nil
		}
		ns, err := r.measure(dec)
		if err != nil {
			return fmt.Errorf("mpwire typed decode %s: %w", w.name, err)
		}
		r.addMeasured(k+"mpwire/typed-decode", ns)
		r.typedNotes[k+"typed-decode"] = allocsNote(dec)
		p := w.target()
		if err := pickle.Unmarshal(data, p); err != nil {
			return err
		}
		v := reflect.ValueOf(p).Elem().Interface()
		if ns, err = r.measure(encodeN(em, v)); err != nil {
			return fmt.Errorf("mpwire typed encode %s: %w", w.name, err)
		}
		r.addMeasured(k+"mpwire/typed-encode", ns)
		r.typedNotes[k+"typed-encode"] = allocsNote(encodeN(em, v))
		r.typedSizes[w.name] = len(data)
	}
	return nil
}

// declareTypedPickle adds the typed rows, after every generic one.
func declareTypedPickle(r *runner) {
	for _, w := range typedPickle {
		k := "pickle/" + w.name + "/"
		label := typedPickleLabel(w.name, w.goType, r.typedSizes[w.name])
		r.compare(comparison{Case: "pickle typed decode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/typed-decode",
			Baseline: "CPython C pickle.loads", BaseKey: k + "cpython/loads", Goal: 3.0, Note: r.typedNotes[k+"typed-decode"]})
		r.compare(comparison{Case: "pickle typed encode", Workload: label, Subject: "mpwire", SubjectKey: k + "mpwire/typed-encode",
			Baseline: "CPython C pickle.dumps", BaseKey: k + "cpython/dumps", Goal: 2.0, Note: r.typedNotes[k+"typed-encode"]})
	}
	r.note("pickle typed: CPython's bytes decoded straight into the Go type named (Rec is {id int64, name str, score float64, tags []str, ok bool}), " +
		"and that value encoded (bytes CPython loads equal); the baseline is CPython's loads/dumps of the same bytes. Goals: decode ≥ 3×, encode ≥ 2×. " +
		"allocs/op are Go heap allocations per operation (runtime.MemStats).")
}

// allocsNote runs fn(20) and says how many allocations one call made.
func allocsNote(fn func(n int) error) string {
	const n = 20
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	if err := fn(n); err != nil {
		return ""
	}
	runtime.ReadMemStats(&b)
	return strconv.FormatUint((b.Mallocs-a.Mallocs+n/2)/n, 10) + " allocs/op"
}

// encodeN returns a timing loop: n encodes of v into a reused buffer.
func encodeN(em pickle.EncMode, v any) func(n int) error {
	var buf []byte
	return func(n int) error {
		for i := 0; i < n; i++ {
			var err error
			if buf, err = em.AppendMarshal(buf[:0], v); err != nil {
				return err
			}
		}
		return nil
	}
}

// decodeN returns a timing loop: n pickle.Unmarshal calls of data.
func decodeN(data []byte) func(n int) error {
	return func(n int) error {
		for i := 0; i < n; i++ {
			var v any
			if err := pickle.Unmarshal(data, &v); err != nil {
				return err
			}
		}
		return nil
	}
}

// cpythonPickle times CPython's C pickle.loads/dumps of one workload of
// dir in a subprocess of its own (bench_py.py pickle-time), after warm
// rounds of loads and dumps of every workload in dir (0: none).
func (r *runner) cpythonPickle(dir, name string, warm int) error {
	args := []string{"pickle-time", dir, "--repeat", "1", "--only", name, "--warm", strconv.Itoa(warm)}
	if r.cfg.Short {
		args = append(args, "--number", "1")
	}
	out, err := r.runPy(pyharness.Cmd{Python: r.cfg.Python, Script: "bench_py.py", Args: args})
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) != "" {
			if err := r.addPickleTiming(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// cpythonServed times CPython's loads/dumps of workload name of dir in the
// run's pickle server (bench_py.py pickle-serve: one interpreter, warmed
// up on every workload once, serving the whole run), started on first use
// and stopped by Run.
func (r *runner) cpythonServed(dir, name string) error {
	if r.pyPickle == nil {
		args := []string{"pickle-serve", dir, "--repeat", "1"}
		if r.cfg.Short {
			args = append(args, "--number", "1")
		}
		in, w := io.Pipe()
		p, err := pyharness.Start(r.ctx, pyharness.Cmd{Python: r.cfg.Python, Script: "bench_py.py", Args: args,
			Stdin: in, TempDir: r.tmp, Env: []string{"MPWIRE_WATCHDOG=900"}})
		if err != nil {
			return err
		}
		r.pyPickle = &pyServer{p: p, w: w}
		if _, err := p.Expect(r.ctx, "READY"); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(r.pyPickle.w, name+"\n"); err != nil {
		return fmt.Errorf("pickle-serve: %w", err)
	}
	line, err := r.pyPickle.p.ReadLine(r.ctx)
	if err != nil {
		return fmt.Errorf("pickle-serve %s: %w", name, err)
	}
	return r.addPickleTiming(line)
}

// pyServer is a running bench_py.py pickle-serve and the pipe to its stdin.
type pyServer struct {
	p *pyharness.Proc
	w *io.PipeWriter
}

// close ends the server's input and waits for it to exit.
func (s *pyServer) close() error {
	s.w.Close()
	return s.p.Wait()
}

// addPickleTiming records one JSON line of pickle-time or pickle-serve.
func (r *runner) addPickleTiming(line string) error {
	var t struct {
		Name      string  `json:"name"`
		LoadsNs   float64 `json:"loads_ns"`
		DumpsNs   float64 `json:"dumps_ns"`
		LoadsGCNs float64 `json:"loads_gc_ns"`
		LoadsFlt  float64 `json:"loads_faults"`
		DumpsFlt  float64 `json:"dumps_faults"`
		CPickle   bool    `json:"c_pickle"`
		Error     string  `json:"error"`
	}
	if err := json.Unmarshal([]byte(line), &t); err != nil {
		return fmt.Errorf("pickle timing output %q: %w", line, err)
	}
	if t.Error != "" {
		return fmt.Errorf("pickle timing: %s", t.Error)
	}
	if !t.CPickle {
		return fmt.Errorf("CPython %s does not use the C pickler", r.cfg.Python.Version())
	}
	r.addFaults("pickle/"+t.Name+"/cpython/loads", t.LoadsNs, t.LoadsFlt)
	r.addFaults("pickle/"+t.Name+"/cpython/dumps", t.DumpsNs, t.DumpsFlt)
	r.add("pickle/"+t.Name+"/cpython/loads-gc", t.LoadsGCNs)
	return nil
}
