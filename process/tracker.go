package process

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"

	"github.com/mpwire/mpwire/internal/sysfd"
)

// Resource types the tracker knows (multiprocessing.resource_tracker).
const (
	ResourceSemaphore    = "semaphore"     // a named POSIX semaphore ("/mp-xxxxxxxx"), sem_unlink at cleanup
	ResourceSharedMemory = "shared_memory" // a POSIX shared memory name, shm_unlink at cleanup
)

// ResourceTracker is a multiprocessing resource tracker process, started
// the way Python's resource_tracker.ensure_running starts it:
//
//	python [flags] -c 'from multiprocessing.resource_tracker import main;main(3)'
//
// with the read end of a pipe. Every holder of the write end (this process,
// and each child that got it as tracker_fd) can send REGISTER/UNREGISTER
// lines; when the last write end is closed the tracker unlinks every name
// still registered, warns about the leak on stderr, and exits. Its methods
// are safe for concurrent use.
type ResourceTracker struct {
	mu   sync.Mutex
	w    *os.File
	cmd  *exec.Cmd
	done chan struct{}
}

// StartResourceTracker starts a tracker with the given interpreter ("":
// Python()). It runs in its own process group (so a terminal's ^C does not
// reach it; Python's ignores SIGINT and SIGTERM anyway) and writes its
// warnings to os.Stderr.
func StartResourceTracker(python string, flags ...string) (*ResourceTracker, error) {
	if python == "" {
		var err error
		if python, err = Python(); err != nil {
			return nil, err
		}
	}
	// Blocking on both ends: the tracker reads lines with blocking reads,
	// and children write to their copies of w directly.
	rfd, wfd, err := sysfd.Pipe(false)
	if err != nil {
		return nil, fmt.Errorf("process: pipe: %w", err)
	}
	r, w := os.NewFile(uintptr(rfd), "tracker-r"), os.NewFile(uintptr(wfd), "tracker-w")
	defer r.Close()
	args := append(append([]string{}, flags...), "-c", "from multiprocessing.resource_tracker import main;main(3)")
	cmd := exec.Command(python, args...)
	cmd.ExtraFiles = []*os.File{r}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("process: starting the resource tracker: %w", err)
	}
	t := &ResourceTracker{w: w, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(t.done)
	}()
	return t, nil
}

// FD is the write end of the tracker's pipe in this process (what a child
// receives as tracker_fd), or -1 after Close.
func (t *ResourceTracker) FD() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return -1
	}
	return int(t.w.Fd())
}

// Pid is the tracker's process id.
//
// A ResourceTracker is a Tracker; make it the process's tracker with
// SetDefaultTracker.
func (t *ResourceTracker) Pid() int { return t.cmd.Process.Pid }

// Register asks the tracker to unlink name (of type rtype, e.g.
// ResourceSemaphore) if it is still registered when the tracker exits.
func (t *ResourceTracker) Register(name, rtype string) error { return t.send("REGISTER", name, rtype) }

// Unregister withdraws a Register (the owner unlinked the resource itself).
func (t *ResourceTracker) Unregister(name, rtype string) error {
	return t.send("UNREGISTER", name, rtype)
}

func (t *ResourceTracker) send(cmd, name, rtype string) error {
	msg, err := trackerMessage(cmd, name, rtype)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return fmt.Errorf("process: resource tracker: %w", os.ErrClosed)
	}
	_, err = t.w.Write(msg)
	return err
}

// trackerMessage is one line of the tracker protocol, "CMD:name:rtype\n".
func trackerMessage(cmd, name, rtype string) ([]byte, error) {
	msg := cmd + ":" + name + ":" + rtype + "\n"
	// One write of at most 512 bytes is atomic on a pipe (PIPE_BUF), which
	// is what keeps lines from several processes apart.
	if len(msg) > 512 {
		return nil, fmt.Errorf("process: resource tracker message too long (%d bytes)", len(msg))
	}
	if strings.ContainsAny(name+rtype, ":\n") || name == "" || rtype == "" {
		return nil, fmt.Errorf("process: bad resource name %q or type %q (empty, or contains ':' or newline)", name, rtype)
	}
	return []byte(msg), nil
}

// Close closes this process's write end and waits for the tracker to exit,
// which happens once every child holding the pipe has exited too. The
// tracker then unlinks what is still registered. It is idempotent.
func (t *ResourceTracker) Close() error {
	t.mu.Lock()
	if t.w != nil {
		t.w.Close()
		t.w = nil
	}
	t.mu.Unlock()
	<-t.done
	return nil
}

// Done is closed when the tracker process has exited.
func (t *ResourceTracker) Done() <-chan struct{} { return t.done }
