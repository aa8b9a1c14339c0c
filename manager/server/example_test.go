package server_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
	"github.com/mpwire/mpwire/pickle"
)

// Serving a Go object under a custom typeid, as BaseManager.register does
// in Python. A Python client registers the same name without a callable:
//
//	class JobsManager(BaseManager): pass
//	JobsManager.register('get_jobs')
//	m = JobsManager(address=('127.0.0.1', port), authkey=b'secret'); m.connect()
//	m.get_jobs().put('job')
func ExampleServer_Register() {
	ctx := context.Background()
	srv := server.New([]byte("secret"))
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	jobs := server.NewQueue(0)
	srv.Register("get_jobs", jobs)

	m, _ := manager.Dial(ctx, "tcp", srv.Addr().String(), []byte("secret"))
	defer m.Close()
	p, _ := m.Create(ctx, "get_jobs", nil, nil)
	q := &manager.QueueProxy{Proxy: p}
	q.Put(ctx, "job")
	v, _ := q.Get(ctx)
	_, err := q.GetNowait(ctx)
	fmt.Println(v, errors.Is(err, manager.ErrEmpty))
	p.Close()
	// Output: job true
}

// Methods turns Go functions into a shared object for a custom typeid.
func ExampleMethods() {
	ctx := context.Background()
	srv := server.New(nil) // nil authkey: no authentication
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Register("calc", server.Methods{
		"add": func(_ context.Context, args pickle.Tuple, _ *pickle.Dict) (any, error) {
			a, _ := args[0].(int64)
			b, _ := args[1].(int64)
			return a + b, nil
		},
	})
	m, _ := manager.Dial(ctx, "tcp", srv.Addr().String(), nil)
	defer m.Close()
	calc, _ := m.Create(ctx, "calc", nil, nil)
	defer calc.Close()
	var sum int
	calc.CallInto(ctx, &sum, "add", []any{40, 2}, nil)
	fmt.Println(sum)
	// Output: 42
}

// Config bounds what clients can make the server hold: here its
// ready-made containers hold at most 1000 items together, so an extend
// past that fails with MemoryError and leaves the list as it was.
func ExampleConfig() {
	ctx := context.Background()
	key := []byte("secret")
	srv := server.Config{Listener: listener.Config{Authkey: key}, MaxItems: 1000}.New()
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, _ := manager.Dial(ctx, "tcp", srv.Addr().String(), key)
	defer m.Close()
	l, _ := m.List(ctx, make([]any, 600))
	defer l.Close()
	err := l.Extend(ctx, make([]any, 500))
	n, _ := l.Len(ctx)
	fmt.Println(manager.IsPythonError(err, "MemoryError"), n)
	// Output: true 600
}
