package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
)

// proxy accepts Clients on the listen address, connects each to the
// upstream Listener and relays frames unchanged in both directions,
// printing each. Both sides authenticate with the same key, so the proxy
// terminates the handshakes: they are not relayed and not printed.
func proxy(ctx context.Context, cfg listener.Config, lnet, laddr, unet, uaddr string, f *netFlags, out *printer) int {
	l, err := cfg.Listen(lnet, laddr)
	if err != nil {
		out.fail(fmt.Sprintf("listen %s: %v", laddr, err))
		return 1
	}
	defer l.Close()
	if f.capture != "" {
		cf, err := os.OpenFile(f.capture, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			out.fail(fmt.Sprintf("--capture: %v", err))
			return 1
		}
		defer cf.Close()
		out.capture = cf
	}
	out.event(fmt.Sprintf("proxy listening on %s, upstream %s", l.Addr(), uaddr))
	var wg sync.WaitGroup
	defer wg.Wait()
	n := 0
	for {
		c, err := l.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			out.fail(fmt.Sprintf("accept: %v", err))
			return 1
		}
		n++
		id := n
		wg.Add(1)
		go func() {
			defer wg.Done()
			relayPair(ctx, id, c, cfg, unet, uaddr, f, out)
		}()
	}
}

func relayPair(ctx context.Context, id int, client *connection.Conn, cfg listener.Config, unet, uaddr string, f *netFlags, out *printer) {
	defer client.Close()
	dctx, cancel := context.WithTimeout(ctx, f.timeout)
	up, err := cfg.Dial(dctx, unet, uaddr)
	cancel()
	if err != nil {
		out.fail(fmt.Sprintf("[%d] upstream %s: %s", id, uaddr, explain(err)))
		return
	}
	defer up.Close()
	out.event(fmt.Sprintf("[%d] client connected, upstream connected", id))
	done := make(chan struct{}, 2)
	go func() { relay(id, "C->S", client, up, out); done <- struct{}{} }()
	go func() { relay(id, "S->C", up, client, out); done <- struct{}{} }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	// One side ended: end the other, as the peer would see a closed socket.
	client.Close()
	up.Close()
	<-done
	out.event(fmt.Sprintf("[%d] closed", id))
}

func relay(id int, dir string, from, to *connection.Conn, out *printer) {
	for {
		b, err := from.RecvBytes(context.Background())
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				side := "client"
				if dir == "S->C" {
					side = "upstream"
				}
				out.event(fmt.Sprintf("[%d] %s closed the connection", id, side))
			case errors.Is(err, net.ErrClosed):
			default:
				out.fail(fmt.Sprintf("[%d] %s: %s", id, dir, explain(err)))
			}
			return
		}
		out.proxyFrame(id, dir, b, time.Now())
		if err := to.SendBytes(context.Background(), b); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				out.fail(fmt.Sprintf("[%d] %s: forwarding: %v", id, dir, err))
			}
			return
		}
	}
}
