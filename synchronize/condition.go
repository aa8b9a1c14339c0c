package synchronize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mpwire/mpwire/internal/pytimeout"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// Condition is multiprocessing.Condition: a lock (an RLock unless given
// one) plus three Semaphore(0)s, _sleeping_count, _woken_count and
// _wait_semaphore, driven by the pure-Python protocol of
// multiprocessing/synchronize.py (identical in CPython 3.8–3.13), which
// Wait and Notify replicate step by step so Go and Python waiters and
// notifiers mix freely.
//
// Goroutines: the shared lock excludes other processes; a process-local
// mutex held together with it excludes the other goroutines using this
// Condition value, so Acquire/Release behave like a plain mutex within the
// process (no recursion). Take the lock through the Condition's Acquire
// (not through the Lock itself) when other goroutines share the
// Condition. All methods are safe for concurrent use.
type Condition struct {
	lock                     *SemLock
	sleeping, woken, waitSem *SemLock
	local                    chan struct{} // process-local mutex: a token in the channel means free
	closeLock                bool          // the Condition created or opened its lock
}

// NewCondition creates a Condition on lock (a *Lock or *RLock; nil creates
// an RLock, like ctx.Condition()). A lock passed in stays the caller's to
// close.
func NewCondition(lock any) (*Condition, error) {
	c := &Condition{}
	switch l := lock.(type) {
	case nil:
		r, err := NewRLock()
		if err != nil {
			return nil, err
		}
		c.lock, c.closeLock = r.SemLock, true
	case *Lock:
		c.lock = l.SemLock
	case *RLock:
		c.lock = l.SemLock
	default:
		return nil, fmt.Errorf("synchronize: NewCondition: lock is %T, want *Lock or *RLock", lock)
	}
	var err error
	for _, p := range []**SemLock{&c.sleeping, &c.woken, &c.waitSem} {
		var s *Semaphore
		if s, err = NewSemaphore(0); err != nil {
			c.Close()
			return nil, err
		}
		*p = s.SemLock
	}
	c.init()
	return c, nil
}

func (c *Condition) init() {
	c.local = make(chan struct{}, 1)
	c.local <- struct{}{}
}

// OpenCondition opens a pickled multiprocessing.synchronize.Condition
// (NEWOBJ + BUILD (lock, sleeping_count, woken_count, wait_semaphore)).
func OpenCondition(v any) (*Condition, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != (pickle.Global{Module: module, Name: classCondition}) {
		return nil, fmt.Errorf("%w: %s is not a pickled Condition", ErrBadState, describe(v))
	}
	t, ok := o.State.(pickle.Tuple)
	if !ok || len(t) != 4 {
		return nil, fmt.Errorf("%w: Condition state is %s, want a 4-tuple", ErrBadState, describe(o.State))
	}
	c := &Condition{closeLock: true}
	var err error
	if c.lock, err = OpenSemLock(t[0]); err != nil {
		return nil, err
	}
	if c.lock.class != classLock && c.lock.class != classRLock {
		c.lock.Close()
		return nil, fmt.Errorf("%w: Condition lock is a %s", ErrBadState, c.lock.class)
	}
	for i, p := range []**SemLock{&c.sleeping, &c.woken, &c.waitSem} {
		if *p, err = openAs(t[i+1], classSemaphore); err != nil {
			c.Close()
			return nil, err
		}
	}
	c.init()
	return c, nil
}

// Lock returns the condition's lock (class "Lock" or "RLock").
func (c *Condition) Lock() *SemLock { return c.lock }

