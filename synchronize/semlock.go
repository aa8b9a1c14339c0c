package synchronize

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/internal/pytimeout"
	"github.com/mpwire/mpwire/internal/sem"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// module is the Python module that defines the classes of this package.
const module = "multiprocessing.synchronize"

// Errors callers branch on (errors.Is).
var (
	// ErrReleasedTooManyTimes is Python's ValueError("semaphore or lock
	// released too many times"): a release above maxvalue.
	ErrReleasedTooManyTimes = sem.ErrReleasedTooManyTimes
	// ErrNotOwner is Python's AssertionError from releasing an RLock this
	// handle does not hold.
	ErrNotOwner = sem.ErrNotOwner
	// ErrClosed is returned by every operation on a closed handle. It is
	// mpwire.ErrClosed.
	ErrClosed = mpwire.ErrClosed
	// ErrNotOwned is Python's AssertionError from Condition.wait/notify
	// called without holding the condition's lock.
	ErrNotOwned = errors.New("synchronize: condition's lock is not held by this handle")
	// ErrBrokenCondition reports a Condition whose shared counters are
	// inconsistent (Python: the AssertionErrors in Condition.notify), e.g.
	// after a waiter died between its steps.
	ErrBrokenCondition = errors.New("synchronize: condition state is inconsistent")
	// ErrBadState wraps every error about a pickled object that is not the
	// expected multiprocessing.synchronize object. It is mpwire.ErrBadState.
	ErrBadState = mpwire.ErrBadState
)

// Class names of multiprocessing.synchronize.
const (
	classLock             = "Lock"
	classRLock            = "RLock"
	classSemaphore        = "Semaphore"
	classBoundedSemaphore = "BoundedSemaphore"
	classCondition        = "Condition"
	classEvent            = "Event"
)

// SemLock is the part shared by Lock, RLock, Semaphore and
// BoundedSemaphore: one named glibc semaphore (a
// multiprocessing.synchronize.SemLock). A SemLock made by a New function
// owns its name and unlinks it on Close; one rebuilt from a pickled state
// only closes its mapping.
//
// All methods are safe for concurrent use. Lock and Semaphore kinds have no
// owner, as in Python; an RLock handle is one owner (see RLock).
type SemLock struct {
	sl    *sem.SemLock
	class string
	owner atomic.Bool
}

func newSemLock(class string, kind sem.Kind, value, maxvalue int) (*SemLock, error) {
	sl, err := sem.NewSemLockRandom(kind, value, maxvalue)
	if err != nil {
		return nil, fmt.Errorf("synchronize: creating %s: %w", class, err)
	}
	l := &SemLock{sl: sl, class: class}
	l.owner.Store(true)
	return l, nil
}

// Acquire is acquire(): it blocks until acquired or ctx ends (an error
// matching ctx.Err()).
func (l *SemLock) Acquire(ctx context.Context) error { return l.sl.Acquire(ctx) }

// AcquireTimeout is acquire(True, timeout=d): it reports whether the lock
// was acquired within d (false, with a nil error, when d passed first).
// d == 0 tries once; a negative d waits like Acquire. ctx bounds the wait
// too: its end is an error.
func (l *SemLock) AcquireTimeout(ctx context.Context, d time.Duration) (bool, error) {
	return pytimeout.Wait(ctx, d, func(ctx context.Context) (bool, error) {
		err := l.sl.Acquire(ctx)
		return err == nil, err
	})
}

// TryAcquire is acquire(False).
func (l *SemLock) TryAcquire() (bool, error) { return l.sl.TryAcquire() }

// Release is release(): ErrReleasedTooManyTimes above maxvalue, ErrNotOwner
// for an RLock this handle does not hold.
func (l *SemLock) Release() error { return l.sl.Release() }

// Name is the semaphore's name, "/mp-xxxxxxxx".
func (l *SemLock) Name() string { return l.sl.Name() }

// Class is the Python class name ("Lock", "Semaphore", …).
func (l *SemLock) Class() string { return l.class }

// MaxValue is the SemLock's maxvalue.
func (l *SemLock) MaxValue() int { return l.sl.MaxValue() }

// GetValue is _get_value(): the shared count.
func (l *SemLock) GetValue() (int, error) { return l.sl.GetValue() }

// IsZero is _is_zero().
func (l *SemLock) IsZero() (bool, error) { return l.sl.IsZero() }

// Count is _count(): acquisitions minus releases through this handle.
func (l *SemLock) Count() int { return l.sl.Count() }

