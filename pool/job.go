package pool

import (
	"context"
	"sync"
)

type taskResult struct {
	set bool
	ok  bool
	val any
	err error
}

// job is one call's tasks and results (Python: an entry of the pool's
// result cache, ApplyResult / MapResult / IMapIterator).
type job struct {
	id      int64
	n       int  // number of tasks
	chunked bool // each result is a list (mapstar)

	mu        sync.Mutex
	res       []taskResult
	sent      int
	received  int
	finished  bool  // all sent tasks answered and dispatching over
	dispDone  bool  // dispatch loop ended
	failure   error // terminate, a cancelled dispatch, a pickling error
	firstErr  error // the first task exception
	arrived   chan int
	done      chan struct{}
	closeDone sync.Once
}

func (j *job) isFinished() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finished
}

func (j *job) failed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failure != nil
}

func (j *job) sending() { j.mu.Lock(); j.sent++; j.mu.Unlock() }
func (j *job) unsend()  { j.mu.Lock(); j.sent--; j.mu.Unlock() }

// set records the result of task i; it reports whether the job is complete.
func (j *job) set(i int, ok bool, v any) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if i < 0 || i >= j.n || j.res[i].set {
		return false
	}
	r := taskResult{set: true, ok: ok, val: v}
	if !ok {
		r.err = remoteError(v)
		if j.firstErr == nil {
			j.firstErr = r.err
		}
	}
	j.res[i] = r
	j.received++
	select {
	case j.arrived <- i:
	default:
	}
	return j.checkLocked()
}

func (j *job) checkLocked() bool {
	if j.dispDone && j.received >= j.sent && !j.finished {
		j.finished = true
		j.closeDone.Do(func() { close(j.done) })
		return true
	}
	return false
}

// dispatched marks the end of dispatching; it reports whether the job is
// complete.
func (j *job) dispatched() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.dispDone = true
	return j.checkLocked()
}

// fail ends the job with err (the callers stop waiting; results still in
// flight are dropped when they arrive).
func (j *job) fail(err error) {
	j.mu.Lock()
	if j.failure == nil {
		j.failure = err
	}
	j.mu.Unlock()
	j.closeDone.Do(func() { close(j.done) })
}

// cancel fails the job with err unless it has already finished or failed
// (an async call whose context ended); it reports whether it did.
func (j *job) cancel(err error) bool {
	j.mu.Lock()
	if j.finished || j.failure != nil {
		j.mu.Unlock()
		return false
	}
	j.failure = err
	j.mu.Unlock()
	j.closeDone.Do(func() { close(j.done) })
	return true
}

// wait waits for the whole job and returns the flattened results.
func (j *job) wait(ctx context.Context) ([]any, error) {
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failure != nil {
		return nil, j.failure
	}
	if j.firstErr != nil {
		return nil, j.firstErr
	}
	var out []any
	for _, r := range j.res {
		if j.chunked {
			list, _ := r.val.([]any)
			out = append(out, list...)
		} else {
			out = append(out, r.val)
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// next waits for task k's result.
func (j *job) next(ctx context.Context, k int) (taskResult, error) {
	for {
		j.mu.Lock()
		r, failure := j.res[k], j.failure
		j.mu.Unlock()
		if r.set {
			return r, nil
		}
		if failure != nil {
			return r, failure
		}
		select {
		case <-j.arrived:
		case <-j.done:
			j.mu.Lock()
			r, failure = j.res[k], j.failure
			j.mu.Unlock()
			if r.set {
				return r, nil
			}
			if failure != nil {
				return r, failure
			}
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
}

// any waits for the next result to arrive.
func (j *job) any(ctx context.Context) (taskResult, error) {
	select {
	case i := <-j.arrived:
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.res[i], nil
	case <-ctx.Done():
		return taskResult{}, ctx.Err()
	case <-j.done:
		select {
		case i := <-j.arrived:
			j.mu.Lock()
			defer j.mu.Unlock()
			return j.res[i], nil
		default:
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		if j.failure != nil {
			return taskResult{}, j.failure
		}
		return taskResult{}, ErrTerminated
	}
}
