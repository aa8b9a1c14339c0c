package connection

import (
	"errors"
	"fmt"

	"github.com/mpwire/mpwire"
)

// Errors callers branch on (errors.Is). Each is wrapped with the operation
// ("connection: recv_bytes: …") and, for limits, the sizes involved.
var (
	// ErrClosed is returned by every method of a Conn after Close. It is
	// mpwire.ErrClosed, which also matches net.ErrClosed.
	ErrClosed = mpwire.ErrClosed

	// ErrReadOnly is returned when sending on a receive-only connection
	// (Python: OSError("connection is read-only")).
	ErrReadOnly = errors.New("connection is read-only")

	// ErrWriteOnly is returned when receiving on a send-only connection, or
	// on a connection that became unreadable after an oversized frame
	// (Python: OSError("connection is write-only")).
	ErrWriteOnly = errors.New("connection is write-only")

	// ErrFrameTooLarge is returned when a frame header announces more bytes
	// than the receive limit (the connection's MaxFrame, or RecvBytesMax's
	// argument). Python reports the same condition as
	// OSError("bad message length"). The body is not consumed, so the
	// connection cannot be read from again: a duplex connection becomes
	// unreadable and a receive-only one is closed, as in Python.
	ErrFrameTooLarge = errors.New("bad message length: frame exceeds the receive limit")

	// ErrBadHeader is returned for a frame header holding a negative length
	// other than -1. (Python silently returns b'' for these and leaves the
	// stream desynchronised; Go refuses and marks the connection
	// unreadable.)
	ErrBadHeader = errors.New("bad frame header: negative length")

	// ErrBadArgument wraps the argument checks Python reports as ValueError
	// (SendBytesRange's offset/size checks, a negative maxlength, a bad
	// RecvBytesInto offset).
	ErrBadArgument = errors.New("invalid argument")

	// ErrBroken is wrapped by the error returned by every read (or write)
	// after an earlier one failed in the middle of a frame — for example a
	// deadline that expired after half a frame had arrived. The frame
	// boundary is lost, so the stream cannot be used in that direction
	// again.
	ErrBroken = errors.New("stream broken in the middle of a frame")

	// ErrNoFD is returned by Poll, Wait and File for a Conn made by
	// NewConn from a net.Conn that has no file descriptor.
	ErrNoFD = errors.New("connection has no file descriptor")
)

// BufferTooShortError is returned by RecvBytesInto when the message does not
// fit in the caller's buffer (Python: multiprocessing.BufferTooShort). The
// message has been consumed; Message holds all of it.
type BufferTooShortError struct {
	Message []byte
	// BufLen is the space the caller offered (len(buf) - offset).
	BufLen int
}

func (e *BufferTooShortError) Error() string {
	return fmt.Sprintf("buffer too short: message of %d bytes, buffer space %d", len(e.Message), e.BufLen)
}

func badArg(msg string) error { return fmt.Errorf("connection: %w: %s", ErrBadArgument, msg) }