// Acquire acquires the condition's lock (Python: cond.acquire() / with
// cond), blocking until ctx ends.
func (c *Condition) Acquire(ctx context.Context) error {
	select {
	case <-c.local:
	default:
		select {
		case <-c.local:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := c.lock.Acquire(ctx); err != nil {
		c.local <- struct{}{}
		return err
	}
	return nil
}

// Release releases the condition's lock.
func (c *Condition) Release() error {
	err := c.lock.Release()
	if err == nil {
		c.local <- struct{}{}
	}
	return err
}

// Wait is cond.wait(): with the lock held, it releases it, sleeps until
// notified or until ctx ends, and re-acquires it before returning. It
// returns nil when notified and an error matching ctx.Err() otherwise
// (WaitTimeout reports Python's False instead). Re-acquiring the lock does not watch ctx (the caller
// must hold the lock when Wait returns); it ends with ErrClosed if the
// Condition is closed meanwhile.
func (c *Condition) Wait(ctx context.Context) error {
	if !c.lock.IsMine() {
		return ErrNotOwned
	}
	// indicate that this thread is going to sleep
	if err := c.sleeping.Release(); err != nil {
		return err
	}
	// release lock (count times: 1 for a Lock; recursion is not used from Go)
	count := c.lock.Count()
	for i := 0; i < count; i++ {
		if err := c.lock.Release(); err != nil {
			return err
		}
	}
	select { // let other goroutines of this process in (if Acquire went through the Condition)
	case c.local <- struct{}{}:
	default:
	}
	werr := c.waitSem.Acquire(ctx)
	// indicate that this thread has woken
	err := c.woken.Release()
	<-c.local
	for i := 0; i < count; i++ {
		if aerr := c.lock.Acquire(context.Background()); aerr != nil {
			return aerr
		}
	}
	if werr != nil {
		return werr
	}
	return err
}

// WaitTimeout is cond.wait(timeout=d): it reports whether it was notified
// within d (false, with a nil error, when d passed first; a negative d waits
// like Wait). The lock is held again when it returns, as for Wait.
func (c *Condition) WaitTimeout(ctx context.Context, d time.Duration) (bool, error) {
	return pytimeout.Wait(ctx, d, func(ctx context.Context) (bool, error) {
		err := c.Wait(ctx)
		return err == nil, err
	})
}

// WaitFor is cond.wait_for(predicate): it waits until predicate (called
// with the lock held) returns true or ctx ends, and returns the last
// result; when ctx ended first, with an error matching ctx.Err().
func (c *Condition) WaitFor(ctx context.Context, predicate func() bool) (bool, error) {
	for !predicate() {
		if err := c.Wait(ctx); err != nil {
			if ctx.Err() != nil && predicate() {
				return true, nil
			}
			return false, err
		}
	}
	return true, nil
}

// Notify is cond.notify(n): with the lock held, it wakes up to n waiters
// (Go or Python) and waits until they have woken (Python blocks here
// forever if a sleeper died; Go gives up when ctx ends, leaving the
// counters to be repaired by the next Notify only if that sleeper wakes).
func (c *Condition) Notify(ctx context.Context, n int) error {
	if !c.lock.IsMine() {
		return ErrNotOwned
	}
	if ok, err := c.waitSem.TryAcquire(); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: notify: Should not have been able to acquire _wait_semaphore", ErrBrokenCondition)
	}
	// to take account of timeouts since last notify*() we subtract
	// woken_count from sleeping_count and rezero woken_count
	for {
		ok, err := c.woken.TryAcquire()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if res, err := c.sleeping.TryAcquire(); err != nil {
			return err
		} else if !res {
			return fmt.Errorf("%w: notify: Bug in sleeping_count.acquire - res should not be False", ErrBrokenCondition)
		}
	}
	sleepers := 0
	for sleepers < n {
		ok, err := c.sleeping.TryAcquire()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := c.waitSem.Release(); err != nil { // wake up one sleeper
			return err
		}
		sleepers++
	}
	if sleepers > 0 {
		for i := 0; i < sleepers; i++ {
			if err := c.woken.Acquire(ctx); err != nil { // wait for a sleeper to wake
				return err
			}
		}
		// rezero wait_semaphore in case some timeouts just happened
		for {
			ok, err := c.waitSem.TryAcquire()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
		}
	}
	return nil
}

// NotifyAll is cond.notify_all().
func (c *Condition) NotifyAll(ctx context.Context) error { return c.Notify(ctx, math.MaxInt) }

// ReduceForSpawn implements process.SpawnReducer: NEWOBJ
// multiprocessing.synchronize.Condition + BUILD (lock, sleeping_count,
// woken_count, wait_semaphore).
func (c *Condition) ReduceForSpawn(*process.Spawning) (any, error) { return c.Object(), nil }

// Object returns the pickled form (see ReduceForSpawn).
func (c *Condition) Object() *pickle.Object {
	return &pickle.Object{Callable: pickle.Global{Module: module, Name: classCondition}, Args: pickle.Tuple{}, NewObj: true,
		State: pickle.Tuple{c.lock.Object(), c.sleeping.Object(), c.woken.Object(), c.waitSem.Object()}}
}

// Unlink removes the names of the semaphores this Condition created (see
// SemLock.Unlink); the Condition keeps working.
func (c *Condition) Unlink() error {
	var errs []error
	if c.lock != nil && c.closeLock && c.lock.Owner() {
		errs = append(errs, c.lock.Unlink())
	}
	for _, s := range []*SemLock{c.sleeping, c.woken, c.waitSem} {
		if s != nil && s.Owner() {
			errs = append(errs, s.Unlink())
		}
	}
	return errors.Join(errs...)
}

// Close closes the four semaphores (unlinking those this process created),
// except a lock that was passed to NewCondition.
func (c *Condition) Close() error {
	var errs []error
	if c.lock != nil && c.closeLock {
		errs = append(errs, c.lock.Close())
	}
	for _, s := range []*SemLock{c.sleeping, c.woken, c.waitSem} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}
