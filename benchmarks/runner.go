package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
)

// Config selects what a run measures.
type Config struct {
	// Cases to run, in order (see allCases).
	Cases []string
	// Count is how many times each case is repeated; medians are reported.
	Count int
	// Short runs one tiny iteration of everything (a smoke test).
	Short bool
	// Python is the interpreter of the Python baselines.
	Python pyharness.Interpreter
	// Target is how long one Go timing loop runs (autoranged).
	Target time.Duration
	// Exe is the program started as the Go worker of the queue case.
	Exe string
	// Log receives progress lines (nil: discarded).
	Log io.Writer
}

// comparison is one row of the table: subject vs baseline, both keys into
// the collected samples (ns per op).
type comparison struct {
	Case, Workload      string
	Subject, Baseline   string
	SubjectKey, BaseKey string
	Bytes               int64   // bytes per op for MiB/s, 0 for none
	Goal                float64 // minimum speed ratio baseline/subject; 0 = no goal
	Note                string
	PerSec              bool // print operations per second instead of time per op
}

// runner collects samples and comparisons across repeats.
type runner struct {
	cfg     Config
	ctx     context.Context
	samples map[string][]float64
	cmps    []comparison
	seen    map[string]bool
	notes   []string
	noteSet map[string]bool
	tmp     string
	// faults holds minor page faults per op of the samples added with
	// addFaults or addMeasured; lastFaults is that of the last measure
	// call.
	faults     map[string][]float64
	lastFaults float64
	// pyPickle is the run's CPython pickle timing server (nil until the
	// pickle case starts it); typedNotes and typedSizes carry the typed
	// pickle rows' allocation notes and input sizes to their declaration.
	pyPickle   *pyServer
	typedNotes map[string]string
	typedSizes map[string]int
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, format+"\n", args...)
	}
}

// add records one sample of ns per op for key.
func (r *runner) add(key string, ns float64) {
	r.samples[key] = append(r.samples[key], ns)
	r.logf("  %-50s %s", key, fmtNs(ns))
}

// addMeasured records one sample like add, and the page faults per op of
// the measure call that produced it.
func (r *runner) addMeasured(key string, ns float64) {
	r.addFaults(key, ns, r.lastFaults)
}

// addFaults records one sample like add, with its page faults per op.
func (r *runner) addFaults(key string, ns, faults float64) {
	r.add(key, ns)
	r.faults[key] = append(r.faults[key], faults)
}

// compare declares a table row (once; repeats are deduplicated).
func (r *runner) compare(c comparison) {
	id := c.Case + "|" + c.Workload + "|" + c.SubjectKey + "|" + c.BaseKey
	if r.seen[id] {
		return
	}
	r.seen[id] = true
	r.cmps = append(r.cmps, c)
}

