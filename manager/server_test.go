package manager_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// startGoServer starts a Go-hosted manager on a loopback port.
func startGoServer(t *testing.T) *server.Server {
	t.Helper()
	s := server.New(testKey)
	if err := s.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestGoServerGoClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startGoServer(t)
	c := dialT(t, ctx, "tcp", s.Addr().String())
	runSyncManagerSuite(t, ctx, c, false)
	waitObjects(t, ctx, c, 0)
	if n := s.NumberOfObjects(); n != 0 {
		t.Fatalf("server holds %d objects", n)
	}
}

func TestGoServerRegisteredObject(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := startGoServer(t)
	jobs := server.NewQueue(0)
	s.Register("get_jobs", jobs)
	s.Register("calc", server.Methods{
		"add": func(_ context.Context, args pickle.Tuple, _ *pickle.Dict) (any, error) {
			a, _ := args[0].(int64)
			b, _ := args[1].(int64)
			return a + b, nil
		},
		"fail": func(context.Context, pickle.Tuple, *pickle.Dict) (any, error) {
			return nil, &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "ValueError"}, Args: pickle.Tuple{"bad", int64(7)}}
		},
	})
	c := dialT(t, ctx, "tcp", s.Addr().String())
	p1 := must(c.Create(ctx, "get_jobs", nil, nil))(t)
	p2 := must(c.Create(ctx, "get_jobs", nil, nil))(t)
	if p1.Token().ID != p2.Token().ID {
		t.Fatalf("same object, idents %s and %s", p1.Token().ID, p2.Token().ID)
	}
	q := &manager.QueueProxy{Proxy: p1}
	ok(t, q.Put(ctx, "job"))
	if v := must((&manager.QueueProxy{Proxy: p2}).Get(ctx))(t); v != "job" {
		t.Fatalf("got %#v", v)
	}
	info := must(c.DebugInfo(ctx))(t)
	if want := "refcount=2"; !contains(info, want) {
		t.Fatalf("debug_info %q lacks %q", info, want)
	}
	ok(t, p1.Close())
	ok(t, p2.Close())
	calc := must(c.Create(ctx, "calc", nil, nil))(t)
	if v := must(calc.Call(ctx, "add", []any{2, 40}, nil))(t); v != int64(42) {
		t.Fatalf("add = %#v", v)
	}
	_, err := calc.Call(ctx, "fail", nil, nil)
	var pe *pickle.PythonError
	if !errors.As(err, &pe) || pe.Type.Name != "ValueError" || pe.Args[1] != int64(7) {
		t.Fatalf("fail: %v", err)
	}
	_, err = calc.Call(ctx, "missing", nil, nil)
	var re *manager.RemoteError
	if !errors.As(err, &re) || re.Kind != "#TRACEBACK" {
		t.Fatalf("missing method: %v", err)
	}
	if _, err := calc.GetValue(ctx); !errors.As(err, &re) || re.Kind != "#UNSERIALIZABLE" {
		t.Fatalf("#GETVALUE of a Methods object: %v", err)
	}
	ok(t, calc.Close())
	waitObjects(t, ctx, c, 0)
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestGoServerHostileClients sends garbage, a huge frame and bad requests;
// the server answers errors and keeps serving others.
func TestGoServerHostileClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := server.Config{Listener: listener.Config{Authkey: testKey, Conn: connection.Config{MaxFrame: 1 << 16}}}.New()
	ok(t, s.Listen("unix", filepath.Join(t.TempDir(), "m.sock")))
	defer s.Close()
	addr := s.Addr().String()
	dial := func() *connection.Conn {
		c, err := listener.Dial(ctx, "unix", addr, testKey)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	recvReply := func(c *connection.Conn) (string, any) {
		b, err := c.RecvBytes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		ok(t, pickle.Unmarshal(b, &v))
		tup := v.(pickle.Tuple)
		return tup[0].(string), tup[1]
	}
	// Not a pickle.
	c := dial()
	ok(t, c.SendBytes(context.Background(), []byte("garbage\x00\xff")))
	if kind, _ := recvReply(c); kind != "#TRACEBACK" {
		t.Fatalf("garbage: %s", kind)
	}
	c.Close()
	// A pickle that is not a request.
	c = dial()
	b, _ := pickle.Marshal([]any{1, 2})
	ok(t, c.SendBytes(context.Background(), b))
	if kind, _ := recvReply(c); kind != "#TRACEBACK" {
		t.Fatalf("non-request: %s", kind)
	}
	c.Close()
	// A request that is not public.
	c = dial()
	b, _ = pickle.Marshal(pickle.Tuple{nil, "serve_client", pickle.Tuple{}, pickle.NewDict()})
	ok(t, c.SendBytes(context.Background(), b))
	if kind, txt := recvReply(c); kind != "#TRACEBACK" || !contains(txt.(string), "unrecognized") {
		t.Fatalf("non-public request: %s %v", kind, txt)
	}
	c.Close()
	// Garbage inside a served connection: an error reply, then more calls work.
	mc := dialT(t, ctx, "unix", addr)
	d := must(mc.Dict(ctx, nil))(t)
	c = dial()
	b, _ = pickle.Marshal(pickle.Tuple{nil, "accept_connection", pickle.Tuple{"hostile"}, pickle.NewDict()})
	ok(t, c.SendBytes(context.Background(), b))
	if kind, _ := recvReply(c); kind != "#RETURN" {
		t.Fatal(kind)
	}
	ok(t, c.SendBytes(context.Background(), []byte{0x80, 0x04, 0x95}))
	if kind, _ := recvReply(c); kind != "#TRACEBACK" {
		t.Fatalf("truncated pickle: %s", kind)
	}
	b, _ = pickle.Marshal(pickle.Tuple{d.Token().ID, "__setitem__", pickle.Tuple{"k", "v"}, pickle.NewDict()})
	ok(t, c.SendBytes(context.Background(), b))
	if kind, _ := recvReply(c); kind != "#RETURN" {
		t.Fatalf("call after garbage: %s", kind)
	}
	b, _ = pickle.Marshal(pickle.Tuple{"nosuchident", "__len__", pickle.Tuple{}, pickle.NewDict()})
	ok(t, c.SendBytes(context.Background(), b))
	if kind, _ := recvReply(c); kind != "#TRACEBACK" {
		t.Fatalf("unknown ident: %s", kind)
	}
	// A frame larger than the request bound (Listener.Conn.MaxFrame) closes only this connection.
	ok(t, c.SendBytes(context.Background(), make([]byte, 1<<17)))
	if _, err := c.RecvBytes(ctx); err == nil {
		t.Fatal("connection survived a huge frame")
	}
	c.Close()
	// Unauthenticated and stalled clients do not disturb others.
	raw, err := net.Dial("unix", addr)
	ok(t, err)
	defer raw.Close()
	if v := must(d.Get(ctx, "k"))(t); v != "v" {
		t.Fatalf("d['k'] = %#v", v)
	}
	if _, err := manager.Dial(ctx, "unix", addr, []byte("wrong key")); err == nil {
		t.Fatal("wrong key accepted")
	}
	ok(t, d.Close())
	waitObjects(t, ctx, mc, 0)
}

func TestServerShutdownByClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := startGoServer(t)
	c := dialT(t, ctx, "tcp", s.Addr().String())
	q := must(c.Queue(ctx, 0))(t)
	blocked := make(chan error, 1)
	go func() {
		_, err := q.GetTimeout(ctx, -1)
		blocked <- err
	}()
	time.Sleep(100 * time.Millisecond)
	ok(t, c.Shutdown(ctx))
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("server did not stop")
	}
	if err := <-blocked; err == nil {
		t.Fatal("blocked get returned no error after shutdown")
	}
}

// TestGoServerStoredProxy: a proxy stored inside a shared list keeps its
// referent alive after its last external reference is gone, and a proxy
// rebuilt from the stored value revives it (Python's id_to_local_proxy_obj).
func TestGoServerStoredProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := startGoServer(t)
	c := dialT(t, ctx, "tcp", s.Addr().String())
	outer := must(c.List(ctx, nil))(t)
	inner := must(c.Dict(ctx, nil))(t)
	ok(t, inner.Set(ctx, "a", 1))
	ok(t, outer.Append(ctx, inner.Proxy))
	ok(t, inner.Close())
	waitObjects(t, ctx, c, 1)
	v := must(outer.Get(ctx, 0))(t)
	p := must(manager.Config{Dialer: listener.Config{Authkey: testKey}}.Rebuild(ctx, v))(t)
	d := &manager.DictProxy{Proxy: p}
	if x := must(d.Get(ctx, "a"))(t); x != int64(1) {
		t.Fatalf("d['a'] = %#v", x)
	}
	waitObjects(t, ctx, c, 2)
	ok(t, d.Close())
	ok(t, outer.Close())
	waitObjects(t, ctx, c, 0)
}

// A client's arguments reach user code; code that panics on them fails that
// one call (#ERROR RuntimeError), and the server keeps serving.
func TestGoServerSurvivesPanickingUserCode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := startGoServer(t)
	s.Register("strict", server.Methods{
		"upper": func(_ context.Context, args pickle.Tuple, _ *pickle.Dict) (any, error) {
			return args[0].(string) + "!", nil // panics on a non-string or no argument
		},
	})
	s.RegisterFactory("fragile", func(args pickle.Tuple, _ *pickle.Dict) (server.Object, error) {
		return server.NewList([]any{args[0]}), nil // panics without an argument
	})
	c := dialT(t, ctx, "tcp", s.Addr().String())
	strict := must(c.Create(ctx, "strict", nil, nil))(t)
	isPanic := func(err error) bool {
		var pe *pickle.PythonError
		return errors.As(err, &pe) && pe.Type.Name == "RuntimeError" && len(pe.Args) == 1 &&
			contains(pe.Args[0].(string), "Go panic in ")
	}
	for _, args := range [][]any{nil, {int64(1)}} {
		if _, err := strict.Call(ctx, "upper", args, nil); !isPanic(err) {
			t.Fatalf("upper(%v): %v, want a RuntimeError for the panic", args, err)
		}
	}
	if _, err := c.Create(ctx, "fragile", nil, nil); err == nil || !contains(err.Error(), "Go panic in the factory of fragile") {
		t.Fatalf("create fragile: %v", err)
	}
	if v := must(strict.Call(ctx, "upper", []any{"ok"}, nil))(t); v != "ok!" {
		t.Fatalf("upper after the panics = %#v", v)
	}
	l := must(c.Create(ctx, "fragile", []any{int64(5)}, nil))(t)
	ok(t, l.Close())
	ok(t, strict.Close())
	waitObjects(t, ctx, c, 0)
}

func TestServerAddrBeforeListen(t *testing.T) {
	s := server.New(testKey)
	defer s.Close()
	if a := s.Addr(); a != nil {
		t.Fatalf("Addr before Listen = %v, want nil", a)
	}
	if a := s.Address(); a != nil {
		t.Fatalf("Address before Listen = %v, want nil", a)
	}
}
