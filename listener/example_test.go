package listener_test

import (
	"context"
	"fmt"

	"github.com/mpwire/mpwire/listener"
)

func Example() {
	l, err := listener.Listen("tcp", "127.0.0.1:0", []byte("secret"))
	if err != nil {
		panic(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept() // returns only authenticated connections
		if err != nil {
			return
		}
		defer c.Close()
		msg, _ := c.RecvBytes(context.Background())
		_ = c.SendBytes(context.Background(), append([]byte("echo: "), msg...))
	}()

	c, err := listener.Dial("tcp", l.Addr().String(), []byte("secret"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_ = c.SendBytes(context.Background(), []byte("hi"))
	reply, _ := c.RecvBytes(context.Background())
	fmt.Println(string(reply))
	// Output: echo: hi
}

func ExampleDial_wrongKey() {
	l, _ := listener.Listen("unix", "@mpwire-example-wrong-key", []byte("secret"))
	defer l.Close()
	_, err := listener.Dial("unix", "@mpwire-example-wrong-key", []byte("guess"))
	fmt.Println(err)
	// Output: listener: authentication failed: digest sent was rejected
}
