package server

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// loopServer is a server whose every served connection is in an event
// loop (no ThreadWait connections).
func loopServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("Config.EventLoops is Linux-only")
	}
	cfg.Listener.Authkey = []byte("loop-test")
	cfg.ThreadWaitConns = -1
	s := cfg.New()
	sock := filepath.Join(t.TempDir(), "m.sock")
	require.NoError(t, s.Listen("unix", sock))
	t.Cleanup(func() { s.Close() })
	return s, sock
}

// rawServed dials s and turns the connection into a served one, for
// requests written by hand.
func rawServed(ctx context.Context, t *testing.T, sock string) *connection.Conn {
	t.Helper()
	conn, err := listener.Config{Authkey: []byte("loop-test")}.Dial(ctx, "unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.Send(ctx, pickle.Tuple{nil, "accept_connection", pickle.Tuple{"raw"}, pickle.NewDict()}))
	var v any
	require.NoError(t, conn.Recv(ctx, &v))
	require.Equal(t, pickle.Tuple{"#RETURN", nil}, v)
	return conn
}

func frame(t *testing.T, v any) []byte {
	t.Helper()
	b, err := pickle.Marshal(v)
	require.NoError(t, err)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// TestEventLoop: calls that cannot wait are served by the loop; a call
// that waits (Queue.get) goes to its connection's goroutine while the
// loop serves the others, and comes back; requests that arrive together,
// in pieces, larger than the loop takes, or that do not decode are served
// as before; Close ends connections in the loop.
func TestEventLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, sock := loopServer(t, Config{})
	c, err := manager.Config{Dialer: listener.Config{Authkey: []byte("loop-test")}}.Dial(ctx, "unix", sock)
	require.NoError(t, err)
	defer c.Close()
	d, err := c.Dict(ctx, nil)
	require.NoError(t, err)
	q, err := c.Queue(ctx, 0)
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		require.NoError(t, d.Set(ctx, "k", i))
		v, err := d.Get(ctx, "k")
		require.NoError(t, err)
		require.EqualValues(t, i, v)
	}
	require.EqualValues(t, 1, s.loopConns.Load(), "the served connection is in the loop")
	require.EqualValues(t, 0, s.twConns.Load())

	// A get that waits on one connection; dict calls on another meanwhile.
	got := make(chan any, 1)
	go func() {
		v, err := q.Get(ctx)
		if err != nil {
			v = err
		}
		got <- v
	}()
	time.Sleep(50 * time.Millisecond) // the get waits
	for i := 0; i < 20; i++ {
		require.NoError(t, d.Set(ctx, "k2", i))
	}
	select {
	case v := <-got:
		t.Fatalf("get returned %v before a put", v)
	default:
	}
	require.NoError(t, q.Put(ctx, "item"))
	select {
	case v := <-got:
		require.Equal(t, "item", v)
	case <-ctx.Done():
		t.Fatal("get did not return after the put")
	}
	require.EqualValues(t, 2, s.loopConns.Load(), "both connections are back in the loop")

	// A value larger than a frame the loop reads (64 KiB), and a reply
	// larger than it sends.
	big := strings.Repeat("x", 100<<10)
	require.NoError(t, d.Set(ctx, "big", big))
	v, err := d.Get(ctx, "big")
	require.NoError(t, err)
	require.Equal(t, big, v)

	ident := d.Token().ID
	raw := rawServed(ctx, t, sock)
	call := func(method string, args ...any) []byte {
		return frame(t, pickle.Tuple{ident, method, pickle.Tuple(args), pickle.NewDict()})
	}
	reply := func() any {
		t.Helper()
		var v any
		require.NoError(t, raw.Recv(ctx, &v))
		return v
	}
	// Two requests in one write: both answered, in order.
	require.NoError(t, raw.SendBytes(ctx, nil))
	_ = reply() // the empty frame is not a pickle: a traceback, and the connection stays
	w := func(b []byte) {
		t.Helper()
		_, err := rawWrite(raw, b)
		require.NoError(t, err)
	}
	w(append(call("__setitem__", "p", 1), call("__getitem__", "p")...))
	require.Equal(t, pickle.Tuple{"#RETURN", nil}, reply())
	require.Equal(t, pickle.Tuple{"#RETURN", int64(1)}, normInt(reply()))
	// One request in three pieces.
	req := call("__getitem__", "p")
	w(req[:2])
	time.Sleep(10 * time.Millisecond)
	w(req[2:7])
	time.Sleep(10 * time.Millisecond)
	w(req[7:])
	require.Equal(t, pickle.Tuple{"#RETURN", int64(1)}, normInt(reply()))
	// Not a pickle: a traceback, then the connection goes on.
	w([]byte{0, 0, 0, 3, 'x', 'y', 'z'})
	tb, ok := reply().(pickle.Tuple)
	require.True(t, ok)
	require.Equal(t, "#TRACEBACK", tb[0])
	w(req)
	require.Equal(t, pickle.Tuple{"#RETURN", int64(1)}, normInt(reply()))
	// An unknown ident: answered by the loop as before.
	w(frame(t, pickle.Tuple{"nope", "__len__", pickle.Tuple{}, pickle.NewDict()}))
	tb, ok = reply().(pickle.Tuple)
	require.True(t, ok)
	require.Equal(t, "#TRACEBACK", tb[0])

	// Close with connections in the loop.
	require.NoError(t, s.Close())
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("Close did not finish")
	}
	require.Error(t, d.Set(ctx, "k", 1), "a call after the server closed")
	var v2 any
	require.Error(t, raw.Recv(ctx, &v2))
}

