package listener_test

import (
	"context"
	"testing"

	"github.com/mpwire/mpwire/listener"
)

// BenchmarkAuthenticatedConnect: Go Dial → Go Listener over tcp with the
// {sha256} handshake both ways (connect, six handshake frames, close).
func BenchmarkAuthenticatedConnect(b *testing.B) {
	for _, network := range []string{"tcp", "unix"} {
		b.Run(network, func(b *testing.B) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = b.TempDir() + "/s"
			}
			key := []byte("bench-key")
			l, err := listener.Listen(network, addr, key)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept(context.Background())
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := listener.Dial(context.Background(), network, l.Addr().String(), key)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
