package manager_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
	"github.com/mpwire/mpwire/manager"
	"github.com/mpwire/mpwire/manager/server"
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

// waitingIn counts the client calls (not the in-process server's
// goroutines) under fn in state (a ThreadWait receive in ppoll:
// "connection.(*Conn).doExchange", "[syscall"; one on the runtime poller:
// "connection.(*Conn).SendRecvBytesInto", "[IO wait").
func waitingIn(fn, state string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "manager.(*Client).roundTrip") && strings.Contains(g, fn) && strings.Contains(g, state) {
			n++
		}
	}
	return n
}

// TestPooledThreadWait: a lone caller's per-call connection waits for its
// reply in ppoll (Config.ThreadWaitConns); once more connections are open,
// new ones use the poller and the ThreadWait one moves there after its
// call.
func TestPooledThreadWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := server.New(testKey)
	sock := filepath.Join(t.TempDir(), "m.sock")
	ok(t, s.Listen("unix", sock))
	defer s.Close()

	// gets blocks n Gets of q (the queue is empty) and waits until
	// inPpoll of them wait in ppoll and the others on the poller.
	gets := func(t *testing.T, q *manager.QueueProxy, n, inPpoll int) <-chan error {
		t.Helper()
		done := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				_, err := q.Get(ctx)
				done <- err
			}()
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			// A call waits for its reply inside SendRecvBytesInto: in
			// ppoll under doExchange, or parked on the poller.
			tw := waitingIn("connection.(*Conn).doExchange", "[syscall")
			poller := waitingIn("connection.(*Conn).SendRecvBytesInto", "[IO wait")
			if tw == inPpoll && poller == n-inPpoll {
				return done
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d Gets wait in ppoll and %d on the poller, want %d and %d", tw, poller, inPpoll, n-inPpoll)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// drain puts n items and waits for n Gets.
	drain := func(t *testing.T, q *manager.QueueProxy, done <-chan error, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			ok(t, q.Put(ctx, i))
		}
		for i := 0; i < n; i++ {
			ok(t, <-done)
		}
	}
	client := func(t *testing.T, cfg manager.Config) *manager.QueueProxy {
		cfg.Dialer.Authkey = testKey
		c, err := cfg.Dial(ctx, "unix", sock)
		ok(t, err)
		t.Cleanup(func() { c.Close() })
		q := must(c.Queue(ctx, 0))(t)
		t.Cleanup(func() { q.Close() })
		return q
	}

	t.Run("default: a lone caller", func(t *testing.T) {
		q := client(t, manager.Config{})
		done := gets(t, q, 1, 1)
		// The Put needs a second connection (on the poller); after its
		// call the first one moves to the poller too.
		drain(t, q, done, 1)
		done = gets(t, q, 2, 0)
		drain(t, q, done, 2)
	})
	t.Run("ThreadWaitConns 2", func(t *testing.T) {
		q := client(t, manager.Config{ThreadWaitConns: 2})
		done := gets(t, q, 3, 2)
		drain(t, q, done, 3)
		done = gets(t, q, 3, 0)
		drain(t, q, done, 3)
	})
	t.Run("ThreadWaitConns -1", func(t *testing.T) {
		q := client(t, manager.Config{ThreadWaitConns: -1})
		done := gets(t, q, 1, 0)
		drain(t, q, done, 1)
	})
	t.Run("Dialer.Conn.ThreadWait", func(t *testing.T) {
		q := client(t, manager.Config{Dialer: listener.Config{Conn: connection.Config{ThreadWait: true}}})
		done := gets(t, q, 3, 3)
		drain(t, q, done, 3)
		done = gets(t, q, 3, 3)
		drain(t, q, done, 3)
	})
}
