// Command queue ports the first seed program (a parent gets 'Python' that
// its child put on a multiprocessing.Queue) to mixed languages, both ways:
//
//	go run ./examples/queue
//
// First a Python parent with a Go child: parent.py creates the Queue and
// starts this binary as its child with mpwire.GoProcess; the Go child
// rebuilds the Queue from the spawn payload (queue.Open) and puts
// 'Python'. Then a Go parent with a Python child: this program creates the
// Queue (queue.New) and starts child.py's f(q) with process.Start; Python's
// own multiprocessing.Queue.put puts 'Python', and Go gets it.
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
	"github.com/mpwire/mpwire/queue"
)

func main() {
	log.SetFlags(0)
	if process.IsChild(os.Args) {
		goChild()
		return
	}
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	// parent.py imports the mpwire Python package (GoProcess): the copy
	// embedded in the Go module (package python), put on PYTHONPATH.
	pkg, err := python.Dir()
	if err != nil {
		log.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	fmt.Println("== 1. Python parent, Go child")
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, py, filepath.Join(dir, "parent.py"), "--child", self)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pkg)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("python parent: %v", err)
	}

	fmt.Println("== 2. Go parent, Python child")
	q, err := queue.New(0) // q = multiprocessing.Queue()
	if err != nil {
		log.Fatal(err)
	}
	p, err := process.Start(ctx, process.Spec{Python: py, Target: "child:f", Path: []string{dir}, Args: []any{q}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("(%d) Go parent starts getting data...\n", os.Getpid())
	var s string
	if err := q.Get(ctx, &s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s) // Python
	if err := p.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	if err := q.Close(); err != nil {
		log.Fatal(err)
	}
}

// goChild is def f(q): q.put('Python'), in Go.
func goChild() {
	child, err := process.Child(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	child.Run(func(ctx context.Context) error {
		q, err := queue.Open(child, child.Arg(0))
		if err != nil {
			return err
		}
		fmt.Printf("(%d) Go child starts putting data...\n", os.Getpid())
		if err := q.Put(ctx, "Python"); err != nil {
			return err
		}
		// Like a Python child at exit: flush the feeder before leaving.
		if err := q.Close(); err != nil {
			return err
		}
		return q.JoinThread(ctx)
	})
}
