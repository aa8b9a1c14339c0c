package pyharness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds one interop test's Python peer when the test does
// not pass its own context deadline.
const DefaultTimeout = 60 * time.Second

// ForEach runs fn as a subtest for every interpreter. Without MPWIRE_PYTHONS
// it runs one subtest per version of Matrix and skips (with a reason) the
// versions not installed, then one per discovered interpreter outside the
// matrix. With MPWIRE_PYTHONS it runs exactly the interpreters listed. It
// fails the test when no interpreter at all is found. Subtests run
// sequentially; call t.Parallel inside fn to change that.
func ForEach(t *testing.T, fn func(t *testing.T, py Interpreter)) {
	t.Helper()
	all, err := Interpreters()
	if err != nil {
		t.Fatalf("no Python interpreter to test against: %v", err)
	}
	done := map[int]bool{}
	if os.Getenv("MPWIRE_PYTHONS") == "" {
		for _, minor := range Matrix {
			done[minor] = true
			py, ok := Find(minor)
			t.Run("py3."+strconv.Itoa(minor), func(t *testing.T) {
				if !ok {
					t.Skipf("CPython 3.%d is not installed (set MPWIRE_PYTHONS to choose interpreters)", minor)
				}
				fn(t, py)
			})
		}
	}
	for _, py := range all {
		if py.Major == 3 && done[py.Minor] {
			continue
		}
		t.Run(py.Name(), func(t *testing.T) { fn(t, py) })
	}
}

// DefaultT returns Default() or fails the test.
func DefaultT(t testing.TB) Interpreter {
	t.Helper()
	py, err := Default()
	if err != nil {
		t.Fatalf("no Python interpreter: %v", err)
	}
	return py
}

// Context returns a context that ends at the test's deadline minus a
// margin (so a hung peer fails the test with a useful message instead of a
// panic from the test binary's timeout), and at most after d.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	if d <= 0 {
		d = DefaultTimeout
	}
	deadline := time.Now().Add(d)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := dt.Deadline(); ok {
			if m := td.Add(-5 * time.Second); m.Before(deadline) {
				deadline = m
			}
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// StartT starts a fixture for a test. It gives the child a private TMPDIR
// (removed with the test), kills the process group when ctx ends or the
// test finishes, logs the child's stderr if the test failed, and removes
// /dev/shm entries of multiprocessing's kinds (sem.mp-*, psm_*) that
// appeared while it ran and that no live process still has open.
func StartT(t testing.TB, ctx context.Context, c Cmd) *Proc {
	t.Helper()
	if c.TempDir == "" {
		c.TempDir = shortTempDir(t)
	}
	before := shmSnapshot()
	p, err := Start(ctx, c)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		_ = p.Kill()
		_ = p.Wait()
		if t.Failed() {
			t.Logf("%s %s stderr:\n%s", c.Python.Name(), c.Script, p.Stderr())
		}
		for _, name := range sweepShm(before) {
			t.Logf("removed leaked /dev/shm/%s", name)
		}
	})
	return p
}

// RunT runs a fixture to completion and returns its standard output; a
// non-zero exit fails the test with the child's stderr.
func RunT(t testing.TB, ctx context.Context, c Cmd) string {
	t.Helper()
	p := StartT(t, ctx, c)
	if err := p.Wait(); err != nil {
		t.Fatalf("%s %s: %v", c.Python.Name(), c.Script, err)
	}
	out, _ := p.Stdout()
	return out
}

// shortTempDir makes a temporary directory with a short path: AF_UNIX
// socket paths are limited to 107 bytes and t.TempDir's names are long.
func shortTempDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "mpw")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// ShmDir is where glibc keeps named semaphores and shared memory.
const ShmDir = "/dev/shm"

func isMPShm(name string) bool {
	return strings.HasPrefix(name, "sem.mp-") || strings.HasPrefix(name, "psm_")
}

func shmSnapshot() map[string]bool {
	m := map[string]bool{}
	ents, _ := os.ReadDir(ShmDir)
	for _, e := range ents {
		if isMPShm(e.Name()) {
			m[e.Name()] = true
		}
	}
	return m
}

// sweepShm removes multiprocessing /dev/shm entries that are not in before
// and that no process on the machine maps or holds open — so entries that
// belong to peers still running (this test process included) are kept.
// Files are matched by inode, not name: glibc's sem_open maps a temporary
// file and then links it to its final name, so /proc/*/maps shows the
// temporary name.
func sweepShm(before map[string]bool) []string {
	var fresh []string
	for name := range shmSnapshot() {
		if !before[name] {
			fresh = append(fresh, name)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	inUse := shmInodesInUse()
	var removed []string
	for _, name := range fresh {
		path := filepath.Join(ShmDir, name)
		var st syscall.Stat_t
		if syscall.Stat(path, &st) != nil || inUse[st.Ino] {
			continue
		}
		if os.Remove(path) == nil {
			removed = append(removed, name)
		}
	}
	return removed
}

// shmInodesInUse lists the inodes of /dev/shm files that some process maps
// or has open, from /proc/*/maps and /proc/*/fd.
func shmInodesInUse() map[uint64]bool {
	used := map[uint64]bool{}
	var shm syscall.Stat_t
	if syscall.Stat(ShmDir, &shm) != nil {
		return used
	}
	pids, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range pids {
		if b, err := os.ReadFile(dir + "/maps"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				// address perms offset dev inode path
				f := strings.Fields(line)
				if len(f) < 6 || !strings.HasPrefix(f[5], ShmDir+"/") {
					continue
				}
				if ino, err := strconv.ParseUint(f[4], 10, 64); err == nil {
					used[ino] = true
				}
			}
		}
		fds, _ := os.ReadDir(dir + "/fd")
		for _, fd := range fds {
			var st syscall.Stat_t
			if syscall.Stat(dir+"/fd/"+fd.Name(), &st) == nil && st.Dev == shm.Dev {
				used[st.Ino] = true
			}
		}
	}
	return used
}

// Scenarios parses the standard output of a fixture that reports with
// _fixture.emit (one JSON object per line, each naming its "scenario")
// into the objects by scenario name. A line that is not such an object
// fails the test.
func Scenarios(t testing.TB, out string) map[string]map[string]any {
	t.Helper()
	res := map[string]map[string]any{}
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("fixture output line %q: %v", line, err)
		}
		name, _ := m["scenario"].(string)
		if name == "" {
			t.Fatalf("fixture output line without a scenario: %q", line)
		}
		res[name] = m
	}
	return res
}
