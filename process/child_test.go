package process

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/logtest"
	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
)

// blockingPipe makes a pipe with both ends blocking, like the ones a spawn
// parent passes.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	var perr error
	fds[0], fds[1], perr = sysfd.Pipe(false)
	require.NoError(t, perr)
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	return r, w
}

// fakeSpawn plays a spawn parent inside this process: a payload pipe whose
// read end Child reads (by fd number, as in a real child).
func fakeSpawn(t *testing.T, trackerFD int) (argv []string, w *os.File, readFD int) {
	t.Helper()
	r, w := blockingPipe(t)
	// Child takes ownership of the read end's fd number.
	fd, err := unix.Dup(int(r.Fd()))
	require.NoError(t, err)
	r.Close()
	t.Cleanup(func() { w.Close() })
	return []string{"worker", forkMarker, "tracker_fd=" + pyIntOrNone(trackerFD), "pipe_handle=" + strconv.Itoa(fd)}, w, fd
}

func testPayload(t *testing.T, args pickle.Tuple) []byte {
	t.Helper()
	b, err := encodePayload(Spec{}, "Fake-1", []byte("key"), "/", 1, args, pickle.NewDict(), -1)
	require.NoError(t, err)
	return b
}

func TestChildWithoutPayloadHonoursTheContext(t *testing.T) {
	argv, _, _ := fakeSpawn(t, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ChildConfig{Argv: argv, KeepInheritable: true}.Child(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestChildNotStartedBySpawn(t *testing.T) {
	_, err := ChildConfig{Argv: []string{"prog", "-v"}}.Child(context.Background())
	assert.ErrorIs(t, err, ErrNotChild)
	_, err = ChildConfig{Argv: []string{"prog", forkMarker, "pipe_handle=987654"}}.Child(context.Background())
	assert.ErrorIs(t, err, ErrNotChild, "a pipe_handle that is not open")
}

func TestChildNoticesParentExit(t *testing.T) {
	argv, w, _ := fakeSpawn(t, -1)
	_, err := w.Write(testPayload(t, pickle.Tuple{"a"}))
	require.NoError(t, err)
	rec, logger := logtest.New()
	ch, err := ChildConfig{Argv: argv, KeepInheritable: true, Logger: logger}.Child(context.Background())
	require.NoError(t, err)
	defer ch.Close()
	assert.Equal(t, "Fake-1", ch.Name())
	assert.Equal(t, "a", ch.Arg(0))
	assert.True(t, ch.ParentAlive())
	select {
	case <-ch.Context().Done():
		t.Fatal("context ended while the parent holds the pipe")
	case <-time.After(50 * time.Millisecond):
	}
	w.Close() // the parent exits
	select {
	case <-ch.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("context did not end after the parent closed the pipe")
	}
	assert.ErrorIs(t, context.Cause(ch.Context()), ErrParentExited)
	assert.False(t, ch.ParentAlive())
	e := rec.Find("process: parent exited")
	require.Len(t, e, 1, "ChildConfig.Logger records the parent's exit")
	assert.Equal(t, "Fake-1", e[0].Attrs["name"])
}

func TestChildCloseEndsTheContext(t *testing.T) {
	argv, w, _ := fakeSpawn(t, -1)
	_, err := w.Write(testPayload(t, nil))
	require.NoError(t, err)
	ch, err := ChildConfig{Argv: argv, KeepInheritable: true}.Child(context.Background())
	require.NoError(t, err)
	require.NoError(t, ch.Close())
	require.NoError(t, ch.Close(), "Close is idempotent")
	<-ch.Context().Done()
	assert.ErrorIs(t, context.Cause(ch.Context()), context.Canceled)
}

func TestChildFDOwnership(t *testing.T) {
	r, w := blockingPipe(t)
	defer w.Close()
	fd, err := unix.Dup(int(r.Fd()))
	require.NoError(t, err)
	r.Close()
	cr, cw := blockingPipe(t)
	defer cw.Close()
	cfd, err := unix.Dup(int(cr.Fd()))
	require.NoError(t, err)
	cr.Close()
	argv, pw, pipeFD := fakeSpawn(t, -1)
	_, err = pw.Write(testPayload(t, pickle.Tuple{reduction.DupFd(fd), reduction.DupFd(pipeFD), "x", reduction.Connection(reduction.DupFd(cfd), true, false)}))
	require.NoError(t, err)
	ch, err := ChildConfig{Argv: argv, KeepInheritable: true}.Child(context.Background())
	require.NoError(t, err)
	defer ch.Close()

	f, err := ch.File(ch.Arg(0), "arg0")
	require.NoError(t, err)
	defer f.Close()
	f2, err := ch.File(ch.Arg(0), "again")
	require.NoError(t, err, "File hands out duplicates")
	require.NoError(t, f2.Close())
	_, err = ch.File(ch.Arg(1), "the spawn pipe")
	assert.ErrorIs(t, err, ErrFDTaken, "the payload pipe belongs to the ChildProcess")
	_, err = ch.File(ch.Arg(2), "a str")
	assert.ErrorIs(t, err, ErrNotInheritable)
	conn, err := ch.Conn(3)
	require.NoError(t, err)
	defer conn.Close()
	assert.True(t, conn.Readable())
	assert.False(t, conn.Writable())
	_, err = ch.Conn(3)
	assert.ErrorIs(t, err, ErrFDTaken, "a Connection has one owner")
	_, err = ch.File(reduction.DupFd(cfd), "conn fd")
	assert.ErrorIs(t, err, ErrFDTaken, "a Conn's fd is not handed out again")
	_, err = ch.Conn(2)
	assert.ErrorIs(t, err, ErrBadState)

	_, err = w.Write([]byte("through the inherited fd"))
	require.NoError(t, err)
	buf := make([]byte, 64)
	n, err := f.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "through the inherited fd", string(buf[:n]))
}

func TestChildResourceTracker(t *testing.T) {
	argv, pw, _ := fakeSpawn(t, -1)
	_, err := pw.Write(testPayload(t, nil))
	require.NoError(t, err)
	ch, err := ChildConfig{Argv: argv, KeepInheritable: true}.Child(context.Background())
	require.NoError(t, err)
	defer ch.Close()
	assert.Equal(t, -1, ch.TrackerFD())
	assert.ErrorIs(t, ch.RegisterResource("/mp-x", ResourceSemaphore), ErrNoTracker)

	tr, tw := blockingPipe(t)
	defer tr.Close()
	defer tw.Close()
	argv, pw, _ = fakeSpawn(t, int(tw.Fd()))
	_, err = pw.Write(testPayload(t, nil))
	require.NoError(t, err)
	ch2, err := ChildConfig{Argv: argv, KeepInheritable: true, NoDefaultTracker: true}.Child(context.Background())
	require.NoError(t, err)
	defer ch2.Close()
	assert.Nil(t, DefaultTracker(), "NoDefaultTracker leaves the default alone")
	assert.Equal(t, int(tw.Fd()), ch2.Tracker().(interface{ FD() int }).FD())
	require.NoError(t, ch2.RegisterResource("/mp-abc", ResourceSemaphore))
	require.NoError(t, ch2.UnregisterResource("/mp-abc", ResourceSemaphore))
	assert.Error(t, ch2.RegisterResource("bad:name", ResourceSemaphore))
	assert.Error(t, ch2.RegisterResource(string(bytes.Repeat([]byte("n"), 600)), ResourceSemaphore))
	tw.Close()
	got, err := io.ReadAll(tr)
	require.NoError(t, err)
	assert.Equal(t, "REGISTER:/mp-abc:semaphore\nUNREGISTER:/mp-abc:semaphore\n", string(got))
}

func TestRunExitCodes(t *testing.T) {
	ch := &ChildProcess{name: "W-1", ctx: context.Background()}
	for _, tc := range []struct {
		name   string
		fn     func(context.Context) error
		code   int
		stderr string
	}{
		{"nil is 0", func(context.Context) error { return nil }, 0, ""},
		{"SystemExit(3) is 3", func(context.Context) error { return SystemExit(3) }, 3, ""},
		{"a wrapped SystemExit counts", func(context.Context) error { return errors.Join(errors.New("x"), SystemExit(4)) }, 4, ""},
		{"an error is 1 with the message", func(context.Context) error { return errors.New("boom") }, 1, "Process W-1:\nboom\n"},
		{"a panic is 1 with a stack", func(context.Context) error { panic("bang") }, 1, "Process W-1:\npanic: bang\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			assert.Equal(t, tc.code, ch.run(tc.fn, &stderr))
			if tc.stderr == "" {
				assert.Empty(t, stderr.String())
			} else {
				assert.Contains(t, stderr.String(), tc.stderr)
			}
		})
	}
}
