package mpwire

import (
	"errors"
	"net"
)

// Errors several packages report for the same condition. Packages re-export
// the ones they return under the same name (queue.ErrEmpty, manager.ErrEmpty,
// …), so one errors.Is test covers every package.
var (
	// ErrEmpty is Python's queue.Empty: a get found no item, without
	// waiting or before its timeout or context deadline (package queue, and
	// a manager's shared Queue).
	ErrEmpty = errors.New("queue is empty")

	// ErrFull is Python's queue.Full: a put found no free slot, without
	// waiting or before its timeout or context deadline.
	ErrFull = errors.New("queue is full")

	// ErrClosed is returned by operations on an object (a Conn, Listener,
	// Queue, SemLock, shared memory, manager Client or Server, Pool) after
	// this process closed it. errors.Is(ErrClosed, net.ErrClosed) holds, so
	// code written for net.Conn recognises it too.
	ErrClosed error = closedError{}

	// ErrBadState reports a pickled value that is not the multiprocessing
	// object expected: a Queue, SemLock, Connection, SharedMemory,
	// Value/Array or manager proxy whose reduced form or state does not
	// have the shape multiprocessing gives it.
	ErrBadState = errors.New("not the pickled form of the expected multiprocessing object")

	// ErrProtocol reports a peer message that breaks the protocol being
	// spoken: a malformed spawn payload, manager request or reply, or pool
	// result.
	ErrProtocol = errors.New("protocol error")

	// ErrUnsupported is errors.ErrUnsupported: the operation needs
	// something this operating system lacks. Named semaphores (and so
	// Lock, Queue, Pool) and shared memory are Linux-only, because
	// CPython keeps them in /dev/shm files only there; on macOS the
	// packages build and their constructors return this error.
	ErrUnsupported = errors.ErrUnsupported
)

// closedError is ErrClosed: its own value, which also matches net.ErrClosed.
type closedError struct{}

func (closedError) Error() string { return "use of closed object" }

// Is makes errors.Is(ErrClosed, net.ErrClosed) hold.
func (closedError) Is(target error) bool { return target == net.ErrClosed }
