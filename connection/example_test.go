package connection_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/pickle"
)

func ExamplePipe() {
	// A one-way Pipe: the first end receives, the second sends.
	r, w, err := connection.Pipe(false)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	if err := w.SendBytes(context.Background(), []byte("hello")); err != nil {
		panic(err)
	}
	w.Close()
	msg, err := r.RecvBytes(context.Background())
	fmt.Printf("%s %v\n", msg, err)
	_, err = r.RecvBytes(context.Background())
	fmt.Println(err == io.EOF)
	// Output:
	// hello <nil>
	// true
}

func ExampleConn_RecvBytesInto() {
	a, b, _ := connection.Pipe(true)
	defer a.Close()
	defer b.Close()
	_ = a.SendBytes(context.Background(), []byte("a message longer than the buffer"))
	buf := make([]byte, 8)
	_, err := b.RecvBytesInto(context.Background(), buf)
	var short *connection.BufferTooShortError
	if errors.As(err, &short) {
		fmt.Printf("too short; the whole message is %q\n", short.Message)
	}
	// Output: too short; the whole message is "a message longer than the buffer"
}

func ExampleWait() {
	r1, w1, _ := connection.Pipe(false)
	r2, w2, _ := connection.Pipe(false)
	defer r1.Close()
	defer r2.Close()
	defer w1.Close()
	defer w2.Close()
	_ = w2.SendBytes(context.Background(), []byte("ready"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ready, _ := connection.Wait(ctx, []*connection.Conn{r1, r2})
	fmt.Println(len(ready), ready[0] == r2)
	// Output: 1 true
}

func ExampleConfig() {
	// Settings travel in a Config; its zero value is the defaults. Here:
	// a 1 KiB receive limit and Send pickling with protocol 2.
	enc, err := pickle.EncOptions{Protocol: 2}.EncMode()
	if err != nil {
		panic(err)
	}
	cfg := connection.Config{MaxFrame: 1 << 10, EncMode: enc}
	a, b, err := cfg.Pipe(true)
	if err != nil {
		panic(err)
	}
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	_ = a.SendBytes(ctx, make([]byte, 2<<10))
	_, err = b.RecvBytes(ctx)
	fmt.Println(errors.Is(err, connection.ErrFrameTooLarge))
	// Output: true
}

func ExampleConn_PollTimeout() {
	a, b, _ := connection.Pipe(true)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	ok, err := a.PollTimeout(ctx, 10*time.Millisecond) // Python's a.poll(0.01)
	fmt.Println(ok, err)
	_ = b.SendBytes(ctx, []byte("x"))
	ok, err = a.PollTimeout(ctx, 0) // Python's a.poll(): check without waiting
	fmt.Println(ok, err)
	// Output:
	// false <nil>
	// true <nil>
}

func ExampleConn_Send() {
	a, b, _ := connection.Pipe(true)
	defer a.Close()
	defer b.Close()
	// What Python's a.send([42, None, 'hello']) sends: a protocol-4 pickle.
	_ = a.Send(context.Background(), []any{42, nil, "hello"})
	var v any // generic values: int64, nil, string, []any, ...
	_ = b.Recv(context.Background(), &v)
	fmt.Printf("%#v\n", v)
	// Output: []interface {}{42, interface {}(nil), "hello"}
}

// A Conn whose waits block in ppoll(2) on the waiting thread, as a Python
// process blocks in read(2), instead of on Go's network poller (what a
// pool worker's queues use). Contexts, deadlines and Close still apply.
func ExampleConfig_threadWait() {
	r, w, err := connection.Config{ThreadWait: true}.Pipe(false)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	defer w.Close()
	go func() { _ = w.SendBytes(context.Background(), []byte("task")) }()
	msg, err := r.RecvBytes(context.Background()) // waits in ppoll until the frame arrives
	fmt.Printf("%s %v\n", msg, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = r.RecvBytes(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// task <nil>
	// true
}

// A request and its reply: the request goes out from inside the wait for
// the reply, so no read is tried before the reply can be there.
func ExampleConn_SendRecvBytesInto() {
	client, server, _ := connection.Pipe(true)
	defer client.Close()
	defer server.Close()
	ctx := context.Background()
	go func() { // a peer that answers each request
		var req string
		for server.Recv(ctx, &req) == nil {
			_ = server.Send(ctx, "hello, "+req)
		}
	}()
	buf := make([]byte, 64)
	n, sent, err := client.SendRecvBytesInto(ctx, "go", buf)
	if err != nil {
		fmt.Println(sent, err)
		return
	}
	var reply string
	_ = pickle.Unmarshal(buf[:n], &reply)
	fmt.Println(reply)
	// Output: hello, go
}
