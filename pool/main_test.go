package pool_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
)

// TestMain doubles as the Go pool worker of the interop tests: started by
// a GoPool (Python) or by pool.New with Config.Executable, the test binary
// serves the functions registered below instead of running the tests.
func TestMain(m *testing.M) {
	if pool.IsWorker() {
		pool.ServeWorker()
	}
	os.Exit(m.Run())
}

var initValue atomic.Int64

func init() {
	pool.Register("square", func(x int64) int64 { return x * x })
	pool.Register("add", func(a, b int64) int64 { return a + b })
	pool.Register("fail", func(msg string) error { return errors.New(msg) })
	pool.Register("panic", func(msg string) int { panic(msg) })
	pool.Register("valueerror", func(msg string) (any, error) {
		return nil, &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "ValueError"}, Args: pickle.Tuple{msg}}
	})
	pool.Register("pid", func() int { return os.Getpid() })
	pool.Register("sleep", func(ctx context.Context, sec float64) (float64, error) {
		select {
		case <-time.After(time.Duration(sec * float64(time.Second))):
			return sec, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	pool.Register("touchsleep", func(ctx context.Context, path string, sec float64) (float64, error) {
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			return 0, err
		}
		select {
		case <-time.After(time.Duration(sec * float64(time.Second))):
			return sec, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	pool.Register("init", func(v int64) { initValue.Store(v) })
	pool.Register("initvalue", func(any) int64 { return initValue.Load() + 1 })
	pool.Register("echo", func(x any) any { return x })
	pool.Register("sum", func(xs ...int64) int64 {
		var s int64
		for _, x := range xs {
			s += x
		}
		return s
	})
	pool.Register("spin", spin)
	pool.Register("kwargs", pool.Func(func(_ context.Context, args pickle.Tuple, kwargs *pickle.Dict) (any, error) {
		return pickle.Tuple{args, kwargs}, nil
	}))
	// crash kills the worker with a panic outside the task's goroutine
	// (not recoverable, unlike a panic in the function itself).
	pool.Register("crash", func(msg string) int {
		go func() { panic(msg) }()
		select {}
	})
	pool.Register("exit", func(code int) int { os.Exit(code); return 0 })
	pool.Register("unpicklable", func() any { return make(chan int) })
	// hold creates dir/running, then waits until dir/release exists: the
	// parent decides when the call ends.
	pool.Register("hold", func(ctx context.Context, dir string) (string, error) {
		if err := os.WriteFile(filepath.Join(dir, "running"), nil, 0o600); err != nil {
			return "", err
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "release")); err == nil {
				return "released", nil
			}
			select {
			case <-time.After(5 * time.Millisecond):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
	})
}

// spin is the CPU-bound benchmark task: n rounds of an integer hash.
func spin(n int64) int64 {
	h := uint64(n)
	for i := int64(0); i < n; i++ {
		h ^= h << 13
		h ^= h >> 7
		h ^= h << 17
	}
	return int64(h & 0xffff)
}
