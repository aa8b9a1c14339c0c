package manager_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/pickle"
)

// TestDialRetriesFullBacklog: a unix socket whose accept backlog is full
// refuses a non-blocking connect with EAGAIN; Dial retries until the
// server accepts (as Python's blocking connect waits), and gives up when
// its context ends.
func TestDialRetriesFullBacklog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "m.sock")
	// A listening socket with backlog 1 that nothing accepts from yet.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	lnFile := os.NewFile(uintptr(fd), sock)
	defer lnFile.Close()
	var raw []net.Conn
	defer func() {
		for _, c := range raw {
			c.Close()
		}
	}()
	for {
		c, err := net.Dial("unix", sock)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("filling the backlog: %v", err)
			}
			break
		}
		raw = append(raw, c)
		if len(raw) > 100 {
			t.Skip("the backlog does not fill on this kernel")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err = manager.Dial(ctx, "unix", sock, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Dial to a full backlog: %v, want the deadline and EAGAIN", err)
	}
	// Drain the backlog, then answer the client's dummy request (no
	// authkey: no handshake).
	ln, err := net.FileListener(lnFile)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		for range raw {
			c, err := ln.Accept()
			if err != nil {
				served <- err
				return
			}
			c.Close()
		}
		nc, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer nc.Close()
		conn := connection.NewConn(nc)
		actx, acancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer acancel()
		if _, err := conn.RecvBytes(actx); err != nil {
			served <- err
			return
		}
		reply, _ := pickle.Marshal(pickle.Tuple{"#RETURN", nil})
		served <- conn.SendBytes(actx, reply)
	}()
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := manager.Dial(ctx, "unix", sock, nil)
	if err != nil {
		t.Fatalf("Dial while the backlog drains: %v", err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
