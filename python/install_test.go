package python_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/python"
)

// importCheck prints what a user sees after installing: the version, the
// file imported, and the public names.
const importCheck = `import mpwire, sys
print(mpwire.__version__)
print(mpwire.__file__)
print(sorted(n for n in mpwire.__all__ if hasattr(mpwire, n)))
print(mpwire.GoFunc("f").__reduce__()[0].__module__)`

const wantNames = "['ForkContextError', 'GoFunc', 'GoPool', 'GoProcess', 'GoProcessPoolExecutor', 'GoSyncManager', 'Manager', 'ManagerNotFoundError', 'get_context']"

// TestInstall proves every documented way of getting the Python package, in
// a fresh venv of every CPython here, with no package index reachable: pip
// install --no-index of the checkout's python/, pip install (index allowed)
// of the copy the Go module embeds (mpcat python install DIR writes it), an
// editable install, and PYTHONPATH without installing. Nothing may be downloaded: the build
// backend is in the tree and needs only the standard library (3.12+ venvs
// have no setuptools).
func TestInstall(t *testing.T) {
	pkg, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 4*time.Minute)
		tmp := t.TempDir()
		venv := filepath.Join(tmp, "venv")
		pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-m", "venv", venv}})
		vpy := py
		vpy.Path = filepath.Join(venv, "bin", "python")
		// No PYTHONPATH (the harness sets one), no cache, no local wheel
		// directory (this machine sets PIP_FIND_LINKS): nothing but the tree.
		env := []string{"PYTHONPATH=", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "PIP_NO_CACHE_DIR=1", "PIP_FIND_LINKS="}
		pip := func(args ...string) {
			t.Helper()
			pyharness.RunT(t, ctx, pyharness.Cmd{Python: vpy, Args: append([]string{"-m", "pip", "-q"}, args...), Env: env, Dir: tmp})
		}
		check := func(how, wantDir string) {
			t.Helper()
			out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: vpy, Args: []string{"-c", importCheck}, Env: env, Dir: tmp})
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 4 {
				t.Fatalf("%s: unexpected output:\n%s", how, out)
			}
			if lines[0] != python.Version() {
				t.Errorf("%s: version %s, want %s", how, lines[0], python.Version())
			}
			if !strings.HasPrefix(lines[1], wantDir+string(os.PathSeparator)) {
				t.Errorf("%s: imported %s, want a file under %s", how, lines[1], wantDir)
			}
			if lines[2] != wantNames {
				t.Errorf("%s: public names %s, want %s", how, lines[2], wantNames)
			}
			if lines[3] != "mpwire" {
				t.Errorf("%s: GoFunc pickles as %s.GoFunc, want mpwire.GoFunc", how, lines[3])
			}
		}
		site := filepath.Join(venv, "lib", "python"+py.Version()[:strings.LastIndex(py.Version(), ".")], "site-packages")

		pip("install", "--no-index", pkg)
		check("pip install --no-index ./python", site)

		// Without --no-index too (pip must find nothing to fetch), from the
		// copy the Go module embeds; it replaces the first install.
		vendor := filepath.Join(tmp, "vendor-py")
		if err := python.WriteDir(vendor); err != nil {
			t.Fatal(err)
		}
		pip("install", "--force-reinstall", vendor)
		check("pip install of the embedded copy", site)

		pip("install", "--no-index", "-e", pkg)
		check("pip install -e ./python", pkg)

		// PYTHONPATH=python, nothing installed, with the base interpreter.
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", importCheck},
			Env: []string{"PYTHONPATH=" + pkg}, Dir: tmp})
		if !strings.Contains(out, filepath.Join(pkg, "mpwire", "__init__.py")) {
			t.Errorf("PYTHONPATH=python: imported from elsewhere:\n%s", out)
		}
		left, _ := filepath.Glob(filepath.Join(pkg, "*", "__pycache__"))
		for _, d := range []string{"build", "dist", "mpwire.egg-info"} {
			if _, err := os.Stat(filepath.Join(pkg, d)); err == nil {
				left = append(left, d)
			}
		}
		if len(left) > 0 {
			t.Errorf("installing left files in the source tree: %v", left)
		}
	})
}

