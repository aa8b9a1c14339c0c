package sharedmem

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/restrack"
	"github.com/mpwire/mpwire/pickle"
)

// shmDir is where glibc's shm_open keeps POSIX shared memory on Linux.
const shmDir = "/dev/shm"

// namePrefix is the prefix of the names SharedMemory picks when it is given
// none (Python: shared_memory._SHM_NAME_PREFIX without its leading '/').
const namePrefix = "psm_"

// maxNameLen is NAME_MAX: a longer name makes shm_open fail with
// ENAMETOOLONG.
const maxNameLen = 255

// globalSharedMemory is the class a SharedMemory pickles as:
// REDUCE(multiprocessing.shared_memory.SharedMemory, (name, False, size)).
var globalSharedMemory = pickle.Global{Module: "multiprocessing.shared_memory", Name: "SharedMemory"}

// SharedMemory mirrors multiprocessing.shared_memory.SharedMemory on POSIX: a
// named block of memory in /dev/shm that any process may map by name.
//
// Create registers the name with the process's default resource tracker,
// if any (process.SetDefaultTracker), as Python's SharedMemory(create=True)
// does; Open does not (Python 3.8–3.12 do); Close never unlinks. See the
// package documentation.
//
// The methods are safe for concurrent use. The slice returned by Bytes is
// shared with every process mapping the segment and becomes invalid
// (accessing it faults) after Close.
type SharedMemory struct {
	mu      sync.Mutex
	name    string // without the leading '/', as Python's .name
	size    int
	data    []byte
	fd      int
	created bool
}

// checkName validates a shared memory name as given to Python's
// SharedMemory(name=...): one optional leading '/' (Python adds it, and
// strips it from .name), then a non-empty file name with no '/', no NUL,
// not "." or "..", at most 255 bytes. It returns the name without the
// leading '/'.
func checkName(name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	switch {
	case n == "":
		return "", fmt.Errorf("%w: empty name", ErrInvalidName)
	case n == "." || n == "..":
		return "", fmt.Errorf("%w: %q", ErrInvalidName, name)
	case strings.ContainsAny(n, "/\x00"):
		return "", fmt.Errorf("%w: %q contains '/' or NUL", ErrInvalidName, name)
	case len(n) > maxNameLen:
		return "", fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidName, len(n), maxNameLen)
	}
	return n, nil
}

// randomName returns a name like the ones Python picks: "psm_" and 8 hex
// digits.
func randomName() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return namePrefix + hex.EncodeToString(b[:])
}

// Create creates a new segment of size bytes, like
// SharedMemory(name, create=True, size=size). An empty name picks a free
// random "psm_xxxxxxxx" name. It fails with an fs.ErrExist error if the name
// is taken. The memory is zeroed. The caller owns the name and must Unlink
// it when every process is done (nobody else will).
func Create(name string, size int) (*SharedMemory, error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: size %d, must be positive", ErrInvalidSize, size)
	}
	if name == "" {
		for i := 0; ; i++ {
			m, err := create(randomName(), size)
			if errors.Is(err, fs.ErrExist) && i < 100 {
				continue
			}
			return m, err
		}
	}
	n, err := checkName(name)
	if err != nil {
		return nil, err
	}
	return create(n, size)
}

func create(name string, size int) (*SharedMemory, error) {
	if err := checkSupported(); err != nil {
		return nil, err
	}
	path := shmDir + "/" + name
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "shm_open", Path: path, Err: err}
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		unix.Unlink(path)
		return nil, &os.PathError{Op: "ftruncate", Path: path, Err: err}
	}
	m, err := mapFD(fd, name)
	if err != nil {
		unix.Unlink(path)
		return nil, err
	}
	m.created = true
	restrack.Created("/"+name, restrack.SharedMemory)
	return m, nil
}

func init() { restrack.SetUnlinker(restrack.SharedMemory, Unlink) }

// Open attaches to an existing segment, like SharedMemory(name). The name may
// carry Python's leading '/'. The size is the segment's current size. It
// fails with an fs.ErrNotExist error if there is no such segment.
func Open(name string) (*SharedMemory, error) {
	n, err := checkName(name)
	if err != nil {
		return nil, err
	}
	if err := checkSupported(); err != nil {
		return nil, err
	}
	path := shmDir + "/" + n
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "shm_open", Path: path, Err: err}
	}
	return mapFD(fd, n)
}

// mapFD maps the whole file fd (which it then owns) shared read/write.
func mapFD(fd int, name string) (*SharedMemory, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "fstat", Path: shmDir + "/" + name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s/%s is not a regular file", ErrInvalidName, shmDir, name)
	}
	if st.Size <= 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s/%s is empty (Python: cannot mmap an empty file)", ErrInvalidSize, shmDir, name)
	}
	if st.Size > int64(maxInt) {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidSize, st.Size)
	}
	data, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "mmap", Path: shmDir + "/" + name, Err: err}
	}
	return &SharedMemory{name: name, size: int(st.Size), data: data, fd: fd}, nil
}

const maxInt = int(^uint(0) >> 1)

// Name is the segment's name without the leading '/' (Python's .name).
func (m *SharedMemory) Name() string { return m.name }

// TrackerName is the name Python's resource tracker knows the segment by
// ("/" + Name()), for REGISTER/UNREGISTER lines of rtype "shared_memory".
func (m *SharedMemory) TrackerName() string { return "/" + m.name }

