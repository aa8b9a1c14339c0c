//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/internal/restrack"
)

// Layout of glibc's struct new_sem (64-bit targets), as found in
// /dev/shm/sem.<name>.
const (
	// SemSize is sizeof(sem_t): the size glibc writes and maps.
	SemSize = 32
	// FutexShared is the value of the private field of every named
	// semaphore: glibc's FUTEX_SHARED, which turns its futex ops into
	// shared (cross-process) ones.
	FutexShared = 128

	privateOffset  = 8
	nwaitersShift  = 32
	oneWaiter      = uint64(1) << nwaitersShift
	minusOneWaiter = ^(oneWaiter - 1) // adding it decrements nwaiters
	valueMask      = uint64(1)<<nwaitersShift - 1
	defaultShmDir  = "/dev/shm"
	semFilePrefix  = "sem."
	nameMax        = 255 // NAME_MAX
	createRetries  = 100 // SemLock.__init__ tries 100 names
	tmpfileRetries = 50  // glibc sem_open's NRETRIES
)

// maxSleep bounds one futex sleep of a waiter with a very distant
// deadline; the loop simply sleeps again.
const maxSleep = time.Hour

// Errors callers branch on. Errors from the file system (a missing or
// existing name) are *os.PathError values that satisfy errors.Is with
// fs.ErrNotExist or fs.ErrExist.
var (
	// ErrClosed is returned by operations on a closed Sem or SemLock,
	// including waiters that were blocked when Close was called. It is
	// mpwire.ErrClosed, the sentinel every package shares.
	ErrClosed = mpwire.ErrClosed
	// ErrOverflow is sem_post's EOVERFLOW: the count is SemValueMax.
	ErrOverflow = fmt.Errorf("sem: value would exceed SEM_VALUE_MAX: %w", unix.EOVERFLOW)
	// ErrInvalid reports a file that is not a glibc named semaphore
	// (wrong size, type or contents).
	ErrInvalid = errors.New("sem: not a glibc named semaphore")
	// ErrInvalidName reports a name sem_open would reject (EINVAL or
	// ENAMETOOLONG).
	ErrInvalidName = errors.New("sem: invalid semaphore name")
	// ErrInvalidValue reports an initial value above SemValueMax (EINVAL).
	ErrInvalidValue = fmt.Errorf("sem: initial value above SEM_VALUE_MAX: %w", unix.EINVAL)
)

// errTimeout is the internal result of a wait that reached its deadline.
var errTimeout = errors.New("sem: timed out")

// Sem is one mapping of a glibc named semaphore.
//
// All methods are safe for concurrent use by multiple goroutines; a Sem
// has no notion of ownership (any goroutine or process may Release).
// Close may be called while other goroutines are blocked in Acquire: they
// return ErrClosed.
type Sem struct {
	name string
	mem  []byte
	data *uint64 // value | nwaiters<<32
	word *uint32 // the futex word: the value half of data

	active  atomic.Int64 // operations in progress (Close waits for them)
	closed  atomic.Bool
	closeMu sync.Mutex
}

// raceHB gives the race detector a happens-before edge from a Release to
// the Acquire that takes the unit: synchronisation through the mapped word
// is invisible to it. It is global because two mappings of one semaphore
// are different Sems. Only touched when raceEnabled.
var raceHB atomic.Uint64

// fileName validates a semaphore name the way glibc's __shm_get_name does
// for sem_open/sem_unlink and returns the file name inside the shm
// directory ("/mp-abc" → "sem.mp-abc").
func fileName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	switch {
	case n == "" || n == "." || n == "..", strings.ContainsAny(n, "/\x00"):
		return "", fmt.Errorf("%w %q: %w", ErrInvalidName, name, unix.EINVAL)
	case len(semFilePrefix)+len(n) > nameMax:
		return "", fmt.Errorf("%w %q: %w", ErrInvalidName, name, unix.ENAMETOOLONG)
	}
	return semFilePrefix + n, nil
}

// Open maps an existing named semaphore, as sem_open(name, 0) does. The name
// is the multiprocessing one ("/mp-xxxxxxxx", the SemLock's name); the file
// is /dev/shm/sem.mp-xxxxxxxx. The file must be a regular file of at least
// SemSize bytes whose private field is FutexShared and whose count is at
// most SemValueMax; anything else is ErrInvalid.
func Open(name string) (*Sem, error) { return openIn(defaultShmDir, name) }

