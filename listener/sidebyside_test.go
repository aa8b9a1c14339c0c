package listener_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/internal/pyharness"
	"github.com/mpwire/mpwire/listener"
)

func parseElapsed(t *testing.T, out string) time.Duration {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "ELAPSED "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return time.Duration(f * float64(time.Second))
		}
	}
	t.Fatalf("no ELAPSED line in %q", out)
	return 0
}

// TestSideBySideConnect prints the latency of an authenticated connect
// (TCP connect + both handshake halves + close) for Python Client → Python
// Listener, Go Dial → Python Listener, Python Client → Go Listener and Go →
// Go. Runs only with MPWIRE_BENCH=1; asserts nothing about speed.
func TestSideBySideConnect(t *testing.T) {
	if os.Getenv("MPWIRE_BENCH") != "1" {
		t.Skip("set MPWIRE_BENCH=1 to run the side-by-side Go/Python timing")
	}
	const count = 200
	key := []byte("bench-key")
	keyEnv := []string{"MPWIRE_AUTHKEY=" + fmt.Sprintf("%x", key)}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / count }

	goListener := func() (*listener.Listener, func() int) {
		l, err := listener.Listen("tcp", "127.0.0.1:0", key)
		require.NoError(t, err)
		accepted := make(chan int, 1)
		go func() {
			n := 0
			for {
				c, err := l.Accept(context.Background())
				if err != nil {
					accepted <- n
					return
				}
				n++
				c.Close()
			}
		}()
		return l, func() int { l.Close(); return <-accepted }
	}
	goDial := func(addr string) time.Duration {
		c, err := listener.Dial(context.Background(), "tcp", addr, key)
		require.NoError(t, err)
		c.Close()
		start := time.Now()
		for i := 0; i < count; i++ {
			c, err := listener.Dial(context.Background(), "tcp", addr, key)
			require.NoError(t, err)
			c.Close()
		}
		return time.Since(start)
	}
	var gg []time.Duration
	for round := 0; round < 3; round++ {
		l, stop := goListener()
		gg = append(gg, goDial(l.Addr().String()))
		stop()
	}
	goGo := median(gg)

	var rows []string
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 5*time.Minute)
		pyListener := func() string {
			p := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_listener.py",
				Args: []string{"--accept", strconv.Itoa(count + 1), "--mode", "accept-only"}, Env: keyEnv})
			line, err := p.ReadLine(ctx)
			require.NoError(t, err)
			addr, _ := strings.CutSuffix(line, " READY")
			return addr
		}
		pyClient := func(addr string) time.Duration {
			out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_connect.py",
				Args: []string{"--address", addr, "--count", strconv.Itoa(count)}, Env: keyEnv})
			return parseElapsed(t, out)
		}
		// Alternate the pairings and keep medians (the machine may be
		// shared and noisy).
		var pp, gp, pg []time.Duration
		for round := 0; round < 3; round++ {
			pp = append(pp, pyClient(pyListener()))
			gp = append(gp, goDial(pyListener()))
			l, stop := goListener()
			pg = append(pg, pyClient(l.Addr().String()))
			stop()
		}
		pyPy, goPy, pyGo := median(pp), median(gp), median(pg)
		rows = append(rows, fmt.Sprintf("| %s | %.0f µs | %.0f µs | %.0f µs | %.2f× |", py.Name(),
			per(pyPy), per(goPy), per(pyGo), float64(pyPy)/float64(goGo)))
	})
	fmt.Printf("\nauthenticated connect over tcp ({sha256} challenge each way where supported), median of 3 runs of %d connects; Go Dial → Go Listener: %.0f µs\n", count, per(goGo))
	fmt.Println("| Python | Py client → Py listener | Go client → Py listener | Py client → Go listener | Py↔Py / Go↔Go |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
