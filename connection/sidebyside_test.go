package connection_test

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

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
)

// sideBySide skips unless MPWIRE_BENCH=1: these runs time Python and Go in
// the same process run and print ratios; they assert nothing about speed.
func sideBySide(t *testing.T) {
	if os.Getenv("MPWIRE_BENCH") != "1" {
		t.Skip("set MPWIRE_BENCH=1 to run the side-by-side Go/Python timing")
	}
}

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

// startEcho hands one end of a fresh duplex Pipe to conn_echo.py and
// returns the other end.
func startEcho(t *testing.T, py pyharness.Interpreter, mode string) *connection.Conn {
	a, b, err := connection.Pipe(true)
	require.NoError(t, err)
	f := handOver(t, b)
	ctx := pyharness.Context(t, 5*time.Minute)
	pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_echo.py",
		Args: []string{"--rfd", "3", "--wfd", "3", "--mode", mode}, ExtraFiles: []*os.File{f}})
	f.Close()
	t.Cleanup(func() { a.Close() })
	return a
}

// TestSideBySidePingPong prints, per interpreter, the round-trip time of
// send_bytes/recv_bytes ping-pong with a Python echo peer, driven once by
// Python (Python↔Python) and once by Go (Go↔Python), plus Go↔Go.
func TestSideBySidePingPong(t *testing.T) {
	sideBySide(t)
	const count, size, rounds = 10000, 32, 3
	goGo := func() time.Duration {
		a, b, err := connection.Pipe(true)
		require.NoError(t, err)
		defer a.Close()
		defer b.Close()
		go func() {
			buf := make([]byte, 64)
			for {
				n, err := b.RecvBytesInto(context.Background(), buf)
				if err != nil || b.SendBytes(context.Background(), buf[:n]) != nil {
					return
				}
			}
		}()
		msg, buf := make([]byte, size), make([]byte, 64)
		start := time.Now()
		for i := 0; i < count; i++ {
			require.NoError(t, a.SendBytes(context.Background(), msg))
			_, err := a.RecvBytesInto(context.Background(), buf)
			require.NoError(t, err)
		}
		return time.Since(start)
	}()
	var rows []string
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		for _, obj := range []bool{false, true} {
			mode, what := "bytes", fmt.Sprintf("%d-byte send_bytes", size)
			pyArgs := []string{"--fd", "3", "--count", strconv.Itoa(count), "--size", strconv.Itoa(size)}
			if obj {
				mode, what = "obj-echo", "send([42, None, 'hello'])"
				pyArgs = append(pyArgs, "--obj")
			}
			// Alternate Python-driven and Go-driven runs and keep the
			// median of each, so a burst of load on a shared machine
			// skews one sample, not the ratio.
			var pySamples, goSamples []time.Duration
			for round := 0; round < rounds; round++ {
				// Python drives.
				echo := startEcho(t, py, mode)
				f := handOver(t, echo)
				ctx := pyharness.Context(t, 5*time.Minute)
				out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_pingpong.py",
					Args: pyArgs, ExtraFiles: []*os.File{f}})
				pySamples = append(pySamples, parseElapsed(t, out))
				// Go drives the same kind of Python echo peer.
				c := startEcho(t, py, mode)
				msg, buf := make([]byte, size), make([]byte, 64)
				value := []any{int64(42), nil, "hello"}
				var back any
				roundTrip := func() {
					if obj {
						require.NoError(t, c.Send(context.Background(), value))
						require.NoError(t, c.Recv(context.Background(), &back))
						return
					}
					require.NoError(t, c.SendBytes(context.Background(), msg))
					_, err := c.RecvBytesInto(context.Background(), buf)
					require.NoError(t, err)
				}
				for i := 0; i < 100; i++ {
					roundTrip()
				}
				start := time.Now()
				for i := 0; i < count; i++ {
					roundTrip()
				}
				goSamples = append(goSamples, time.Since(start))
				c.Close()
			}
			pyPy, goPy := median(pySamples), median(goSamples)
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / count }
			rows = append(rows, fmt.Sprintf("| %s | %s | %.1f µs | %.1f µs | %.2f× |", py.Name(), what,
				per(pyPy), per(goPy), float64(pyPy)/float64(goPy)))
		}
	})
	fmt.Printf("\nping-pong with a Python echo peer, median of %d runs of %d round trips; the driver is Python or Go (Go↔Go send_bytes: %.1f µs per round trip)\n",
		rounds, count, float64(goGo.Nanoseconds())/1000/count)
	fmt.Println("| peer | message | Python driver | Go driver | Python time / Go time |")
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
