package manager_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// A Go-hosted manager and a Go client: the same calls work against a
// CPython SyncManager (manager.Dial to its address and authkey), and
// Python clients can use the Go server with SyncManager(address,
// authkey).connect().
func Example() {
	ctx := context.Background()
	srv := server.New([]byte("secret"))
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, err := manager.Dial(ctx, "tcp", srv.Addr().String(), []byte("secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	d, _ := m.Dict(ctx, nil)
	l, _ := m.List(ctx, []any{0, 1, 2, 3, 4})
	d.Set(ctx, 1, "1")
	d.Set(ctx, "2", 2)
	l.Append(ctx, 1)
	ds, _ := d.Str(ctx)
	ls, _ := l.Str(ctx)
	fmt.Println(ds)
	fmt.Println(ls)

	_, err = d.Get(ctx, "missing")
	var pe *pickle.PythonError
	fmt.Println(errors.As(err, &pe), pe.Type.Name, manager.IsPythonError(err, "KeyError"))

	d.Close()
	l.Close()
	n, _ := m.NumberOfObjects(ctx)
	fmt.Println("objects:", n)
	// Output:
	// {1: '1', '2': 2}
	// [0, 1, 2, 3, 4, 1]
	// true KeyError true
	// objects: 0
}

// Settings travel in a Config: here the handshake timeout and a 1 MiB limit
// on one reply.
func ExampleConfig() {
	ctx := context.Background()
	srv := server.New([]byte("secret"))
	if err := srv.Listen("unix", ""); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cfg := manager.Config{Dialer: listener.Config{
		Authkey:          []byte("secret"),
		HandshakeTimeout: 5 * time.Second,
		Conn:             connection.Config{MaxFrame: 1 << 20},
	}}
	m, err := cfg.Dial(ctx, "unix", srv.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	q, _ := m.Queue(ctx, 1)
	defer q.Close()
	_ = q.Put(ctx, "x")
	err = q.PutTimeout(ctx, 10*time.Millisecond, "y") // Python: q.put('y', True, 0.01)
	fmt.Println(errors.Is(err, manager.ErrFull))
	// Output: true
}

// A shared set (Python 3.14's manager.set()), served by the Go server.
func ExampleClient_Set() {
	ctx := context.Background()
	srv := server.New([]byte("secret"))
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	m, err := manager.Dial(ctx, "tcp", srv.Addr().String(), []byte("secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	s, err := m.Set(ctx, []any{1, 2, 3})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.Add(ctx, 4)
	s.Discard(ctx, 1)
	in, _ := s.Contains(ctx, 4)
	common, _ := s.Intersection(ctx, []any{3, 4, 5})
	sub, _ := s.IsSubset(ctx, []any{1, 2, 3, 4})
	str, _ := s.Str(ctx)
	fmt.Println(in, pickle.Repr(common), sub, str)
	// Output: true {3, 4} true {2, 3, 4}
}
