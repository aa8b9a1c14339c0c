package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/python"
)

func TestPythonCommand(t *testing.T) {
	var out, errb bytes.Buffer
	mpcat := func(args ...string) int {
		out.Reset()
		errb.Reset()
		return run(context.Background(), append([]string{"python"}, args...), strings.NewReader(""), &out, &errb)
	}
	if code := mpcat("version"); code != 0 || strings.TrimSpace(out.String()) != python.Version() {
		t.Fatalf("python version: %d %q %s", code, out.String(), errb.String())
	}

	dir := filepath.Join(t.TempDir(), "vendor-py")
	if code := mpcat("install", dir); code != 0 {
		t.Fatalf("python install: exit %d: %s", code, errb.String())
	}
	for _, name := range python.Files() {
		want, _ := fs.ReadFile(python.FS(), name)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("python install: %s differs from the embedded copy (%v)", name, err)
		}
	}

	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if code := mpcat("path"); code != 0 {
		t.Fatalf("python path: exit %d: %s", code, errb.String())
	}
	p := strings.TrimSpace(out.String())
	if _, err := os.Stat(filepath.Join(p, "mpwire", "__init__.py")); err != nil {
		t.Fatalf("python path printed %q, which holds no mpwire package: %v", p, err)
	}

	py := pyharness.DefaultT(t)
	whl := t.TempDir()
	if code := mpcat("--python", py.Path, "wheel", whl); code != 0 {
		t.Fatalf("python wheel: exit %d: %s", code, errb.String())
	}
	got := strings.TrimSpace(out.String())
	if want := filepath.Join(whl, "mpwire-"+python.Version()+"-py3-none-any.whl"); got != want {
		t.Fatalf("python wheel printed %q, want %q", got, want)
	}
	if _, err := os.Stat(got); err != nil {
		t.Fatal(err)
	}

	for _, bad := range [][]string{{}, {"nosuch"}, {"install"}, {"install", "a", "b"}, {"path", "x"}} {
		if code := mpcat(bad...); code != 2 {
			t.Errorf("python %q: exit %d, want 2 (usage)", bad, code)
		}
	}
}
