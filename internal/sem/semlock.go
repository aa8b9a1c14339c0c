//go:build linux && (amd64 || arm64 || ppc64le || riscv64 || loong64)

package sem

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// SemLock mirrors _multiprocessing.SemLock: a named semaphore plus the
// process-local bookkeeping CPython keeps (kind, maxvalue, count, owner).
//
// Ownership: CPython ties RLock ownership to a (process, thread) pair. Go
// has no thread identity, so a *SemLock handle is one owner: an RLock
// handle held by one goroutine is re-entered by any goroutine using the
// same handle. Goroutines that must exclude each other through an RLock
// each need their own handle (Clone), just as Python threads share an
// RLock object but not an owner. Lock/Semaphore kinds have no ownership
// (any handle or process may release), as in Python.
//
// All methods are safe for concurrent use.
type SemLock struct {
	shared   *sharedSem
	kind     Kind
	maxvalue int
	name     string

	// mu serialises RLock bookkeeping (count must not change between the
	// ownership check and the post). Semaphore-kind handles only use the
	// atomics.
	mu     sync.Mutex
	count  atomic.Int64 // CPython's self->count: acquisitions minus releases through this handle
	closed atomic.Bool
}

// sharedSem lets clones share one mapping.
type sharedSem struct {
	sem  *Sem
	refs atomic.Int32
}

func newSemLock(s *Sem, kind Kind, maxvalue int) *SemLock {
	sh := &sharedSem{sem: s}
	sh.refs.Store(1)
	return &SemLock{shared: sh, kind: kind, maxvalue: maxvalue, name: s.Name()}
}

func checkArgs(kind Kind, value, maxvalue int) error {
	if kind != RecursiveMutex && kind != Semaphore {
		return fmt.Errorf("sem: %w %d", ErrKind, int(kind))
	}
	if value < 0 || value > SemValueMax {
		return fmt.Errorf("%w: %d", ErrInvalidValue, value)
	}
	if maxvalue < math.MinInt32 || maxvalue > math.MaxInt32 {
		return fmt.Errorf("sem: maxvalue %d does not fit a C int", maxvalue)
	}
	return nil
}

// NewSemLock creates the semaphore name with the given value, like
// _multiprocessing.SemLock(kind, value, maxvalue, name, unlink=False). The
// caller owns the name and must Unlink it when done (Python does this in a
// finalizer and through its resource tracker).
func NewSemLock(kind Kind, value, maxvalue int, name string) (*SemLock, error) {
	if err := checkArgs(kind, value, maxvalue); err != nil {
		return nil, err
	}
	s, err := Create(name, uint32(value))
	if err != nil {
		return nil, err
	}
	return newSemLock(s, kind, maxvalue), nil
}

// NewSemLockRandom is NewSemLock with a fresh "/mp-xxxxxxxx" name, retried
// up to 100 times like multiprocessing.synchronize.SemLock.__init__.
func NewSemLockRandom(kind Kind, value, maxvalue int) (*SemLock, error) {
	if err := checkArgs(kind, value, maxvalue); err != nil {
		return nil, err
	}
	s, err := CreateRandom("/mp", uint32(value))
	if err != nil {
		return nil, err
	}
	return newSemLock(s, kind, maxvalue), nil
}

// NewLock creates the equivalent of multiprocessing.Lock().
func NewLock() (*SemLock, error) { return NewSemLockRandom(Semaphore, 1, 1) }

// NewRLock creates the equivalent of multiprocessing.RLock().
func NewRLock() (*SemLock, error) { return NewSemLockRandom(RecursiveMutex, 1, 1) }

// NewSemaphore creates the equivalent of multiprocessing.Semaphore(value).
func NewSemaphore(value int) (*SemLock, error) {
	return NewSemLockRandom(Semaphore, value, SemValueMax)
}

// NewBoundedSemaphore creates the equivalent of
// multiprocessing.BoundedSemaphore(value).
func NewBoundedSemaphore(value int) (*SemLock, error) {
	return NewSemLockRandom(Semaphore, value, value)
}

// Rebuild opens the semaphore a State names, like SemLock._rebuild on POSIX
// (sem_open(name, 0)); the handle is ignored. It fails with ErrNoName for a
// fork-context state and with an fs.ErrNotExist error if the creator has
// already unlinked the name.
func Rebuild(st State) (*SemLock, error) {
	if st.Name == "" {
		return nil, ErrNoName
	}
	if err := checkArgs(st.Kind, 0, st.MaxValue); err != nil {
		return nil, err
	}
	s, err := Open(st.Name)
	if err != nil {
		return nil, err
	}
	return newSemLock(s, st.Kind, st.MaxValue), nil
}

