package sharedmem

import (
	"context"
	"fmt"
	"time"

	"github.com/mpwire/mpwire/internal/pytimeout"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/synchronize"
)

// Lock is the lock guarding a synchronized Value or Array: a
// multiprocessing SemLock (normally an RLock, as Value(..., lock=True)
// makes) shared with Python by name, handled by package synchronize.
//
// Across processes it excludes like the Python lock. Inside this process
// it is a plain, non-recursive mutex shared by all goroutines (Python's
// recursion counts are per thread; Go has no thread identity): a goroutine
// that already holds it must not Acquire it again.
//
// Methods are safe for concurrent use.
type Lock struct {
	sl    *synchronize.SemLock
	local chan struct{} // in-process mutex: a token is held while locked
}

func newLock(sl *synchronize.SemLock) *Lock {
	return &Lock{sl: sl, local: make(chan struct{}, 1)}
}

// Acquire blocks until the lock is held or ctx ends (an error matching
// ctx.Err()).
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

// AcquireTimeout is acquire(timeout=d): false, with a nil error, if the
// lock was not taken within d. A negative d waits like Acquire.
func (l *Lock) AcquireTimeout(ctx context.Context, d time.Duration) (bool, error) {
	return pytimeout.Wait(ctx, d, func(ctx context.Context) (bool, error) {
		err := l.Acquire(ctx)
		return err == nil, err
	})
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
func (l *Lock) Recursive() bool { return l.sl.Class() == "RLock" }

// close closes the handle; a lock this process created is also unlinked.
func (l *Lock) close() error { return l.sl.Close() }

// lockFromPickle opens the SemLock a pickled multiprocessing.synchronize
// lock names (package synchronize parses and checks the state).
func lockFromPickle(v any) (*Lock, error) {
	sl, err := synchronize.OpenSemLock(v)
	if err != nil {
		return nil, fmt.Errorf("sharedmem: the lock: %w", err)
	}
	return newLock(sl), nil
}

// reduce is the lock's pickled form: what SemLock.__getstate__ gives.
func (l *Lock) reduce() *pickle.Object { return l.sl.Object() }
