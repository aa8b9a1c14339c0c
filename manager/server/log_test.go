package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// TestLoggerRecordsHostileClients: Config.Logger gets each limit a client
// runs into, with the client's address, the request and the limit's name;
// and the listener's rejected handshakes.
func TestLoggerRecordsHostileClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := []byte("log-test")
	dec, err := pickle.DecOptions{MaxObjects: 2000}.DecMode()
	require.NoError(t, err)
	rec, logger := logtest.New()
	s := server.Config{Logger: logger, MaxItems: 500, MaxReply: 2048,
		Listener: listener.Config{Authkey: key, Conn: connection.Config{MaxFrame: 64 << 10, DecMode: dec}}}.New()
	require.NoError(t, s.Listen("tcp", "127.0.0.1:0"))
	defer s.Close()
	addr := s.Addr().String()

	find := func(msg string) logtest.Entry {
		t.Helper()
		e, err := rec.Wait(ctx, msg)
		require.NoError(t, err)
		assert.Equal(t, slog.LevelWarn, e.Level, msg)
		assert.Contains(t, e.Attrs["peer"], "127.0.0.1:", msg)
		return e
	}
	raw := func(payload []byte) {
		t.Helper()
		c, err := listener.Config{Authkey: key}.Dial(ctx, "tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SendBytes(ctx, payload))
		_, _ = c.RecvBytes(ctx) // a reply, or EOF when the server hangs up
	}

	t.Run("a request frame over MaxFrame", func(t *testing.T) {
		raw(make([]byte, 100<<10))
		e := find("over the frame limit")
		assert.Equal(t, "server.Config.Listener.Conn.MaxFrame", e.Attrs["limit"])
	})
	t.Run("a request over a decoder limit", func(t *testing.T) {
		b, err := pickle.Marshal(make([]any, 5000))
		require.NoError(t, err)
		raw(b)
		e := find("over a decoder limit")
		assert.Equal(t, "server.Config.Listener.Conn.DecMode", e.Attrs["limit"])
	})
	t.Run("a request that is not a pickle", func(t *testing.T) {
		raw([]byte("GET / HTTP/1.0\r\n\r\n"))
		find("request is not a pickle")
	})
	t.Run("a create past MaxItems", func(t *testing.T) {
		c, err := manager.Dial(ctx, "tcp", addr, key)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.List(ctx, make([]any, 600))
		require.ErrorContains(t, err, "MemoryError")
		e := find("item bound")
		assert.Equal(t, "server.Config.MaxItems", e.Attrs["limit"])
		assert.Equal(t, "create", e.Attrs["method"])
		assert.Equal(t, "list", e.Attrs["typeid"])
	})
	t.Run("a reply past MaxReply", func(t *testing.T) {
		c, err := manager.Dial(ctx, "tcp", addr, key)
		require.NoError(t, err)
		defer c.Close()
		items := make([]any, 300)
		for i := range items {
			items[i] = fmt.Sprintf("%010d", i) // distinct: no memo references
		}
		l, err := c.List(ctx, items)
		require.NoError(t, err)
		_, err = l.Value(ctx)
		require.ErrorContains(t, err, "MaxReply 2048")
		e := find("reply over MaxReply")
		assert.Equal(t, "server.Config.MaxReply", e.Attrs["limit"])
		assert.Equal(t, "list", e.Attrs["typeid"])
		assert.NotEmpty(t, e.Attrs["method"])
	})
	t.Run("a client with the wrong key", func(t *testing.T) {
		_, err := manager.Dial(ctx, "tcp", addr, []byte("wrong"))
		require.Error(t, err)
		e := find("handshake failed")
		assert.Contains(t, e.Attrs["err"], "digest")
	})
}
