package listener_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/listener"
)

func Example() {
	ctx := context.Background()
	l, err := listener.Listen("tcp", "127.0.0.1:0", []byte("secret"))
	if err != nil {
		panic(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept(ctx) // returns only authenticated connections
		if err != nil {
			return
		}
		defer c.Close()
		msg, _ := c.RecvBytes(ctx)
		_ = c.SendBytes(ctx, append([]byte("echo: "), msg...))
	}()

	c, err := listener.Dial(ctx, "tcp", l.Addr().String(), []byte("secret"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_ = c.SendBytes(ctx, []byte("hi"))
	reply, _ := c.RecvBytes(ctx)
	fmt.Println(string(reply))
	// Output: echo: hi
}

func ExampleDial_wrongKey() {
	l, _ := listener.Listen("unix", "@mpwire-example-wrong-key", []byte("secret"))
	defer l.Close()
	_, err := listener.Dial(context.Background(), "unix", "@mpwire-example-wrong-key", []byte("guess"))
	fmt.Println(err)
	fmt.Println(errors.Is(err, listener.ErrAuthentication))
	// Output:
	// listener: authentication failed: digest sent was rejected
	// true
}

func ExampleConfig() {
	// The legacy challenge Python 3.8–3.11 sends, a 5 s handshake limit and
	// a 1 MiB frame limit on every accepted connection.
	cfg := listener.Config{
		Authkey:          []byte("secret"),
		Scheme:           listener.SchemeLegacy,
		HandshakeTimeout: 5 * time.Second,
		Conn:             connection.Config{MaxFrame: 1 << 20},
	}
	l, err := cfg.Listen("unix", "")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		if c, err := l.Accept(ctx); err == nil {
			c.Close()
		}
	}()
	c, err := cfg.Dial(ctx, "unix", l.Addr().String())
	if err != nil {
		panic(err)
	}
	c.Close()
	fmt.Println("authenticated")
	// Output: authenticated
}

// Config.Logger records what the listener refuses: here a client with the
// wrong key (the time, addresses and ports are left out of the output).
func ExampleConfig_logger() {
	quiet := func(_ []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey, "peer", "listener":
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: quiet}))
	l, err := listener.Config{Authkey: []byte("secret"), Logger: logger}.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	_, err = listener.Dial(context.Background(), "tcp", l.Addr().String(), []byte("guess"))
	l.Close() // waits for the handshake goroutine, and so for its log line
	fmt.Println(errors.Is(err, listener.ErrAuthentication))
	// Output:
	// level=WARN msg="listener: handshake failed" err="listener: authentication failed: digest received was wrong"
	// true
}
