// Command queue-producer-consumer ports the producer/consumer seed (two
// producers fill a multiprocessing.Queue(10) while it is not full(), two
// consumers empty it while it is not empty()) with one producer and one
// consumer in Go and the others in Python, all on one Queue:
//
//	go run ./examples/queue-producer-consumer
//
// Then it shows blocking puts: Go puts 13 items into a Queue(10) while a
// slow Python consumer makes room, so the last three Puts wait.
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
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
	start := func(target string, args ...any) *process.Process {
		p, err := process.Start(ctx, process.Spec{Python: python, Target: "pc:" + target, Path: []string{dir}, Args: args})
		if err != nil {
			log.Fatal(err)
		}
		return p
	}

	fmt.Println("== producers kg_1 (Go) and kg_2 (Python), consumers xx (Python) and rh (Go), Queue(10)")
	q, err := queue.New(10)
	if err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // producer('kg_1', q) in Go
		defer wg.Done()
		for {
			full, err := q.Full()
			if err != nil {
				log.Fatal(err)
			}
			if full {
				break
			}
			good := rand.IntN(10) + 1
			if err := q.Put(ctx, good); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("kg_1 (Go) produced %d\n", good)
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Println("kg_1 (Go): the queue is full")
	}()
	kg2 := start("producer", "kg_2", q, 0.05)
	wg.Wait()
	if err := kg2.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	n, _ := q.Qsize()
	fmt.Printf("begin consuming: qsize() = %d\n", n)

	xx := start("consumer", "xx", q, 0.1)
	wg.Add(1)
	go func() { // consumer('rh', q) in Go
		defer wg.Done()
		for {
			empty, err := q.Empty()
			if err != nil {
				log.Fatal(err)
			}
			if empty {
				break
			}
			var good int
			// Get, not GetNowait: like the seed, another consumer may take
			// the item between empty() and get(); the deadline keeps that
			// from blocking forever.
			if err := q.GetTimeout(context.Background(), time.Second, &good); err != nil {
				break
			}
			fmt.Printf("rh (Go) consumed %d\n", good)
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Println("rh (Go): nothing left to consume")
	}()
	wg.Wait()
	if err := xx.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	n, _ = q.Qsize()
	fmt.Printf("all done: qsize() = %d\n", n)
	q.Close()

	fmt.Println("== blocking puts: Go puts 13 items into a Queue(10), a slow Python consumer takes them")
	q, err = queue.New(10)
	if err != nil {
		log.Fatal(err)
	}
	slow := start("slow_consumer", q, 13, 0.1)
	for i := 1; i <= 13; i++ {
		t0 := time.Now()
		if err := q.Put(ctx, i); err != nil {
			log.Fatal(err)
		}
		if waited := time.Since(t0); waited > 20*time.Millisecond {
			fmt.Printf("put %d waited %v for a free slot (the queue was full)\n", i, waited.Round(10*time.Millisecond))
		}
	}
	if err := slow.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	q.Close()
	fmt.Println("every item was consumed")
}
