package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxIO bounds one read syscall's length (the kernel caps a single read or
// write at about 2 GiB anyway).
const maxIO = 1 << 30

// smallWrite is the largest frame that is copied into one buffer and sent
// with a single-buffer system call (as Python does up to 16 KiB) rather
// than writev'd from header and payload.
const smallWrite = 16 << 10

// Growth of the receive buffer: a frame up to firstChunk bytes gets its
// whole buffer at once; a larger one starts with firstChunk and doubles as
// bytes actually arrive, so a header claiming 8 GiB from a peer that then
// goes silent costs at most firstChunk.
const firstChunk = 1 << 20

// trustChunk: once this much of a frame has really arrived, the rest of
// its announced length is allocated at once (so a 2 GiB frame costs one
// big allocation and a 64 MiB copy, not a chain of doublings). A peer must
// therefore send 64 MiB before the Conn commits memory to a larger claim —
// and only with a MaxFrame above 64 MiB.
const trustChunk = 64 << 20

// doRead is the raw-conn read callback: one syscall into c.rp. It returns
// false on EAGAIN so the runtime poller waits for readability.
func (c *Conn) doRead(fd uintptr) bool {
	p := c.rp
	if len(p) > maxIO {
		p = p[:maxIO]
	}
	for {
		n, errno := readFD(fd, p, c.sock)
		switch errno {
		case 0:
			c.rn, c.rerr = n, nil
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			c.rn, c.rerr = 0, os.NewSyscallError("read", errno)
			return true
		}
	}
}

// readFull reads exactly len(p) bytes (len(p) > 0), returning how many
// arrived and io.EOF if the stream ended first.
func (c *Conn) readFull(p []byte) (int, error) {
	if (c.opts.readAhead > 0 || c.buffered()) && c.rc != nil {
		return c.readFullAhead(p)
	}
	if c.rc == nil {
		n, err := io.ReadFull(c.nc, p)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return n, err
	}
	got := 0
	for got < len(p) {
		c.rp = p[got:]
		if err := c.rc.Read(c.readFn); err != nil {
			c.rp = nil
			return got, err
		}
		c.rp = nil
		if c.rerr != nil {
			return got, c.rerr
		}
		if c.rn == 0 {
			return got, io.EOF
		}
		got += c.rn
	}
	return got, nil
}

// readFullAhead is readFull with a read-ahead buffer (Config.ReadAhead):
// bytes left from an earlier read first, then reads of up to ReadAhead
// bytes, keeping the surplus; a remainder of at least ReadAhead bytes is
// read straight into p.
func (c *Conn) readFullAhead(p []byte) (int, error) {
	got := copy(p, c.ahead[c.aheadAt:c.aheadEnd])
	c.aheadAt += got
	for got < len(p) {
		direct := len(p)-got >= c.opts.readAhead
		if direct {
			c.rp = p[got:]
		} else {
			if c.ahead == nil {
				c.ahead = make([]byte, c.opts.readAhead)
			}
			c.rp = c.ahead
		}
		err := c.rc.Read(c.readFn)
		c.rp = nil
		switch {
		case err != nil:
			return got, err
		case c.rerr != nil:
			return got, c.rerr
		case c.rn == 0:
			return got, io.EOF
		case direct:
			got += c.rn
		default:
			n := copy(p[got:], c.ahead[:c.rn])
			got += n
			c.aheadAt, c.aheadEnd = n, c.rn
		}
	}
	return got, nil
}

// buffered reports whether bytes read ahead are waiting (c.rmu is held).
func (c *Conn) buffered() bool { return c.aheadEnd > c.aheadAt }

// Unread puts b in front of the bytes the Conn receives next: bytes that
// were read from its descriptor by other means (Fd), such as an event loop
// that reads requests itself and gives a connection back when it meets
// one it does not handle. b is copied. Polls report the Conn ready while
// such bytes wait. It fails only on a closed or write-only Conn or one
// without a descriptor.
func (c *Conn) Unread(b []byte) error {
	if c.rc == nil {
		return fmt.Errorf("connection: unread: %w", ErrNoFD)
	}
	if err := c.beginRecv("unread"); err != nil {
		return err
	}
	defer c.rmu.Unlock()
	if len(b) == 0 {
		return nil
	}
	rest := c.ahead[c.aheadAt:c.aheadEnd]
	n := len(b) + len(rest)
	nb := make([]byte, max(n, c.opts.readAhead))
	copy(nb, b)
	copy(nb[len(b):], rest)
	c.ahead, c.aheadAt, c.aheadEnd = nb, 0, n
	return nil
}

