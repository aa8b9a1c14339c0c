package listener_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/listener"
)

// TestSilentClientFloodDoesNotLockOutAnHonestClient: MaxHandshakes clients
// connect, receive their challenge and say nothing more. With no handshake
// timeout at all (so nothing but the listener's eviction can make room), an
// honest client is still authenticated and accepted while the flood stays
// connected: exactly one silent client — the oldest — is dropped, reported
// to OnHandshakeError and the Logger with ErrTooManyHandshakes.
func TestSilentClientFloodDoesNotLockOutAnHonestClient(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			ctx := testCtx(t)
			rec, logger := logtest.New()
			var mu sync.Mutex
			var dropped []error
			key := []byte("flood")
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "l")
			}
			const maxHS = listener.DefaultMaxHandshakes
			l, err := listener.Config{Authkey: key, HandshakeTimeout: -1, Logger: logger,
				OnHandshakeError: func(_ net.Addr, err error) {
					mu.Lock()
					dropped = append(dropped, err)
					mu.Unlock()
				}}.Listen(network, addr)
			require.NoError(t, err)
			defer l.Close()

			// The flood: each silent client waits for its challenge, so the
			// listener counts it as a handshake in progress.
			flood := make([]*connection.Conn, maxHS)
			for i := range flood {
				nc, err := net.Dial(network, l.Addr().String())
				require.NoError(t, err)
				flood[i] = connection.NewConn(nc)
				defer flood[i].Close()
				msg, err := flood[i].RecvBytes(ctx)
				require.NoError(t, err, "silent client %d got no challenge", i)
				require.Contains(t, string(msg), "#CHALLENGE#")
			}

			// The honest client, bounded far below anything the flood could
			// end: the listener has no handshake timeout.
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			type dialed struct {
				c   *connection.Conn
				err error
			}
			dc := make(chan dialed, 1)
			go func() {
				c, err := listener.Config{Authkey: key}.Dial(dctx, network, l.Addr().String())
				dc <- dialed{c, err}
			}()
			served, err := l.Accept(dctx)
			require.NoError(t, err, "the honest client was not accepted during the flood")
			defer served.Close()
			d := <-dc
			require.NoError(t, d.err)
			defer d.c.Close()
			require.NoError(t, d.c.SendBytes(ctx, []byte("hello")))
			got, err := served.RecvBytes(ctx)
			require.NoError(t, err)
			assert.Equal(t, "hello", string(got))

			// The flood is still there, but for its oldest member.
			gone := func() []int {
				var idx []int
				for i, c := range flood {
					if ready, err := c.PollTimeout(ctx, 0); err != nil || ready {
						idx = append(idx, i)
					}
				}
				return idx
			}
			require.Eventually(t, func() bool { return len(gone()) == 1 }, 10*time.Second, 10*time.Millisecond,
				"want exactly one silent client dropped, have %v", gone())
			assert.Equal(t, []int{0}, gone(), "the oldest silent client is the one dropped")
			_, err = flood[0].RecvBytes(ctx)
			assert.ErrorIs(t, err, io.EOF, "the dropped client sees the connection closed")

			mu.Lock()
			require.Len(t, dropped, 1)
			assert.ErrorIs(t, dropped[0], listener.ErrTooManyHandshakes)
			mu.Unlock()
			e, err := rec.Wait(ctx, "handshake failed")
			require.NoError(t, err)
			assert.Equal(t, slog.LevelWarn, e.Level)
			assert.Contains(t, e.Attrs["err"], "too many pending handshakes")
			if network == "tcp" {
				assert.Contains(t, e.Attrs["peer"], "127.0.0.1:")
			}
		})
	}
}

// TestHonestBurstBeyondMaxHandshakes: many more honest clients than
// MaxHandshakes dial at once (a pool of processes starting together, many
// goroutines of one manager client). None is dropped: a connection
// arriving at the cap waits for a handshake to finish, and only a
// handshake older than EvictAfter may be dropped for it.
func TestHonestBurstBeyondMaxHandshakes(t *testing.T) {
	ctx := testCtx(t)
	key := []byte("burst")
	var mu sync.Mutex
	var failed []error
	l, err := listener.Config{Authkey: key, MaxHandshakes: 2,
		OnHandshakeError: func(_ net.Addr, err error) {
			mu.Lock()
			failed = append(failed, err)
			mu.Unlock()
		}}.Listen("unix", filepath.Join(t.TempDir(), "l"))
	require.NoError(t, err)
	defer l.Close()

	const clients = 40
	go func() {
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if msg, err := c.RecvBytes(ctx); err == nil {
					_ = c.SendBytes(ctx, msg)
				}
			}()
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := listener.Config{Authkey: key}.Dial(ctx, "unix", l.Addr().String())
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			if err := c.SendBytes(ctx, []byte("hi")); err != nil {
				errs[i] = err
				return
			}
			if got, err := c.RecvBytes(ctx); err != nil || string(got) != "hi" {
				errs[i] = fmt.Errorf("echo: %q, %v", got, err)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "client %d", i)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, failed, "handshakes dropped or failed on the listener's side")
}
