package connection_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
)

// dialUnix returns both ends of a unix socket connection made by
// net.Dial to a net.Listen in a temporary directory: dialed and accepted.
func dialUnix(t *testing.T) (dialed, accepted net.Conn) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	require.NoError(t, err)
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		ch <- nc
	}()
	dialed, err = net.Dial("unix", filepath.Join(dir, "s"))
	require.NoError(t, err)
	accepted = <-ch
	require.NotNil(t, accepted, "accept failed")
	return dialed, accepted
}

// exchangePairs are the kinds of Conn SendRecvBytesInto serves: a
// socketpair on the runtime poller, a dialed socket (NewConn), the same
// with ThreadWait (ppoll), and a ReadAhead one. peer is the other end.
func exchangePairs(t *testing.T) map[string]func(t *testing.T) (c, peer *connection.Conn) {
	unixPair := func(t *testing.T, cfg connection.Config) (*connection.Conn, *connection.Conn) {
		dnc, anc := dialUnix(t)
		c, peer := cfg.NewConn(dnc), connection.NewConn(anc)
		t.Cleanup(func() { c.Close(); peer.Close() })
		return c, peer
	}
	m := map[string]func(t *testing.T) (c, peer *connection.Conn){
		"socketpair": func(t *testing.T) (*connection.Conn, *connection.Conn) { return pipe(t, true) },
		"newconn":    func(t *testing.T) (*connection.Conn, *connection.Conn) { return unixPair(t, connection.Config{}) },
		"readahead": func(t *testing.T) (*connection.Conn, *connection.Conn) {
			return unixPair(t, connection.Config{ReadAhead: 4096})
		},
	}
	if runtime.GOOS == "linux" {
		m["threadwait"] = func(t *testing.T) (*connection.Conn, *connection.Conn) {
			return unixPair(t, connection.Config{ThreadWait: true, ReadAhead: 4096})
		}
	}
	return m
}

// echo answers every request of peer with "re:" and the request's bytes,
// after delay.
func echo(peer *connection.Conn, delay time.Duration) {
	go func() {
		for {
			b, err := peer.RecvBytes(context.Background())
			if err != nil {
				return
			}
			time.Sleep(delay)
			if peer.SendBytes(context.Background(), append([]byte("re:"), b...)) != nil {
				return
			}
		}
	}()
}

