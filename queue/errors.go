package queue

import (
	"context"
	"errors"
	"fmt"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/synchronize"
)

// Errors callers branch on (errors.Is).
var (
	// ErrEmpty is Python's queue.Empty: GetNowait found no item, or a Get's
	// deadline (or GetTimeout's time) passed first (that error also matches
	// context.DeadlineExceeded). It is mpwire.ErrEmpty.
	ErrEmpty = mpwire.ErrEmpty
	// ErrFull is Python's queue.Full: PutNowait found no free slot, or a
	// Put's deadline passed first (also matches context.DeadlineExceeded).
	// It is mpwire.ErrFull.
	ErrFull = mpwire.ErrFull
	// ErrClosed is Python's ValueError("Queue … is closed"): an operation on
	// a queue this process closed. It is mpwire.ErrClosed.
	ErrClosed = mpwire.ErrClosed
	// ErrNotClosed is Python's AssertionError from join_thread() before
	// close().
	ErrNotClosed = errors.New("queue: JoinThread before Close")
	// ErrTaskDone is Python's ValueError('task_done() called too many
	// times').
	ErrTaskDone = errors.New("task_done() called too many times")
	// ErrBadState wraps every error about a pickled queue that is not what
	// multiprocessing pickles. It is mpwire.ErrBadState.
	ErrBadState = mpwire.ErrBadState
	// ErrBroken is connection.ErrBroken: the pipe holds part of an item
	// that will never be completed (a producer died in the middle of
	// writing it), so no Get from this queue can succeed again. The first
	// Get that meets it reports it, whether or not its deadline also
	// passed.
	ErrBroken = connection.ErrBroken
	// ErrReleasedTooManyTimes is re-exported from synchronize: a peer broke
	// the protocol (e.g. read an item without taking _rlock/_sem).
	ErrReleasedTooManyTimes = synchronize.ErrReleasedTooManyTimes
)

// timeoutError is returned when a context deadline ends a Put (ErrFull) or
// a Get (ErrEmpty): it matches both the queue error and
// context.DeadlineExceeded.
type timeoutError struct{ err error }

func (e timeoutError) Error() string { return e.err.Error() + " (deadline exceeded)" }
func (e timeoutError) Is(target error) bool {
	return target == e.err || target == context.DeadlineExceeded
}
func (e timeoutError) Timeout() bool { return true }

// waitErr maps the error of a blocking step: a deadline becomes kind
// (ErrFull/ErrEmpty), a closed semaphore or connection ErrClosed. A pipe
// broken in the middle of an item (its producer died while writing it, or
// a deadline cut this process's read short) is reported as such even when
// a deadline ended the read: no later Get can succeed, so it is not
// queue.Empty.
func waitErr(err, kind error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrBroken):
		return fmt.Errorf("queue: the pipe holds a partial item (a producer died while writing it?): %w", err)
	case errors.Is(err, context.DeadlineExceeded):
		return timeoutError{kind}
	case errors.Is(err, ErrClosed):
		return fmt.Errorf("queue: %w", err)
	}
	return err
}

// ItemError reports an item that could not be decoded into the caller's
// value; the item has been consumed from the queue (as in Python, where
// unpickling happens after the read).
type ItemError struct {
	Err  error
	Data []byte // the pickled item
}

func (e *ItemError) Error() string { return "queue: decoding an item: " + e.Err.Error() }
func (e *ItemError) Unwrap() error { return e.Err }

// errClosed is ErrClosed as a closed queue reports it.
var errClosed = fmt.Errorf("queue: %w", ErrClosed)