func openIn(dir, name string) (*Sem, error) {
	fn, err := fileName(name)
	if err != nil {
		return nil, err
	}
	path := dir + "/" + fn
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &os.PathError{Op: "sem_open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "sem_open", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%w: %s is not a regular file (mode %#o)", ErrInvalid, path, st.Mode)
	}
	if st.Size < SemSize {
		return nil, fmt.Errorf("%w: %s has %d bytes, want %d", ErrInvalid, path, st.Size, SemSize)
	}
	mem, err := unix.Mmap(fd, 0, SemSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	s := newSem(name, mem)
	if priv := atomic.LoadUint32((*uint32)(unsafe.Pointer(&mem[privateOffset]))); priv != FutexShared {
		unix.Munmap(mem)
		return nil, fmt.Errorf("%w: %s has private=%d, want %d (not a process-shared glibc semaphore)", ErrInvalid, path, priv, FutexShared)
	}
	if v := atomic.LoadUint64(s.data) & valueMask; v > SemValueMax {
		unix.Munmap(mem)
		return nil, fmt.Errorf("%w: %s has value %d > SEM_VALUE_MAX", ErrInvalid, path, v)
	}
	return s, nil
}

func newSem(name string, mem []byte) *Sem {
	s := &Sem{name: name, mem: mem}
	s.data = (*uint64)(unsafe.Pointer(&mem[0]))
	s.word = (*uint32)(unsafe.Pointer(&mem[valueWordOffset]))
	return s
}

// Create makes a new named semaphore with the given initial value, as
// sem_open(name, O_CREAT|O_EXCL, 0600, value) does: the 32 bytes are
// written to an anonymous file in /dev/shm which is then linked to its
// final name, so no process can ever open a half-initialised semaphore. An
// existing name gives an error satisfying errors.Is(err, fs.ErrExist).
//
// The name is recorded for process.CleanupResources and registered with
// the process's default resource tracker, if any, until Unlink.
func Create(name string, value uint32) (*Sem, error) {
	s, err := createIn(defaultShmDir, name, value)
	if err == nil {
		restrack.Created(s.name, restrack.Semaphore)
	}
	return s, err
}

// CreateRandom creates a semaphore named like multiprocessing names them:
// prefix + "-" + 8 characters from [a-z0-9_] (prefix "/mp" gives
// "/mp-xxxxxxxx", Python's semprefix). Like SemLock.__init__ it tries up to
// 100 names before giving up with an fs.ErrExist error.
func CreateRandom(prefix string, value uint32) (*Sem, error) {
	s, err := createRandomIn(defaultShmDir, prefix, value, RandomName)
	if err == nil {
		restrack.Created(s.name, restrack.Semaphore)
	}
	return s, err
}

func init() { restrack.SetUnlinker(restrack.Semaphore, Unlink) }

// randomNameChars is tempfile._RandomNameSequence.characters.
const randomNameChars = "abcdefghijklmnopqrstuvwxyz0123456789_"

// RandomName returns prefix + "-" + 8 random characters from [a-z0-9_], the
// shape of SemLock._make_name().
func RandomName(prefix string) string {
	var b [8]byte
	for i := range b {
		b[i] = randomNameChars[rand.IntN(len(randomNameChars))]
	}
	return prefix + "-" + string(b[:])
}

func createRandomIn(dir, prefix string, value uint32, gen func(string) string) (*Sem, error) {
	var last error
	for i := 0; i < createRetries; i++ {
		s, err := createIn(dir, gen(prefix), value)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return s, err
		}
		last = err
	}
	return nil, fmt.Errorf("sem: cannot find name for semaphore: %w", last)
}

func createIn(dir, name string, value uint32) (*Sem, error) {
	fn, err := fileName(name)
	if err != nil {
		return nil, err
	}
	if value > SemValueMax {
		return nil, fmt.Errorf("%w: %d", ErrInvalidValue, value)
	}
	var init [SemSize]byte
	binary.NativeEndian.PutUint64(init[0:], uint64(value))
	binary.NativeEndian.PutUint32(init[privateOffset:], FutexShared)

	final := dir + "/" + fn
	fd, tmp, err := tempFile(dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if tmp != "" {
		defer unix.Unlink(tmp)
	}
	if n, err := unix.Write(fd, init[:]); err != nil || n != SemSize {
		if err == nil {
			err = unix.EIO
		}
		return nil, &os.PathError{Op: "write", Path: final, Err: err}
	}
	mem, err := unix.Mmap(fd, 0, SemSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: final, Err: err}
	}
	if err := linkTemp(fd, tmp, final); err != nil {
		unix.Munmap(mem)
		return nil, &os.PathError{Op: "sem_open", Path: final, Err: err}
	}
	return newSem(name, remapByName(fd, final, mem)), nil
}

