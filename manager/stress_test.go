package manager_test

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/manager"
)

// TestStressAppend has 8 clients (4 Go clients with their own connections,
// 4 CPython processes) append to one shared list, on a Python server and
// on the Go server, and checks the exact length. MPWIRE_STRESS=1 runs the
// full 8 × 10,000; the default is 8 × 100.
func TestStressAppend(t *testing.T) {
	n := 100
	if os.Getenv("MPWIRE_STRESS") == "1" {
		n = 10000
	} else if testing.Short() {
		n = 50
	}
	py := pyharness.DefaultT(t)
	for _, host := range []string{"python", "go"} {
		t.Run(host+" server", func(t *testing.T) {
			ctx := pyharness.Context(t, 15*time.Minute)
			var network, address string
			if host == "python" {
				network, address = startPyServer(t, ctx, py, "tcp")
			} else {
				s := startGoServer(t)
				network, address = "tcp", s.Addr().String()
			}
			c := dialT(t, ctx, network, address)
			l := must(c.List(ctx, nil))(t)
			start := time.Now()
			var procs []*pyharness.Proc
			for i := 0; i < 4; i++ {
				procs = append(procs, pyClient(t, ctx, py, network, address, "append", l.Token().ID, strconv.Itoa(n)))
			}
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each Go client rebuilds the pickled proxy: its own
					// Client, connections and reference.
					red, _ := l.ReduceForSpawn(nil)
					p, err := manager.Rebuild(ctx, red)
					if err != nil {
						t.Error(err)
						return
					}
					defer p.Close()
					gl := &manager.ListProxy{Proxy: p}
					for j := 0; j < n; j++ {
						if err := gl.Append(ctx, int64(j)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for _, p := range procs {
				if _, err := p.Expect(ctx, "DONE"); err != nil {
					t.Fatal(err)
				}
				ok(t, p.Wait())
			}
			got := must(l.Len(ctx))(t)
			t.Logf("%s server: 8 clients × %d appends = %d items in %v", host, n, got, time.Since(start).Round(time.Millisecond))
			if got != 8*n {
				t.Fatalf("list has %d items, want %d", got, 8*n)
			}
			ok(t, l.Close())
			waitObjects(t, ctx, c, 0)
			if host == "python" {
				ok(t, c.Shutdown(ctx))
			}
		})
	}
}
