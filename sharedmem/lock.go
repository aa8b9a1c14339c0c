package sharedmem

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/mpwire/mpwire/internal/sem"
	"github.com/mpwire/mpwire/pickle"
)

const synchronizeModule = "multiprocessing.synchronize"

// Lock is the lock guarding a synchronized Value or Array: a
// multiprocessing SemLock (normally an RLock, as Value(..., lock=True)
// makes) shared with Python by name.
//
// Across processes it excludes like the Python lock. Inside this process
// it is a plain, non-recursive mutex shared by all goroutines (Python's
// recursion counts are per thread; Go has no thread identity): a goroutine
// that already holds it must not Acquire it again.
//
// Methods are safe for concurrent use.
type Lock struct {
	sl      *sem.SemLock
	local   chan struct{} // in-process mutex: a token is held while locked
	created bool
}

func newLock(sl *sem.SemLock, created bool) *Lock {
	return &Lock{sl: sl, local: make(chan struct{}, 1), created: created}
}

// Acquire blocks until the lock is held or ctx ends.
func (l *Lock) Acquire(ctx context.Context) error {
	select {
	case l.local <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := l.sl.Acquire(ctx); err != nil {
		<-l.local
		return err
	}
	return nil
}

// AcquireTimeout is acquire(timeout=d): false if the lock was not taken
// within d.
func (l *Lock) AcquireTimeout(d time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := l.Acquire(ctx)
	if err == nil {
		return true, nil
	}
	if ctx.Err() != nil {
		return false, nil
	}
	return false, err
}

// TryAcquire is acquire(False).
func (l *Lock) TryAcquire() (bool, error) {
	select {
	case l.local <- struct{}{}:
	default:
		return false, nil
	}
	ok, err := l.sl.TryAcquire()
	if !ok || err != nil {
		<-l.local
	}
	return ok, err
}

// Release is release(); the caller must hold the lock.
func (l *Lock) Release() error {
	if err := l.sl.Release(); err != nil {
		return err
	}
	<-l.local
	return nil
}

// Name is the semaphore name ("/mp-xxxxxxxx").
func (l *Lock) Name() string { return l.sl.Name() }

// Recursive reports whether this is an RLock (else a Lock or Semaphore).
func (l *Lock) Recursive() bool { return l.sl.Kind() == sem.RecursiveMutex }

// close closes the handle; a lock this process created is also unlinked.
func (l *Lock) close() error {
	if l.created {
		_ = l.sl.Unlink()
	}
	return l.sl.Close()
}

// lockClassNames are the synchronize classes whose state is a SemLock tuple.
var lockClassNames = map[string]bool{"Lock": true, "RLock": true, "Semaphore": true, "BoundedSemaphore": true}

// lockFromPickle opens the SemLock a pickled multiprocessing.synchronize
// lock names: NEWOBJ of the class, BUILD (handle, kind, maxvalue, name).
func lockFromPickle(v any) (*Lock, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class().Module != synchronizeModule || !lockClassNames[o.Class().Name] {
		return nil, fmt.Errorf("%w: lock is %s, want a multiprocessing.synchronize lock", ErrBadPickle, describe(v))
	}
	st, ok := o.State.(pickle.Tuple)
	if !ok || len(st) != 4 {
		return nil, fmt.Errorf("%w: %s state %T, want (handle, kind, maxvalue, name)", ErrBadPickle, o.Class(), o.State)
	}
	var handle uint64
	switch h := st[0].(type) {
	case int64:
		handle = uint64(h)
	case *big.Int:
		if !h.IsUint64() {
			return nil, fmt.Errorf("%w: SemLock handle %v", ErrBadPickle, h)
		}
		handle = h.Uint64()
	default:
		return nil, fmt.Errorf("%w: SemLock handle %T", ErrBadPickle, st[0])
	}
	if st[3] == nil {
		return nil, fmt.Errorf("sharedmem: %w", sem.ErrNoName)
	}
	kind, ok1 := st[1].(int64)
	maxv, ok2 := st[2].(int64)
	name, ok3 := st[3].(string)
	if !ok1 || !ok2 || !ok3 || kind < 0 || kind > 1 || maxv < 0 || maxv > sem.SemValueMax {
		return nil, fmt.Errorf("%w: SemLock state %v", ErrBadPickle, st)
	}
	sl, err := sem.Rebuild(sem.State{Handle: handle, Kind: sem.Kind(kind), MaxValue: int(maxv), Name: name})
	if err != nil {
		return nil, fmt.Errorf("sharedmem: opening the lock %q: %w", name, err)
	}
	return newLock(sl, false), nil
}

// reduce is the lock's pickled form: what SemLock.__getstate__ gives.
func (l *Lock) reduce() *pickle.Object {
	st := l.sl.State()
	class := "RLock"
	if st.Kind != sem.RecursiveMutex {
		class = "Lock"
		if st.MaxValue != 1 {
			class = "BoundedSemaphore"
		}
	}
	return &pickle.Object{
		Callable: pickle.Global{Module: synchronizeModule, Name: class},
		Args:     pickle.Tuple{},
		NewObj:   true,
		State:    pickle.Tuple{int64(st.Handle), int64(st.Kind), int64(st.MaxValue), st.Name},
	}
}