// TestEventLoopFrameLimit: a request over the server's MaxFrame that the
// loop could read still ends the connection, as on the poller.
func TestEventLoopFrameLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, sock := loopServer(t, Config{Listener: listener.Config{Conn: connection.Config{MaxFrame: 1000}}})
	raw := rawServed(ctx, t, sock)
	b := frame(t, pickle.Tuple{"x", "__len__", pickle.Tuple{strings.Repeat("y", 2000)}, pickle.NewDict()})
	_, err := rawWrite(raw, b)
	require.NoError(t, err)
	var v any
	require.Error(t, raw.Recv(ctx, &v), "the connection is closed")
	waitFor(ctx, t, "the connection is forgotten", func() bool { return s.served.Load() == 0 && s.loopConns.Load() == 0 })
}

// rawWrite writes b to conn's socket as it is.
func rawWrite(conn *connection.Conn, b []byte) (int, error) {
	f, err := conn.File()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Write(b)
}

func normInt(v any) any {
	if t, ok := v.(pickle.Tuple); ok && len(t) == 2 {
		switch n := t[1].(type) {
		case int:
			return pickle.Tuple{t[0], int64(n)}
		}
	}
	return v
}

// TestEventLoopInlineCalls: the loop's thread makes only the cheap calls
// of the ready-made objects itself; a repr, #GETVALUE, copy, a method
// that is not exposed, another object's method, or an unknown ident go
// to the connection's goroutine.
func TestEventLoopInlineCalls(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Config.EventLoops is Linux-only")
	}
	s := New(nil)
	defer s.Close()
	ident := func(typeid string) string {
		res, err := s.control("create", pickle.Tuple{typeid}, nil)
		require.NoError(t, err)
		return res.(pickle.Tuple)[0].(string)
	}
	d, l, q := ident("dict"), ident("list"), ident("Queue")
	req := func(id, method string) any { return pickle.Tuple{id, method, pickle.Tuple{}, pickle.NewDict()} }
	for _, tc := range []struct {
		id, method string
		inline     bool
	}{
		{d, "__getitem__", true}, {d, "__setitem__", true}, {d, "get", true}, {l, "append", true}, {l, "__len__", true},
		{d, "__repr__", false}, {d, "__str__", false}, {d, "#GETVALUE", false}, {d, "copy", false}, {d, "items", false},
		{d, "update", false}, {l, "sort", false}, {l, "count", false}, {l, "__contains__", false}, {d, "nope", false},
		{q, "get", false}, {q, "put", false}, {"unknown", "get", false},
	} {
		require.Equal(t, tc.inline, s.inlineCall(req(tc.id, tc.method)), "%s", tc.method)
	}
	require.False(t, s.inlineCall(pickle.Tuple{d, "get"}), "not a request")
}

// FuzzEventLoopStream writes arbitrary bytes, then the end of its stream,
// on a served connection in an event loop: the server must answer what it
// can and close the connection, never hang or panic, and keep serving
// others.
func FuzzEventLoopStream(f *testing.F) {
	req := func(ident any, method string, args ...any) []byte {
		b, _ := pickle.Marshal(pickle.Tuple{ident, method, pickle.Tuple(args), pickle.NewDict()})
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
	}
	get := req("7f0000001000", "__getitem__", "k")
	f.Add(get)
	f.Add(append(req("7f0000001000", "__setitem__", "k", int64(1)), get...))
	f.Add(get[:7])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 9, 'x'})
	f.Add([]byte{0, 1, 0, 0, 'x'})
	f.Add(req("7f0000001000", "__repr__"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, sock := loopServer(t, Config{Listener: listener.Config{Conn: connection.Config{MaxFrame: 1 << 20}}})
		if _, err := s.control("create", pickle.Tuple{"dict"}, nil); err != nil { // 7f0000001000
			t.Fatal(err)
		}
		raw := rawServed(ctx, t, sock)
		f, err := raw.File()
		require.NoError(t, err)
		defer f.Close()
		_, _ = f.Write(data)
		require.NoError(t, unix.Shutdown(int(f.Fd()), unix.SHUT_WR))
		// Replies until the server closes the connection.
		for {
			var v any
			if err := raw.Recv(ctx, &v); err != nil {
				require.NoError(t, ctx.Err(), "the server did not close the connection")
				break
			}
		}
		waitFor(ctx, t, "the connection is forgotten", func() bool { return s.served.Load() == 0 })
		other := rawServed(ctx, t, sock)
		require.NoError(t, other.Send(ctx, pickle.Tuple{"7f0000001000", "__len__", pickle.Tuple{}, pickle.NewDict()}))
		var v any
		require.NoError(t, other.Recv(ctx, &v))
	})
}
