//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzOpen writes arbitrary bytes as a semaphore file in a private
// directory and opens it: Open must either refuse with ErrInvalid or
// return a semaphore whose operations work, never fault or hang.
func FuzzOpen(f *testing.F) {
	f.Add(semFile("", 1, FutexShared, SemSize))
	f.Add(semFile("", 0, FutexShared, SemSize))
	f.Add(semFile("", SemValueMax, FutexShared, SemSize))
	f.Add(semFile("", 1, 0, SemSize))
	f.Add(semFile("", 1, FutexShared, SemSize-1))
	f.Add(semFile("", 1, FutexShared, 64))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64 {
			data = data[:64]
		}
		if err := os.WriteFile(filepath.Join(dir, "sem.fuzz"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := openIn(dir, "/fuzz")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		defer s.Close()
		if len(data) < SemSize || binary.LittleEndian.Uint32(data[8:]) != FutexShared {
			t.Fatalf("accepted %x", data)
		}
		v0 := binary.LittleEndian.Uint32(data)
		if v0 > SemValueMax {
			t.Fatalf("accepted value %d", v0)
		}
		v, err := s.Value()
		if err != nil || v != int(v0) {
			t.Fatalf("Value = %d, %v; want %d", v, err, v0)
		}
		if ok, err := s.TryAcquire(); err != nil || ok != (v0 > 0) {
			t.Fatalf("TryAcquire = %v, %v with value %d", ok, err, v0)
		}
		ok, err := s.AcquireTimeout(0)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			_ = s.Release()
		}
		if err := s.Release(); err != nil && !errors.Is(err, ErrOverflow) {
			t.Fatal(err)
		}
	})
}

// FuzzName checks sem_open's name rules: a valid name maps to one file
// name in the directory ("sem." + the name without leading slashes) that
// Create, Open and Unlink all agree on.
func FuzzName(f *testing.F) {
	for _, s := range []string{"/mp-abcdefgh", "mp-x", "//a", "", "/", "/.", "/..", "/a/b", "a\x00", strings.Repeat("x", 252)} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name string) {
		fn, err := fileName(name)
		if err != nil {
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("%q: %v", name, err)
			}
			return
		}
		if !strings.HasPrefix(fn, "sem.") || strings.ContainsAny(fn, "/\x00") || len(fn) > nameMax || fn == "sem.." {
			t.Fatalf("%q → bad file name %q", name, fn)
		}
		s, err := createIn(dir, name, 1)
		if err != nil {
			t.Fatalf("create %q: %v", name, err)
		}
		s.Close()
		if _, err := os.Stat(filepath.Join(dir, fn)); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		o, err := openIn(dir, name)
		if err != nil {
			t.Fatalf("open %q: %v", name, err)
		}
		o.Close()
		if err := unlinkIn(dir, name); err != nil {
			t.Fatalf("unlink %q: %v", name, err)
		}
	})
}
