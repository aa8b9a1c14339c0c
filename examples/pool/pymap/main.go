// Command pymap shows a Python multiprocessing Pool whose workers are Go:
// Python maps a Go function over 100,000 items.
//
//	go run ./examples/pool/pymap
//
// Run normally, it starts parent.py (beside this file) with the default
// interpreter (MPWIRE_PYTHON or python3), passing its own executable.
// parent.py creates mpwire.GoPool(executable) — Python's own Pool class,
// whose workers are this binary started through the spawn protocol — and
// calls pool.map(GoFunc("collatz"), range(1, 100001)). Started as a worker,
// the binary runs pool.ServeWorker: Python's worker loop, in Go.
package main

import (
	"context"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mpwire/mpwire/pool"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
)

// collatz is the number of Collatz steps from n to 1.
func collatz(n int64) (int64, error) {
	var steps int64
	for n > 1 {
		if n%2 == 0 {
			n /= 2
		} else {
			n = 3*n + 1
		}
		steps++
	}
	return steps, nil
}

func main() {
	log.SetFlags(0)
	pool.Register("collatz", collatz)
	if pool.IsWorker() {
		pool.ServeWorker()
	}
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	// parent.py imports the mpwire Python package (GoPool): the copy
	// embedded in the Go module (package python), put on PYTHONPATH.
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
