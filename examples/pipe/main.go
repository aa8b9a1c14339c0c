// Command pipe ports the multiprocessing.Pipe seed programs to a Go⇄Python
// pair: the Go side creates the Pipes and starts the Python side (peer.py,
// beside this file), handing it Pipe ends as inherited file descriptors.
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
//
// Set MPWIRE_PYTHON to choose the interpreter (default: python3 on PATH).
package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"math/rand"
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
	py, err := process.Python() // $MPWIRE_PYTHON, else python3 on PATH
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
	fmt.Println(proc.readLine())
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
	fmt.Println(proc.readLine())
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
	fmt.Println(proc.readLine())
	check(proc.Wait())
}

// peer is the running Python side, with its standard output by lines.
type peer struct {
	*exec.Cmd
	lines *bufio.Scanner
}

func (p *peer) readLine() string {
	if !p.lines.Scan() {
		log.Fatalf("peer.py: no output (%v)", p.lines.Err())
	}
	return p.lines.Text()
}

// startPeer runs peer.py with end as its fd 3 and closes Go's copy, as a
// Python parent does after starting a child.
func startPeer(ctx context.Context, python string, end *connection.Conn, role string) *peer {
	f, err := end.File() // a blocking descriptor, as Python expects
	check(err)
	end.Close()
	defer f.Close()
	_, src, _, _ := runtime.Caller(0)
	cmd := exec.CommandContext(ctx, python, filepath.Join(filepath.Dir(src), "peer.py"), "--fd", "3", "--role", role)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	return &peer{Cmd: cmd, lines: bufio.NewScanner(stdout)}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
