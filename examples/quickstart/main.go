// Command quickstart runs the example on the front page of README.md: a
// Python parent (parent.py) starts a Go worker (worker/main.go) with
// mpwire.GoProcess, puts numbers on a multiprocessing Queue, and reads the
// squares the worker puts on another.
//
//	go run ./examples/quickstart
//
// It does what a user does with the two files: go build -o worker ./worker,
// then python3 parent.py beside it, with the mpwire Python package on
// PYTHONPATH (the copy embedded in the Go module; pip install ./python
// works too). Set MPWIRE_PYTHON to choose the interpreter (default: python3
// on PATH).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
)

func main() {
	log.SetFlags(0)
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := python.Dir() // the mpwire Python package, for PYTHONPATH
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Dir(file)
	dir, err := os.MkdirTemp("", "mpwire-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	fmt.Println("$ go build -o worker ./worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "worker"), "./worker")
	build.Dir, build.Stdout, build.Stderr = src, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("building the worker: %v", err)
	}
	fmt.Println("$ python3 parent.py")
	run := exec.CommandContext(ctx, py, filepath.Join(src, "parent.py"))
	run.Dir, run.Stdout, run.Stderr = dir, os.Stdout, os.Stderr // parent.py starts ./worker
	run.Env = append(os.Environ(), "PYTHONPATH="+pkg)
	if err := run.Run(); err != nil {
		log.Fatalf("python3 parent.py: %v", err)
	}
}
