package synchronize_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/mpwire/mpwire/synchronize"
)

// An Event created in Go can be handed to Python children (process.Start
// Args); here both sides are Go handles on the same semaphores.
func ExampleNewEvent() {
	ctx := context.Background()
	ev, err := synchronize.NewEvent()
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	other, err := synchronize.OpenEvent(ev.Object()) // what a child does with the pickled Event
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	go func() { _ = ev.Set(ctx) }()
	fmt.Println(other.Wait(ctx))
	// Output: true <nil>
}

func ExampleBoundedSemaphore() {
	s, err := synchronize.NewBoundedSemaphore(1)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println(s.Release())
	// Output: semaphore or lock released too many times
}

// AcquireTimeout is Python's acquire(timeout=t): false, with no error, when
// the time passes; Acquire(ctx) reports the end of its context as an error.
func ExampleSemLock_AcquireTimeout() {
	ctx := context.Background()
	l, err := synchronize.NewLock()
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	_ = l.Acquire(ctx)
	ok, err := l.AcquireTimeout(ctx, 10*time.Millisecond)
	fmt.Println(ok, err)

	dctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	err = l.Acquire(dctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// false <nil>
	// true
}
