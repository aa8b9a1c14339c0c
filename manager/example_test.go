package manager_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// A Go-hosted manager and a Go client: the same calls work against a
// CPython SyncManager (manager.Dial to its address and authkey), and
// Python clients can use the Go server with SyncManager(address,
// authkey).connect().
func Example() {
	ctx := context.Background()
	srv := manager.NewServer([]byte("secret"))
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

// Serving a Go object under a custom typeid, as BaseManager.register does
// in Python. A Python client registers the same name without a callable:
//
//	class JobsManager(BaseManager): pass
//	JobsManager.register('get_jobs')
//	m = JobsManager(address=('127.0.0.1', port), authkey=b'secret'); m.connect()
//	m.get_jobs().put('job')
func ExampleServer_Register() {
	ctx := context.Background()
	srv := manager.NewServer([]byte("secret"))
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	jobs := manager.NewQueue(0)
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
	srv := manager.NewServer(nil) // nil authkey: no authentication
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Register("calc", manager.Methods{
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
