// Command quickstart runs a real Go⇄Python exchange over a multiprocessing
// connection: Go makes a duplex Pipe, starts a CPython peer
// (pyfixtures/conn_quickstart.py) with one end as an inherited file
// descriptor, sends it a pickled dict with Conn.Send, and reads Python's
// pickled reply with Conn.Recv.
//
//	go run ./examples/quickstart
//
// Set MPWIRE_PYTHON to choose the interpreter (default: python3 on PATH).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
)

func main() {
	log.SetFlags(0)
	py, err := pyharness.Default()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// multiprocessing.Pipe(duplex=True): a socketpair.
	ours, theirs, err := connection.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	defer ours.Close()
	f, err := theirs.File() // a blocking descriptor, as Python expects
	if err != nil {
		log.Fatal(err)
	}
	theirs.Close()

	proc, err := pyharness.Start(ctx, pyharness.Cmd{
		Python:     py,
		Script:     "conn_quickstart.py",
		Args:       []string{"--fd", "3"},
		ExtraFiles: []*os.File{f},
		Stderr:     os.Stderr,
	})
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Go started %s (pid %d) and gave it one end of a Pipe as fd 3\n", py, proc.Pid())

	msg := map[string]any{"from": "Go", "numbers": []int{1, 2, 3, 4}, "ok": true}
	if err := ours.Send(ctx, msg); err != nil {
		log.Fatalf("sending: %v", err)
	}
	fmt.Printf("Go sent a pickled map with Send: %v\n", msg)

	line, err := proc.ReadLine(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Python said: %s\n", line)

	var reply struct {
		Greeting string         `pickle:"greeting"`
		Sum      int            `pickle:"sum"`
		AsTuple  []int64        `pickle:"as_tuple"`
		Echo     map[string]any `pickle:"echo"`
	}
	if err := ours.Recv(ctx, &reply); err != nil {
		log.Fatalf("receiving: %v", err)
	}
	fmt.Printf("Go received Python's pickled reply with Recv into a struct: greeting=%q sum=%d tuple=%v\n",
		reply.Greeting, reply.Sum, reply.AsTuple)
	fmt.Printf("and the echo of its own map, decoded generically: %v\n", reply.Echo)
	if err := proc.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Python exited cleanly; done.")
}
