//go:build linux

package sharedmem

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/pickle"
)

// FuzzShareableList feeds arbitrary segment contents to the ShareableList
// parser in both layouts and auto-detection, reads every item and writes
// each kind back. Anything but a clean error is a bug: no panic, no
// out-of-range access, no allocation beyond the input's size.
//
// The seed corpus in testdata/fuzz/FuzzShareableList holds segments written
// by CPython 3.8 and 3.11 (both layouts) and hostile headers.
func FuzzShareableList(f *testing.F) {
	hostile := [][]byte{
		nil,
		{1, 2, 3},
		le(1<<62, 0, 8),         // absurd count
		le(-1),                  // negative count
		le(1, 0, 1<<40),         // 3.9 offset beyond the segment
		le(2, 8, -8),            // 3.8 negative size
		le(2, 0, 16, 8),         // decreasing offsets
		le(1, 0, 8, 0, 0, 0, 0), // count fits, formats/codes truncated
		append(le(1, 0, 8, 5), []byte("999999s\x00\x01")...), // str format larger than the segment
	}
	for _, h := range hostile {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, layout := range []Layout{LayoutAuto, Layout38, Layout39} {
			buf := append([]byte(nil), data...)
			v, err := parseList(buf, layout)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("parse error %v does not wrap ErrCorrupt", err)
				}
				continue
			}
			if v.n > len(data) {
				t.Fatalf("%d items from %d bytes", v.n, len(data))
			}
			for i := 0; i < v.n; i++ {
				if _, err := v.get(i); err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("item %d: %v", i, err)
				}
				for _, x := range []any{int64(-5), 1.5, true, nil, "s", []byte("12345678901")} {
					err := v.set(i, x)
					if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrCapacity) {
						t.Fatalf("set item %d to %v: %v", i, x, err)
					}
					if err == nil {
						got, err := v.get(i)
						if err != nil {
							t.Fatalf("item %d unreadable after set(%v): %v", i, x, err)
						}
						if s, ok := x.(string); ok && got != s {
							t.Fatalf("item %d = %v after set(%q)", i, got, s)
						}
					}
				}
			}
		}
	})
}

// le packs int64 words little-endian.
func le(words ...int64) []byte {
	b := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(w))
	}
	return b
}

// memfdSource stands in for a spawned child's inherited descriptors: every
// fd a pickle names is a fresh 4096-byte memfd.
type memfdSource struct{}

func (memfdSource) File(v any, name string) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := unix.Ftruncate(fd, 4096); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// ctypePickle builds the pickle of a sharedctypes object as Python's spawn
// sends it (see docs/spec.md#value-and-array), with a lock named lockName if not empty.
func ctypePickle(typ string, length any, arenaSize, start, stop, nbytes int64, lockName string) []byte {
	st := pickle.NewDict()
	_ = st.Set("fd", int64(900))
	dup := &pickle.Object{Callable: reduction.GlobalDupFd, Args: pickle.Tuple{}, NewObj: true, State: st}
	arena := &pickle.Object{Callable: globalRebuildArena, Args: pickle.Tuple{arenaSize, dup}}
	ws := pickle.NewDict()
	_ = ws.Set("_state", pickle.Tuple{pickle.Tuple{arena, start, stop}, nbytes})
	w := &pickle.Object{Callable: globalBufferWrapper, Args: pickle.Tuple{}, NewObj: true, State: ws}
	var v any = &pickle.Object{Callable: globalRebuildCtype, Args: pickle.Tuple{pickle.Global{Module: "ctypes", Name: typ}, w, length}}
	if lockName != "" {
		lock := &pickle.Object{Callable: pickle.Global{Module: "multiprocessing.synchronize", Name: "RLock"}, Args: pickle.Tuple{}, NewObj: true,
			State: pickle.Tuple{int64(0x7f0000001000), int64(0), int64(1), lockName}}
		v = &pickle.Object{Callable: globalSynchronized, Args: pickle.Tuple{v, lock}}
	}
	b, err := pickle.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzValueFromPickle decodes arbitrary pickles as sharedctypes Values and
// Arrays: errors are fine, panics, out-of-range mappings and faults are not.
// Seeds: well-formed Value/Array pickles, blocks outside the arena, an
// arena larger than its file, a lock that does not exist.
func FuzzValueFromPickle(f *testing.F) {
	f.Add(ctypePickle("c_double", nil, 4096, 0, 8, 8, ""))
	f.Add(ctypePickle("c_int", int64(10), 4096, 16, 56, 40, ""))
	f.Add(ctypePickle("c_char", int64(5), 4096, 8, 16, 5, ""))
	f.Add(ctypePickle("c_long", nil, 4096, 4088, 4096, 8, ""))
	f.Add(ctypePickle("c_long", nil, 4096, 4090, 4098, 8, ""))           // block past the arena end
	f.Add(ctypePickle("c_int", int64(1<<40), 4096, 0, 1<<42, 1<<42, "")) // huge array
	f.Add(ctypePickle("c_int", nil, 1<<30, 0, 8, 4, ""))                 // arena larger than the file
	f.Add(ctypePickle("c_int", nil, 4096, 3, 8, 4, ""))                  // misaligned
	f.Add(ctypePickle("c_int", nil, 4096, 0, 8, 4, "/mp-fuzz-absent"))   // lock that does not exist
	f.Add(ctypePickle("c_int", nil, 4096, 0, 8, 4, "/../../etc/passwd"))
	f.Add(ctypePickle("Point", nil, 4096, 0, 8, 8, ""))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := pickle.Unmarshal(data, &v); err != nil {
			return
		}
		for _, array := range []bool{false, true} {
			o, err := objectFrom(memfdSource{}, v, array)
			if err != nil {
				continue
			}
			if len(o.mem) > o.arena.size || o.start+len(o.mem) > len(o.arena.data) {
				t.Fatalf("object [%d, +%d) outside its %d-byte arena", o.start, len(o.mem), o.arena.size)
			}
			if o.n >= 0 {
				for i := 0; i < o.n && i < 64; i++ {
					b := o.mem[i*o.typ.Size : (i+1)*o.typ.Size]
					_ = loadAny(o.typ, b)
				}
			} else {
				_ = loadAny(o.typ, o.mem)
			}
			o.Close()
		}
	})
}

