// Package python carries mpwire's Python package inside the Go module, for
// users who have the Go module and not a checkout of the repository.
//
// The Python package mpwire (GoProcess, GoPool, GoProcessPoolExecutor,
// GoFunc, get_context, Manager) is the Python side of a Go worker: a Python
// parent imports it to start Go programs through multiprocessing's spawn
// protocol. It is stdlib-only and
// lives in the repository's python/ directory (pyproject.toml, the mpwire
// package, and an in-tree PEP 517 build backend that needs no download), so
// from a checkout:
//
//	pip install ./python             # offline: the backend is stdlib-only
//	PYTHONPATH=python python3 app.py # or no install at all
//
// This package embeds that directory, byte for byte, so the same files can
// be had from the module cache. The mpcat command exposes it:
//
//	go run github.com/mpwire/mpwire/cmd/mpcat python install ./vendor-py   # then pip install ./vendor-py
//	PYTHONPATH=$(go run github.com/mpwire/mpwire/cmd/mpcat python path) python3 app.py
//
// and a Go program that starts Python parents itself can use Dir or
// WriteDir. The files are the Apache-2.0 licensed sources of the
// repository (LICENSE is among them).
//
// Everything here is safe for concurrent use.
package python

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
)

// files is the python/ directory: what pip installs from and what goes on
// PYTHONPATH. A new module of the package (mpwire/_x.py) is picked up by the
// pattern; TestEmbeddedEqualsDisk fails if a file is missed.
//
//go:embed pyproject.toml LICENSE mpwire/*.py _build/*.py
var files embed.FS

// FS returns the embedded tree, rooted at the directory that holds
// pyproject.toml: pyproject.toml, LICENSE, mpwire/*.py and the build
// backend _build/mpwire_build.py.
func FS() fs.FS { return files }

// Files returns the slash-separated names of the embedded files, sorted.
func Files() []string {
	var names []string
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	sort.Strings(names)
	return names
}

var versionRE = regexp.MustCompile(`(?m)^__version__ = "([^"]+)"$`)

// Version returns the embedded package's version (mpwire.__version__).
func Version() string {
	b, err := files.ReadFile("mpwire/__init__.py")
	if err != nil {
		panic("python: embedded mpwire/__init__.py missing: " + err.Error())
	}
	m := versionRE.FindSubmatch(b)
	if m == nil {
		panic("python: embedded mpwire/__init__.py has no __version__")
	}
	return string(m[1])
}

// WriteDir writes the embedded tree into dir, creating dir and its
// subdirectories as needed (mode 0755; files 0644). Files of the same names
// are replaced; other files in dir are left alone. Afterwards
// "pip install DIR" installs the package offline, and DIR on PYTHONPATH
// makes "import mpwire" work without installing.
func WriteDir(dir string) error {
	for _, name := range Files() {
		data, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("python: %w", err)
		}
		if err := writeFile(dst, data); err != nil {
			return fmt.Errorf("python: %w", err)
		}
	}
	return nil
}

// writeFile replaces dst atomically (a temporary file renamed over it), so
// a Python process importing from dir never reads half a module.
func writeFile(dst string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

var dirOnce struct {
	sync.Mutex
	dir string
}

// Dir returns a directory holding the embedded tree, for PYTHONPATH: a
// directory named for the version and the contents under the user's cache
// directory (os.UserCacheDir()/mpwire/python-VERSION-HASH), written on first
// use and checked against the embedded bytes on every call of a new
// process, so an edited or damaged copy is rewritten. Several processes may
// call it at once.
func Dir() (string, error) {
	dirOnce.Lock()
	defer dirOnce.Unlock()
	if dirOnce.dir != "" {
		return dirOnce.dir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("python: no cache directory for the Python package: %w", err)
	}
	dir := filepath.Join(cache, "mpwire", "python-"+Version()+"-"+contentHash())
	if !matches(dir) {
		if err := WriteDir(dir); err != nil {
			return "", err
		}
		if !matches(dir) {
			return "", errors.New("python: " + dir + " does not hold the embedded files after writing them")
		}
	}
	dirOnce.dir = dir
	return dir, nil
}

// contentHash is a short SHA-256 over the embedded names and bytes.
func contentHash() string {
	h := sha256.New()
	for _, name := range Files() {
		data, _ := files.ReadFile(name)
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// matches reports whether dir holds every embedded file with the embedded
// bytes.
func matches(dir string) bool {
	for _, name := range Files() {
		want, _ := files.ReadFile(name)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path.Clean(name))))
		if err != nil || !bytes.Equal(got, want) {
			return false
		}
	}
	return true
}
