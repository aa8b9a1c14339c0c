// Command pipe ports the multiprocessing.Pipe seed programs to a Go⇄Python
// pair: the Go side creates the Pipes and starts the Python side
// (pyfixtures/conn_pipe_peer.py) with pyfixtures, handing it Pipe ends as
// inherited file descriptors.
//
//  1. A duplex Pipe: Go sends [42, None, 'hello'] and Python replies.
//  2. The producer/consumer seed over a one-way Pipe: a Python producer
//     sends a random int 1..10 and the Go consumer prints it; then the
//     other way round.
//
// (The opposite arrangement — a Python parent starting a Go child with
// multiprocessing's spawn — belongs to the process package.)
//
//	go run ./examples/pipe
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand"
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// 1. parent_conn, child_conn = Pipe()
	parent, child, err := connection.Pipe(true)
	check(err)
	proc := startPeer(ctx, py, child, "reply")
	msg := []any{42, nil, "hello"}
	check(parent.Send(ctx, msg))
	fmt.Printf("(%d) Go sent [42, None, 'hello']\n", os.Getpid())
	line, err := proc.ReadLine(ctx)
	check(err)
	fmt.Println(line)
	var reply any
	check(parent.Recv(ctx, &reply))
	fmt.Printf("(%d) Go received the reply %v\n", os.Getpid(), reply)
	check(proc.Wait())
	parent.Close()

	// 2a. Python producer -> Go consumer over Pipe(duplex=False).
	r, w, err := connection.Pipe(false) // r receives, w sends, as in Python
	check(err)
	proc = startPeer(ctx, py, w, "producer")
	var value int
	check(r.Recv(ctx, &value))
	line, err = proc.ReadLine(ctx)
	check(err)
	fmt.Println(line)
	fmt.Printf("Value [%d] received by PID [%d]\n", value, os.Getpid())
	check(proc.Wait())
	r.Close()

	// 2b. Go producer -> Python consumer.
	r, w, err = connection.Pipe(false)
	check(err)
	proc = startPeer(ctx, py, r, "consumer")
	value = rand.Intn(10) + 1
	check(w.Send(ctx, value))
	fmt.Printf("Value [%d] send by PID [%d]\n", value, os.Getpid())
	w.Close()
	line, err = proc.ReadLine(ctx)
	check(err)
	fmt.Println(line)
	check(proc.Wait())
}

// startPeer hands end to the Python side as fd 3 and closes Go's copy, as
// a Python parent does after starting a child.
func startPeer(ctx context.Context, py pyharness.Interpreter, end *connection.Conn, role string) *pyharness.Proc {
	f, err := end.File()
	check(err)
	end.Close()
	defer f.Close()
	proc, err := pyharness.Start(ctx, pyharness.Cmd{
		Python: py, Script: "conn_pipe_peer.py", Args: []string{"--fd", "3", "--role", role},
		ExtraFiles: []*os.File{f}, Stderr: os.Stderr,
	})
	check(err)
	return proc
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