// Buffered returns how many received bytes wait in the Conn's read-ahead
// buffer (Config.ReadAhead, Unread): bytes that left the descriptor but
// belong to frames not received yet.
func (c *Conn) Buffered() int {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.aheadEnd - c.aheadAt
}

// doWrite is the raw-conn write callback: writev (or sendmsg with
// MSG_DONTWAIT on sockets; see writeFD) of the pending iovecs, looping over
// partial writes; false on EAGAIN.
func (c *Conn) doWrite(fd uintptr) bool {
	for c.wcnt > 0 {
		first := len(c.wiov) - c.wcnt
		written, errno := writeFD(fd, c.wiov[first:], c.sock, &c.wmsg)
		n := uintptr(written)
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			c.werr = os.NewSyscallError("write", errno)
			return true
		}
		c.wdone += int(n)
		for n > 0 && c.wcnt > 0 {
			v := &c.wiov[len(c.wiov)-c.wcnt]
			if uint64(n) >= uint64(v.Len) {
				n -= uintptr(v.Len)
				c.wcnt--
				continue
			}
			v.Base = (*byte)(unsafe.Add(unsafe.Pointer(v.Base), n))
			v.SetLen(int(v.Len) - int(n))
			n = 0
		}
		// Skip empty trailing iovecs (a zero-length payload).
		for c.wcnt > 0 && c.wiov[len(c.wiov)-c.wcnt].Len == 0 {
			c.wcnt--
		}
	}
	return true
}

// writeTwo writes a then b completely (one writev when possible). It
// returns how many bytes went out, so the caller can tell a clean failure
// from one in the middle of a frame.
func (c *Conn) writeTwo(a, b []byte) (int, error) {
	if c.rc == nil {
		if len(b) == 0 {
			return c.nc.Write(a)
		}
		bufs := net.Buffers{a, b}
		n, err := bufs.WriteTo(c.nc)
		return int(n), err
	}
	// Small frames: one contiguous buffer, one send(2)/write(2).
	if len(a)+len(b) <= smallWrite && len(b) > 0 {
		if need := len(a) + len(b); cap(c.wsmall) < need {
			// Grow on demand: short-lived conns (a handshake) stay small.
			c.wsmall = make([]byte, 0, min(max(need, 2*cap(c.wsmall), 256), smallWrite))
		}
		buf := append(append(c.wsmall[:0], a...), b...)
		a, b = buf, nil
	}
	c.wiov[0] = unix.Iovec{}
	c.wiov[1] = unix.Iovec{}
	// The pending iovecs are the last wcnt entries of wiov.
	switch {
	case len(a) > 0 && len(b) > 0:
		c.wiov[0].Base, c.wiov[1].Base = &a[0], &b[0]
		c.wiov[0].SetLen(len(a))
		c.wiov[1].SetLen(len(b))
		c.wcnt = 2
	case len(a) > 0:
		c.wiov[1].Base = &a[0]
		c.wiov[1].SetLen(len(a))
		c.wcnt = 1
	case len(b) > 0:
		c.wiov[1].Base = &b[0]
		c.wiov[1].SetLen(len(b))
		c.wcnt = 1
	default:
		return 0, nil
	}
	c.werr = nil
	c.wdone = 0
	err := c.rc.Write(c.writeFn)
	c.clearFrame()
	if err == nil {
		err = c.werr
	}
	return c.wdone, err
}

// setFrame makes frame the pending write of doWrite (c.wmu held; frame
// not empty).
func (c *Conn) setFrame(frame []byte) {
	c.wiov[0] = unix.Iovec{}
	c.wiov[1] = unix.Iovec{Base: &frame[0]}
	c.wiov[1].SetLen(len(frame))
	c.wcnt = 1
	c.werr = nil
	c.wdone = 0
}

// clearFrame drops the pending write's pointers (c.wmu held).
func (c *Conn) clearFrame() {
	c.wiov[0] = unix.Iovec{}
	c.wiov[1] = unix.Iovec{}
	c.wmsg.Iov = nil
}

// beginSend takes the send lock and checks the Conn can send.
func (c *Conn) beginSend(op string) error {
	c.wmu.Lock()
	if c.closed.Load() {
		c.wmu.Unlock()
		return c.closedErr(op)
	}
	if !c.writable {
		c.wmu.Unlock()
		return fmt.Errorf("connection: %s: %w", op, ErrReadOnly)
	}
	if c.wBroken != nil {
		c.wmu.Unlock()
		return c.wBroken
	}
	return nil
}