// IsMine is _is_mine(): whether this handle holds the lock.
func (l *SemLock) IsMine() bool { return l.sl.IsMine() }

// Owner reports whether this handle created the name (and unlinks it on
// Close).
func (l *SemLock) Owner() bool { return l.owner.Load() }

// Unlink removes the name now, like the creating Python object's finalizer.
// Processes that already opened it keep working; nobody can open it again.
func (l *SemLock) Unlink() error {
	err := l.sl.Unlink()
	l.owner.Store(false)
	return err
}

// Close unmaps the semaphore, waking this handle's blocked waiters with
// ErrClosed, and unlinks the name if this handle created it: spawned
// children must have opened it by then (a Python child opens it while
// unpickling its arguments, early in its start-up; see the package doc).
// Units this handle holds stay taken. Close is idempotent.
func (l *SemLock) Close() error {
	err := l.sl.Close()
	if l.owner.Swap(false) {
		if uerr := l.sl.Unlink(); uerr != nil && err == nil && !errors.Is(uerr, fs.ErrNotExist) {
			err = uerr
		}
	}
	return err
}

// ReduceForSpawn implements process.SpawnReducer: the object pickles as
// NEWOBJ of its multiprocessing.synchronize class with the BUILD state
// (handle, kind, maxvalue, name), so a Python child opens it by name.
func (l *SemLock) ReduceForSpawn(*process.Spawning) (any, error) { return l.Object(), nil }

// Object returns the pickled form (see ReduceForSpawn).
func (l *SemLock) Object() *pickle.Object {
	st := l.sl.State()
	return &pickle.Object{Callable: pickle.Global{Module: module, Name: l.class}, Args: pickle.Tuple{}, NewObj: true,
		State: pickle.Tuple{int64(st.Handle), int64(st.Kind), int64(st.MaxValue), st.Name}}
}

// parseState decodes a pickled multiprocessing.synchronize SemLock (Lock,
// RLock, Semaphore, BoundedSemaphore): its class name and (handle, kind,
// maxvalue, name) state. It is the one parser of that state (sharedmem's
// Value/Array locks come here too, through OpenSemLock).
func parseState(v any) (class string, st sem.State, err error) {
	o, ok := v.(*pickle.Object)
	if !ok {
		return "", st, fmt.Errorf("%w: %s is not a pickled SemLock", ErrBadState, describe(v))
	}
	g := o.Class()
	if g.Module != module {
		return "", st, fmt.Errorf("%w: %s is not a multiprocessing.synchronize object", ErrBadState, describe(v))
	}
	switch g.Name {
	case classLock, classRLock, classSemaphore, classBoundedSemaphore:
	default:
		return "", st, fmt.Errorf("%w: %s is not a SemLock", ErrBadState, describe(v))
	}
	t, ok := o.State.(pickle.Tuple)
	if !ok || len(t) != 4 {
		return "", st, fmt.Errorf("%w: %s state is %s, want (handle, kind, maxvalue, name)", ErrBadState, g.Name, describe(o.State))
	}
	h, ok1 := toInt(t[0])
	k, ok2 := toInt(t[1])
	m, ok3 := toInt(t[2])
	if !ok1 || !ok2 || !ok3 {
		return "", st, fmt.Errorf("%w: %s state holds %T, %T, %T, want ints", ErrBadState, g.Name, t[0], t[1], t[2])
	}
	switch n := t[3].(type) {
	case string:
		st.Name = n
	case nil:
		return "", st, fmt.Errorf("%w: %s: %w", ErrBadState, g.Name, sem.ErrNoName)
	default:
		return "", st, fmt.Errorf("%w: %s name is %T", ErrBadState, g.Name, t[3])
	}
	if k != int64(sem.RecursiveMutex) && k != int64(sem.Semaphore) {
		return "", st, fmt.Errorf("%w: %s kind %d", ErrBadState, g.Name, k)
	}
	if m < 0 || m > sem.SemValueMax {
		return "", st, fmt.Errorf("%w: %s maxvalue %d out of [0, SEM_VALUE_MAX]", ErrBadState, g.Name, m)
	}
	st.Handle, st.Kind, st.MaxValue = uint64(h), sem.Kind(k), int(m)
	return g.Name, st, nil
}

