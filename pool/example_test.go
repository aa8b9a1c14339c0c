package pool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
	"github.com/mpwire/mpwire/process"
)

// A Go program maps Python functions over a slice with a pool of Python
// workers running CPython's own worker loop.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Python "" is process.Python(): $MPWIRE_PYTHON, else python3 in PATH.
	p, err := pool.Config{Processes: 2}.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()

	var facts []int64
	if err := p.Map(ctx, "math:factorial", []int{3, 5, 10}, &facts); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(facts)

	for v, err := range p.Imap(ctx, "operator:neg", []int{1, 2, 3}) {
		fmt.Println(v, err)
	}

	err = p.Apply(ctx, "math:sqrt", []any{-1}, nil, nil)
	var pe *pickle.PythonError
	fmt.Println(errors.As(err, &pe), pe.Type.Name, pe.Args)

	r := p.ApplyAsync(ctx, "operator:mul", []any{6, 7}, nil) // returns at once
	var product int
	fmt.Println(r.Get(ctx, &product), product)

	p.Close()
	fmt.Println(p.Join(ctx))
	// Output:
	// [6 120 3628800]
	// -1 <nil>
	// -2 <nil>
	// -3 <nil>
	// true ValueError [math domain error]
	// <nil> 42
	// <nil>
}

// A Go worker program: register functions, then serve when started by a
// Python GoPool (or by New with Config.Executable).
func ExampleRegister() {
	pool.Register("example.square", func(x int64) int64 { return x * x })
	pool.Register("example.div", func(a, b float64) (float64, error) {
		if b == 0 {
			// Raised as ZeroDivisionError in the Python caller.
			return 0, &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "ZeroDivisionError"}, Args: pickle.Tuple{"division by zero"}}
		}
		return a / b, nil
	})
	if pool.IsWorker() {
		pool.ServeWorker() // never returns
	}
	fmt.Println(slices.Contains(pool.Registered(), "example.div"))
	// Output: true
}

// A pool whose workers cannot get going says so: here every worker's
// initializer raises, and the call fails with the workers' error instead
// of waiting for its context while they are restarted forever.
func Example_failFast() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := pool.Config{Processes: 2, Path: []string{"../pyfixtures"}, Stderr: io.Discard,
		Initializer: "pool_funcs:failing_init", InitArgs: []any{"no database"}}.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Terminate()
	var out []int
	err = p.Map(ctx, "operator:neg", []int{1, 2, 3}, &out)
	fmt.Println(errors.Is(err, pool.ErrWorkerFailed), ctx.Err())
	var ee *process.ExitError
	if errors.As(err, &ee) {
		lines := strings.Split(strings.TrimSpace(ee.Stderr), "\n")
		fmt.Println(lines[len(lines)-1])
	}
	// Output:
	// true <nil>
	// RuntimeError: no database
}
