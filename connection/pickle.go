package connection

import (
	"context"
	"fmt"

	"github.com/mpwire/mpwire/pickle"
)

// keepBuf is the largest send or receive buffer a Conn keeps for reuse
// between messages; bigger ones are dropped after use.
const keepBuf = 1 << 20

var (
	defaultEnc, _ = pickle.EncOptions{}.EncMode()
	defaultDec, _ = pickle.DecOptions{}.DecMode()
	// defaultDecOwned decodes a received frame buffer that the Conn drops
	// afterwards (larger than keepBuf): its bytes values are slices of it,
	// not copies, which saves copying a large bytes value into fresh memory.
	defaultDecOwned, _ = pickle.DecOptions{AliasBytes: true}.DecMode()
)

// Send pickles v (with Config.EncMode: protocol 4 by default) and sends it
// as one message, like Python's Connection.send. v is encoded straight into
// a reused frame buffer and written with its header in one system call. If
// pickling fails nothing is sent. When ctx ends first, Send returns an error
// matching ctx.Err(); if part of the frame went out, the send side is
// broken (ErrBroken).
func (c *Conn) Send(ctx context.Context, v any) error {
	if err := c.beginSend("send"); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	frame, buf, err := c.encodeFrame(v)
	if err != nil {
		return fmt.Errorf("connection: send: %w", err)
	}
	err = c.withCtx(ctx, true, func() error {
		n, err := c.writeTwo(frame, nil)
		return c.sendErr("send", n, err)
	})
	c.keepWbuf(buf)
	return err
}

// encodeFrame pickles v into the reused frame buffer (c.wmu held) and
// returns the frame (header and payload) and the buffer to give back to
// keepWbuf.
func (c *Conn) encodeFrame(v any) (frame, buf []byte, err error) {
	// Reserve room for the largest header, pickle after it, then put the
	// real header right in front of the payload.
	buf = c.wbuf[:0]
	buf = append(buf, make([]byte, largeHeaderLen)...)
	buf, err = c.opts.enc.AppendMarshal(buf, v)
	if err != nil {
		return nil, nil, err
	}
	var h [largeHeaderLen]byte
	k := putHeader(h[:], uint64(len(buf)-largeHeaderLen))
	frame = buf[largeHeaderLen-k:]
	copy(frame, h[:k])
	return frame, buf, nil
}

// keepWbuf keeps buf for the next send unless it is large (c.wmu held).
func (c *Conn) keepWbuf(buf []byte) {
	if cap(buf) <= keepBuf {
		c.wbuf = buf[:0]
	} else {
		c.wbuf = nil
	}
}

// Recv receives one message and unpickles it into v (with Config.DecMode),
// like Python's Connection.recv. v must be a non-nil pointer; use *any for
// generic values (see package pickle for the type mapping). io.EOF
// (unwrapped) means the peer closed between messages. The payload buffer
// of messages up to 1 MiB is reused between calls; decoded values never
// alias it. When ctx ends
// first, Recv returns an error matching ctx.Err() (after part of a frame,
// the receive side is broken: ErrBroken).
//
// With the default DecMode, a message larger than 1 MiB is received into a
// buffer of its own that the Conn does not reuse, and the bytes values
// decoded from it are slices of that buffer rather than copies
// (pickle.DecOptions.AliasBytes): a large bytes value is not copied twice.
func (c *Conn) Recv(ctx context.Context, v any) error {
	if err := c.beginRecv("recv"); err != nil {
		return err
	}
	defer c.rmu.Unlock()
	var payload []byte
	err := c.withCtx(ctx, false, func() (err error) {
		payload, err = c.recvFrame("recv", c.opts.maxFrame, c.rbuf)
		return err
	})
	if err != nil {
		return err
	}
	if cap(payload) <= keepBuf {
		err = c.opts.dec.Unmarshal(payload, v)
		c.rbuf = payload[:0]
	} else {
		// payload is this message's alone: bytes values may alias it.
		err = c.opts.decOwned.Unmarshal(payload, v)
		c.rbuf = nil
	}
	if err != nil {
		return fmt.Errorf("connection: recv: %w", err)
	}
	return nil
}
