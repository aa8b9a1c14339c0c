package pyharness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cmd describes one run of a Python fixture.
type Cmd struct {
	// Python is the interpreter to run.
	Python Interpreter
	// Script is a file name inside Dir() ("frame_writer.py") or an absolute
	// path. Empty means Args are passed to the interpreter directly (e.g.
	// "-c", "code").
	Script string
	// Args follow the script on the command line.
	Args []string
	// ExtraFiles are inherited by the child as fds 3, 4, … (as in
	// exec.Cmd.ExtraFiles).
	ExtraFiles []*os.File
	// Env is added to the parent's environment (KEY=VALUE); a key given
	// here replaces the parent's and Start's own (PYTHONPATH included).
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// TempDir, if set, becomes the child's TMPDIR so socket files and pymp-*
	// directories land there and are removed with it.
	TempDir string
	// Stdin, if non-nil, feeds the child's standard input.
	Stdin io.Reader
	// Stdout, if non-nil, receives the child's standard output; otherwise
	// it is available line by line through Proc.ReadLine.
	Stdout io.Writer
	// Stderr, if non-nil, also receives the child's standard error (it is
	// always captured in Proc.Stderr).
	Stderr io.Writer
	// KillGrace is how long Wait waits for the I/O to drain after the
	// process exits or is killed. Zero means 2s.
	KillGrace time.Duration
}

// Proc is a running fixture.
type Proc struct {
	cmd    *exec.Cmd
	stderr SyncBuffer
	done   chan struct{}
	err    error
	once   sync.Once

	// Standard output, when not redirected, is read by a goroutine into
	// lines so that a chatty child never blocks on a full pipe.
	captured bool
	mu       sync.Mutex
	lines    []string
	next     int           // index of the next line ReadLine returns
	more     chan struct{} // closed and replaced when lines grow or EOF
	eof      bool
	outDone  chan struct{}
}

// pythonPath is the PYTHONPATH entry of a fixture: the mpwire Python
// package's directory (PackageDir) ahead of the caller's PYTHONPATH, so
// scripts import mpwire as an installed package.
func pythonPath() string {
	p := PackageDir()
	if old := os.Getenv("PYTHONPATH"); old != "" {
		p += string(os.PathListSeparator) + old
	}
	return "PYTHONPATH=" + p
}

// Start runs the fixture in its own process group, with PackageDir on
// PYTHONPATH (scripts import mpwire). When ctx is done the
// whole group is killed with SIGKILL. The caller must call Wait (StartT
// does it for tests).
func Start(ctx context.Context, c Cmd) (*Proc, error) {
	var argv []string
	if c.Script != "" {
		s := c.Script
		if !strings.ContainsRune(s, os.PathSeparator) {
			s = Script(s)
		}
		argv = append(argv, s)
	}
	argv = append(argv, c.Args...)
	cmd := exec.CommandContext(ctx, c.Python.Path, argv...)
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error { return killGroup(cmd) }
	cmd.WaitDelay = c.KillGrace
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 2 * time.Second
	}
	cmd.ExtraFiles = c.ExtraFiles
	cmd.Dir = c.Dir
	cmd.Stdin = c.Stdin
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", pythonPath())
	if c.TempDir != "" {
		cmd.Env = append(cmd.Env, "TMPDIR="+c.TempDir)
	}
	cmd.Env = append(cmd.Env, c.Env...)
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&p.stderr, c.Stderr)
	} else {
		cmd.Stderr = &p.stderr
	}
	var pr, pw *os.File
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	} else {
		var err error
		if pr, pw, err = os.Pipe(); err != nil {
			return nil, err
		}
		cmd.Stdout = pw
		p.captured = true
		p.more = make(chan struct{})
		p.outDone = make(chan struct{})
	}
	err := cmd.Start()
	if pw != nil {
		pw.Close()
	}
	if err != nil {
		if pr != nil {
			pr.Close()
		}
		return nil, fmt.Errorf("pyharness: starting %s %s: %w", c.Python.Path, tail(strings.Join(argv, " "), 200), err)
	}
	if pr != nil {
		go p.readStdout(pr)
	}
	return p, nil
}

