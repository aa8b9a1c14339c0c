// Command quickstart runs a real Go⇄Python exchange over a multiprocessing
// connection: Go makes a socketpair, starts a CPython peer
// (pyfixtures/frame_writer.py) with one end as an inherited file
// descriptor, and reads the frame Python's Connection.send_bytes wrote.
//
//	go run ./examples/quickstart
//
// Set MPWIRE_PYTHON to choose the interpreter (default: python3 on PATH).
package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"os"
	"syscall"
	"time"

	"github.com/mpwire/mpwire/pyfixtures"
)

func main() {
	log.SetFlags(0)
	py, err := pyfixtures.Default()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		log.Fatal(err)
	}
	ours := os.NewFile(uintptr(fds[0]), "go-end")
	theirs := os.NewFile(uintptr(fds[1]), "python-end")
	defer ours.Close()

	msg := "hello from Python " + py.Version()
	proc, err := pyfixtures.Start(ctx, pyfixtures.Cmd{
		Python:     py,
		Script:     "frame_writer.py",
		Args:       []string{"--fd", "3", "--hex", hex.EncodeToString([]byte(msg))},
		ExtraFiles: []*os.File{theirs},
		Stderr:     os.Stderr,
	})
	if err != nil {
		log.Fatal(err)
	}
	theirs.Close()
	fmt.Printf("Go started %s (pid %d) and gave it one end of a socketpair as fd 3\n", py, proc.Pid())

	if err := ours.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		log.Fatal(err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(ours, hdr[:]); err != nil {
		log.Fatalf("reading the frame header: %v", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	body := make([]byte, n)
	if _, err := io.ReadFull(ours, body); err != nil {
		log.Fatalf("reading the frame body: %v", err)
	}
	fmt.Printf("Go received one multiprocessing frame: header %x (%d bytes), payload %q\n", hdr, n, body)
	if err := proc.Wait(); err != nil {
		log.Fatal(err)
	}
	line, _ := proc.Stdout()
	fmt.Printf("Python said: %s\n", line)
}
