package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/internal/testworker"
)

// TestMain doubles as the queue case's Go worker: started by
// process.Start with Spec.Executable, the test binary plays a producer or
// consumer instead of running the tests.
func TestMain(m *testing.M) {
	serveManager()
	testworker.Main(m, workerRoles)
}

// TestSmoke runs the entry point's logic in -short mode (one tiny
// iteration of every case against real Python peers) so that it does not
// rot. It checks that the table is produced with every case and every
// baseline present; it asserts nothing about timings.
func TestSmoke(t *testing.T) {
	py := pyharness.DefaultT(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx := pyharness.Context(t, 3*time.Minute)
	res, err := Run(ctx, Config{Cases: allCases, Count: 1, Short: true, Python: py, Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Markdown)
	cases := map[string]int{}
	for _, r := range res.Rows {
		cases[r.Case]++
		if r.SubjectNs <= 0 {
			t.Errorf("row %s / %s: no mpwire measurement", r.Case, r.Workload)
		}
		// Baselines a library cannot do are reported, not missing: the
		// only ones allowed to be n/a are third-party Go libraries and
		// a Python version that is not installed.
		if r.BaselineNs <= 0 && r.Baseline != "gopickle" && r.Baseline != "og-rek" && r.Case != "authenticated connect" {
			t.Errorf("row %s / %s vs %s: no baseline measurement", r.Case, r.Workload, r.Baseline)
		}
		if r.Goal > 0 && r.Status != "met" && r.Status != "NOT met" {
			t.Errorf("row %s / %s vs %s: goal without status (%q)", r.Case, r.Workload, r.Baseline, r.Status)
		}
	}
	want := map[string]int{
		"pickle decode":                       4 * len(pickleWorkloads), // CPython (collector off, on), gopickle, og-rek
		"pickle encode":                       2 * len(pickleWorkloads),
		"Conn ping-pong":                      4,
		"bulk SendBytes":                      3*len(bulkSizes) + 1,
		"Queue":                               8,
		"authenticated connect":               4,
		"vs JSON lines":                       1,
		"hostile decode":                      1,
		"manager calls":                       4,
		"Pool (Python parent)":                3,
		"ProcessPoolExecutor (Python parent)": 3,
	}
	for c, n := range want {
		if cases[c] != n {
			t.Errorf("case %q: %d rows, want %d", c, cases[c], n)
		}
		if !strings.Contains(res.Markdown, "| "+c+" |") {
			t.Errorf("table has no %q rows", c)
		}
	}
	for _, s := range []string{"nproc", "load average", py.Version(), "stalecucumber", "| case | workload |"} {
		if !strings.Contains(res.Markdown, s) {
			t.Errorf("table lacks %q", s)
		}
	}
}

func TestUnknownCase(t *testing.T) {
	if _, err := newConfig("pickle,nosuch", ""); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("newConfig with an unknown case: %v", err)
	}
	if _, err := Run(context.Background(), Config{Cases: []string{"nosuch"}}); err == nil {
		t.Fatal("Run with an unknown case succeeded")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