func (p *Proc) readStdout(r *os.File) {
	defer close(p.outDone)
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		p.mu.Lock()
		if s != "" {
			p.lines = append(p.lines, strings.TrimRight(s, "\r\n"))
		}
		if err != nil {
			p.eof = true
		}
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	// The negative pid addresses the process group made by Setpgid.
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// Pid returns the child's process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Kill kills the child's whole process group.
func (p *Proc) Kill() error { return killGroup(p.cmd) }

// Signal sends sig to the child process only.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// ReadLine returns the next line of the child's standard output (without
// the line ending), failing with io.EOF when the output has ended and with
// the context's error when ctx is done first. It is only available when
// Cmd.Stdout was nil. Lines are returned in order.
func (p *Proc) ReadLine(ctx context.Context) (string, error) {
	if !p.captured {
		return "", errors.New("pyharness: stdout was redirected by Cmd.Stdout")
	}
	for {
		p.mu.Lock()
		if p.next < len(p.lines) {
			s := p.lines[p.next]
			p.next++
			p.mu.Unlock()
			return s, nil
		}
		eof, more := p.eof, p.more
		p.mu.Unlock()
		if eof {
			return "", fmt.Errorf("pyharness: reading stdout: %w (stderr: %s)", io.EOF, tail(p.Stderr(), 4000))
		}
		select {
		case <-more:
		case <-ctx.Done():
			return "", fmt.Errorf("pyharness: waiting for a line of stdout: %w (stderr: %s)", ctx.Err(), tail(p.Stderr(), 4000))
		}
	}
}

// Expect reads stdout lines until one equals want (lines before it are
// skipped) and returns the lines read before it.
func (p *Proc) Expect(ctx context.Context, want string) ([]string, error) {
	var before []string
	for {
		line, err := p.ReadLine(ctx)
		if err != nil {
			return before, fmt.Errorf("pyharness: waiting for %q: %w", want, err)
		}
		if line == want {
			return before, nil
		}
		before = append(before, line)
	}
}

// Stdout returns the standard-output lines not yet returned by ReadLine,
// joined with newlines. Call it after Wait; it waits at most the kill grace
// period for the output to end (a grandchild may hold the pipe open).
func (p *Proc) Stdout() (string, error) {
	if !p.captured {
		return "", errors.New("pyharness: stdout was redirected by Cmd.Stdout")
	}
	select {
	case <-p.outDone:
	case <-time.After(p.cmd.WaitDelay):
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rest := p.lines[p.next:]
	p.next = len(p.lines)
	return strings.Join(rest, "\n"), nil
}

// Stderr returns what the child wrote to standard error so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Wait waits for the child to exit. It is safe to call more than once and
// from several goroutines; all see the same result. A non-zero exit status
// is an *exec.ExitError, whose message Wait extends with the stderr tail.
func (p *Proc) Wait() error {
	p.once.Do(func() {
		err := p.cmd.Wait()
		if err != nil {
			err = &ExitError{Err: err, Stderr: tail(p.stderr.String(), 4000)}
		}
		p.err = err
		close(p.done)
	})
	<-p.done
	return p.err
}

// Done is closed once Wait has returned.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode returns the exit status after Wait (-1 if killed by a signal).
func (p *Proc) ExitCode() int { return p.cmd.ProcessState.ExitCode() }

// ExitError is returned by Wait when the child failed; it unwraps to the
// *exec.ExitError (or context error) and carries the child's stderr tail.
type ExitError struct {
	Err    error
	Stderr string
}

func (e *ExitError) Error() string {
	if e.Stderr == "" {
		return "pyharness: " + e.Err.Error()
	}
	return "pyharness: " + e.Err.Error() + "; stderr:\n" + e.Stderr
}

func (e *ExitError) Unwrap() error { return e.Err }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// SyncBuffer is a bytes.Buffer that several goroutines (or children's
// output copiers) may write to at once; String reads a consistent snapshot.
// The zero value is ready to use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *SyncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what has been written so far.
func (l *SyncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