// Size is the size in bytes (the file size when the segment was mapped).
func (m *SharedMemory) Size() int { return m.size }

// Bytes returns the mapped memory (Python's .buf) without copying: writes
// are seen by every process mapping the segment, immediately. It returns
// nil after Close.
func (m *SharedMemory) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data
}

// Created reports whether this handle created the segment.
func (m *SharedMemory) Created() bool { return m.created }

// Close unmaps the segment and closes its descriptor; the segment itself
// stays (Python: close()). Close is idempotent.
func (m *SharedMemory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		return nil
	}
	err := unix.Munmap(m.data)
	m.data = nil
	if cerr := unix.Close(m.fd); err == nil {
		err = cerr
	}
	m.fd = -1
	return err
}

// Unlink removes the name (Python: unlink()); processes that have the
// segment mapped keep their mapping. It fails with an fs.ErrNotExist error if
// the name is already gone, for instance because a Python resource tracker
// removed it.
func (m *SharedMemory) Unlink() error { return Unlink(m.name) }

// Unlink removes the named segment (shm_unlink).
func Unlink(name string) error {
	n, err := checkName(name)
	if err != nil {
		return err
	}
	if err := checkSupported(); err != nil {
		return err
	}
	if err := unix.Unlink(shmDir + "/" + n); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			restrack.Forget("/"+n, restrack.SharedMemory)
		}
		return &os.PathError{Op: "shm_unlink", Path: shmDir + "/" + n, Err: err}
	}
	restrack.Unlinked("/"+n, restrack.SharedMemory)
	return nil
}

// String is Python's repr: SharedMemory('psm_xxxxxxxx', size=N).
func (m *SharedMemory) String() string {
	return fmt.Sprintf("SharedMemory(%q, size=%d)", m.name, m.size)
}

// MarshalPickle makes a SharedMemory pickle as Python's does:
// REDUCE(multiprocessing.shared_memory.SharedMemory, (name, False, size)),
// so that a Python receiver attaches to the same segment.
func (m *SharedMemory) MarshalPickle() (any, error) {
	return Ref{Name: m.name, Size: m.size}.MarshalPickle()
}

// UnmarshalPickle attaches m to the segment a pickled SharedMemory names
// (see Ref). m must be a zero SharedMemory.
func (m *SharedMemory) UnmarshalPickle(v any) error {
	var r Ref
	if err := r.UnmarshalPickle(v); err != nil {
		return err
	}
	o, err := r.Open()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data != nil {
		o.Close()
		return fmt.Errorf("sharedmem: UnmarshalPickle into an open SharedMemory")
	}
	m.name, m.size, m.data, m.fd, m.created = o.name, o.size, o.data, o.fd, false
	return nil
}

// Ref is a pickled SharedMemory that has not been attached: its name and the
// size the sender saw.
type Ref struct {
	Name string
	Size int
}

// MarshalPickle writes REDUCE(SharedMemory, (name, False, size)).
func (r Ref) MarshalPickle() (any, error) {
	return &pickle.Object{Callable: globalSharedMemory, Args: pickle.Tuple{r.Name, false, int64(r.Size)}}, nil
}

// UnmarshalPickle accepts the decoded form of a pickled SharedMemory: an
// *pickle.Object calling multiprocessing.shared_memory.SharedMemory with
// (name[, create[, size]]) where create is false. The name is validated.
func (r *Ref) UnmarshalPickle(v any) error {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != globalSharedMemory || o.NewObj {
		return fmt.Errorf("%w: %s is not a pickled SharedMemory", ErrBadState, describe(v))
	}
	if len(o.Args) < 1 || len(o.Args) > 3 {
		return fmt.Errorf("%w: SharedMemory with %d arguments", ErrBadState, len(o.Args))
	}
	name, ok := o.Args[0].(string)
	if !ok {
		return fmt.Errorf("%w: SharedMemory name is %T", ErrBadState, o.Args[0])
	}
	n, err := checkName(name)
	if err != nil {
		return err
	}
	if len(o.Args) > 1 {
		if c, ok := o.Args[1].(bool); !ok || c {
			return fmt.Errorf("%w: pickled SharedMemory with create=%v", ErrBadState, o.Args[1])
		}
	}
	size := int64(0)
	if len(o.Args) > 2 {
		s, ok := o.Args[2].(int64)
		if !ok || s < 0 || s > int64(maxInt) {
			return fmt.Errorf("%w: SharedMemory size %v", ErrBadState, o.Args[2])
		}
		size = s
	}
	r.Name, r.Size = n, int(size)
	return nil
}

// Open attaches to the segment (Python ignores the pickled size too: the
// segment's own size wins).
func (r Ref) Open() (*SharedMemory, error) { return Open(r.Name) }

// Attach opens the segment a decoded pickled SharedMemory names (for example
// ChildProcess.Arg(i), or a value received over a Connection).
func Attach(v any) (*SharedMemory, error) {
	var r Ref
	if err := r.UnmarshalPickle(v); err != nil {
		return nil, err
	}
	return r.Open()
}

func describe(v any) string {
	if o, ok := v.(*pickle.Object); ok {
		if o.CallableValue != nil {
			return "a pickled object with a non-global callable"
		}
		return "a pickled " + o.Callable.String()
	}
	return fmt.Sprintf("a %T", v)
}
