package queue_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

// A Queue works inside one Go process too: Put hands items to the feeder,
// Get reads them back from the pipe.
func ExampleNew() {
	ctx := context.Background()
	q, err := queue.New(2)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	_ = q.Put(ctx, "a")
	_ = q.Put(ctx, map[string]int{"b": 2})
	fmt.Println(q.PutNowait("c")) // maxsize 2
	var s string
	_ = q.Get(ctx, &s)
	m := map[string]int{}
	_ = q.Get(ctx, &m)
	fmt.Println(s, m)
	err = q.GetTimeout(ctx, 10*time.Millisecond, &s) // get(True, 0.01)
	fmt.Println(err, errors.Is(err, queue.ErrEmpty))
	// Output:
	// queue is full
	// a map[b:2]
	// queue is empty (deadline exceeded) true
}

// Settings travel in a Config: here a 1 MiB limit on one item's pickle and
// a larger pipe.
func ExampleConfig() {
	cfg := queue.Config{MaxItem: 1 << 20, PipeSize: 1 << 20}
	q, err := cfg.New(0)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	fmt.Println(q.Maxsize() == queue.SemValueMax)
	// Output: true
}

// A Go parent shares a Queue with a Python child started through the spawn
// protocol: the child gets a real multiprocessing.Queue.
func ExampleQueue_ReduceForSpawn() {
	ctx := context.Background()
	q, err := queue.New(0)
	if err != nil {
		log.Fatal(err)
	}
	// child.py: def f(q): q.put('Python')
	p, err := process.Start(ctx, process.Spec{Target: "child:f", Path: []string{"."}, Args: []any{q}})
	if err != nil {
		log.Fatal(err)
	}
	var s string
	if err := q.Get(ctx, &s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s)
	_ = p.Wait(ctx)
	_ = q.Close() // after the child has started: Close unlinks the semaphore names
}

// A Go worker started by a Python parent (mpwire.GoProcess(exe, args=(q,)))
// rebuilds the parent's Queue from its spawn payload and puts on it.
func ExampleOpen() {
	child, err := process.Child(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	child.Run(func(ctx context.Context) error {
		q, err := queue.Open(child, child.Arg(0))
		if err != nil {
			return err
		}
		if err := q.Put(ctx, "Python"); err != nil {
			return err
		}
		_ = q.Close()
		return q.JoinThread(ctx) // flush before exiting, as a Python child does
	})
}

// TaskDone and Join follow Python's Condition protocol, so joiners and
// workers may be in either language.
func ExampleJoinableQueue() {
	ctx := context.Background()
	q, err := queue.NewJoinable(0)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	for i := 0; i < 3; i++ {
		_ = q.Put(ctx, i)
	}
	go func() {
		for i := 0; i < 3; i++ {
			var x int
			_ = q.Get(ctx, &x)
			_ = q.TaskDone(ctx)
		}
	}()
	fmt.Println(q.Join(ctx))
	// Output: <nil>
}