// TestWheel builds the wheel and the sdist with the backend alone (no pip)
// and checks their contents; building twice gives the same bytes.
func TestWheel(t *testing.T) {
	py := pyharness.DefaultT(t)
	ctx := pyharness.Context(t, time.Minute)
	out1, out2 := t.TempDir(), t.TempDir()
	build := filepath.Join("_build", "mpwire_build.py")
	w1 := strings.TrimSpace(pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: mustAbs(t, build), Args: []string{"wheel", out1}}))
	w2 := strings.TrimSpace(pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: mustAbs(t, build), Args: []string{"wheel", out2}}))
	want := "mpwire-" + python.Version() + "-py3-none-any.whl"
	if filepath.Base(w1) != want {
		t.Fatalf("wheel %s, want %s", w1, want)
	}
	b1, err := os.ReadFile(w1)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := os.ReadFile(w2)
	if err != nil {
		t.Fatal(err)
	}
	if string(b1) != string(b2) {
		t.Error("two builds of the wheel differ")
	}
	// The standard library checks the archive: every RECORD hash and size
	// matches, the package files are there and nothing else is.
	check := `import base64, csv, hashlib, io, sys, tarfile, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = sorted(z.namelist())
info = [n for n in names if n.endswith(".dist-info/RECORD")][0].rsplit("/", 1)[0]
rows = list(csv.reader(io.TextIOWrapper(z.open(info + "/RECORD"), "utf-8")))
assert sorted(r[0] for r in rows) == names, (rows, names)
for name, h, size in rows:
    if name.endswith("RECORD"):
        continue
    data = z.read(name)
    assert h == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), name
    assert int(size) == len(data), name
meta = z.read(info + "/METADATA").decode()
print(" ".join(n for n in names if not n.startswith(info)))
print(sorted(l.split(": ", 1)[0] for l in meta.splitlines()))
print("License: Apache-2.0" in meta and "Requires-Python: >=3.8" in meta)
sd = tarfile.open(sys.argv[2])
print(" ".join(sorted(m.name.split("/", 1)[1] for m in sd.getmembers())))
`
	sd := strings.TrimSpace(pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: mustAbs(t, build), Args: []string{"sdist", out1}}))
	out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", check, w1, sd}})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var pyFiles []string
	for _, f := range python.Files() {
		if strings.HasPrefix(f, "mpwire/") {
			pyFiles = append(pyFiles, f)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("unexpected output:\n%s", out)
	}
	if lines[0] != strings.Join(pyFiles, " ") {
		t.Errorf("wheel holds %s, want %s", lines[0], strings.Join(pyFiles, " "))
	}
	if lines[1] != "['Classifier', 'Classifier', 'Classifier', 'Classifier', 'License', 'Metadata-Version', 'Name', 'Project-URL', 'Project-URL', 'Requires-Python', 'Summary', 'Version']" {
		t.Errorf("METADATA fields: %s", lines[1])
	}
	if lines[2] != "True" {
		t.Error("METADATA lacks the license or Requires-Python")
	}
	if want := "LICENSE PKG-INFO " + strings.Join(append([]string{"_build/mpwire_build.py"}, pyFiles...), " ") + " pyproject.toml"; lines[3] != want {
		t.Errorf("sdist holds %s, want %s", lines[3], want)
	}
}

// TestPyprojectReader compares the backend's small TOML reader with
// tomllib (3.11+) on pyproject.toml.
func TestPyprojectReader(t *testing.T) {
	ran := false
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		if !py.AtLeast(3, 11) {
			t.Skip("tomllib is 3.11+")
		}
		ran = true
		ctx := pyharness.Context(t, time.Minute)
		code := `import sys, tomllib
sys.path.insert(0, "_build")
import mpwire_build as b
ours = b.read_pyproject()
ref = tomllib.load(open("pyproject.toml", "rb"))
urls = ref["project"].pop("urls")
assert ours.pop("project.urls") == urls, urls
assert ours == ref, (ours, ref)
print("same")`
		if out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Args: []string{"-c", code}}); strings.TrimSpace(out) != "same" {
			t.Fatalf("output %q", out)
		}
	})
	if !ran {
		t.Log("no CPython 3.11+ here: the reader was not compared")
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