// writeFrame writes header and payload; c.wmu is held.
func (c *Conn) writeFrame(op string, payload []byte) error {
	k := putHeader(c.whdr[:], uint64(len(payload)))
	n, err := c.writeTwo(c.whdr[:k], payload)
	return c.sendErr(op, n, err)
}

func (c *Conn) sendErr(op string, n int, err error) error {
	if err == nil {
		return nil
	}
	err = c.ioErr(op, err)
	if n > 0 && !c.closed.Load() {
		c.wBroken = fmt.Errorf("connection: %s: %w: %w", op, ErrBroken, err)
		return c.wBroken
	}
	return err
}

// SendBytes sends b as one message (Python's send_bytes(b)). It returns
// once every byte has been handed to the kernel, or when ctx ends (an error
// matching ctx.Err(); a send interrupted after part of the frame went out
// breaks the send side: ErrBroken).
func (c *Conn) SendBytes(ctx context.Context, b []byte) error {
	if err := c.beginSend("send_bytes"); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return c.withCtx(ctx, true, func() error { return c.writeFrame("send_bytes", b) })
}

// SendBytesRange sends b[offset:offset+size] as one message, with the
// checks of Python's send_bytes(buf, offset, size), which Go reports as
// errors wrapping ErrBadArgument: "offset is negative", "buffer length <
// offset", "size is negative", "buffer length < offset + size".
func (c *Conn) SendBytesRange(ctx context.Context, b []byte, offset, size int) error {
	switch n := len(b); {
	case offset < 0:
		return badArg("offset is negative")
	case n < offset:
		return badArg("buffer length < offset")
	case size < 0:
		return badArg("size is negative")
	case offset+size > n || offset+size < 0:
		return badArg("buffer length < offset + size")
	}
	return c.SendBytes(ctx, b[offset:offset+size])
}

// beginRecv takes the receive lock and checks the Conn can receive.
func (c *Conn) beginRecv(op string) error {
	c.rmu.Lock()
	if c.closed.Load() {
		c.rmu.Unlock()
		return c.closedErr(op)
	}
	if !c.readable.Load() {
		c.rmu.Unlock()
		return fmt.Errorf("connection: %s: %w", op, ErrWriteOnly)
	}
	if c.rBroken != nil {
		c.rmu.Unlock()
		return c.rBroken
	}
	return nil
}

// recvHeader reads one frame header and returns the payload length,
// checked against limit. io.EOF (unwrapped) means the peer closed at a
// frame boundary.
func (c *Conn) recvHeader(op string, limit int64) (int, error) {
	n, err := c.readFull(c.hdr[:smallHeaderLen])
	if err != nil {
		if n == 0 {
			if err == io.EOF {
				return 0, io.EOF
			}
			return 0, c.ioErr(op, err)
		}
		return 0, c.brokenRead(op, err)
	}
	size, _, err := ParseHeader(c.hdr[:smallHeaderLen])
	if err == io.ErrUnexpectedEOF { // the large form: an 8-byte length follows
		if _, err := c.readFull(c.hdr[smallHeaderLen:largeHeaderLen]); err != nil {
			return 0, c.brokenRead(op, err)
		}
		size, _, err = ParseHeader(c.hdr[:largeHeaderLen])
	}
	if err != nil {
		return 0, c.unreadable(op, err)
	}
	if size > uint64(limit) || size > math.MaxInt {
		return 0, c.unreadable(op, fmt.Errorf("%w: %d > %d bytes", ErrFrameTooLarge, size, limit))
	}
	return int(size), nil
}

// brokenRead records a failure in the middle of a frame: the frame
// boundary is lost, so every later receive fails too.
func (c *Conn) brokenRead(op string, err error) error {
	if c.closed.Load() {
		return c.closedErr(op)
	}
	if err == io.EOF {
		err = fmt.Errorf("got end of file during message: %w", io.ErrUnexpectedEOF)
	}
	c.rBroken = fmt.Errorf("connection: %s: %w: %w", op, ErrBroken, err)
	return c.rBroken
}

// unreadable handles a frame we refuse to read (too large, bad header):
// like Python, a duplex connection becomes unreadable and a receive-only
// one is closed.
func (c *Conn) unreadable(op string, err error) error {
	err = fmt.Errorf("connection: %s: %w", op, err)
	c.rBroken = err
	if c.writable {
		c.readable.Store(false)
	} else {
		_ = c.Close()
	}
	return err
}

