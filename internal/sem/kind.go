package sem

import (
	"errors"
	"fmt"
	"time"
)

// Portable declarations: the semaphore itself is Linux-only (sem.go,
// semlock.go), but what synchronize and queue name — kinds, states,
// errors, limits — exists everywhere, so that those packages build on
// other systems and report ErrUnsupported (unsupported.go).

// SemValueMax is SEM_VALUE_MAX (= _multiprocessing.SemLock.SEM_VALUE_MAX).
const SemValueMax = 0x7fffffff

// WaitSlice bounds one futex sleep of a waiter whose context can be
// cancelled: cancellation is noticed at most this long after it happens.
const WaitSlice = 50 * time.Millisecond

// Kind is a SemLock kind, as in _multiprocessing.
type Kind int

const (
	// RecursiveMutex is the kind of multiprocessing.RLock: recursion and
	// ownership are tracked per handle and only the final release posts.
	RecursiveMutex Kind = 0
	// Semaphore is the kind of Lock, Semaphore and BoundedSemaphore.
	Semaphore Kind = 1
)

func (k Kind) String() string {
	switch k {
	case RecursiveMutex:
		return "RECURSIVE_MUTEX"
	case Semaphore:
		return "SEMAPHORE"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// The errors CPython's SemLock raises, with its messages.
var (
	// ErrReleasedTooManyTimes is Python's ValueError from release() of a
	// Semaphore-kind SemLock whose value already reached maxvalue.
	ErrReleasedTooManyTimes = errors.New("semaphore or lock released too many times")
	// ErrNotOwner is Python's AssertionError from release() of an RLock
	// the handle does not hold.
	ErrNotOwner = errors.New("attempt to release recursive lock not owned by thread")
	// ErrKind is Python's ValueError("unrecognized kind").
	ErrKind = errors.New("unrecognized kind")
	// ErrNoName reports a State without a name: the SemLock was created in
	// a fork context and cannot be opened by another process.
	ErrNoName = errors.New("sem: SemLock has no name (created in a fork context?)")
)

// State is what a multiprocessing SemLock pickles to for a spawned child:
// SemLock.__getstate__'s tuple (handle, kind, maxvalue, name). In a spawn
// pickle it is the BUILD argument of a multiprocessing.synchronize Lock,
// RLock, Semaphore or BoundedSemaphore object.
type State struct {
	// Handle is the creator's sem_t* as an integer; meaningless in any other
	// process (Rebuild ignores it, as CPython's _rebuild does on POSIX).
	Handle uint64
	// Kind is RecursiveMutex for RLock, Semaphore otherwise.
	Kind Kind
	// MaxValue bounds release() for Semaphore-kind locks (1 for Lock,
	// n for BoundedSemaphore(n), SemValueMax for Semaphore).
	MaxValue int
	// Name is the semaphore name, "/mp-xxxxxxxx".
	Name string
}
