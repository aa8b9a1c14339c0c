package connection_test

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/mpwire/mpwire/internal/sysfd"
)

var sizes = []int{64 << 10, 1 << 20, 16 << 20}

func sizeName(n int) string {
	if n >= 1<<20 {
		return strconv.Itoa(n>>20) + "MiB"
	}
	return strconv.Itoa(n>>10) + "KiB"
}

// BenchmarkSendBytes moves messages one way through a duplex Pipe: a
// goroutine receives with RecvBytesInto into a reused buffer.
func BenchmarkSendBytes(b *testing.B) {
	for _, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			a, c := pipe(b, true)
			payload := make([]byte, n)
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, n)
				for i := 0; i < b.N; i++ {
					if _, err := c.RecvBytesInto(context.Background(), buf); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := a.SendBytes(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// rawSocketpair returns a socketpair as net.Conns (the baseline: Go's own
// socket I/O, no framing).
func rawSocketpair(b *testing.B) (net.Conn, net.Conn) { return rawSocketpairT(b) }

func rawSocketpairT(b testing.TB) (net.Conn, net.Conn) {
	fds, err := sysfd.Socketpair()
	if err != nil {
		b.Fatal(err)
	}
	conv := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "raw")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	return conv(fds[0]), conv(fds[1])
}

// BenchmarkRawSocket is the baseline for BenchmarkSendBytes: the same
// bytes (4-byte header + payload) through a raw unix socketpair, read with
// io.ReadFull.
func BenchmarkRawSocket(b *testing.B) {
	for _, n := range sizes {
		b.Run(sizeName(n), func(b *testing.B) {
			x, y := rawSocketpair(b)
			payload := make([]byte, n+4)
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, n+4)
				for i := 0; i < b.N; i++ {
					if _, err := io.ReadFull(y, buf); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := x.Write(payload); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkPingPong: one small message each way per iteration over a Go
// duplex Pipe, versus BenchmarkPingPongRaw on a raw socketpair.
func BenchmarkPingPong(b *testing.B) {
	a, c := pipe(b, true)
	msg := []byte("ping-pong payload of a few bytes")
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := c.RecvBytesInto(context.Background(), buf)
			if err != nil {
				return
			}
			if c.SendBytes(context.Background(), buf[:n]) != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := a.SendBytes(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
		if _, err := a.RecvBytesInto(context.Background(), buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPingPongRaw is the baseline: the same bytes (header+payload)
// each way through a raw socketpair with one write and one read each.
func BenchmarkPingPongRaw(b *testing.B) {
	x, y := rawSocketpair(b)
	msg := make([]byte, 4+32)
	go func() {
		buf := make([]byte, 36)
		for {
			if _, err := io.ReadFull(y, buf); err != nil {
				return
			}
			if _, err := y.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 36)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := x.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(x, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendRecv: pickled [42, None, 'hello'] ping-pong over a Go Pipe
// (Send pickles into the reused frame buffer; Recv reuses its payload
// buffer).
func BenchmarkSendRecv(b *testing.B) {
	a, c := pipe(b, true)
	go func() {
		var v any
		for {
			if c.Recv(context.Background(), &v) != nil || c.Send(context.Background(), v) != nil {
				return
			}
		}
	}()
	msg := []any{int64(42), nil, "hello"}
	var v any
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := a.Send(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
		if err := a.Recv(context.Background(), &v); err != nil {
			b.Fatal(err)
		}
	}
}
