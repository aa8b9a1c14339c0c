package python_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/python"
)

// diskFiles lists the files of the Python package tree on disk (this
// directory), leaving out the Go package's own files and what Python or pip
// leave behind.
func diskFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if d.IsDir() {
			if p != "." && (base == "__pycache__" || base == "build" || base == "dist" || base == "testdata" ||
				strings.HasSuffix(base, ".egg-info") || strings.HasPrefix(base, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(base, ".go") || strings.HasSuffix(base, ".pyc") || strings.HasPrefix(base, ".") {
			return nil
		}
		names = append(names, filepath.ToSlash(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

func TestEmbeddedEqualsDisk(t *testing.T) {
	disk := diskFiles(t)
	embedded := python.Files()
	if strings.Join(disk, "\n") != strings.Join(embedded, "\n") {
		t.Fatalf("the embedded file list differs from python/ on disk (fix the go:embed patterns):\nembedded: %q\ndisk:     %q", embedded, disk)
	}
	for _, name := range embedded {
		want, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(python.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: embedded copy differs from the file on disk", name)
		}
	}
	for _, want := range []string{"pyproject.toml", "LICENSE", "mpwire/__init__.py", "mpwire/_process.py",
		"mpwire/_pool.py", "mpwire/_context.py", "_build/mpwire_build.py"} {
		if _, err := fs.Stat(python.FS(), want); err != nil {
			t.Errorf("%s is not embedded: %v", want, err)
		}
	}
}

// The package's LICENSE is the repository's (the wheel and sdist carry it,
// and go:embed cannot reach ../LICENSE).
func TestLicenseIsTheRepositorys(t *testing.T) {
	root, err := os.ReadFile(filepath.Join("..", "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile("LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(root, ours) {
		t.Fatal("python/LICENSE differs from LICENSE: copy it over")
	}
	if !bytes.Contains(root, []byte("Apache License\n                           Version 2.0, January 2004")) {
		t.Fatal("LICENSE is not the Apache License 2.0")
	}
}

func TestVersionIsInitVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("mpwire", "__init__.py"))
	if err != nil {
		t.Fatal(err)
	}
	v := python.Version()
	if v == "" || !bytes.Contains(b, []byte(`__version__ = "`+v+`"`)) {
		t.Fatalf("Version() = %q, not the __version__ of mpwire/__init__.py", v)
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vendor-py")
	// A stale file of the same name is replaced; an unrelated one is kept.
	if err := os.MkdirAll(filepath.Join(dir, "mpwire"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mpwire", "__init__.py"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := python.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range python.Files() {
		want, _ := fs.ReadFile(python.FS(), name)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: written copy differs (err %v)", name, err)
		}
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err == nil && st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", name, st.Mode().Perm())
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "mine.txt")); err != nil || string(b) != "mine" {
		t.Errorf("an unrelated file was touched: %q %v", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*", ".tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestDirRewritesADamagedCopy(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	python.ForgetDir()
	defer python.ForgetDir()
	dir, err := python.Dir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, os.Getenv("XDG_CACHE_HOME")) || !strings.Contains(filepath.Base(dir), python.Version()) {
		t.Errorf("Dir() = %s, want a directory named for version %s under the user cache directory", dir, python.Version())
	}
	init := filepath.Join(dir, "mpwire", "__init__.py")
	want, _ := fs.ReadFile(python.FS(), "mpwire/__init__.py")
	if got, err := os.ReadFile(init); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Dir() holds no copy of mpwire/__init__.py: %v", err)
	}
	if err := os.WriteFile(init, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	python.ForgetDir() // as a new process
	again, err := python.Dir()
	if err != nil || again != dir {
		t.Fatalf("Dir() = %s, %v; want %s again", again, err, dir)
	}
	if got, _ := os.ReadFile(init); !bytes.Equal(got, want) {
		t.Fatal("Dir() did not rewrite a damaged copy")
	}
}