// State returns the tuple this SemLock pickles to, with this process's
// mapping address as the handle (as CPython does).
func (l *SemLock) State() State {
	return State{Handle: uint64(l.shared.sem.Handle()), Kind: l.kind, MaxValue: l.maxvalue, Name: l.name}
}

// Clone returns another handle on the same mapping with its own count and
// ownership: a second "thread" for RLock purposes. Each handle must be
// closed; the mapping goes away with the last one.
func (l *SemLock) Clone() (*SemLock, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	l.shared.refs.Add(1)
	return &SemLock{shared: l.shared, kind: l.kind, maxvalue: l.maxvalue, name: l.name}, nil
}

// Kind returns the SemLock kind.
func (l *SemLock) Kind() Kind { return l.kind }

// MaxValue returns maxvalue.
func (l *SemLock) MaxValue() int { return l.maxvalue }

// Name returns the semaphore name ("/mp-xxxxxxxx").
func (l *SemLock) Name() string { return l.name }

// Sem returns the underlying semaphore (shared by clones; do not Close it
// directly).
func (l *SemLock) Sem() *Sem { return l.shared.sem }

// mine is CPython's ISMINE for this handle.
func (l *SemLock) mine() bool { return l.count.Load() > 0 }

// reenter handles an RLock already held by this handle.
func (l *SemLock) reenter() (bool, error) {
	if l.closed.Load() {
		return false, ErrClosed
	}
	if l.kind != RecursiveMutex {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mine() {
		l.count.Add(1)
		return true, nil
	}
	return false, nil
}

func (l *SemLock) acquired() {
	if l.kind == RecursiveMutex {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	l.count.Add(1)
}

// Acquire is acquire(block=True, timeout=None), with the context's deadline
// as a timeout and its cancellation honoured within WaitSlice. It returns
// nil once acquired, or the context's error.
func (l *SemLock) Acquire(ctx context.Context) error {
	if ok, err := l.reenter(); ok || err != nil {
		return err
	}
	if err := l.shared.sem.Acquire(ctx); err != nil {
		return err
	}
	l.acquired()
	return nil
}

// AcquireTimeout is acquire(block=True, timeout=d): it reports whether the
// lock was acquired within d (d < 0 counts as 0).
func (l *SemLock) AcquireTimeout(d time.Duration) (bool, error) {
	if ok, err := l.reenter(); ok || err != nil {
		return ok, err
	}
	ok, err := l.shared.sem.AcquireTimeout(d)
	if ok {
		l.acquired()
	}
	return ok, err
}

// TryAcquire is acquire(block=False).
func (l *SemLock) TryAcquire() (bool, error) {
	if ok, err := l.reenter(); ok || err != nil {
		return ok, err
	}
	ok, err := l.shared.sem.TryAcquire()
	if ok {
		l.acquired()
	}
	return ok, err
}

// Release is release(). For an RLock it fails with ErrNotOwner unless this
// handle holds it and posts only on the final release. For other kinds it
// fails with ErrReleasedTooManyTimes if the value is already maxvalue; the
// check and the post are one atomic step (CPython checks, then posts).
func (l *SemLock) Release() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.kind == RecursiveMutex {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !l.mine() {
			return ErrNotOwner
		}
		if l.count.Load() > 1 {
			l.count.Add(-1)
			return nil
		}
		if err := l.shared.sem.Release(); err != nil {
			return err
		}
	} else {
		max := uint32(0)
		if l.maxvalue > 0 {
			max = uint32(l.maxvalue)
		}
		if err := l.shared.sem.release(max, ErrReleasedTooManyTimes); err != nil {
			return err
		}
	}
	l.count.Add(-1)
	return nil
}

// Count is _count(): acquisitions minus releases made through this handle
// (it can go negative for a Lock released by a non-acquirer, as in Python).
func (l *SemLock) Count() int { return int(l.count.Load()) }

// IsMine is _is_mine(): whether this handle holds the lock.
func (l *SemLock) IsMine() bool { return l.mine() }

// GetValue is _get_value() (Semaphore.get_value()): the shared count.
func (l *SemLock) GetValue() (int, error) { return l.shared.sem.Value() }

// IsZero is _is_zero().
func (l *SemLock) IsZero() (bool, error) {
	v, err := l.shared.sem.Value()
	return v == 0, err
}

// Unlink removes the name (what the creating Python object's finalizer
// does). Handles keep working.
func (l *SemLock) Unlink() error { return Unlink(l.name) }

// Close releases this handle; the mapping is unmapped when the last clone
// is closed, waking any blocked waiters with ErrClosed (a waiter blocked
// through a closed clone keeps waiting until then). Units this
// handle holds stay taken (as when a Python process exits holding a lock).
// Close is idempotent.
func (l *SemLock) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Swap(true) {
		return nil
	}
	if l.shared.refs.Add(-1) == 0 {
		return l.shared.sem.Close()
	}
	return nil
}