// note adds a line printed under the table (once).
func (r *runner) note(s string) {
	if !r.noteSet[s] {
		r.noteSet[s] = true
		r.notes = append(r.notes, s)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// measure times fn(n) for growing n until one call takes at least target
// (like testing.B), after one warm-up call and a collection, and returns
// ns per op; it also leaves the minor page faults per op of the last call
// in r.lastFaults. In short mode it runs fn(1) once.
func (r *runner) measure(fn func(n int) error) (float64, error) {
	if !r.cfg.Short {
		// Warm up: first-call costs (page faults, pools, a scheduler
		// wake-up on a busy machine) are not what is measured.
		if err := fn(1); err != nil {
			return 0, err
		}
	}
	// Start from a collected heap, as testing.B does before each run:
	// what an earlier timing left behind is not this one's to collect.
	runtime.GC()
	n := 1
	for {
		f0 := minorFaults()
		t0 := time.Now()
		if err := fn(n); err != nil {
			return 0, err
		}
		d := time.Since(t0)
		if r.cfg.Short || d >= r.cfg.Target || n >= 1e9 {
			r.lastFaults = float64(minorFaults()-f0) / float64(n)
			return float64(d.Nanoseconds()) / float64(n), nil
		}
		next := n * 100
		if d > 0 {
			next = int(float64(n) * 1.2 * float64(r.cfg.Target) / float64(d))
		}
		if next > n*100 {
			next = n * 100
		}
		if next <= n {
			next = n + 1
		}
		n = next
	}
}

// Result is what Run produces.
type Result struct {
	Header   string
	Rows     []Row
	Notes    []string
	Markdown string
}

// Row is one comparison with its medians.
type Row struct {
	Case, Workload, Subject, Baseline string
	SubjectNs, BaselineNs             float64
	Bytes                             int64
	Speed                             float64 // BaselineNs / SubjectNs
	Goal                              float64
	Status                            string // "met", "NOT met", "—" (no goal), "n/a"
	Note                              string
	PerSec                            bool // times shown as operations per second
}

// caseFunc runs one repeat of a case.
type caseFunc func(r *runner) error

var caseFuncs = map[string]caseFunc{
	"pickle":  runPickle,
	"conn":    runConn,
	"bulk":    runBulk,
	"queue":   runQueue,
	"connect": runConnect,
	"jsonl":   runJSONL,
	"hostile": runHostile,
	"manager": runManager,
	"pool":    runPool,
}

// allCases is the default order.
var allCases = []string{"pickle", "conn", "bulk", "queue", "connect", "jsonl", "hostile", "manager", "pool"}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// Run executes the configured cases cfg.Count times each (round-robin, so
// a burst of load hits one sample of every case rather than all samples of
// one) and renders the Markdown table.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Count < 1 {
		cfg.Count = 1
	}
	if cfg.Target <= 0 {
		cfg.Target = 200 * time.Millisecond
	}
	for _, c := range cfg.Cases {
		if caseFuncs[c] == nil {
			return nil, fmt.Errorf("unknown case %q (have %s)", c, strings.Join(allCases, ","))
		}
	}
	tmp, err := os.MkdirTemp("", "mpw-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r := &runner{cfg: cfg, ctx: ctx, samples: map[string][]float64{}, seen: map[string]bool{}, noteSet: map[string]bool{}, tmp: tmp,
		faults: map[string][]float64{}, typedNotes: map[string]string{}, typedSizes: map[string]int{}}
	defer func() {
		if r.pyPickle != nil {
			r.pyPickle.close()
		}
	}()
	loadBefore := loadAvg()
	start := time.Now()
	for i := 0; i < cfg.Count; i++ {
		for _, c := range cfg.Cases {
			r.logf("repeat %d/%d: %s", i+1, cfg.Count, c)
			if err := caseFuncs[c](r); err != nil {
				return nil, fmt.Errorf("case %s: %w", c, err)
			}
		}
	}
	res := &Result{}
	mode := fmt.Sprintf("median of %d", cfg.Count)
	if cfg.Short {
		mode = "SMOKE RUN (-short: one tiny iteration, numbers meaningless)"
	}
	res.Header = fmt.Sprintf("Measured %s; %s %s/%s%s, CPython %s (%s), nproc %d, GOMAXPROCS %d, load average %s before / %s after; %s; took %s.",
		start.UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtimeEnv(),
		cfg.Python.Version(), cfg.Python.Path, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		loadBefore, loadAvg(), mode, time.Since(start).Round(time.Second))
	for _, c := range r.cmps {
		row := Row{Case: c.Case, Workload: c.Workload, Subject: c.Subject, Baseline: c.Baseline,
			SubjectNs: median(r.samples[c.SubjectKey]), BaselineNs: median(r.samples[c.BaseKey]),
			Bytes: c.Bytes, Goal: c.Goal, Note: c.Note, PerSec: c.PerSec}
		// The subject's faults go with its allocations, on the rows that
		// carry a note (the ones against CPython); rows against peer
		// libraries share the subject's key and would repeat them.
		if f := r.faults[c.SubjectKey]; len(f) > 0 && c.Note != "" {
			row.Note += ", " + fmtFaults(median(f))
		}
		if f := r.faults[c.BaseKey]; len(f) > 0 {
			row.Baseline += " (" + fmtFaults(median(f)) + ")"
		}
		if row.SubjectNs > 0 && row.BaselineNs > 0 {
			row.Speed = row.BaselineNs / row.SubjectNs
		}
		switch {
		case row.Speed == 0:
			row.Status = "n/a"
		case c.Goal == 0:
			row.Status = "—"
		case row.Speed >= c.Goal:
			row.Status = "met"
		default:
			row.Status = "NOT met"
		}
		res.Rows = append(res.Rows, row)
	}
	res.Notes = r.notes
	res.Markdown = render(res)
	return res, nil
}

