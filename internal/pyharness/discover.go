// Package pyharness is the Go test harness of mpwire: it finds CPython
// interpreters and runs the stdlib-only Python peer scripts kept in the
// repository's pyfixtures/ directory, so that every interop test and
// benchmark talks to a real Python peer through one harness. It is internal
// (it imports testing); programs that only need an interpreter use
// process.Python.
//
// Interpreter discovery: python3 on PATH plus every
// $(pyenv root)/versions/*/bin/python that is CPython 3.8 or newer. The
// environment variable MPWIRE_PYTHONS replaces discovery with an explicit
// list of interpreter paths (separated by the OS path-list separator, commas
// or spaces). MPWIRE_PYTHON names the single interpreter that examples use.
//
// Running: Start launches a fixture script under a context, in its own
// process group, with extra inherited file descriptors and a private TMPDIR;
// cancelling the context kills the whole group (managers and resource
// trackers are grandchildren). StartT does the same for tests and also logs
// the script's stderr when the test fails and removes /dev/shm entries the
// script leaked.
//
// The Python scripts live in pyfixtures/ at the repository root (found from
// this package's source location, see Dir) and are runnable by hand:
// python3 pyfixtures/<script>.py --help.
package pyharness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MinMinor is the oldest CPython 3.x minor version mpwire supports.
const MinMinor = 8

// Matrix lists the CPython minor versions (3.x) mpwire is tested against.
// ForEach runs one subtest per entry and skips the ones not installed.
var Matrix = []int{8, 9, 10, 11, 12, 13}

// Interpreter is one CPython found on this machine.
type Interpreter struct {
	// Path is the executable to run (sys.executable as the interpreter
	// reports it, so pyenv shims are resolved).
	Path string
	// Major, Minor and Micro are sys.version_info[:3].
	Major, Minor, Micro int
}

// Version returns "3.11.7".
func (py Interpreter) Version() string {
	return fmt.Sprintf("%d.%d.%d", py.Major, py.Minor, py.Micro)
}

// Name returns a short name such as "py3.11", used for subtest names.
func (py Interpreter) Name() string { return fmt.Sprintf("py%d.%d", py.Major, py.Minor) }

// AtLeast reports whether the interpreter is version major.minor or newer.
func (py Interpreter) AtLeast(major, minor int) bool {
	return py.Major > major || (py.Major == major && py.Minor >= minor)
}

func (py Interpreter) String() string { return py.Name() + " (" + py.Path + ")" }

var (
	discoverOnce sync.Once
	discovered   []Interpreter
	discoverErr  error
)

// Interpreters returns every usable CPython ≥ 3.8, newest first, one per
// minor version (the first one found wins). The result is computed once per
// process. It returns an error only when no interpreter at all is usable.
func Interpreters() ([]Interpreter, error) {
	discoverOnce.Do(func() { discovered, discoverErr = discover() })
	return discovered, discoverErr
}

// Default returns the interpreter examples and single-interpreter tests use:
// MPWIRE_PYTHON if set, else python3 on PATH, else the newest discovered.
func Default() (Interpreter, error) {
	if p := os.Getenv("MPWIRE_PYTHON"); p != "" {
		return probe(p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		if py, err := probe(p); err == nil && py.AtLeast(3, MinMinor) {
			return py, nil
		}
	}
	all, err := Interpreters()
	if err != nil {
		return Interpreter{}, err
	}
	return all[0], nil
}

// Find returns the discovered interpreter for 3.minor, if any.
func Find(minor int) (Interpreter, bool) {
	all, _ := Interpreters()
	for _, py := range all {
		if py.Major == 3 && py.Minor == minor {
			return py, true
		}
	}
	return Interpreter{}, false
}

func discover() ([]Interpreter, error) {
	var candidates []string
	if env := os.Getenv("MPWIRE_PYTHONS"); env != "" {
		candidates = splitList(env)
	} else {
		if p, err := exec.LookPath("python3"); err == nil {
			candidates = append(candidates, p)
		}
		if root := pyenvRoot(); root != "" {
			matches, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python"))
			candidates = append(candidates, matches...)
		}
	}
	var (
		out  []Interpreter
		errs []error
		seen = map[string]bool{}
	)
	for _, c := range candidates {
		py, err := probe(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := fmt.Sprintf("%d.%d", py.Major, py.Minor)
		if !py.AtLeast(3, MinMinor) || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, py)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Major != out[j].Major {
			return out[i].Major > out[j].Major
		}
		return out[i].Minor > out[j].Minor
	})
	if len(out) == 0 {
		return nil, fmt.Errorf("pyharness: no CPython >= 3.%d found (candidates %q): %w",
			MinMinor, candidates, errors.Join(errs...))
	}
	return out, nil
}

func splitList(s string) []string {
	f := func(r rune) bool { return r == os.PathListSeparator || r == ',' || r == ' ' || r == '\n' }
	return strings.FieldsFunc(s, f)
}

// pyenvRoot finds pyenv's root without hard-coding a machine's layout:
// PYENV_ROOT, then `pyenv root`, then ~/.pyenv if it exists.
func pyenvRoot() string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	if p, err := exec.LookPath("pyenv"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, p, "root").Output(); err == nil {
			if r := strings.TrimSpace(string(out)); r != "" {
				return r
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		if st, err := os.Stat(filepath.Join(home, ".pyenv")); err == nil && st.IsDir() {
			return filepath.Join(home, ".pyenv")
		}
	}
	return ""
}

// probe runs the interpreter once to learn its implementation, version and
// real executable path.
func probe(path string) (Interpreter, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-c",
		"import sys, platform; print(platform.python_implementation(), *sys.version_info[:3], sys.executable)")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Interpreter{}, fmt.Errorf("pyharness: probing %s: %w: %s", path, err, bytes.TrimSpace(stderr.Bytes()))
	}
	f := strings.Fields(string(out))
	if len(f) < 5 || f[0] != "CPython" {
		return Interpreter{}, fmt.Errorf("pyharness: %s is not CPython: %q", path, out)
	}
	var v [3]int
	for i := range v {
		if v[i], err = strconv.Atoi(f[i+1]); err != nil {
			return Interpreter{}, fmt.Errorf("pyharness: %s: bad version %q", path, out)
		}
	}
	exe := strings.Join(f[4:], " ")
	if exe == "" {
		exe = path
	}
	return Interpreter{Path: exe, Major: v[0], Minor: v[1], Micro: v[2]}, nil
}

// Dir returns the absolute path of the repository's pyfixtures directory
// (where the Python scripts live). It is found from this source file's
// location (internal/pyharness/../../pyfixtures), so it works for tests and
// benchmarks inside the module; MPWIRE_PYFIXTURES overrides it for binaries
// run elsewhere.
func Dir() string { return repoDir("MPWIRE_PYFIXTURES", "pyfixtures") }

// Script returns the absolute path of the fixture script name (e.g.
// "frame_writer.py").
func Script(name string) string { return filepath.Join(Dir(), name) }

// PackageDir returns the absolute path of the repository's python directory,
// which holds the user-facing Python package mpwire (GoProcess, GoPool,
// get_context): the directory to put on PYTHONPATH, as Start does for every
// script. MPWIRE_PYPACKAGE overrides it for binaries run elsewhere.
func PackageDir() string { return repoDir("MPWIRE_PYPACKAGE", "python") }

// repoDir is $env if set, else the repository's directory name, found from
// this source file's location.
func repoDir(env, name string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return name
	}
	return filepath.Join(filepath.Dir(file), "..", "..", name)
}
