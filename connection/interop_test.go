package connection_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pyharness"
)

// pattern returns n deterministic bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n && i < 251; i++ {
		b[i] = byte(i * 7)
	}
	for k := 251; k < n; k *= 2 { // doubling copies: fast under -race too
		copy(b[k:], b[:k])
	}
	return b
}

// handOver returns a file for the Python child and closes the Go Conn that
// held it, as a Python parent does after starting a child.
func handOver(t *testing.T, c *connection.Conn) *os.File {
	t.Helper()
	f, err := c.File()
	require.NoError(t, err)
	require.NoError(t, c.Close())
	t.Cleanup(func() { f.Close() })
	return f
}

// goPipes builds what conn_echo.py needs: Go's send and receive ends and
// the files for Python (fd 3 = Python's receive end, fd 4 = its send end,
// or one duplex fd 3).
func goPipes(t *testing.T, duplex bool) (send, recv *connection.Conn, files []*os.File, args []string) {
	t.Helper()
	if duplex {
		a, b, err := connection.Pipe(true)
		require.NoError(t, err)
		t.Cleanup(func() { a.Close() })
		return a, a, []*os.File{handOver(t, b)}, []string{"--rfd", "3", "--wfd", "3"}
	}
	pyR, goW, err := connection.Pipe(false)
	require.NoError(t, err)
	goR, pyW, err := connection.Pipe(false)
	require.NoError(t, err)
	t.Cleanup(func() { goW.Close(); goR.Close() })
	assert.False(t, pyR.Writable())
	assert.False(t, pyW.Readable())
	return goW, goR, []*os.File{handOver(t, pyR), handOver(t, pyW)}, []string{"--rfd", "3", "--wfd", "4"}
}

func duplexName(d bool) string {
	if d {
		return "duplex socketpair"
	}
	return "one-way pipes"
}

// TestGoPipeEndsInPythonChild hands Go Pipe ends to a Python child as
// inherited fds; Python wraps them in multiprocessing Connections and
// echoes messages of 0 B, 1 B, 64 KiB and 16 MiB (send_bytes/recv_bytes).
func TestGoPipeEndsInPythonChild(t *testing.T) {
	sizes := []int{0, 1, 64 << 10, 16 << 20}
	if testing.Short() {
		sizes = sizes[:3]
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, duplex := range []bool{true, false} {
			t.Run(duplexName(duplex), func(t *testing.T) {
				send, recv, files, args := goPipes(t, duplex)
				ctx := pyharness.Context(t, 60*time.Second)
				proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_echo.py", Args: args, ExtraFiles: files})
				for _, f := range files {
					f.Close()
				}
				total := 0
				for _, n := range sizes {
					want := pattern(n)
					// Send from another goroutine: a 16 MiB echo cannot fit in
					// the socket buffers while we are not reading.
					errc := make(chan error, 1)
					go func() { errc <- send.SendBytes(ctx, want) }()
					got, err := recv.RecvBytes(ctx)
					require.NoError(t, err)
					require.NoError(t, <-errc)
					require.Equal(t, n, len(got))
					require.True(t, bytes.Equal(want, got), "echo of %d bytes differs", n)
					total += n
				}
				require.NoError(t, send.Close())
				if !duplex {
					_, err := recv.RecvBytes(ctx)
					require.ErrorIs(t, err, io.EOF, "Python closed its end: clean EOF expected")
				}
				require.NoError(t, proc.Wait())
				out, _ := proc.Stdout()
				assert.Contains(t, out, fmt.Sprintf("echoed %d message(s), %d bytes", len(sizes), total))
				if !duplex {
					assert.Contains(t, out, "readable=True writable=False")
				}
			})
		}
	})
}

// TestPythonPipeEndsInGoChild: Python creates multiprocessing.Pipe() and
// starts this test binary as a child with the ends in pass_fds; the Go
// child wraps them with FromFD and echoes (see TestMain).
func TestPythonPipeEndsInGoChild(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, duplex := range []bool{true, false} {
			t.Run(duplexName(duplex), func(t *testing.T) {
				ctx := pyharness.Context(t, 60*time.Second)
				args := []string{"--go", exe, "--go-arg=-test.run=^$",
					"--size", "0", "--size", "1", "--size", "65536", "--size", "1048576"}
				if duplex {
					args = append(args, "--duplex")
				}
				out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_pypipe.py", Args: args})
				assert.Contains(t, out, fmt.Sprintf("OK 4 message(s) duplex=%v", map[bool]string{true: "True", false: "False"}[duplex]))
			})
		}
	})
}

