package process

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/internal/reduction"
)

// Errors callers branch on (errors.Is).
var (
	// ErrNotChild is returned by Child when the process was not started as a
	// spawned multiprocessing child (no --multiprocessing-fork command line,
	// or one without a usable pipe_handle).
	ErrNotChild = errors.New("not started as a multiprocessing spawn child")

	// ErrProtocol is wrapped by every error about a spawn payload that is
	// not what multiprocessing writes: a malformed pickle, a wrong type, a
	// missing field, an oversized payload. It is mpwire.ErrProtocol.
	ErrProtocol = mpwire.ErrProtocol

	// ErrBadState is returned by Conn, KwargConn and ConnFrom when the
	// argument is not a pickled multiprocessing Connection. It is
	// mpwire.ErrBadState.
	ErrBadState = mpwire.ErrBadState

	// ErrNotInheritable is returned for an fd wrapper that is not the
	// spawn-time popen_spawn_posix._DupFd (e.g. resource_sharer.DupFd).
	ErrNotInheritable = reduction.ErrNotInheritable

	// ErrFDTaken is returned when the fd of an argument was already handed
	// out (each inherited fd has one owner).
	ErrFDTaken = errors.New("inherited file descriptor already taken")

	// ErrNoArg is returned for an argument index or keyword that the parent
	// did not pass.
	ErrNoArg = errors.New("no such argument")

	// ErrNoTracker is returned by RegisterResource when the parent passed no
	// resource tracker (tracker_fd=None).
	ErrNoTracker = errors.New("no resource tracker")

	// ErrRunning is returned by Process.Close while the child still runs.
	ErrRunning = errors.New("process is still running")

	// ErrBadSpec is wrapped by Start's errors about an invalid Spec.
	ErrBadSpec = errors.New("invalid process spec")

	// ErrBootstrap is wrapped by Start's error for a child that exited
	// before its target ran (it could not import the target's module or
	// rebuild an argument, or the interpreter refused its command line);
	// the error also holds the child's *ExitError, whose Stderr has the
	// traceback.
	ErrBootstrap = errors.New("child exited during bootstrap, before its target ran")
)

// ExitError is returned by Process.Wait when the child did not exit with
// status 0. Code follows Python's Process.exitcode (see Process.ExitCode):
// the exit status, or -signum when a signal killed the child.
type ExitError struct {
	Name string // the process name
	Pid  int
	Code int
	// Stderr is the end (at most 8 KiB, from a line start) of what the
	// child wrote on its standard error: a Python child's traceback, a Go
	// worker's error.
	Stderr string
}

// Error reports the exit and the last line the child wrote on stderr.
func (e *ExitError) Error() string {
	var msg string
	if e.Code < 0 {
		msg = fmt.Sprintf("process %s (pid %d) killed by %v", e.Name, e.Pid, syscall.Signal(-e.Code))
	} else {
		msg = fmt.Sprintf("process %s (pid %d) exited with code %d", e.Name, e.Pid, e.Code)
	}
	if l := lastLine(e.Stderr); l != "" {
		msg += "; its stderr ends: " + l
	}
	return msg
}

// Signaled reports whether a signal ended the process.
func (e *ExitError) Signaled() bool { return e.Code < 0 }