func render(res *Result) string {
	var sb strings.Builder
	sb.WriteString(res.Header + "\n\n")
	sb.WriteString("| case | workload | mpwire | time | baseline | time | speed vs baseline | goal | status |\n")
	sb.WriteString("|---|---|---|---:|---|---:|---:|---:|---|\n")
	for _, r := range res.Rows {
		goal := "—"
		if r.Goal > 0 {
			goal = fmt.Sprintf("≥ %.1f×", r.Goal)
		}
		speed := "n/a"
		if r.Speed > 0 {
			speed = fmt.Sprintf("%.2f×", r.Speed)
		}
		wl := r.Workload
		if r.Note != "" {
			wl += " (" + r.Note + ")"
		}
		sv, bv := fmtVal(r.SubjectNs, r.Bytes), fmtVal(r.BaselineNs, r.Bytes)
		if r.PerSec {
			sv, bv = fmtRate(r.SubjectNs), fmtRate(r.BaselineNs)
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Case, wl,
			r.Subject, sv, r.Baseline, bv, speed, goal, r.Status)
	}
	sb.WriteString("\nTimes are per operation (one decode/encode, round trip, frame, item or connect), lower is better; " +
		"MiB/s where a byte size applies; throughput rows (ops/s) are higher-is-better. " +
		"Speed = baseline time / mpwire time, so > 1× means mpwire is faster.\n")
	for _, n := range res.Notes {
		sb.WriteString("\n- " + n)
	}
	if len(res.Notes) > 0 {
		sb.WriteString("\n")
	}
	return sb.String()
}

func fmtVal(ns float64, bytes int64) string {
	s := fmtNs(ns)
	if ns > 0 && bytes > 0 {
		s += fmt.Sprintf(" (%.0f MiB/s)", float64(bytes)/(ns/1e9)/(1<<20))
	}
	return s
}

// fmtRate prints ns per operation as operations per second.
func fmtRate(ns float64) string {
	if ns <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fk ops/s", 1e6/ns)
}

func fmtNs(ns float64) string {
	switch {
	case ns <= 0:
		return "n/a"
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

// runPy runs a fixture script to completion and returns its stdout.
func (r *runner) runPy(c pyharness.Cmd) (string, error) {
	if c.TempDir == "" {
		c.TempDir = r.tmp
	}
	c.Env = append(c.Env, "MPWIRE_WATCHDOG=900")
	p, err := pyharness.Start(r.ctx, c)
	if err != nil {
		return "", err
	}
	werr := p.Wait()
	out, _ := p.Stdout()
	if werr != nil {
		return out, fmt.Errorf("%s %s: %w", c.Script, strings.Join(c.Args, " "), werr)
	}
	return out, nil
}

// elapsed parses the "ELAPSED <seconds>" line of a driver script as ns.
func elapsed(out string) (float64, error) {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ELAPSED "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				return 0, err
			}
			return f * 1e9, nil
		}
	}
	return 0, fmt.Errorf("no ELAPSED line in %q", out)
}

// pick returns full normally and short in -short mode.
func (r *runner) pick(full, short int) int {
	if r.cfg.Short {
		return short
	}
	return full
}

// minorFaults is the process's minor page faults so far (0 where unknown).
func minorFaults() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Minflt)
}

// fmtFaults prints minor page faults per op: on some VMs each costs
// ~10 µs (docs/benchmarks.md, "Page faults").
func fmtFaults(f float64) string {
	if f < 10 {
		return fmt.Sprintf("%.1f faults/op", f)
	}
	return fmt.Sprintf("%.0f faults/op", f)
}

// runtimeEnv names the Go runtime settings of this process that change
// its timings (GOGC, GOMEMLIMIT, GODEBUG), for the table's header.
func runtimeEnv() string {
	var s []string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v := os.Getenv(k); v != "" {
			s = append(s, k+"="+v)
		}
	}
	if len(s) == 0 {
		return ""
	}
	return " (" + strings.Join(s, " ") + ")"
}

// timeIt returns how long fn took, in ns.
func timeIt(fn func() error) (float64, error) {
	t0 := time.Now()
	err := fn()
	return float64(time.Since(t0).Nanoseconds()), err
}
