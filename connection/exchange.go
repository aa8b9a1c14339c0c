package connection

import (
	"context"
	"fmt"
)

// States of SendRecvBytesInto's send inside the read callback.
const (
	xSend    = iota // the frame is still to be sent
	xSent           // sent whole: waiting for (or woken by) readability
	xPartial        // the socket took part of it, or nothing: finish with the send path
	xFailed         // the send failed (c.werr)
)

// SendRecvBytesInto sends v pickled as one message, like Send, and then
// receives the peer's next message into buf, like RecvBytesInto: one
// request and its reply (a manager client's call). n is the reply's length
// (a reply longer than buf arrives whole in a *BufferTooShortError). sent
// reports whether the whole request went out: an error with sent false is
// the send's, as Send reports it; with sent true, the receive's.
//
// What it saves over Send then RecvBytesInto: the request is sent from
// inside the receive's wait, so the receive waits for the reply before it
// reads, instead of first trying a read that finds nothing because the
// reply cannot have arrived yet (one system call per round trip). This
// relies on the peer sending something after it receives v; bytes the peer
// sent before, unasked, are received with that next message at the latest.
// Conns without a socket, with bytes read ahead waiting, or with a write
// deadline set take the plain path (Send, then RecvBytesInto).
func (c *Conn) SendRecvBytesInto(ctx context.Context, v any, buf []byte) (n int, sent bool, err error) {
	if !c.waitFirst {
		return c.sendThenRecv(ctx, v, buf)
	}
	if c.beginRecv("recv_bytes_into") != nil {
		return c.sendThenRecv(ctx, v, buf) // the same errors, in the same order
	}
	c.dlMu.Lock()
	wdl := !c.writeDL.IsZero()
	c.dlMu.Unlock()
	if c.buffered() || wdl {
		c.rmu.Unlock()
		return c.sendThenRecv(ctx, v, buf)
	}
	defer c.rmu.Unlock()
	if err := c.beginSend("send"); err != nil {
		return 0, false, err
	}
	frame, fbuf, err := c.encodeFrame(v)
	if err != nil {
		c.wmu.Unlock()
		return 0, false, fmt.Errorf("connection: send: %w", err)
	}
	wlocked := true
	defer func() {
		if wlocked {
			c.wmu.Unlock()
		}
	}()
	err = c.withCtx(ctx, false, func() error {
		c.setFrame(frame)
		c.xstate = xSend
		_ = c.rc.Read(c.xFn) // a failed wait shows again in recvInto
		state := c.xstate
		c.xstate = xSend
		switch state {
		case xFailed:
			c.clearFrame()
			return c.sendErr("send", c.wdone, c.werr)
		case xSend, xPartial:
			// The wait did not start (a read deadline passed, say) or the
			// socket's buffer was full: finish as Send would.
			if err := c.withCtx(ctx, true, c.finishSend); err != nil {
				return err
			}
		default:
			c.clearFrame()
		}
		sent = true
		c.keepWbuf(fbuf)
		c.wmu.Unlock()
		wlocked = false
		n, err = c.recvInto(buf, 0)
		return err
	})
	if wlocked {
		c.keepWbuf(fbuf)
	}
	return n, sent, err
}

func (c *Conn) sendThenRecv(ctx context.Context, v any, buf []byte) (int, bool, error) {
	if err := c.Send(ctx, v); err != nil {
		return 0, false, err
	}
	n, err := c.RecvBytesInto(ctx, buf)
	return n, true, err
}

// finishSend sends the rest of the frame set by setFrame (c.wmu held).
func (c *Conn) finishSend() error {
	err := c.rc.Write(c.writeFn)
	if err == nil {
		err = c.werr
	}
	c.clearFrame()
	return c.sendErr("send", c.wdone, err)
}

// doExchange is the read callback of SendRecvBytesInto: its first call
// sends the frame (one system call; never waits for room) and returns
// false, so the runtime poller waits for readability, or waits in ppoll
// itself on a ThreadWait Conn; the next call reports the Conn readable
// without reading (recvInto reads).
func (c *Conn) doExchange(fd uintptr) bool {
	if c.xstate != xSend {
		return true
	}
	switch {
	case !c.doWrite(fd):
		c.xstate = xPartial
		return true
	case c.werr != nil:
		c.xstate = xFailed
		return true
	}
	c.xstate = xSent
	if c.nopoll {
		// An error (deadline, context, Close) shows again in recvInto.
		_ = c.waitReadable(fd)
		return true
	}
	return false
}
