package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
)

const pythonUsage = `Usage:
  mpcat python path             print a directory holding the mpwire Python package, for PYTHONPATH
  mpcat python install DIR      write the package's source tree into DIR (then: pip install DIR)
  mpcat python wheel [DIR]      build mpwire-VERSION-py3-none-any.whl into DIR (default .) with Python
  mpcat python version          print the package version

The Python package mpwire (GoProcess, GoPool, GoProcessPoolExecutor, GoFunc,
get_context) is the Python side of a Go worker. mpcat carries a copy of it (the repository's
python/ directory: pyproject.toml, mpwire/, a stdlib-only build backend), so
it can be had from the Go module alone:

  go run github.com/mpwire/mpwire/cmd/mpcat python install ./vendor-py
  pip install ./vendor-py                    # offline: nothing is downloaded
  PYTHONPATH=$(mpcat python path) python3 app.py

path writes the files once under the user cache directory. wheel runs the
build backend with the interpreter from --python (default: $MPWIRE_PYTHON,
else python3 on PATH).
`

// runPython is "mpcat python …".
func runPython(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mpcat python", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, pythonUsage) }
	interp := fs.String("python", "", "interpreter for wheel (default $MPWIRE_PYTHON, else python3)")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, pythonUsage)
		return 2
	}
	cmd, rest := rest[0], rest[1:]
	want := map[string][2]int{"path": {0, 0}, "version": {0, 0}, "install": {1, 1}, "wheel": {0, 1}}
	n, ok := want[cmd]
	if !ok {
		fmt.Fprintf(stderr, "mpcat python: unknown command %q\n\n%s", cmd, pythonUsage)
		return 2
	}
	if len(rest) < n[0] || len(rest) > n[1] {
		fmt.Fprintf(stderr, "mpcat python %s: wrong number of arguments\n\n%s", cmd, pythonUsage)
		return 2
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, python.Version())
	case "path":
		dir, err := python.Dir()
		if err != nil {
			fmt.Fprintln(stderr, "mpcat:", err)
			return 1
		}
		fmt.Fprintln(stdout, dir)
	case "install":
		if err := python.WriteDir(rest[0]); err != nil {
			fmt.Fprintln(stderr, "mpcat:", err)
			return 1
		}
		fmt.Fprintf(stderr, "mpcat: wrote the mpwire %s Python package to %s (pip install %s, or put it on PYTHONPATH)\n",
			python.Version(), rest[0], rest[0])
	case "wheel":
		out := "."
		if len(rest) == 1 {
			out = rest[0]
		}
		path, err := buildWheel(ctx, *interp, out, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "mpcat:", err)
			return 1
		}
		fmt.Fprintln(stdout, path)
	}
	return 0
}

// buildWheel writes the embedded tree to a temporary directory and runs its
// build backend there: the one implementation of the wheel is the Python
// one pip uses.
func buildWheel(ctx context.Context, interp, out string, stderr io.Writer) (string, error) {
	if interp == "" {
		var err error
		if interp, err = process.Python(); err != nil {
			return "", err
		}
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "mpwire-python-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := python.WriteDir(tmp); err != nil {
		return "", err
	}
	c := exec.CommandContext(ctx, interp, filepath.Join(tmp, "_build", "mpwire_build.py"), "wheel", out)
	c.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	c.Stderr = stderr
	b, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("building the wheel with %s: %w", interp, err)
	}
	return strings.TrimSpace(string(b)), nil
}
