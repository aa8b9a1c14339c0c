package queue

import (
	"context"
	"errors"
	"time"

	"github.com/mpwire/mpwire/internal/pytimeout"
	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/synchronize"
)

// JoinableQueue is multiprocessing.JoinableQueue: a Queue plus
// _unfinished_tasks (a Semaphore(0) released by every put) and _cond (a
// Condition on an RLock) for TaskDone and Join, following the Condition
// protocol of multiprocessing/synchronize.py so that Go and Python
// producers, consumers and joiners mix.
//
// All methods are safe for concurrent use.
type JoinableQueue struct {
	*Queue
}

// NewJoinable creates a JoinableQueue(maxsize) (maxsize <= 0: unbounded).
func NewJoinable(maxsize int) (*JoinableQueue, error) { return Config{}.NewJoinable(maxsize) }

// NewJoinable is the package-level NewJoinable with these settings.
func (cfg Config) NewJoinable(maxsize int) (*JoinableQueue, error) {
	q := &Queue{}
	if err := q.create(maxsize, cfg); err != nil {
		return nil, err
	}
	var err error
	if q.unfinished, err = synchronize.NewSemaphore(0); err != nil {
		q.teardown()
		return nil, err
	}
	if q.cond, err = synchronize.NewCondition(nil); err != nil {
		q.unfinished.Close()
		q.unfinished = nil
		q.teardown()
		return nil, err
	}
	if q.cfg.tracker != nil {
		err = q.track(q.unfinished.SemLock)
		if err == nil {
			err = q.cond.Track(q.cfg.tracker)
		}
		if err != nil {
			q.teardown()
			return nil, err
		}
	}
	return &JoinableQueue{q}, nil
}

// TaskDone is task_done(): it marks one item as processed (ErrTaskDone if
// there is none) and wakes the joiners when none is left.
func (j *JoinableQueue) TaskDone(ctx context.Context) error {
	return j.withCond(ctx, func(c context.Context) error {
		ok, err := j.unfinished.TryAcquire()
		if err != nil {
			return err
		}
		if !ok {
			return ErrTaskDone
		}
		zero, err := j.unfinished.IsZero()
		if err != nil || !zero {
			return err
		}
		return j.cond.NotifyAll(c)
	})
}

// Join is join(): it waits until every item put has been marked done, or
// ctx ends. Like Python it returns after one wake-up of the condition
// (join() does "if not zero: wait()").
func (j *JoinableQueue) Join(ctx context.Context) error {
	return j.withCond(ctx, func(c context.Context) error {
		zero, err := j.unfinished.IsZero()
		if err != nil || zero {
			return err
		}
		return j.cond.Wait(c)
	})
}

// withCond runs fn holding the shared condition (Python's "with
// self._cond:" around task_done and join), with ctx merged with the
// queue's lifetime.
func (j *JoinableQueue) withCond(ctx context.Context, fn func(c context.Context) error) error {
	q := j.Queue
	if err := q.begin(); err != nil {
		return err
	}
	defer q.ops.Done()
	c, done := q.slow(ctx)
	defer done()
	if err := q.cond.Acquire(c); err != nil {
		return err
	}
	return errors.Join(fn(c), q.cond.Release())
}

// JoinTimeout is Join with Python's time limit (join() has none; this is
// the condition's wait(timeout)): it reports whether the queue was joined,
// false with a nil error when d passed first. A negative d waits like Join.
func (j *JoinableQueue) JoinTimeout(ctx context.Context, d time.Duration) (bool, error) {
	return pytimeout.Wait(ctx, d, func(ctx context.Context) (bool, error) {
		err := j.Join(ctx)
		return err == nil, err
	})
}

// UnfinishedTasks returns the value of _unfinished_tasks: items put and
// not yet marked done, across all processes.
func (j *JoinableQueue) UnfinishedTasks() (int, error) { return j.unfinished.GetValue() }

// ReduceForSpawn implements process.SpawnReducer: NEWOBJ
// multiprocessing.queues.JoinableQueue + BUILD of the Queue state followed
// by (cond, unfinished_tasks).
func (j *JoinableQueue) ReduceForSpawn(s *process.Spawning) (any, error) {
	st, err := j.spawnState(s)
	if err != nil {
		return nil, err
	}
	st = append(st, j.cond.Object(), j.unfinished.Object())
	return &pickle.Object{Callable: pickle.Global{Module: module, Name: "JoinableQueue"}, Args: pickle.Tuple{}, NewObj: true, State: st}, nil
}
