// Command pickle-pipe runs a real Go⇄Python exchange over a multiprocessing
// connection: Go makes a duplex Pipe, starts a CPython peer (peer.py, beside
// this file) with one end as an inherited file descriptor, sends it a
// pickled dict with Conn.Send, and reads Python's pickled reply with
// Conn.Recv.
//
//	go run ./examples/pickle-pipe
//
// Set MPWIRE_PYTHON to choose the interpreter (default: python3 on PATH).
package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/process"
)

func main() {
	log.SetFlags(0)
	python, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
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

	cmd := exec.CommandContext(ctx, python, filepath.Join(sourceDir(), "peer.py"), "--fd", "3")
	cmd.ExtraFiles = []*os.File{f} // the child's fd 3
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	lines := bufio.NewScanner(stdout)
	fmt.Printf("Go started %s (pid %d) and gave it one end of a Pipe as fd 3\n", python, cmd.Process.Pid)

	msg := map[string]any{"from": "Go", "numbers": []int{1, 2, 3, 4}, "ok": true}
	if err := ours.Send(ctx, msg); err != nil {
		log.Fatalf("sending: %v", err)
	}
	fmt.Printf("Go sent a pickled map with Send: %v\n", msg)

	if lines.Scan() {
		fmt.Printf("Python said: %s\n", lines.Text())
	}

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
	for lines.Scan() { // drain stdout before Wait
	}
	if err := cmd.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Python exited cleanly; done.")
}

// sourceDir is this example's directory, where peer.py lives.
func sourceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}
