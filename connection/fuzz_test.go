package connection_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
)

// bytesConn is a net.Conn whose reads come from a fixed byte string and
// whose writes are discarded; it lets the fuzzers drive the frame reader
// without sockets.
type bytesConn struct{ r *bytes.Reader }

func (c bytesConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c bytesConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c bytesConn) Close() error                       { return nil }
func (c bytesConn) LocalAddr() net.Addr                { return nil }
func (c bytesConn) RemoteAddr() net.Addr               { return nil }
func (c bytesConn) SetDeadline(t time.Time) error      { return nil }
func (c bytesConn) SetReadDeadline(t time.Time) error  { return nil }
func (c bytesConn) SetWriteDeadline(t time.Time) error { return nil }

const fuzzMaxFrame = 1 << 20

// refFrames is an independent reference parser of the frame format: the
// frames it can read whole (within limit) before the first problem.
func refFrames(data []byte, limit uint64) [][]byte {
	var out [][]byte
	for {
		if len(data) < 4 {
			return out
		}
		l := int32(binary.BigEndian.Uint32(data))
		data = data[4:]
		var n uint64
		switch {
		case l == -1:
			if len(data) < 8 {
				return out
			}
			n = binary.BigEndian.Uint64(data)
			data = data[8:]
		case l < 0:
			return out
		default:
			n = uint64(l)
		}
		if n > limit || n > uint64(len(data)) {
			return out
		}
		out = append(out, data[:n])
		data = data[n:]
	}
}

// FuzzRecvBytes feeds arbitrary bytes to the frame reader: it must never
// panic, never return a message over the limit, and agree with the
// reference parser on every message it returns.
func FuzzRecvBytes(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x00\x00\x05hello\x00\x00\x00\x01!"))
	f.Add([]byte("\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x05HELLO"))
	f.Add([]byte("\xff\xff\xff\xff\x00\x00\x00\x02\x00\x00\x00\x00abc"))
	f.Add([]byte("\xff\xff\xff\xfb"))
	f.Add([]byte("\x7f\xff\xff\xff"))
	f.Add([]byte("\x00\x00\x00\x05ab"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := refFrames(data, fuzzMaxFrame)
		c := connection.Config{MaxFrame: fuzzMaxFrame}.NewConn(bytesConn{bytes.NewReader(data)})
		small := make([]byte, 8)
		for i := 0; ; i++ {
			var msg []byte
			var err error
			if i%2 == 0 {
				msg, err = c.RecvBytes(context.Background())
			} else {
				var n int
				n, err = c.RecvBytesInto(context.Background(), small)
				msg = small[:n]
				var bts *connection.BufferTooShortError
				if errors.As(err, &bts) {
					msg, err = bts.Message, nil
				}
			}
			if err != nil {
				if i != len(want) {
					t.Fatalf("reader stopped after %d messages (%v), reference parsed %d", i, err, len(want))
				}
				if err != io.EOF && len(data) > 0 && errors.Is(err, io.EOF) {
					t.Fatalf("a wrapped io.EOF: %v", err)
				}
				return
			}
			if i >= len(want) {
				t.Fatalf("reader returned message %d, reference parsed only %d", i, len(want))
			}
			if len(msg) > fuzzMaxFrame {
				t.Fatalf("message of %d bytes over the limit", len(msg))
			}
			if !bytes.Equal(msg, want[i]) {
				t.Fatalf("message %d differs from the reference parser", i)
			}
		}
	})
}

// FuzzRecvBytesReadAhead is FuzzRecvBytes through a socket with a
// read-ahead buffer (Config.ReadAhead, its size from the input): the
// buffered reader must agree with the reference parser too.
func FuzzRecvBytesReadAhead(f *testing.F) {
	f.Add(uint8(1), []byte("\x00\x00\x00\x05hello\x00\x00\x00\x01!"))
	f.Add(uint8(4), []byte("\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x05HELLO\x00\x00\x00\x00"))
	f.Add(uint8(7), []byte("\x00\x00\x00\x05ab"))
	f.Add(uint8(200), []byte("\x00\x00\x00\x03abc\x00\x00\x00\x02de\xff\xff\xff\xfb"))
	f.Fuzz(func(t *testing.T, ra uint8, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		want := refFrames(data, fuzzMaxFrame)
		c, peer := rawPair(t, connection.Config{MaxFrame: fuzzMaxFrame, ReadAhead: int(ra%64) + 1})
		go func() {
			peer.Write(data)
			peer.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		small := make([]byte, 8)
		for i := 0; ; i++ {
			var msg []byte
			var err error
			if i%2 == 0 {
				msg, err = c.RecvBytes(ctx)
			} else {
				var n int
				n, err = c.RecvBytesInto(ctx, small)
				msg = small[:n]
				var bts *connection.BufferTooShortError
				if errors.As(err, &bts) {
					msg, err = bts.Message, nil
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					t.Fatalf("reader blocked after %d messages", i)
				}
				if i != len(want) {
					t.Fatalf("reader stopped after %d messages (%v), reference parsed %d", i, err, len(want))
				}
				return
			}
			if i >= len(want) || !bytes.Equal(msg, want[i]) {
				t.Fatalf("message %d differs from the reference parser", i)
			}
		}
	})
}
