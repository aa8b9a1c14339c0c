package sharedmem

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// The multiprocessing names a Value/Array pickles through (docs/spec.md#value-and-array),
// identical in CPython 3.8–3.13.
var (
	globalSynchronized  = pickle.Global{Module: "multiprocessing.sharedctypes", Name: "synchronized"}
	globalRebuildCtype  = pickle.Global{Module: "multiprocessing.sharedctypes", Name: "rebuild_ctype"}
	globalBufferWrapper = pickle.Global{Module: "multiprocessing.heap", Name: "BufferWrapper"}
	globalRebuildArena  = pickle.Global{Module: "multiprocessing.heap", Name: "rebuild_arena"}
)

// MaxArenaSize bounds the arena size a pickle may ask a Go child to map.
const MaxArenaSize = 1 << 40

// FDSource hands out descriptors inherited from a spawn parent;
// *process.ChildProcess implements it (File).
type FDSource interface {
	File(v any, name string) (*os.File, error)
}

// arena is a mapped heap arena: an unlinked file in /dev/shm shared through
// its descriptor (multiprocessing.heap.Arena on Linux).
type arena struct {
	f    *os.File
	size int
	data []byte
	refs int // guarded by arenas.mu for inherited arenas
	fd   int // the inherited fd number (registry key), or -1 for Go-created arenas
	mu   sync.Mutex
}

// arenas shares one mapping between every object of an inherited arena:
// Python passes the same fd number for each Value/Array allocated from it,
// and a process-wide fd number names one open file while we hold it.
var arenas = struct {
	sync.Mutex
	byFD map[int]*arena
}{byFD: map[int]*arena{}}

// inheritedArena maps the arena a rebuild_arena(size, _DupFd) object names.
func inheritedArena(src FDSource, v any) (*arena, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != globalRebuildArena || o.NewObj || len(o.Args) != 2 {
		return nil, fmt.Errorf("%w: arena is %s, want %s(size, DupFd)", ErrBadState, describe(v), globalRebuildArena)
	}
	size, ok := o.Args[0].(int64)
	if !ok || size <= 0 || size > MaxArenaSize {
		return nil, fmt.Errorf("%w: arena size %v", ErrBadState, o.Args[0])
	}
	fd, err := reduction.InheritedFD(o.Args[1])
	if err != nil {
		return nil, fmt.Errorf("sharedmem: arena: %w", err)
	}
	arenas.Lock()
	defer arenas.Unlock()
	if a := arenas.byFD[fd]; a != nil {
		if a.size != int(size) {
			return nil, fmt.Errorf("%w: arena fd %d pickled with size %d and %d", ErrBadState, fd, a.size, size)
		}
		a.refs++
		return a, nil
	}
	f, err := src.File(o.Args[1], "arena-"+strconv.Itoa(fd))
	if err != nil {
		return nil, fmt.Errorf("sharedmem: arena: %w", err)
	}
	a, err := mapArena(f, int(size))
	if err != nil {
		return nil, err
	}
	a.fd, a.refs = fd, 1
	arenas.byFD[fd] = a
	return a, nil
}

// mapArena maps size bytes of f, refusing files shorter than that (touching
// a page past the end of the file would fault).
func mapArena(f *os.File, size int) (*arena, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("sharedmem: arena fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size < int64(size) {
		f.Close()
		return nil, fmt.Errorf("%w: arena file has %d bytes, pickle claims %d", ErrCorrupt, st.Size, size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sharedmem: arena mmap: %w", err)
	}
	return &arena{f: f, size: size, data: data, fd: -1}, nil
}

// newArena creates an arena the way multiprocessing.heap.Arena does on
// Linux: a file "pym-<pid>-<random>" in /dev/shm, unlinked at once, sized
// to a whole number of pages.
func newArena(size int) (*arena, error) {
	if err := checkSupported(); err != nil {
		return nil, err
	}
	page := os.Getpagesize()
	if size <= 0 {
		size = 1
	}
	size = (size + page - 1) / page * page
	for i := 0; ; i++ {
		var rb [6]byte
		_, _ = rand.Read(rb[:])
		name := fmt.Sprintf("%s/pym-%d-%x", shmDir, os.Getpid(), rb)
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == unix.EEXIST && i < 100 {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		unix.Unlink(name)
		if err := unix.Ftruncate(fd, int64(size)); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("sharedmem: arena ftruncate: %w", err)
		}
		return mapArena(os.NewFile(uintptr(fd), "arena"), size)
	}
}

// release drops one reference; the last unmaps and closes the file.
func (a *arena) release() error {
	if a.fd >= 0 {
		arenas.Lock()
		a.refs--
		if a.refs > 0 {
			arenas.Unlock()
			return nil
		}
		delete(arenas.byFD, a.fd)
		arenas.Unlock()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.data == nil {
		return nil
	}
	err := unix.Munmap(a.data)
	a.data = nil
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// reduce is the arena's pickled form for a spawned child.
func (a *arena) reduce(s *process.Spawning) (*pickle.Object, error) {
	dup, err := s.DupFd(int(a.f.Fd()))
	if err != nil {
		return nil, err
	}
	return &pickle.Object{Callable: globalRebuildArena, Args: pickle.Tuple{int64(a.size), dup}}, nil
}