// OpenSemLock opens a pickled SemLock of any of the four classes by name,
// like SemLock._rebuild. The creator must still hold the name.
func OpenSemLock(v any) (*SemLock, error) {
	class, st, err := parseState(v)
	if err != nil {
		return nil, err
	}
	sl, err := sem.Rebuild(st)
	if err != nil {
		return nil, fmt.Errorf("synchronize: opening %s %s: %w", class, st.Name, err)
	}
	return &SemLock{sl: sl, class: class}, nil
}

func openAs(v any, class string) (*SemLock, error) {
	l, err := OpenSemLock(v)
	if err != nil {
		return nil, err
	}
	if l.class != class {
		l.Close()
		return nil, fmt.Errorf("%w: got a %s, want a %s", ErrBadState, l.class, class)
	}
	return l, nil
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case *big.Int:
		if x.IsUint64() {
			return int64(x.Uint64()), true // a sem_t* above 2^63: only used as an opaque handle
		}
		if x.IsInt64() {
			return x.Int64(), true
		}
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case *pickle.Object:
		return x.Callable.Module + "." + x.Callable.Name
	case nil:
		return "None"
	}
	return fmt.Sprintf("%T", v)
}

// Lock is multiprocessing.Lock: a SemLock of value 1 and maxvalue 1 that
// any process or goroutine may release.
type Lock struct{ *SemLock }

// NewLock creates a Lock (Python: ctx.Lock() in a spawn context).
func NewLock() (*Lock, error) {
	l, err := newSemLock(classLock, sem.Semaphore, 1, 1)
	if err != nil {
		return nil, err
	}
	return &Lock{l}, nil
}

// OpenLock opens a pickled multiprocessing.synchronize.Lock.
func OpenLock(v any) (*Lock, error) {
	l, err := openAs(v, classLock)
	if err != nil {
		return nil, err
	}
	return &Lock{l}, nil
}

// RLock is multiprocessing.RLock. Recursion and ownership are per handle:
// a goroutine that holds it may acquire it again through the same handle,
// and so may any other goroutine using that handle. Goroutines that must
// exclude each other each need their own handle (Clone), as Python threads
// are distinct owners of one RLock.
type RLock struct{ *SemLock }

// NewRLock creates an RLock.
func NewRLock() (*RLock, error) {
	l, err := newSemLock(classRLock, sem.RecursiveMutex, 1, 1)
	if err != nil {
		return nil, err
	}
	return &RLock{l}, nil
}

// OpenRLock opens a pickled multiprocessing.synchronize.RLock.
func OpenRLock(v any) (*RLock, error) {
	l, err := openAs(v, classRLock)
	if err != nil {
		return nil, err
	}
	return &RLock{l}, nil
}

// Clone returns another owner of the same RLock (the mapping is shared; the
// clone never unlinks the name).
func (r *RLock) Clone() (*RLock, error) {
	sl, err := r.sl.Clone()
	if err != nil {
		return nil, err
	}
	return &RLock{&SemLock{sl: sl, class: classRLock}}, nil
}

// Semaphore is multiprocessing.Semaphore(value): maxvalue SEM_VALUE_MAX.
type Semaphore struct{ *SemLock }

// NewSemaphore creates a Semaphore with the given initial value.
func NewSemaphore(value int) (*Semaphore, error) {
	l, err := newSemLock(classSemaphore, sem.Semaphore, value, sem.SemValueMax)
	if err != nil {
		return nil, err
	}
	return &Semaphore{l}, nil
}

// OpenSemaphore opens a pickled multiprocessing.synchronize.Semaphore.
func OpenSemaphore(v any) (*Semaphore, error) {
	l, err := openAs(v, classSemaphore)
	if err != nil {
		return nil, err
	}
	return &Semaphore{l}, nil
}

// BoundedSemaphore is multiprocessing.BoundedSemaphore(value): releasing
// above the initial value fails with ErrReleasedTooManyTimes.
type BoundedSemaphore struct{ *SemLock }

// NewBoundedSemaphore creates a BoundedSemaphore.
func NewBoundedSemaphore(value int) (*BoundedSemaphore, error) {
	l, err := newSemLock(classBoundedSemaphore, sem.Semaphore, value, value)
	if err != nil {
		return nil, err
	}
	return &BoundedSemaphore{l}, nil
}

// OpenBoundedSemaphore opens a pickled
// multiprocessing.synchronize.BoundedSemaphore.
func OpenBoundedSemaphore(v any) (*BoundedSemaphore, error) {
	l, err := openAs(v, classBoundedSemaphore)
	if err != nil {
		return nil, err
	}
	return &BoundedSemaphore{l}, nil
}
