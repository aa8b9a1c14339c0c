package process_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"strings"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/queue"
	"github.com/mpwire/mpwire/sharedmem"
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

// A Python child that cannot import its target fails Start itself, with
// its traceback, instead of dying after Start returned.
func ExampleStart_bootstrapError() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := process.Start(ctx, process.Spec{Target: "no_such_module:main", Stderr: io.Discard})
	fmt.Println(errors.Is(err, process.ErrBootstrap))
	var ee *process.ExitError
	if errors.As(err, &ee) {
		lines := strings.Split(strings.TrimSpace(ee.Stderr), "\n")
		fmt.Println(ee.Code, lines[len(lines)-1])
	}
	// Output:
	// true
	// 1 ModuleNotFoundError: No module named 'no_such_module'
}

// Without a resource tracker, the names of objects a program never closed
// are unlinked by CleanupResources (typically deferred in main).
func ExampleCleanupResources() {
	q, err := queue.New(0) // three named semaphores
	if err != nil {
		log.Fatal(err)
	}
	m, err := sharedmem.Create("", 4096) // a named segment
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(len(process.Resources()) >= 4)
	if err := process.CleanupResources(); err != nil {
		log.Fatal(err)
	}
	_, err = sharedmem.Open(m.Name())
	fmt.Println(len(process.Resources()), errors.Is(err, fs.ErrNotExist))
	_ = q.Abort() // the queue still works in this process; its names are gone
	// Output:
	// true
	// 0 true
}

// A Go parent with a Python interpreter runs multiprocessing's own resource
// tracker and makes it the process's tracker: every name created from now
// on is unlinked by the tracker if the program dies before unlinking it,
// and Start passes the tracker to children, as Python does.
func ExampleSetDefaultTracker() {
	tr, err := process.StartResourceTracker("") // "": process.Python()
	if err != nil {
		log.Fatal(err)
	}
	prev := process.SetDefaultTracker(tr)
	m, err := sharedmem.Create("", 4096) // REGISTER:/psm_…:shared_memory
	if err != nil {
		log.Fatal(err)
	}
	m.Close()
	fmt.Println(m.Unlink()) // UNREGISTER: the tracker has nothing to clean up
	process.SetDefaultTracker(prev)
	fmt.Println(tr.Close()) // the tracker exits once its last user is gone
	// Output:
	// <nil>
	// <nil>
}