// TestValueFromPickleChecks: well-formed pickles decode; hostile ones give
// errors of the right kind.
func TestValueFromPickleChecks(t *testing.T) {
	good := []struct {
		data  []byte
		array bool
	}{
		{ctypePickle("c_double", nil, 4096, 0, 8, 8, ""), false},
		{ctypePickle("c_int", int64(10), 4096, 16, 56, 40, ""), true},
		{ctypePickle("c_int64", nil, 4096, 4088, 4096, 8, ""), false},
	}
	for i, g := range good {
		var v any
		if err := pickle.Unmarshal(g.data, &v); err != nil {
			t.Fatal(err)
		}
		o, err := objectFrom(memfdSource{}, v, g.array)
		if err != nil {
			t.Fatalf("good pickle %d: %v", i, err)
		}
		o.Close()
	}
	bad := []struct {
		data  []byte
		array bool
		want  error
	}{
		{ctypePickle("c_long", nil, 4096, 4090, 4098, 8, ""), false, ErrCorrupt},
		{ctypePickle("c_int", int64(1<<40), 4096, 0, 1<<42, 1<<42, ""), true, ErrBadState},
		{ctypePickle("c_int", nil, 1<<30, 0, 8, 4, ""), false, ErrCorrupt},
		{ctypePickle("c_int", nil, 4096, 3, 8, 4, ""), false, ErrCorrupt},
		{ctypePickle("c_int", nil, 4096, 0, 8, 8, ""), false, ErrCorrupt},
		{ctypePickle("Point", nil, 4096, 0, 8, 8, ""), false, ErrType},
		{ctypePickle("c_int", int64(2), 4096, 0, 8, 8, ""), false, ErrType},
		{ctypePickle("c_int", nil, 4096, 0, 8, 4, ""), true, ErrType},
	}
	for i, b := range bad {
		var v any
		if err := pickle.Unmarshal(b.data, &v); err != nil {
			t.Fatal(err)
		}
		_, err := objectFrom(memfdSource{}, v, b.array)
		if !errors.Is(err, b.want) {
			t.Errorf("bad pickle %d: got %v, want %v", i, err, b.want)
		}
	}
	for _, name := range []string{"/mp-fuzz-absent", "/../../etc/passwd"} {
		var v any
		if err := pickle.Unmarshal(ctypePickle("c_int", nil, 4096, 0, 8, 4, name), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := objectFrom(memfdSource{}, v, false); err == nil {
			t.Errorf("lock %q: no error", name)
		}
	}
	arenas.Lock()
	defer arenas.Unlock()
	if len(arenas.byFD) != 0 {
		t.Errorf("%d arenas left mapped after errors and closes", len(arenas.byFD))
	}
}
