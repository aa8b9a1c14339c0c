package process_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/process"
)

// A Go parent starts a Python child that runs proc_target.digest(conn, blob)
// as a normal multiprocessing spawn child, and reads its answer on a Pipe.
func ExampleStart() {
	py, err := pyharness.Default()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ours, theirs, err := connection.Pipe(true)
	if err != nil {
		log.Fatal(err)
	}
	defer ours.Close()
	p, err := process.Start(ctx, process.Spec{
		Python: py.Path,
		Target: "proc_target:digest", // def digest(conn, blob): conn.send({...})
		Path:   []string{pyharness.Dir()},
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
	if err := p.Wait(); err != nil {
		log.Fatal(err)
	}
	code, _ := p.ExitCode()
	fmt.Println(reply["len"], reply["sha256"], code)
	// Output: 5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 0
}

// A Go worker started by a Python parent (mpwire.GoProcess) or a Go parent
// (Start with Spec.Executable) reads its spawn payload, takes the Pipe end
// it was given as its first argument, and answers one message. Run exits
// with 0, or with 1 after printing the error, as a Python child would.
func ExampleChild() {
	child, err := process.Child()
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
