package sharedmem

import (
	"errors"
	"fmt"

	"github.com/mpwire/mpwire"
)

// Errors callers can branch on with errors.Is. Each is wrapped with context.
var (
	// ErrInvalidName reports a shared memory name Python could not use
	// either: empty, ".", "..", containing '/' (after the one optional
	// leading '/') or NUL, or longer than NAME_MAX.
	ErrInvalidName = errors.New("sharedmem: invalid shared memory name")
	// ErrInvalidSize reports a non-positive size, or a segment that is
	// empty or too large to map.
	ErrInvalidSize = errors.New("sharedmem: invalid size")
	// ErrBadState reports a decoded pickle that does not have the shape
	// of the object expected (SharedMemory, ShareableList, Value, Array,
	// arena, lock). It is mpwire.ErrBadState.
	ErrBadState = mpwire.ErrBadState
	// ErrCorrupt reports shared memory whose contents contradict
	// themselves: a ShareableList header claiming more than the segment
	// holds, offsets outside it, an unknown format or back-transform code;
	// or an arena smaller than the object it should hold.
	ErrCorrupt = errors.New("sharedmem: corrupt shared memory layout")
	// ErrIndex is Python's IndexError for a position out of range.
	ErrIndex = errors.New("sharedmem: index out of range")
	// ErrCapacity is Python's ValueError("bytes/str item exceeds available
	// storage"): a ShareableList str/bytes slot keeps the size it was
	// created with.
	ErrCapacity = errors.New("bytes/str item exceeds available storage")
	// ErrType reports a Go value that cannot be stored in the slot or
	// ctype asked for, or a typed accessor that does not match the ctype.
	ErrType = errors.New("sharedmem: type mismatch")
	// ErrRange reports a number that does not fit the ctype (Python's
	// ctypes silently truncates; Go refuses).
	ErrRange = errors.New("sharedmem: value out of range for the ctype")
	// ErrClosed reports use after Close. It is mpwire.ErrClosed.
	ErrClosed = mpwire.ErrClosed
	// ErrNoLock reports a lock operation on a Raw value or array (created
	// with lock=False), which has no lock.
	ErrNoLock = errors.New("sharedmem: object has no lock (lock=False)")
)

// errClosed is ErrClosed as a closed object of this package reports it.
var errClosed = fmt.Errorf("sharedmem: %w", ErrClosed)