// recvBody reads a size-byte payload, reusing dst's storage when it is
// large enough and otherwise growing a buffer as bytes arrive.
func (c *Conn) recvBody(op string, size int, dst []byte) ([]byte, error) {
	if size == 0 {
		return dst[:0], nil
	}
	var buf []byte
	switch {
	case cap(dst) >= size:
		buf = dst[:0]
	case size <= firstChunk:
		buf = make([]byte, 0, size)
	default:
		buf = make([]byte, 0, firstChunk)
	}
	for len(buf) < size {
		if len(buf) == cap(buf) {
			nc := 2 * cap(buf)
			if nc > size || nc < 0 || len(buf) >= trustChunk {
				nc = size
			}
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			buf = nb
		}
		end := cap(buf)
		if end > size {
			end = size
		}
		n, err := c.readFull(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, c.brokenRead(op, err)
		}
	}
	return buf, nil
}

func (c *Conn) recvFrame(op string, limit int64, dst []byte) ([]byte, error) {
	size, err := c.recvHeader(op, limit)
	if err != nil {
		return nil, err
	}
	return c.recvBody(op, size, dst)
}

// RecvBytes receives one message (Python's recv_bytes()). It returns
// io.EOF, unwrapped, when the peer closed the connection at a message
// boundary (Python's EOFError); an end of stream inside a message is an
// error wrapping io.ErrUnexpectedEOF and ErrBroken. A message larger than
// the Conn's MaxFrame fails with ErrFrameTooLarge. When ctx ends first it
// returns an error matching ctx.Err() (after part of a frame, the receive
// side is broken: ErrBroken).
func (c *Conn) RecvBytes(ctx context.Context) ([]byte, error) {
	return c.RecvBytesMax(ctx, math.MaxInt64)
}

// RecvBytesMax is Python's recv_bytes(maxlength): a message longer than
// max (or than the Conn's MaxFrame) fails with an error wrapping
// ErrFrameTooLarge, its body is left unread, and the connection becomes
// unreadable (a receive-only one is closed), exactly as in Python. A
// negative max is an ErrBadArgument ("negative maxlength").
func (c *Conn) RecvBytesMax(ctx context.Context, max int) ([]byte, error) {
	if max < 0 {
		return nil, badArg("negative maxlength")
	}
	if err := c.beginRecv("recv_bytes"); err != nil {
		return nil, err
	}
	defer c.rmu.Unlock()
	limit := c.opts.maxFrame
	if int64(max) < limit {
		limit = int64(max)
	}
	var b []byte
	err := c.withCtx(ctx, false, func() (err error) {
		b, err = c.recvFrame("recv_bytes", limit, nil)
		return err
	})
	return b, err
}

// RecvBytesInto receives one message into buf and returns its length
// (Python's recv_bytes_into(buf)). If the message is longer than buf it is
// still consumed and returned whole in a *BufferTooShortError. This path
// does not allocate for messages that fit.
func (c *Conn) RecvBytesInto(ctx context.Context, buf []byte) (int, error) {
	return c.RecvBytesIntoAt(ctx, buf, 0)
}

// RecvBytesIntoAt is Python's recv_bytes_into(buf, offset): the message
// is stored at buf[offset:]; the returned length does not include offset.
func (c *Conn) RecvBytesIntoAt(ctx context.Context, buf []byte, offset int) (int, error) {
	if offset < 0 {
		return 0, badArg("negative offset")
	}
	if offset > len(buf) {
		return 0, badArg("offset too large")
	}
	if err := c.beginRecv("recv_bytes_into"); err != nil {
		return 0, err
	}
	defer c.rmu.Unlock()
	var n int
	err := c.withCtx(ctx, false, func() (err error) {
		n, err = c.recvInto(buf, offset)
		return err
	})
	return n, err
}

func (c *Conn) recvInto(buf []byte, offset int) (int, error) {
	const op = "recv_bytes_into"
	size, err := c.recvHeader(op, c.opts.maxFrame)
	if err != nil {
		return 0, err
	}
	space := buf[offset:]
	if size <= len(space) {
		if size == 0 {
			return 0, nil
		}
		n, err := c.readFull(space[:size])
		if err != nil {
			return n, c.brokenRead(op, err)
		}
		return size, nil
	}
	msg, err := c.recvBody(op, size, nil)
	if err != nil {
		return 0, err
	}
	return 0, &BufferTooShortError{Message: msg, BufLen: len(space)}
}

// isTimeout reports a deadline error.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
