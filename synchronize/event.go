package synchronize

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mpwire/mpwire/internal/pytimeout"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
)

// Event is multiprocessing.Event: Condition(Lock()) plus a _flag
// Semaphore(0), following synchronize.py's protocol. Every method takes
// the condition's lock first, so every method takes a context.
type Event struct {
	cond *Condition
	flag *SemLock
	lock *SemLock // the Lock NewEvent created (closed with the Event)
}

// NewEvent creates an Event, initially unset.
func NewEvent() (*Event, error) {
	l, err := NewLock()
	if err != nil {
		return nil, err
	}
	c, err := NewCondition(l)
	if err != nil {
		l.Close()
		return nil, err
	}
	f, err := NewSemaphore(0)
	if err != nil {
		c.Close()
		l.Close()
		return nil, err
	}
	return &Event{cond: c, flag: f.SemLock, lock: l.SemLock}, nil
}

// OpenEvent opens a pickled multiprocessing.synchronize.Event (NEWOBJ +
// BUILD {'_cond': Condition, '_flag': Semaphore}).
func OpenEvent(v any) (*Event, error) {
	o, ok := v.(*pickle.Object)
	if !ok || o.Class() != (pickle.Global{Module: module, Name: classEvent}) {
		return nil, fmt.Errorf("%w: %s is not a pickled Event", ErrBadState, describe(v))
	}
	d, ok := o.State.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%w: Event state is %s, want a dict", ErrBadState, describe(o.State))
	}
	cv, ok1 := d.Get("_cond")
	fv, ok2 := d.Get("_flag")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: Event state lacks _cond or _flag", ErrBadState)
	}
	c, err := OpenCondition(cv)
	if err != nil {
		return nil, err
	}
	f, err := openAs(fv, classSemaphore)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Event{cond: c, flag: f}, nil
}

// IsSet is is_set().
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	if err := e.cond.Acquire(ctx); err != nil {
		return false, err
	}
	ok, err := e.flagPeek()
	return ok, errors.Join(err, e.cond.Release())
}

// flagPeek: if self._flag.acquire(False): self._flag.release(); return True.
func (e *Event) flagPeek() (bool, error) {
	ok, err := e.flag.TryAcquire()
	if err != nil || !ok {
		return false, err
	}
	return true, e.flag.Release()
}

// Set is set(): it sets the flag and wakes every waiter.
func (e *Event) Set(ctx context.Context) error {
	if err := e.cond.Acquire(ctx); err != nil {
		return err
	}
	err := func() error {
		if _, err := e.flag.TryAcquire(); err != nil {
			return err
		}
		if err := e.flag.Release(); err != nil {
			return err
		}
		return e.cond.NotifyAll(ctx)
	}()
	return errors.Join(err, e.cond.Release())
}

// Clear is clear().
func (e *Event) Clear(ctx context.Context) error {
	if err := e.cond.Acquire(ctx); err != nil {
		return err
	}
	_, err := e.flag.TryAcquire()
	return errors.Join(err, e.cond.Release())
}

// Wait is wait(): it blocks until the flag is set and returns true, or until
// ctx ends: then it returns the flag as it is at that moment, with an error
// matching ctx.Err() unless the flag is set (WaitTimeout reports Python's
// False instead).
func (e *Event) Wait(ctx context.Context) (bool, error) {
	if err := e.cond.Acquire(ctx); err != nil {
		return false, err
	}
	set, err := func() (bool, error) {
		ok, err := e.flagPeek()
		if err != nil || ok {
			return ok, err
		}
		werr := e.cond.Wait(ctx)
		if ok, err := e.flagPeek(); err != nil || ok {
			return ok, err
		}
		return false, werr
	}()
	return set, errors.Join(err, e.cond.Release())
}

// WaitTimeout is wait(timeout=d): it returns the flag, false (with a nil
// error) when d passed first. A negative d waits like Wait.
func (e *Event) WaitTimeout(ctx context.Context, d time.Duration) (bool, error) {
	return pytimeout.Wait(ctx, d, e.Wait)
}

// ReduceForSpawn implements process.SpawnReducer.
func (e *Event) ReduceForSpawn(*process.Spawning) (any, error) { return e.Object(), nil }

// Object returns the pickled form: NEWOBJ multiprocessing.synchronize.Event
// + BUILD {'_cond': …, '_flag': …}, as Python pickles it.
func (e *Event) Object() *pickle.Object {
	d := pickle.NewDict()
	_ = d.Set("_cond", e.cond.Object())
	_ = d.Set("_flag", e.flag.Object())
	return &pickle.Object{Callable: pickle.Global{Module: module, Name: classEvent}, Args: pickle.Tuple{}, NewObj: true, State: d}
}

// Close closes (and, if created here, unlinks) the Event's five semaphores.
func (e *Event) Close() error {
	errs := []error{e.cond.Close(), e.flag.Close()}
	if e.lock != nil {
		errs = append(errs, e.lock.Close())
	}
	return errors.Join(errs...)
}
