// Command executor shows concurrent.futures with Go workers: a Python
// program submits work to mpwire.GoProcessPoolExecutor — CPython's own
// ProcessPoolExecutor, whose workers are this binary — and awaits it from
// asyncio with loop.run_in_executor.
//
//	go run ./examples/executor
//
// Run normally, it starts parent.py (beside this file) with the default
// interpreter (MPWIRE_PYTHON or python3), passing its own executable.
// Started as a worker, the binary runs pool.ServeWorker, which serves
// ProcessPoolExecutor's worker protocol (and GoPool's) with the functions
// registered below.
package main

import (
	"context"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mpwire/mpwire/pickle"
	"github.com/mpwire/mpwire/pool"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
)

// primesBelow counts the primes below n (a sieve): CPU-bound work.
func primesBelow(n int64) int64 {
	if n < 3 {
		return 0
	}
	composite := make([]bool, n)
	var count int64
	for i := int64(2); i < n; i++ {
		if composite[i] {
			continue
		}
		count++
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	return count
}

// checkedSqrt fails like Python's math.sqrt: the exception arrives in
// Python as a ValueError.
func checkedSqrt(x float64) (float64, error) {
	if x < 0 {
		return 0, &pickle.PythonError{Type: pickle.Global{Module: "builtins", Name: "ValueError"},
			Args: pickle.Tuple{"math domain error"}}
	}
	return math.Sqrt(x), nil
}

func main() {
	log.SetFlags(0)
	pool.Register("primes_below", primesBelow)
	pool.Register("checked_sqrt", checkedSqrt)
	if pool.IsWorker() {
		pool.ServeWorker()
	}
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	// parent.py imports the mpwire Python package: the copy embedded in the
	// Go module (package python), put on PYTHONPATH.
	pkg, err := python.Dir()
	if err != nil {
		log.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(filepath.Dir(file), "parent.py"), "--worker", self)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pkg)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("python parent: %v", err)
	}
}
