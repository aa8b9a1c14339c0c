package connection_test

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mpwire/mpwire/connection"
)

func ExamplePipe() {
	// A one-way Pipe: the first end receives, the second sends.
	r, w, err := connection.Pipe(false)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	if err := w.SendBytes([]byte("hello")); err != nil {
		panic(err)
	}
	w.Close()
	msg, err := r.RecvBytes()
	fmt.Printf("%s %v\n", msg, err)
	_, err = r.RecvBytes()
	fmt.Println(err == io.EOF)
	// Output:
	// hello <nil>
	// true
}

func ExampleConn_RecvBytesInto() {
	a, b, _ := connection.Pipe(true)
	defer a.Close()
	defer b.Close()
	_ = a.SendBytes([]byte("a message longer than the buffer"))
	buf := make([]byte, 8)
	_, err := b.RecvBytesInto(buf)
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
	_ = w2.SendBytes([]byte("ready"))
	ready, _ := connection.Wait([]*connection.Conn{r1, r2}, time.Second)
	fmt.Println(len(ready), ready[0] == r2)
	// Output: 1 true
}

func ExampleConn_Send() {
	a, b, _ := connection.Pipe(true)
	defer a.Close()
	defer b.Close()
	// What Python's a.send([42, None, 'hello']) sends: a protocol-4 pickle.
	_ = a.Send([]any{42, nil, "hello"})
	var v any // generic values: int64, nil, string, []any, ...
	_ = b.Recv(&v)
	fmt.Printf("%#v\n", v)
	// Output: []interface {}{42, interface {}(nil), "hello"}
}
