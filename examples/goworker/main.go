// Command goworker shows a Python parent feeding a Go worker over a
// multiprocessing Pipe, through the real spawn start method.
//
//	go run ./examples/goworker
//
// Run without spawn arguments, it starts parent.py (beside this file) with
// the interpreter from MPWIRE_PYTHON (default python3), passing its own
// executable as the worker, and the mpwire Python package on PYTHONPATH. parent.py uses mpwire.GoProcess, which starts
// this binary again as
//
//	goworker --multiprocessing-fork tracker_fd=N pipe_handle=M
//
// and then the binary is the worker: process.Child reads the spawn payload
// (the same two pickles a Python child would get), child.Conn(0) is the Pipe
// end, and each task received is answered until None arrives.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mpwire/mpwire/process"
	"github.com/mpwire/mpwire/python"
)

func main() {
	log.SetFlags(0)
	if process.IsChild(os.Args) {
		worker()
		return
	}
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
	if err != nil {
		log.Fatal(err)
	}
	// parent.py imports the mpwire Python package (GoProcess). Installed
	// users run pip install ./python; here it comes from the copy embedded
	// in the Go module (package python), put on PYTHONPATH.
	pkg, err := python.Dir()
	if err != nil {
		log.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(filepath.Dir(file), "parent.py"), "--worker", self)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pkg)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("python parent: %v", err)
	}
}

// worker is the Go side: a multiprocessing child in all but language.
func worker() {
	child, err := process.Child(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	child.Run(func(ctx context.Context) error {
		conn, err := child.Conn(0)
		if err != nil {
			return err
		}
		defer conn.Close()
		var opts struct {
			Greeting string `pickle:"greeting"`
		}
		if err := child.UnmarshalArg(1, &opts); err != nil {
			return err
		}
		fmt.Printf("Go worker %q (pid %d, parent %d) says %s\n", child.Name(), child.Pid(), child.ParentPid(), opts.Greeting)
		for {
			var task any
			if err := conn.Recv(ctx, &task); err != nil {
				return err
			}
			var reply any
			switch t := task.(type) {
			case nil:
				return nil
			case []any:
				var sum int64
				for _, v := range t {
					n, ok := v.(int64)
					if !ok {
						return fmt.Errorf("not an int: %v", v)
					}
					sum += n
				}
				reply = map[string]any{"sum": sum, "count": len(t)}
			case string:
				reply = map[string]any{"words": len(strings.Fields(t))}
			case []byte:
				reply = map[string]any{"bytes": len(t)}
			default:
				return errors.New("unexpected task type " + fmt.Sprintf("%T", task))
			}
			if err := conn.Send(ctx, reply); err != nil {
				return err
			}
		}
	})
}
