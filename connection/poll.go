package connection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// doPoll is the raw-conn callback Poll waits with: it checks readiness with
// a zero-timeout poll(2) and returns false (wait for the poller) if the
// descriptor has nothing to read.
func (c *Conn) doPoll(fd uintptr) bool {
	c.pollFds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	for {
		n, err := unix.Poll(c.pollFds[:], 0)
		if err == unix.EINTR {
			continue
		}
		c.pollReady = err != nil || (n > 0 && c.pollFds[0].Revents != 0)
		return c.pollReady
	}
}

// pollNow reports whether the Conn has data (or EOF) pending, without
// waiting. c.rmu is held.
func (c *Conn) pollNow() (bool, error) {
	if c.buffered() {
		return true, nil
	}
	var err error
	if cerr := c.rc.Control(func(fd uintptr) { c.doPoll(fd) }); cerr != nil {
		err = c.ioErr("poll", cerr)
	}
	return c.pollReady, err
}

func (c *Conn) beginPoll() error {
	if c.rc == nil {
		return fmt.Errorf("connection: poll: %w", ErrNoFD)
	}
	return c.beginRecv("poll")
}

// Poll waits until there is data (or end of stream) to be read, like
// Python's poll(None), or until ctx ends: then it returns false and an
// error matching ctx.Err(). Like Python, it does not check that a whole
// frame has arrived, and after the peer closed it reports true (the next
// receive then returns io.EOF).
func (c *Conn) Poll(ctx context.Context) (bool, error) {
	return c.PollTimeout(ctx, -1)
}

// PollTimeout is Python's poll(timeout): it waits up to d for data and
// reports false, with a nil error, when d passes first. d == 0 checks
// without waiting (Python's poll()); a negative d waits like Poll. ctx
// bounds the wait too (its end is an error, as for Poll).
func (c *Conn) PollTimeout(ctx context.Context, d time.Duration) (bool, error) {
	if err := c.beginPoll(); err != nil {
		return false, err
	}
	defer c.rmu.Unlock()
	ready, err := c.pollWait(ctx, d)
	if err != nil && ctx.Err() != nil {
		return false, fmt.Errorf("connection: poll: %w", err)
	}
	return ready, err
}

// pollWait waits for readability; c.rmu is held. Timeouts are implemented
// with the read deadline (restored afterwards), so the runtime poller does
// the waiting and Close unblocks it.
func (c *Conn) pollWait(ctx context.Context, timeout time.Duration) (bool, error) {
	if c.nopoll && timeout < 0 && !c.buffered() && c.rdl.Load() == 0 && ctx.Err() == nil {
		// A ThreadWait Conn waits in ppoll(2), which returns at once if
		// data is there: checking first would be one more system call
		// (a manager server's every request). With no deadline and ctx
		// not done, the check could not change the answer.
		return c.pollWaitNopoll(ctx, time.Time{})
	}
	ready, err := c.pollNow()
	if ready || err != nil || timeout == 0 {
		return ready, err
	}
	var until time.Time
	if timeout > 0 {
		until = time.Now().Add(timeout)
	}
	if c.nopoll {
		return c.pollWaitNopoll(ctx, until)
	}
	c.dlMu.Lock()
	err = c.setReadDL(until)
	c.dlMu.Unlock()
	if err != nil {
		return false, c.ioErr("poll", err)
	}
	err = c.withCtx(ctx, false, func() error { return c.rc.Read(c.pollFn) })
	c.dlMu.Lock()
	_ = c.setReadDL(c.readDL)
	c.dlMu.Unlock()
	return c.pollResult(ctx, err)
}

// pollResult turns the error of a wait for readability into Poll's
// result: ready, not ready by the deadline, or the error.
func (c *Conn) pollResult(ctx context.Context, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	}
	return false, c.ioErr("poll", err)
}

// Wait waits until at least one of conns has data (or end of stream)
// pending and returns those that do, like multiprocessing.connection.wait
// with no timeout, or until ctx ends (an error matching ctx.Err()). It
// takes each Conn's receive lock while waiting, so a Conn being received
// from in another goroutine is waited for only after that receive returns.
// A closed or unpollable Conn is an error.
func Wait(ctx context.Context, conns []*Conn) ([]*Conn, error) {
	return WaitTimeout(ctx, -1, conns)
}

// WaitTimeout is Python's wait(conns, timeout): Wait for at most d; when d
// passes first it returns an empty slice and no error. d == 0 checks
// without waiting; a negative d waits like Wait.
func WaitTimeout(ctx context.Context, d time.Duration, conns []*Conn) ([]*Conn, error) {
	ready, err := readyNow(conns)
	if err != nil || len(ready) > 0 || d == 0 || len(conns) == 0 {
		return ready, err
	}
	wctx, cancel := context.WithCancel(ctx)
	if d > 0 {
		wctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	errs := make(chan error, len(conns))
	for _, c := range conns {
		go func(c *Conn) {
			if err := c.beginPoll(); err != nil {
				errs <- err
				return
			}
			defer c.rmu.Unlock()
			ok, err := c.pollWait(wctx, -1)
			if ok || (err != nil && wctx.Err() == nil) {
				cancel() // one is ready (or failed): stop the others
			}
			if wctx.Err() != nil && err == wctx.Err() {
				err = nil
			}
			errs <- err
		}(c)
	}
	var firstErr error
	for range conns {
		if err := <-errs; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("connection: wait: %w", err)
	}
	return readyNow(conns)
}

func readyNow(conns []*Conn) ([]*Conn, error) {
	var ready []*Conn
	for _, c := range conns {
		if err := c.beginPoll(); err != nil {
			return nil, err
		}
		ok, err := c.pollNow()
		c.rmu.Unlock()
		if err != nil {
			return nil, err
		}
		if ok {
			ready = append(ready, c)
		}
	}
	if ready == nil {
		ready = []*Conn{}
	}
	return ready, nil
}
