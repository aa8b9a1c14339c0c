package synchronize_test

import (
	"context"
	"fmt"
	"log"

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
