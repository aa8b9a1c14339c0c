package main

import (
	"context"
	"log"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
)

func main() {
	child, err := process.Child(context.Background()) // what the Python parent sent: args, name, authkey
	if err != nil {
		log.Fatal(err)
	}
	child.Run(func(ctx context.Context) error { // exits as a Python child would (0, or 1 and the error)
		tasks, err := queue.Open(child, child.Arg(0))
		if err != nil {
			return err
		}
		results, err := queue.Open(child, child.Arg(1))
		if err != nil {
			return err
		}
		for {
			var n *int64 // a pointer, so that Python's None arrives as nil
			if err := tasks.Get(ctx, &n); err != nil {
				return err
			}
			if n == nil {
				results.Close()
				return results.JoinThread(ctx) // flush what was put, as a Python child does at exit
			}
			x := *n
			if err := results.Put(ctx, x*x); err != nil {
				return err
			}
		}
	})
}
