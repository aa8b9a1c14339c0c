// Package connection implements multiprocessing.connection.Connection's
// wire format: length-prefixed messages over sockets, pipes and inherited
// file descriptors, with SendBytes/RecvBytes for raw bytes and Send/Recv for
// pickled values. A Go Conn and a Python Connection on the two ends of the
// same socket or pipe understand each other byte for byte.
//
// # Model
//
// A Conn wraps one file descriptor (or a net.Conn). Each message is one
// frame: a 4-byte big-endian signed length and the payload; payloads over
// 2^31-1 bytes use 0xFFFFFFFF followed by an 8-byte length, as Python does
// (docs/spec.md#frames). Pipe(duplex) mirrors multiprocessing.Pipe: a socketpair, or
// an OS pipe whose first end only receives and second only sends. FromFD
// and FromFile wrap descriptors a Python process handed over (spawn's
// pass_fds, for example); File returns a blocking descriptor to hand to a
// Python process. Wait mirrors multiprocessing.connection.wait.
//
// Every call that can block takes a context first (Send, Recv, SendBytes,
// RecvBytes, Poll, Wait): when it ends, the call returns an error matching
// ctx.Err(). I/O goes through Go's runtime poller, so contexts, deadlines
// (SetDeadline and friends, as on a net.Conn: os.ErrDeadlineExceeded) and
// Close unblock calls that wait. PollTimeout and WaitTimeout are Python's
// poll(timeout) and wait(conns, timeout): false or no Conns when the time
// passes.
// Descriptors shared with Python keep their blocking mode: sockets are
// driven with MSG_DONTWAIT and pipes through a private non-blocking open
// file description. Config.ThreadWait instead keeps the descriptor off the
// runtime poller and waits in ppoll(2) on the waiting goroutine's thread,
// as a Python process blocks in read(2) (contexts, deadlines and Close
// still interrupt it): package queue uses it, so that a Go pool worker
// waits for its next task the way a Python worker does.
//
// # Errors
//
// RecvBytes returns io.EOF (unwrapped) when the peer closed between
// messages (Python's EOFError) and an error wrapping io.ErrUnexpectedEOF
// and ErrBroken when it closed in the middle of one. A message over the
// receive limit fails with ErrFrameTooLarge and, as in Python, leaves the
// connection unreadable. Python's ValueErrors are ErrBadArgument; its
// "connection is read-only/write-only" OSErrors are ErrReadOnly and
// ErrWriteOnly; multiprocessing.BufferTooShort is *BufferTooShortError.
//
// # Settings
//
// Pipe, FromFD, FromFile and NewConn use the defaults; the same methods of
// a Config take settings: the receive limit (MaxFrame) and the pickle modes
// of Send and Recv (EncMode, DecMode). ParseHeader and AppendHeader are the
// frame header, for code that reads or writes frames itself.
//
// # Limits and security
//
// Receiving is limited to DefaultMaxFrame (64 MiB) per message unless
// Config.MaxFrame says otherwise (negative for none). Memory follows the bytes
// that actually arrive: a header that claims gigabytes from a peer that
// then stops costs at most 1 MiB, and the receive buffer doubles as data
// comes in until 64 MiB have arrived, after which the rest of the
// announced length is allocated at once. Recv unpickles only after a whole frame has
// arrived and inside the pickle package's limits. Pickle from an
// untrusted peer is still a risk for the Python side (Python's pickle runs
// code); authenticate peers with the listener package.
//
// # Concurrency
//
// One Send and one Recv may run at the same time; concurrent Sends (and
// concurrent Recvs) are serialized, so frames never interleave. Poll and
// Wait take the receive lock.
package connection
