// Command queue-writer-reader ports the writer/reader seed (the writer puts
// 'A', 'B', 'C' on a multiprocessing.Queue, the reader loops on get until
// the parent terminates it) to mixed languages:
//
//	go run ./examples/queue-writer-reader
//
// First a Go writer with a Python reader: the Go parent creates the Queue,
// starts rw.py's read(q) as a spawned Python child, writes, waits until the
// reader has taken everything (qsize() == 0), then terminates it, as the
// seed's parent does with pr.terminate(). Then a Python writer with a Go
// reader: rw.py's write(q) runs as the child while a Go goroutine loops on
// Get until the writer has exited and the queue is drained.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

func main() {
	log.SetFlags(0)
	python, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	spec := func(target string, q *queue.Queue) process.Spec {
		return process.Spec{Python: python, Target: "rw:" + target, Path: []string{dir}, Args: []any{q}}
	}

	fmt.Println("== 1. Go writer, Python reader")
	q, err := queue.New(0)
	if err != nil {
		log.Fatal(err)
	}
	pr, err := process.Start(ctx, spec("read", q))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Process to write (Go): %d\n", os.Getpid())
	for _, v := range []string{"A", "B", "C"} {
		fmt.Printf("Put %s to queue...\n", v)
		if err := q.Put(ctx, v); err != nil {
			log.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
	}
	waitDrained(ctx, q)
	time.Sleep(100 * time.Millisecond) // let the reader print its last line
	_ = pr.Terminate()                 // the reader loops forever: pr.terminate()
	err = pr.Wait(ctx)
	var ee *process.ExitError
	if !errors.As(err, &ee) || !ee.Signaled() {
		log.Fatalf("reader: %v", err)
	}
	fmt.Println("reader terminated")
	q.Close()

	fmt.Println("== 2. Python writer, Go reader")
	q, err = queue.New(0)
	if err != nil {
		log.Fatal(err)
	}
	pw, err := process.Start(ctx, spec("write", q))
	if err != nil {
		log.Fatal(err)
	}
	readCtx, stopReader := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { // def read(q): while True: value = q.get(True) …
		defer close(done)
		fmt.Printf("Process to read (Go): %d\n", os.Getpid())
		for {
			var v string
			if err := q.Get(readCtx, &v); err != nil {
				return
			}
			fmt.Printf("Get %s from queue.\n", v)
		}
	}()
	if err := pw.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	waitDrained(ctx, q)
	stopReader() // the Go equivalent of terminating the reader
	<-done
	fmt.Println("reader stopped")
	q.Close()
}

// waitDrained waits until every item put has been got (qsize() == 0).
func waitDrained(ctx context.Context, q *queue.Queue) {
	for {
		n, err := q.Qsize()
		if err != nil {
			log.Fatal(err)
		}
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			log.Fatal(ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
