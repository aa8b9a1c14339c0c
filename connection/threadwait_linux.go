package connection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Config.ThreadWait (Linux): the descriptor is not registered with the runtime
// poller, and every wait is a ppoll(2) of the descriptor and an eventfd on
// the waiting goroutine's own thread. The eventfd (one per side, so that a
// receive and a send waiting at the same time do not take each other's
// wake-ups) is written when the wait must be re-examined: Close, a new
// deadline, the end of the operation's context.

// threadWaitSupported: Config.ThreadWait takes effect.
const threadWaitSupported = true

// sideWait is the ThreadWait state of one side (receive or send) of a Conn.
// Waits of a side are serialized by the side's lock (rmu, wmu).
type sideWait struct {
	efd     atomic.Int32 // the eventfd plus one (0: not made yet)
	waiters atomic.Int32 // goroutines inside waitFD
	cancel  atomic.Bool  // the current operation's context has ended
	fds     [2]unix.PollFd
	ts      unix.Timespec
}

// wake interrupts a wait of the side, if one may be in progress.
func (s *sideWait) wake() {
	if fd := s.efd.Load() - 1; fd >= 0 {
		one := [8]byte{1}
		_, _ = unix.Write(int(fd), one[:])
	}
}

// shutdown runs at Close, after closed is set: it wakes the waiters, waits
// for them to leave (they see closed and return) and closes the eventfd.
// A goroutine entering waitFD after closed was set returns without
// touching the eventfd.
func (s *sideWait) shutdown() {
	for s.waiters.Load() > 0 {
		s.wake()
		time.Sleep(50 * time.Microsecond)
	}
	if fd := s.efd.Swap(0) - 1; fd >= 0 {
		_ = unix.Close(int(fd))
	}
}

// errCanceled is what waitFD reports when the operation's context ended.
// Like the past deadline with which withCtx interrupts a Conn on the
// poller, it is os.ErrDeadlineExceeded; withCtxNopoll adds ctx.Err() and
// keeps what the operation made of it (ErrBroken in the middle of a frame).
var errCanceled = fmt.Errorf("connection: operation canceled: %w", os.ErrDeadlineExceeded)

// waitFD waits until fd reports events (or an error or hang-up), the side's
// deadline (dl, Unix ns, 0 for none) passes (os.ErrDeadlineExceeded), the
// operation's context ends (errCanceled) or the Conn is closed
// (os.ErrClosed). dl is re-read after every wake-up, so a deadline set
// meanwhile applies.
func (c *Conn) waitFD(s *sideWait, fd uintptr, events int16, dl func() int64) error {
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	if c.closed.Load() {
		return os.ErrClosed
	}
	efd := s.efd.Load() - 1
	if efd < 0 {
		nfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return os.NewSyscallError("eventfd", err)
		}
		efd = int32(nfd)
		s.efd.Store(efd + 1)
	}
	for {
		switch {
		case c.closed.Load():
			return os.ErrClosed
		case s.cancel.Load():
			return errCanceled
		}
		tsp := (*unix.Timespec)(nil)
		if d := dl(); d != 0 {
			left := d - time.Now().UnixNano()
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			s.ts = unix.NsecToTimespec(left)
			tsp = &s.ts
		}
		s.fds[0] = unix.PollFd{Fd: int32(fd), Events: events}
		s.fds[1] = unix.PollFd{Fd: efd, Events: unix.POLLIN}
		_, err := unix.Ppoll(s.fds[:], tsp, nil)
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("ppoll", err)
		}
		if s.fds[1].Revents != 0 {
			var buf [8]byte
			_, _ = unix.Read(int(efd), buf[:]) // consume, then look again
			continue
		}
		if s.fds[0].Revents != 0 {
			return nil
		}
	}
}

func (c *Conn) readDeadline() int64  { return c.rdl.Load() }
func (c *Conn) writeDeadline() int64 { return c.wdl.Load() }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if n := t.UnixNano(); n > 0 {
		return n
	}
	return 1 // a deadline in the (distant) past
}

// doReadWait is the raw-conn read callback of a ThreadWait Conn: doRead,
// waiting in waitFD on EAGAIN. It never leaves the waiting to the runtime
// poller (the descriptor is not registered there).
func (c *Conn) doReadWait(fd uintptr) bool {
	for {
		if c.doRead(fd) {
			return true
		}
		if err := c.waitFD(&c.rside, fd, unix.POLLIN, c.readDeadline); err != nil {
			c.rn, c.rerr = 0, err
			return true
		}
	}
}

// waitReadable waits in waitFD until fd is readable (ThreadWait).
func (c *Conn) waitReadable(fd uintptr) error {
	return c.waitFD(&c.rside, fd, unix.POLLIN, c.readDeadline)
}

// doWriteWait is doReadWait for sends.
func (c *Conn) doWriteWait(fd uintptr) bool {
	for {
		if c.doWrite(fd) {
			return true
		}
		if err := c.waitFD(&c.wside, fd, unix.POLLOUT, c.writeDeadline); err != nil {
			c.werr = err
			return true
		}
	}
}

// withCtxNopoll is withCtx for a ThreadWait Conn: the end of ctx interrupts
// the side's wait through its eventfd.
func (c *Conn) withCtxNopoll(ctx context.Context, write bool, op func() error) error {
	s := &c.rside
	if write {
		s = &c.wside
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		s.cancel.Store(true)
		s.wake()
	})
	err := op()
	if !stop() {
		<-fired
		s.cancel.Store(false)
		if err != nil && errors.Is(err, errCanceled) {
			return fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
	}
	return err
}

// pollWaitNopoll is pollWait for a ThreadWait Conn: wait for readability
// until the earlier of the read deadline and until (zero: none).
func (c *Conn) pollWaitNopoll(ctx context.Context, until time.Time) (bool, error) {
	u := unixNano(until)
	dl := func() int64 {
		d := c.rdl.Load()
		if u != 0 && (d == 0 || u < d) {
			d = u
		}
		return d
	}
	var werr error
	err := c.withCtx(ctx, false, func() error {
		if cerr := c.rc.Control(func(fd uintptr) { werr = c.waitFD(&c.rside, fd, unix.POLLIN, dl) }); cerr != nil {
			return cerr
		}
		return werr
	})
	return c.pollResult(ctx, err)
}
