package connection_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
)

// waitingInPpoll reports whether some goroutine is blocked in a
// ThreadWait receive's ppoll: in a system call under doReadWait.
func waitingInPpoll() bool { return waitingIn("connection.(*Conn).doReadWait") }

// waitingIn reports whether a goroutine is in a system call under fn.
func waitingIn(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) && strings.Contains(g, "[syscall") {
			return true
		}
	}
	return false
}

func awaitPpoll(t *testing.T) { awaitIn(t, "connection.(*Conn).doReadWait") }

func awaitIn(t *testing.T, fn string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !waitingIn(fn) {
		if time.Now().After(deadline) {
			t.Fatal("no receive is waiting in ppoll")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type recvResult struct {
	b   []byte
	err error
}

func recvAsync(c *connection.Conn, ctx context.Context) <-chan recvResult {
	ch := make(chan recvResult, 1)
	go func() {
		b, err := c.RecvBytes(ctx)
		ch <- recvResult{b, err}
	}()
	return ch
}

func TestThreadWaitReceivesInASystemCall(t *testing.T) {
	for _, duplex := range []bool{false, true} {
		r, w := pipeCfg(t, duplex, connection.Config{ThreadWait: true})
		got := recvAsync(r, context.Background())
		awaitPpoll(t)
		require.NoError(t, w.SendBytes(context.Background(), []byte("hello")))
		res := <-got
		require.NoError(t, res.err)
		assert.Equal(t, []byte("hello"), res.b)

		// A frame whose body arrives after its header.
		got = recvAsync(r, context.Background())
		f, err := w.File()
		require.NoError(t, err)
		_, err = f.Write([]byte{0, 0, 0, 3, 'a'})
		require.NoError(t, err)
		time.Sleep(20 * time.Millisecond)
		_, err = f.Write([]byte("bc"))
		require.NoError(t, err)
		f.Close()
		res = <-got
		require.NoError(t, res.err)
		assert.Equal(t, []byte("abc"), res.b)
	}
}

func TestThreadWaitCloseAndDeadlines(t *testing.T) {
	t.Run("Close ends a waiting receive with ErrClosed", func(t *testing.T) {
		r, _ := pipeCfg(t, false, connection.Config{ThreadWait: true})
		got := recvAsync(r, context.Background())
		awaitPpoll(t)
		require.NoError(t, r.Close())
		select {
		case res := <-got:
			assert.ErrorIs(t, res.err, connection.ErrClosed)
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not interrupt the receive")
		}
	})
	t.Run("a read deadline set while waiting ends the receive", func(t *testing.T) {
		r, _ := pipeCfg(t, false, connection.Config{ThreadWait: true})
		got := recvAsync(r, context.Background())
		awaitPpoll(t)
		require.NoError(t, r.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
		select {
		case res := <-got:
			assert.ErrorIs(t, res.err, os.ErrDeadlineExceeded)
		case <-time.After(10 * time.Second):
			t.Fatal("the deadline did not end the receive")
		}
	})
	t.Run("the end of the context ends a waiting receive", func(t *testing.T) {
		r, _ := pipeCfg(t, false, connection.Config{ThreadWait: true})
		ctx, cancel := context.WithCancel(context.Background())
		got := recvAsync(r, ctx)
		awaitPpoll(t)
		cancel()
		select {
		case res := <-got:
			assert.True(t, errors.Is(res.err, context.Canceled), "%v", res.err)
		case <-time.After(10 * time.Second):
			t.Fatal("cancel did not end the receive")
		}
		// The Conn is still usable afterwards.
		_, err := r.PollTimeout(context.Background(), 0)
		require.NoError(t, err)
	})
	t.Run("a deadline set before the receive", func(t *testing.T) {
		r, _ := pipeCfg(t, false, connection.Config{ThreadWait: true})
		require.NoError(t, r.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
		_, err := r.RecvBytes(context.Background())
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.NoError(t, r.SetReadDeadline(time.Time{}))
	})
	t.Run("Poll and Wait", func(t *testing.T) {
		r, w := pipeCfg(t, false, connection.Config{ThreadWait: true})
		ok, err := r.PollTimeout(context.Background(), 20*time.Millisecond)
		require.NoError(t, err)
		assert.False(t, ok)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err = r.Poll(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		go func() {
			time.Sleep(20 * time.Millisecond)
			_ = w.SendBytes(context.Background(), []byte("x"))
		}()
		ready, err := connection.Wait(context.Background(), []*connection.Conn{r})
		require.NoError(t, err)
		assert.Len(t, ready, 1)
	})
	t.Run("EOF at a frame boundary", func(t *testing.T) {
		r, w := pipeCfg(t, false, connection.Config{ThreadWait: true})
		got := recvAsync(r, context.Background())
		awaitPpoll(t)
		require.NoError(t, w.Close())
		res := <-got
		assert.ErrorIs(t, res.err, io.EOF)
	})
}

func TestThreadWaitSendWaitsForRoom(t *testing.T) {
	big := make([]byte, 1<<20) // more than a pipe holds
	for i := range big {
		big[i] = byte(i)
	}
	t.Run("a send into a full pipe waits in ppoll and completes when read", func(t *testing.T) {
		r, w := pipeCfg(t, false, connection.Config{ThreadWait: true})
		sent := make(chan error, 1)
		go func() { sent <- w.SendBytes(context.Background(), big) }()
		awaitIn(t, "connection.(*Conn).doWriteWait")
		got, err := r.RecvBytes(context.Background())
		require.NoError(t, err)
		assert.Equal(t, big, got)
		require.NoError(t, <-sent)
	})
	t.Run("Close ends a waiting send", func(t *testing.T) {
		_, w := pipeCfg(t, false, connection.Config{ThreadWait: true})
		sent := make(chan error, 1)
		go func() { sent <- w.SendBytes(context.Background(), big) }()
		awaitIn(t, "connection.(*Conn).doWriteWait")
		require.NoError(t, w.Close())
		select {
		case err := <-sent:
			assert.ErrorIs(t, err, connection.ErrClosed)
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not interrupt the send")
		}
	})
	t.Run("a write deadline set while waiting ends the send", func(t *testing.T) {
		_, w := pipeCfg(t, false, connection.Config{ThreadWait: true})
		sent := make(chan error, 1)
		go func() { sent <- w.SendBytes(context.Background(), big) }()
		awaitIn(t, "connection.(*Conn).doWriteWait")
		require.NoError(t, w.SetWriteDeadline(time.Now().Add(10*time.Millisecond)))
		select {
		case err := <-sent:
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		case <-time.After(10 * time.Second):
			t.Fatal("the deadline did not end the send")
		}
	})
}

// pollerFDs lists the descriptors registered with the Go runtime's epoll
// instance (fdinfo of every eventpoll descriptor of this process).
func pollerFDs(t *testing.T) map[int]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	out := map[int]bool{}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || target != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		require.NoError(t, err)
		for _, line := range strings.Split(string(info), "\n") {
			var tfd int
			if _, err := fmt.Sscanf(line, "tfd: %d", &tfd); err == nil {
				out[tfd] = true
			}
		}
	}
	return out
}

func TestThreadWaitDescriptorsStayOffThePoller(t *testing.T) {
	for _, duplex := range []bool{false, true} {
		r, w := pipeCfg(t, duplex, connection.Config{ThreadWait: true})
		pr, pw := pipeCfg(t, duplex, connection.Config{})
		fds := pollerFDs(t)
		assert.True(t, fds[pr.Fd()] && fds[pw.Fd()], "a default Conn is registered with the poller")
		assert.False(t, fds[r.Fd()] || fds[w.Fd()], "a ThreadWait Conn is not (duplex %v)", duplex)
		// and it still works both ways
		require.NoError(t, w.SendBytes(context.Background(), []byte("ok")))
		b, err := r.RecvBytes(context.Background())
		require.NoError(t, err)
		assert.Equal(t, []byte("ok"), b)
	}
}

// A socket that NewConn wraps with ThreadWait (what the listener's Dial
// and the manager client do) leaves the poller too, keeps nc's
// addresses, and waits in ppoll with Close and deadlines working.
func TestThreadWaitNewConnSocket(t *testing.T) {
	dnc, anc := dialUnix(t)
	peer := connection.NewConn(anc)
	defer peer.Close()
	c := connection.Config{ThreadWait: true}.NewConn(dnc)
	defer c.Close()

	assert.False(t, pollerFDs(t)[c.Fd()], "the ThreadWait Conn's socket is not registered with the poller")
	assert.Equal(t, dnc.RemoteAddr().String(), c.RemoteAddr().String())
	assert.NotNil(t, c.LocalAddr())
	_, err := dnc.Write([]byte("x"))
	assert.Error(t, err, "the net.Conn is closed")

	require.NoError(t, peer.SendBytes(context.Background(), []byte("ping")))
	b, err := c.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []byte("ping"), b)
	require.NoError(t, c.SendBytes(context.Background(), []byte("pong")))
	b, err = peer.RecvBytes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []byte("pong"), b)

	got := recvAsync(c, context.Background())
	awaitPpoll(t)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
	select {
	case res := <-got:
		assert.ErrorIs(t, res.err, os.ErrDeadlineExceeded)
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline did not end the receive")
	}
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	got = recvAsync(c, context.Background())
	awaitPpoll(t)
	require.NoError(t, c.Close())
	select {
	case res := <-got:
		assert.ErrorIs(t, res.err, connection.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not interrupt the receive")
	}
	// The peer sees the socket closed: no descriptor of it is left open.
	_, err = peer.RecvBytes(context.Background())
	assert.ErrorIs(t, err, io.EOF)
}