// remapByName replaces the mapping of the temporary file with one made
// through the final name when that name still refers to the same file.
// The contents are identical; the difference is that /proc/<pid>/maps then
// shows /dev/shm/sem.<name> instead of a deleted temporary name, which is
// what tools (and mpwire's test harness, when deciding whether a
// semaphore is still in use) look for. On any failure the original
// mapping is kept.
func remapByName(tmpfd int, final string, mem []byte) []byte {
	var a, b unix.Stat_t
	if unix.Fstat(tmpfd, &a) != nil {
		return mem
	}
	fd, err := unix.Open(final, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return mem
	}
	defer unix.Close(fd)
	if unix.Fstat(fd, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return mem
	}
	m2, err := unix.Mmap(fd, 0, SemSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return mem
	}
	unix.Munmap(mem)
	return m2
}

// testNamedTemp makes tests take the no-O_TMPFILE path.
var testNamedTemp = false

// tempFile opens a new, empty, mode-0600 file in dir that no one else can
// open: an O_TMPFILE file (tmp == "") or, where the file system lacks
// O_TMPFILE, a randomly named one as glibc 2.36 makes (dir/sem.XXXXXX).
func tempFile(dir string) (fd int, tmp string, err error) {
	if !testNamedTemp {
		fd, err = unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		if err == nil {
			return fd, "", nil
		}
		if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EINVAL) {
			return -1, "", &os.PathError{Op: "open", Path: dir, Err: err}
		}
	}
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := 0; i < tmpfileRetries; i++ {
		var b [6]byte
		for j := range b {
			b[j] = chars[rand.IntN(len(chars))]
		}
		tmp = dir + "/" + semFilePrefix + string(b[:])
		fd, err = unix.Open(tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		if err == nil {
			return fd, tmp, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	return -1, "", &os.PathError{Op: "open", Path: tmp, Err: err}
}

// linkTemp gives the temporary file its final name without ever replacing
// an existing one (link fails with EEXIST, as in glibc).
func linkTemp(fd int, tmp, final string) error {
	if tmp != "" {
		return unix.Link(tmp, final)
	}
	err := unix.Linkat(fd, "", unix.AT_FDCWD, final, unix.AT_EMPTY_PATH)
	if err == nil || errors.Is(err, unix.EEXIST) {
		return err
	}
	// AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on older kernels; the
	// /proc/self/fd link works for anyone.
	return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW)
}

// Unlink removes a semaphore name, as sem_unlink does. Processes that have
// it mapped keep working; nobody can open it any more. A missing name gives
// an error satisfying errors.Is(err, fs.ErrNotExist). A name this process
// created is forgotten by process.CleanupResources and unregistered from
// its resource tracker.
func Unlink(name string) error {
	err := unlinkIn(defaultShmDir, name)
	switch {
	case err == nil:
		restrack.Unlinked(name, restrack.Semaphore)
	case errors.Is(err, fs.ErrNotExist):
		restrack.Forget(name, restrack.Semaphore)
	}
	return err
}

func unlinkIn(dir, name string) error {
	fn, err := fileName(name)
	if err != nil {
		return err
	}
	path := dir + "/" + fn
	if err := unix.Unlink(path); err != nil {
		return &os.PathError{Op: "sem_unlink", Path: path, Err: err}
	}
	return nil
}

// Name returns the name the semaphore was created or opened with.
func (s *Sem) Name() string { return s.name }

// Handle returns the address of this process's mapping, which is what
// CPython reports as SemLock.handle (a sem_t*). It is meaningless in any
// other process and zero after Close.
func (s *Sem) Handle() uintptr {
	if s.closed.Load() {
		return 0
	}
	return uintptr(unsafe.Pointer(s.data))
}

func (s *Sem) enter() error {
	s.active.Add(1)
	if s.closed.Load() {
		s.active.Add(-1)
		return ErrClosed
	}
	return nil
}

func (s *Sem) leave() { s.active.Add(-1) }

// Close unmaps the semaphore (sem_close). Goroutines blocked in Acquire
// return ErrClosed; Close waits for them to leave the mapping. The name is
// not removed (see Unlink). Close is idempotent.
func (s *Sem) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	// A waiter may have checked closed just before we set it and be about
	// to sleep, so one wake-up is not enough: wake until all have left.
	for s.active.Load() != 0 {
		futexWake(s.word, 1<<30)
		time.Sleep(200 * time.Microsecond)
	}
	return unix.Munmap(s.mem)
}

// Value returns the current count (sem_getvalue).
func (s *Sem) Value() (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	return int(atomic.LoadUint64(s.data) & valueMask), nil
}

// Waiters returns glibc's count of processes/threads that announced they
// are about to sleep on the semaphore (the high half of the word). It is
// a diagnostic: the count includes waiters between announcing themselves
// and sleeping, and stays raised if a waiter was killed.
func (s *Sem) Waiters() (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	return int(atomic.LoadUint64(s.data) >> nwaitersShift), nil
}

