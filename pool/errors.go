package pool

import (
	"errors"
	"fmt"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/pickle"
)

// Errors callers branch on (errors.Is).
var (
	// ErrClosed is returned by calls on a pool after Close or Terminate
	// (Python: ValueError("Pool not running")). It is mpwire.ErrClosed.
	ErrClosed = mpwire.ErrClosed
	// ErrTerminated fails the calls still waiting when the pool is
	// terminated (Terminate, or the end of New's context).
	ErrTerminated = errors.New("pool: pool terminated")
	// ErrBadConfig reports an invalid Config.
	ErrBadConfig = errors.New("pool: invalid config")
	// ErrProtocol reports a result message that is not (job, i, (success,
	// value)). It is mpwire.ErrProtocol.
	ErrProtocol = mpwire.ErrProtocol
	// ErrWorkerFailed fails the calls of a pool that gave up because its
	// workers kept exiting with an error (or failing to start) without a
	// single result in between — three in a row, typically an initializer
	// that raises in every worker. The pool is terminated; the error also
	// holds the last worker's *process.ExitError (errors.As), whose Stderr
	// has its traceback.
	ErrWorkerFailed = errors.New("workers keep failing")
)

var (
	errBadResult  = fmt.Errorf("pool: %w: result message is not (job, i, (success, value))", ErrProtocol)
	errNotRunning = fmt.Errorf("pool: pool not running: %w", ErrClosed)
)

// TaskError is a task that raised in a worker. Err is the exception (for
// exceptions pickle does not map to *pickle.PythonError, such as classes
// defined in user modules, it is built from the pickled object: Type,
// Args and State); Traceback is the worker's formatted traceback (Python's
// RemoteTraceback text), empty when the worker sent none.
type TaskError struct {
	Err       *pickle.PythonError
	Traceback string
}

func (e *TaskError) Error() string {
	return "pool: task raised " + e.Err.Error()
}

// Unwrap returns the *pickle.PythonError, for errors.As.
func (e *TaskError) Unwrap() error { return e.Err }

// remoteError turns a worker's failure value into a *TaskError.
func remoteError(v any) error {
	tb := ""
	if o, ok := v.(*pickle.Object); ok && o.Callable == globalRebuildExc && len(o.Args) == 2 {
		// ExceptionWithTraceback: rebuild_exc(exc, '\n"""\n' + tb + '"""')
		v = o.Args[0]
		if s, ok := o.Args[1].(string); ok {
			tb = trimTraceback(s)
		}
	}
	switch x := v.(type) {
	case *pickle.PythonError:
		return &TaskError{Err: x, Traceback: tb}
	case *pickle.Object:
		return &TaskError{Err: &pickle.PythonError{Type: x.Callable, Args: x.Args, State: x.State}, Traceback: tb}
	}
	return &TaskError{Err: &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "Exception"}, Args: pickle.Tuple{fmt.Sprint(v)}}, Traceback: tb}
}

func trimTraceback(s string) string {
	const pre, post = "\n\"\"\"\n", "\"\"\""
	if len(s) >= len(pre)+len(post) && s[:len(pre)] == pre && s[len(s)-len(post):] == post {
		return s[len(pre) : len(s)-len(post)]
	}
	return s
}