// TestPeerKilledMidFrame: Python writes a header announcing 100 bytes and
// 10 bytes of body, then SIGKILLs itself; Go must fail with an unexpected
// EOF error, not hang and not report a clean EOF.
func TestPeerKilledMidFrame(t *testing.T) {
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		t.Parallel()
		for _, duplex := range []bool{true, false} {
			t.Run(duplexName(duplex), func(t *testing.T) {
				send, recv, files, args := goPipes(t, duplex)
				defer send.Close()
				ctx := pyharness.Context(t, 30*time.Second)
				proc := pyharness.StartT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_echo.py",
					Args: append(args, "--mode", "mid-frame"), ExtraFiles: files})
				for _, f := range files {
					f.Close()
				}
				if !duplex {
					send.Close() // our write end must not keep Python's reader alive
				}
				_, err := recv.RecvBytes(ctx)
				require.Error(t, err)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.ErrorIs(t, err, connection.ErrBroken)
				assert.False(t, errors.Is(err, io.EOF), "mid-frame EOF must not look like a clean EOF: %v", err)
				_, err = recv.RecvBytes(context.Background())
				assert.ErrorIs(t, err, connection.ErrBroken, "the stream stays broken")
				_ = proc.Wait()
			})
		}
	})
}

// TestPollAndWaitMatchPython runs conn_poll.py's scenario in Python and the
// same steps on Go Pipes, and compares every reported value.
func TestPollAndWaitMatchPython(t *testing.T) {
	var goLines []string
	for _, duplex := range []bool{true, false} {
		goLines = append(goLines, pollScenario(t, duplex)...)
	}
	pyharness.ForEach(t, func(t *testing.T, py pyharness.Interpreter) {
		ctx := pyharness.Context(t, 30*time.Second)
		out := pyharness.RunT(t, ctx, pyharness.Cmd{Python: py, Script: "conn_poll.py"})
		pyLines := strings.Split(strings.TrimSuffix(strings.TrimSpace(out), "\nDONE"), "\n")
		assert.Equal(t, pyLines, goLines)
	})
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func pollScenario(t *testing.T, duplex bool) []string {
	var out []string
	add := func(k string, v any) {
		if b, ok := v.(bool); ok {
			v = pyBool(b)
		}
		out = append(out, fmt.Sprintf("duplex=%s %s %v", pyBool(duplex), k, v))
	}
	poll := func(c *connection.Conn, d time.Duration) bool {
		ok, err := c.PollTimeout(context.Background(), d)
		require.NoError(t, err)
		return ok
	}
	r, w, err := connection.Pipe(duplex)
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	add("empty", poll(r, 0))
	add("empty-timeout", poll(r, 50*time.Millisecond))
	raw, err := w.File() // write raw bytes, as the Python script does with os.write
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.Write([]byte("\x00\x00\x00\x05ab"))
	require.NoError(t, err)
	add("partial", poll(r, 0))
	_, err = raw.Write([]byte("cde"))
	require.NoError(t, err)
	add("whole", poll(r, 0))
	_, err = r.RecvBytes(context.Background())
	require.NoError(t, err)
	add("drained", poll(r, 0))
	require.NoError(t, w.SendBytes(context.Background(), []byte("x")))
	require.NoError(t, w.SendBytes(context.Background(), []byte("y")))
	_, err = r.RecvBytes(context.Background())
	require.NoError(t, err)
	add("one-left", poll(r, 0))
	_, err = r.RecvBytes(context.Background())
	require.NoError(t, err)
	raw.Close()
	w.Close()
	add("peer-closed", poll(r, 0))
	_, err = r.RecvBytes(context.Background())
	if errors.Is(err, io.EOF) {
		add("recv-after-close", "EOF")
	} else {
		add("recv-after-close", fmt.Sprint(err))
	}
	add("after-EOF", poll(r, 0))

	var readers []*connection.Conn
	var writers []*connection.Conn
	for i := 0; i < 3; i++ {
		a, b, err := connection.Pipe(duplex)
		require.NoError(t, err)
		defer a.Close()
		defer b.Close()
		readers, writers = append(readers, a), append(writers, b)
	}
	require.NoError(t, writers[1].SendBytes(context.Background(), []byte("1")))
	require.NoError(t, writers[2].Close())
	ready, err := connection.WaitTimeout(context.Background(), 50*time.Millisecond, readers)
	require.NoError(t, err)
	var idx []string
	for _, c := range ready {
		for i, r := range readers {
			if c == r {
				idx = append(idx, fmt.Sprint(i))
			}
		}
	}
	add("wait", strings.Join(idx, ","))
	ready, err = connection.WaitTimeout(context.Background(), 50*time.Millisecond, readers[:1])
	require.NoError(t, err)
	add("wait-none", len(ready))
	return out
}
