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
)

// WithPickleProtocol makes Send use pickle protocol p (0–5; Python's
// Connection.send uses 4, the default). Python's recv accepts every
// protocol. An invalid protocol makes Send fail.
func WithPickleProtocol(p int) Option {
	return func(o *options) {
		m, err := pickle.EncOptions{Protocol: p, ProtocolZero: p == 0}.EncMode()
		o.enc, o.encErr = m, err
	}
}

// WithEncMode makes Send pickle with m.
func WithEncMode(m pickle.EncMode) Option {
	return func(o *options) { o.enc, o.encErr = m, nil }
}

// WithDecMode makes Recv unpickle with m (its limits apply to every
// received value).
func WithDecMode(m pickle.DecMode) Option {
	return func(o *options) { o.dec = m }
}

// Send pickles v (protocol 4 unless configured otherwise) and sends it as
// one message, like Python's Connection.send. v is encoded straight into a
// reused frame buffer and written with its header in one system call. If
// pickling fails nothing is sent.
func (c *Conn) Send(v any) error {
	return c.SendContext(context.Background(), v)
}

// SendContext is Send that gives up when ctx is done.
func (c *Conn) SendContext(ctx context.Context, v any) error {
	enc := c.opts.enc
	if enc == nil {
		if c.opts.encErr != nil {
			return fmt.Errorf("connection: send: %w", c.opts.encErr)
		}
		enc = defaultEnc
	}
	if err := c.beginSend("send"); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	// Reserve room for the largest header, pickle after it, then put the
	// real header right in front of the payload.
	buf := c.wbuf[:0]
	buf = append(buf, make([]byte, largeHeaderLen)...)
	buf, err := enc.AppendMarshal(buf, v)
	if err != nil {
		return fmt.Errorf("connection: send: %w", err)
	}
	var h [largeHeaderLen]byte
	k := putHeader(h[:], uint64(len(buf)-largeHeaderLen))
	frame := buf[largeHeaderLen-k:]
	copy(frame, h[:k])
	err = c.withCtx(ctx, true, func() error {
		n, err := c.writeTwo(frame, nil)
		return c.sendErr("send", n, err)
	})
	if cap(buf) <= keepBuf {
		c.wbuf = buf[:0]
	} else {
		c.wbuf = nil
	}
	return err
}

// Recv receives one message and unpickles it into v, like Python's
// Connection.recv. v must be a non-nil pointer; use *any for generic
// values (see package pickle for the type mapping). io.EOF (unwrapped)
// means the peer closed between messages. The payload buffer is reused
// between calls; decoded values never alias it.
func (c *Conn) Recv(v any) error {
	return c.RecvContext(context.Background(), v)
}

// RecvContext is Recv that gives up when ctx is done.
func (c *Conn) RecvContext(ctx context.Context, v any) error {
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
	dec := c.opts.dec
	if dec == nil {
		dec = defaultDec
	}
	err = dec.Unmarshal(payload, v)
	if cap(payload) <= keepBuf {
		c.rbuf = payload[:0]
	} else {
		c.rbuf = nil
	}
	if err != nil {
		return fmt.Errorf("connection: recv: %w", err)
	}
	return nil
}