func TestSendRecvBytesIntoRoundTrips(t *testing.T) {
	for name, mk := range exchangePairs(t) {
		t.Run(name, func(t *testing.T) {
			c, peer := mk(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			echo(peer, 0)
			buf := make([]byte, 64)
			for i := 0; i < 300; i++ {
				n, sent, err := c.SendRecvBytesInto(ctx, int64(i), buf)
				require.NoError(t, err)
				require.True(t, sent)
				// The reply is "re:" and the pickle of i.
				want := append([]byte("re:"), mustPickle(t, int64(i))...)
				require.Equal(t, want, buf[:n], "call %d", i)
			}
			// A late reply is waited for; a plain receive still works after.
			c2, peer2 := mk(t)
			echo(peer2, 30*time.Millisecond)
			n, sent, err := c2.SendRecvBytesInto(ctx, "late", buf)
			require.NoError(t, err)
			assert.True(t, sent)
			assert.Equal(t, append([]byte("re:"), mustPickle(t, "late")...), buf[:n])
			require.NoError(t, c2.Send(ctx, "again"))
			b, err := c2.RecvBytes(ctx)
			require.NoError(t, err)
			assert.Equal(t, append([]byte("re:"), mustPickle(t, "again")...), b)
		})
	}
}

func mustPickle(t *testing.T, v any) []byte {
	t.Helper()
	a, b := pipe(t, true)
	require.NoError(t, a.Send(context.Background(), v))
	p, err := b.RecvBytes(context.Background())
	require.NoError(t, err)
	return p
}

func TestSendRecvBytesIntoLongReplyAndUnasked(t *testing.T) {
	for name, mk := range exchangePairs(t) {
		t.Run(name, func(t *testing.T) {
			c, peer := mk(t)
			ctx := context.Background()
			// A reply longer than buf arrives whole in a BufferTooShortError.
			go func() {
				if _, err := peer.RecvBytes(ctx); err == nil {
					_ = peer.SendBytes(ctx, make([]byte, 5000))
				}
			}()
			n, sent, err := c.SendRecvBytesInto(ctx, "q", make([]byte, 8))
			var short *connection.BufferTooShortError
			require.ErrorAs(t, err, &short)
			assert.True(t, sent)
			assert.Zero(t, n)
			assert.Len(t, short.Message, 5000)

			// Bytes the peer sent unasked before the call come first; the
			// reply follows.
			require.NoError(t, peer.SendBytes(ctx, []byte("early")))
			time.Sleep(20 * time.Millisecond) // let the poller see them
			echo(peer, 0)
			buf := make([]byte, 64)
			n, sent, err = c.SendRecvBytesInto(ctx, "q2", buf)
			require.NoError(t, err)
			assert.True(t, sent)
			assert.Equal(t, "early", string(buf[:n]))
			b, err := c.RecvBytes(ctx)
			require.NoError(t, err)
			assert.Equal(t, append([]byte("re:"), mustPickle(t, "q2")...), b)
		})
	}
}

func TestSendRecvBytesIntoFailures(t *testing.T) {
	for name, mk := range exchangePairs(t) {
		t.Run(name, func(t *testing.T) {
			buf := make([]byte, 64)
			// The context ends while the reply is awaited: the request went
			// out, the receive side stays usable (nothing of a frame read).
			c, peer := mk(t)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, sent, err := c.SendRecvBytesInto(ctx, "q", buf)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.True(t, sent)
			b, err := peer.RecvBytes(context.Background())
			require.NoError(t, err)
			assert.Equal(t, mustPickle(t, "q"), b)
			require.NoError(t, peer.SendBytes(context.Background(), []byte("reply")))
			b, err = c.RecvBytes(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "reply", string(b))

			// A value that does not pickle: nothing sent.
			_, sent, err = c.SendRecvBytesInto(context.Background(), make(chan int), buf)
			require.Error(t, err)
			assert.False(t, sent)

			// A write deadline takes the plain path, with the same result.
			echo(peer, 0)
			require.NoError(t, c.SetWriteDeadline(time.Now().Add(time.Minute)))
			n, sent, err := c.SendRecvBytesInto(context.Background(), "w", buf)
			require.NoError(t, err)
			assert.True(t, sent)
			assert.Equal(t, append([]byte("re:"), mustPickle(t, "w")...), buf[:n])
			require.NoError(t, c.SetWriteDeadline(time.Time{}))

			// Close while the reply is awaited unblocks the call.
			c3, peer3 := mk(t)
			done := make(chan error, 1)
			go func() {
				_, _, err := c3.SendRecvBytesInto(context.Background(), "x", buf)
				done <- err
			}()
			_, err = peer3.RecvBytes(context.Background())
			require.NoError(t, err)
			time.Sleep(10 * time.Millisecond)
			require.NoError(t, c3.Close())
			select {
			case err := <-done:
				require.ErrorIs(t, err, connection.ErrClosed)
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not unblock SendRecvBytesInto")
			}
			_, sent, err = c3.SendRecvBytesInto(context.Background(), "y", buf)
			require.ErrorIs(t, err, connection.ErrClosed)
			assert.False(t, sent)

			// The peer is gone: the send or the receive fails, never hangs.
			c4, peer4 := mk(t)
			require.NoError(t, peer4.Close())
			_, _, err = c4.SendRecvBytesInto(context.Background(), "z", buf)
			require.Error(t, err)
		})
	}
}

// The request goes out before the wait: many calls in a row from
// concurrent goroutines on separate Conns all complete.
func TestSendRecvBytesIntoConcurrent(t *testing.T) {
	pairs := exchangePairs(t)
	done := make(chan error, 16)
	for i := 0; i < 16; i++ {
		c, peer := pairs["newconn"](t)
		if i%2 == 1 {
			if mk, ok := pairs["threadwait"]; ok {
				c, peer = mk(t)
			}
		}
		echo(peer, 0)
		go func() {
			buf := make([]byte, 64)
			for j := 0; j < 200; j++ {
				n, _, err := c.SendRecvBytesInto(context.Background(), strconv.Itoa(j), buf)
				if err != nil {
					done <- err
					return
				}
				if n < 3 || string(buf[:3]) != "re:" {
					done <- errors.New("bad reply " + string(buf[:n]))
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 16; i++ {
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(60 * time.Second):
			t.Fatal("calls did not complete")
		}
	}
}
