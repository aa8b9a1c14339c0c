package process

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
)

// A Python child reports the end of its bootstrap through a pipe: the last
// entry of the pickled Process object's __dict__ is
//
//	_mpwire_bootstrap = (os.write(N, b'\x01'), os.close(N))
//
// which its unpickler evaluates after it has imported Target's module and
// rebuilt every argument (dict entries are unpickled in order), just before
// spawn's _main calls _bootstrap and the target runs. N is an inherited
// write end; the parent waits for the byte or for the child's exit, so a
// child that cannot import its target (or its pool initializer, or rebuild
// an argument) makes Start fail with its traceback instead of exiting
// after Start returned. The attribute is harmless on the Process object
// (docs/spec.md, Spawn, rule 19).
const bootstrapKey = "_mpwire_bootstrap"

var (
	globalOsWrite = pickle.Global{Module: "os", Name: "write"}
	globalOsClose = pickle.Global{Module: "os", Name: "close"}
)

// bootstrapMarker is the value of bootstrapKey for the child's fd.
func bootstrapMarker(fd int) pickle.Tuple {
	return pickle.Tuple{
		&pickle.Object{Callable: globalOsWrite, Args: pickle.Tuple{int64(fd), []byte{1}}},
		&pickle.Object{Callable: globalOsClose, Args: pickle.Tuple{int64(fd)}},
	}
}

// bootstrapPipe makes the marker pipe: a blocking write end for the child,
// a pollable read end for us (so closing it ends a pending read).
func bootstrapPipe() (r, w *os.File, err error) {
	rfd, wfd, err := sysfd.Pipe(false)
	if err != nil {
		return nil, nil, fmt.Errorf("process: pipe: %w", err)
	}
	if err := unix.SetNonblock(rfd, true); err != nil {
		unix.Close(rfd)
		unix.Close(wfd)
		return nil, nil, fmt.Errorf("process: pipe: %w", err)
	}
	return os.NewFile(uintptr(rfd), "bootstrap-r"), os.NewFile(uintptr(wfd), "bootstrap-w"), nil
}

// exitGrace bounds the wait for the marker after the child has exited:
// its exit closed its end, so the byte or EOF is there at once, unless a
// grandchild it started while importing still holds the end.
const exitGrace = time.Second

// awaitBootstrap waits until the child has written the marker, exited, or
// ctx ended (the child is then killed). It closes r.
func (p *Process) awaitBootstrap(ctx context.Context, r *os.File) error {
	defer r.Close()
	got := make(chan bool, 1)
	go func() {
		var b [1]byte
		n, _ := r.Read(b[:])
		got <- n == 1
	}()
	select {
	case ok := <-got:
		if ok {
			return nil
		}
		// EOF without the byte: the child closed its end before the end of
		// its bootstrap, which only dying does.
		select {
		case <-p.done:
		case <-ctx.Done():
			_ = p.Kill()
			<-p.done
			return fmt.Errorf("process: waiting for %s (pid %d) to start: %w", p.name, p.Pid(), context.Cause(ctx))
		}
	case <-p.done:
		_ = r.SetReadDeadline(time.Now().Add(exitGrace))
		if <-got {
			return nil // it started, then exited: its exit code is Wait's business
		}
	case <-ctx.Done():
		_ = p.Kill()
		<-p.done
		return fmt.Errorf("process: waiting for %s (pid %d) to start: %w", p.name, p.Pid(), context.Cause(ctx))
	}
	return p.bootstrapErr()
}

// bootstrapErr is Start's error for a child that exited before its target
// ran: ErrBootstrap and the *ExitError with the end of its stderr.
func (p *Process) bootstrapErr() error {
	ee := &ExitError{Name: p.name, Pid: p.Pid(), Code: p.code, Stderr: p.stderr.String()}
	return fmt.Errorf("process: %w: %w", ErrBootstrap, ee)
}

// stderrTailMax is how much of a child's standard error ExitError keeps.
const stderrTailMax = 8 << 10

// stderrTail passes a child's standard error on to w and keeps its last
// stderrTailMax bytes for ExitError.
type stderrTail struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
	cut bool // bytes were dropped from the front
}

// Write never fails: an error of w must not stop the copy (the child
// would then block or die writing to its stderr).
func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock() // also serializes w with Stdout when both are one writer (lockedWriter)
	_, _ = t.w.Write(p)
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*stderrTailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTailMax:]...)
		t.cut = true
	}
	t.mu.Unlock()
	return len(p), nil
}

// String returns the kept tail, starting at a line when bytes were
// dropped.
func (t *stderrTail) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > stderrTailMax {
		b, t.cut = b[len(b)-stderrTailMax:], true
	}
	if t.cut {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// lastLine is the last non-empty line of s, at most 300 bytes of it.
func lastLine(s string) string {
	s = string(bytes.TrimRight([]byte(s), " \t\r\n"))
	if i := bytes.LastIndexByte([]byte(s), '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