// TryAcquire takes one unit if the count is non-zero (sem_trywait). It
// never blocks.
func (s *Sem) TryAcquire() (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.leave()
	ok := s.tryAcquire()
	if ok && raceEnabled {
		raceHB.Load()
	}
	return ok, nil
}

func (s *Sem) tryAcquire() bool {
	for {
		d := atomic.LoadUint64(s.data)
		if d&valueMask == 0 {
			return false
		}
		if atomic.CompareAndSwapUint64(s.data, d, d-1) {
			return true
		}
	}
}

// Acquire takes one unit, sleeping until one is available (sem_wait). It
// returns ctx.Err() (context.Canceled or context.DeadlineExceeded) if the
// context ends first, and ErrClosed if the Sem is closed meanwhile. A
// context deadline is honoured exactly; a cancellation within WaitSlice.
func (s *Sem) Acquire(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if s.tryAcquire() {
		s.raceAcquired()
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	err := s.wait(deadline, ctx.Done())
	switch {
	case err == nil:
		s.raceAcquired()
		return nil
	case errors.Is(err, errTimeout):
		return context.DeadlineExceeded
	case errors.Is(err, errCanceled):
		return ctx.Err()
	}
	return err
}

// AcquireTimeout takes one unit, waiting at most d (sem_timedwait). It
// reports false if the time ran out. A negative d is treated as zero, as
// Python's acquire(timeout=d) does: the call then only tries once.
func (s *Sem) AcquireTimeout(d time.Duration) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.leave()
	if s.tryAcquire() {
		s.raceAcquired()
		return true, nil
	}
	if d <= 0 {
		return false, nil
	}
	err := s.wait(time.Now().Add(d), nil)
	switch {
	case err == nil:
		s.raceAcquired()
		return true, nil
	case errors.Is(err, errTimeout):
		return false, nil
	}
	return false, err
}

func (s *Sem) raceAcquired() {
	if raceEnabled {
		raceHB.Load()
	}
}

var errCanceled = errors.New("sem: canceled")

// wait is glibc's __new_sem_wait_slow: register as a waiter, then either
// take a unit and deregister in one CAS, or sleep on the futex word while
// the count is zero. deadline zero means none; done nil means no
// cancellation. The waiter mark is always removed before returning.
func (s *Sem) wait(deadline time.Time, done <-chan struct{}) error {
	d := atomic.AddUint64(s.data, oneWaiter)
	for {
		if d&valueMask != 0 {
			if atomic.CompareAndSwapUint64(s.data, d, d-1-oneWaiter) {
				return nil
			}
			d = atomic.LoadUint64(s.data)
			continue
		}
		var err error
		switch {
		case s.closed.Load():
			err = ErrClosed
		case isDone(done):
			err = errCanceled
		}
		var until time.Duration = -1 // forever
		if err == nil && !deadline.IsZero() {
			until = time.Until(deadline)
			if until <= 0 {
				err = errTimeout
			}
		}
		if err != nil {
			atomic.AddUint64(s.data, minusOneWaiter)
			return err
		}
		if done != nil && (until < 0 || until > WaitSlice) {
			until = WaitSlice
		} else if until > maxSleep {
			until = maxSleep // keeps the absolute timespec far from overflow
		}
		// 0, EAGAIN (the count changed), EINTR (a signal, e.g. Go's
		// preemption) and ETIMEDOUT (end of a slice or the deadline) all
		// mean "look again"; the checks above decide.
		switch e := futexWaitFor(s.word, 0, until); e {
		case nil, unix.EAGAIN, unix.EINTR, unix.ETIMEDOUT:
		default:
			atomic.AddUint64(s.data, minusOneWaiter)
			return fmt.Errorf("sem: futex wait on %s: %w", s.name, e)
		}
		d = atomic.LoadUint64(s.data)
	}
}

func isDone(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// Release adds one unit and wakes one sleeper if any announced itself
// (sem_post). At SemValueMax it fails with ErrOverflow.
func (s *Sem) Release() error {
	return s.release(SemValueMax, ErrOverflow)
}

// release posts unless the count is already at least max, in which case it
// returns full. The check and the increment are one CAS, so unlike
// CPython's sem_getvalue-then-sem_post the bound cannot be overshot by
// racing releasers.
func (s *Sem) release(max uint32, full error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if raceEnabled {
		raceHB.Add(1)
	}
	for {
		d := atomic.LoadUint64(s.data)
		if uint32(d) >= max {
			return full
		}
		if atomic.CompareAndSwapUint64(s.data, d, d+1) {
			if d>>nwaitersShift > 0 {
				futexWake(s.word, 1)
			}
			return nil
		}
	}
}
