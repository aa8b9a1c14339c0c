package process_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/process"
)

// A Go parent starts a Python child that runs proc_target.digest(conn, blob)
// as a normal multiprocessing spawn child, and reads its answer on a Pipe.
func ExampleStart() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ours, theirs, err := connection.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	defer ours.Close()
	p, err := process.Start(ctx, process.Spec{
		// Python: "" is process.Python(): $MPWIRE_PYTHON, else python3.
		Target: "proc_target:digest",      // def digest(conn, blob): conn.send({...})
		Path:   []string{"../pyfixtures"}, // where proc_target.py lives
		Args:   []any{theirs, []byte("hello")},
		Name:   "Digest-1",
	})
	if err != nil {
		log.Fatal(err)
	}
	theirs.Close() // the child has its own copy
	var reply map[string]any
	if err := ours.Recv(ctx, &reply); err != nil {
		log.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply["len"], reply["sha256"], p.ExitCode())
	// Output: 5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 0
}

// A Go worker started by a Python parent (mpwire.GoProcess) or a Go parent
// (Start with Spec.Executable) reads its spawn payload, takes the Pipe end
// it was given as its first argument, and answers one message. Run exits
// with 0, or with 1 after printing the error, as a Python child would.
func ExampleChild() {
	child, err := process.Child(context.Background())
	if err != nil {
		log.Fatal(err) // not started by a spawn parent
	}
	child.Run(func(ctx context.Context) error {
		conn, err := child.Conn(0)
		if err != nil {
			return err
		}
		defer conn.Close()
		var msg any
		if err := conn.Recv(ctx, &msg); err != nil {
			return err
		}
		return conn.Send(ctx, fmt.Sprintf("%s got %v from %d", child.Name(), msg, child.ParentPid()))
	})
}
