package process

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/pytimeout"
	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
)

// Spec describes a child to Start.
type Spec struct {
	// Python is the interpreter of a Python child (a path, or a name found
	// in PATH); empty (with no Executable) means Python(). The child runs
	//	Python [Flags] -c 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=N, pipe_handle=M)' --multiprocessing-fork
	// exactly as multiprocessing starts a spawn child.
	Python string
	// Flags are interpreter flags for a Python child (e.g. "-B", "-X", "dev").
	Flags []string
	// Executable, instead of Python, starts a program that speaks the
	// protocol itself, e.g. a Go worker using Child: Executable[0] is the
	// program, the rest an argv prefix, followed by
	//	--multiprocessing-fork tracker_fd=N pipe_handle=M
	// (multiprocessing's frozen-executable form, also used by mpwire.GoProcess).
	Executable []string

	// Target is the function the Python child runs, "module:function"
	// ("module:Class.method" also works: protocol 4 resolves dotted names).
	// Required for Python; optional for Executable (the worker sees it as
	// ChildProcess.Target).
	Target string
	// Path is prepended to the Python child's sys.path (through PYTHONPATH)
	// so that Target's module can be imported.
	Path []string
	// Args and Kwargs are passed to Target. Values are pickle values (see
	// package pickle) plus *connection.Conn (the child gets the same
	// Connection, rebuilt from an inherited fd) and SpawnReducer
	// implementations (Queues, SemLocks); both are also found inside
	// []any, pickle.Tuple and map[string]any values. Kwargs are pickled in
	// key order.
	Args   []any
	Kwargs map[string]any

	// Name is the child's process name; empty means "SpawnProcess-N" as in Python.
	Name string
	// Daemon sets the child's daemon flag (it may not start children of its
	// own). Unlike Python, Go cannot terminate daemonic children at exit:
	// cancel Start's context or call Terminate.
	Daemon bool
	// Authkey is the child's authentication key; nil means 32 random bytes
	// (Python: the parent's current_process().authkey).
	Authkey []byte

	// Tracker is the resource tracker whose pipe the child inherits as
	// tracker_fd. Nil passes the default tracker (SetDefaultTracker; in a
	// Go worker, its parent's), or tracker_fd=None if there is none: a
	// Python child then starts its own tracker when it first creates a
	// named resource, and that tracker cleans up when the child exits.
	Tracker *ResourceTracker

	// Dir is the working directory (also sent as the child's 'dir'); empty
	// means the current one.
	Dir string
	// Env is added to this process's environment.
	Env []string
	// Stdin feeds the child's standard input; nil means /dev/null (a Python
	// child replaces sys.stdin with /dev/null anyway).
	Stdin io.Reader
	// Stdout and Stderr receive the child's output; nil means this
	// process's os.Stdout and os.Stderr, as a Python child inherits them.
	// Standard error always passes through a pipe (Start and Wait keep
	// its last 8 KiB for ExitError.Stderr), and so does standard output
	// when it is not an *os.File; both are copied until the child exits
	// plus 2 s (grandchildren may hold them open).
	Stdout, Stderr io.Writer
	// Setpgid starts the child in its own process group.
	Setpgid bool
	// Logger, if set, records the child's life: Debug when it starts,
	// Info when it exits with code 0, Warn with the end of its stderr
	// otherwise (attributes name, pid, exitcode). nil logs nothing.
	Logger *slog.Logger
	// MainPath, if set, is the main script of the program the child works
	// for: a Python child runs it as __mp_main__ (and makes it __main__)
	// before unpickling its target, as a Python parent's spawn children
	// do (preparation data init_main_from_path, docs/spec.md#spawn), so
	// functions defined in that script unpickle. Empty: no main module.
	MainPath string
}

// SpawnReducer is implemented by values that have a special pickled form
// when handed to a spawned child, like Python objects whose __reduce__ needs
// the spawning Popen (Queues, SemLocks, shared memory arenas).
type SpawnReducer interface {
	// ReduceForSpawn returns the value to pickle in place of the receiver.
	ReduceForSpawn(s *Spawning) (any, error)
}

// Spawning is what SpawnReducer gets while Start builds a payload (Python:
// the popen whose duplicate_for_child collects fds for pass_fds).
type Spawning struct {
	files []*os.File
}

// DupFd arranges for this process's fd to be inherited by the child and
// returns the pickled popen_spawn_posix._DupFd naming the child's number. A
// duplicate is passed (sharing the open file description, and so its
// blocking mode: Python children expect blocking descriptors); fd stays
// owned by the caller.
func (s *Spawning) DupFd(fd int) (*pickle.Object, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("process: duplicating fd %d for the child: %w", fd, err)
	}
	return s.File(os.NewFile(uintptr(nfd), "inherited-"+strconv.Itoa(fd))), nil
}

// File arranges for f to be inherited by the child and returns the pickled
// popen_spawn_posix._DupFd naming the child's number. Start closes f once
// the child has started (or failed to).
func (s *Spawning) File(f *os.File) *pickle.Object {
	s.files = append(s.files, f)
	return reduction.DupFd(childFD(len(s.files) - 1))
}

// Connection returns the pickled form of conn for the child:
// rebuild_connection(_DupFd, readable, writable). The child gets
// conn.File(): a blocking descriptor for the same pipe or socket; conn
// itself keeps working.
func (s *Spawning) Connection(conn *connection.Conn) (*pickle.Object, error) {
	f, err := conn.File()
	if err != nil {
		return nil, fmt.Errorf("process: %w: connection for the child: %w", ErrBadSpec, err)
	}
	return reduction.Connection(s.File(f), conn.Readable(), conn.Writable()), nil
}

func (s *Spawning) closeAll() {
	for _, f := range s.files {
		f.Close()
	}
}

// childFD is the number ExtraFiles[i] gets in the child.
func childFD(i int) int { return 3 + i }

func (s *Spawning) reduce(v any) (any, error) {
	switch x := v.(type) {
	case *connection.Conn:
		return s.Connection(x)
	case SpawnReducer:
		return x.ReduceForSpawn(s)
	case []any:
		return s.reduceItems(x)
	case pickle.Tuple:
		out, err := s.reduceItems(x)
		if err != nil {
			return nil, err
		}
		return pickle.Tuple(out), nil
	case map[string]any:
		d := pickle.NewDict()
		for _, k := range slices.Sorted(maps.Keys(x)) {
			r, err := s.reduce(x[k])
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, r); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return v, nil
}

// reduceItems reduces the items of a list or tuple into a new slice.
func (s *Spawning) reduceItems(items []any) ([]any, error) {
	out := make([]any, len(items))
	for i, e := range items {
		r, err := s.reduce(e)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

var processCounter atomic.Int64

// outputGrace is how long Wait keeps copying a child's output (Spec.Stdout
// and Stderr that are not *os.File) after the child exits.
const outputGrace = 2 * time.Second

// Process is a child started by Start. Its methods are safe for concurrent use.
type Process struct {
	name    string
	authkey []byte
	cmd     *exec.Cmd
	payload *os.File // parent_w: held open until the child exits (its parent sentinel)
	stderr  *stderrTail
	logger  *slog.Logger

	done    chan struct{}
	code    int
	waitErr error
	stopCtx func() bool
}

// Start starts a child through multiprocessing's spawn protocol and writes
// its payload: the preparation data and a multiprocessing.context.SpawnProcess
// object whose _target, _args and _kwargs come from spec.
//
// A Python child is waited for until its bootstrap is over: it has
// imported Target's module and rebuilt its arguments, and its target is
// about to run. A child that exits before that (an import error, a missing
// pool initializer, an argument it cannot rebuild, a bad interpreter flag)
// makes Start fail with an error matching ErrBootstrap that holds an
// *ExitError with the end of the child's stderr (its traceback). Start
// returns as soon as an Executable child has the whole payload in its pipe
// (a program that speaks the protocol itself gives no such signal).
//
// When ctx is done before the child exits, the child is killed (SIGKILL),
// during Start or later.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	argv0, err := spec.check()
	if err != nil {
		return nil, err
	}
	n := processCounter.Add(1)
	name := spec.Name
	if name == "" {
		name = "SpawnProcess-" + strconv.FormatInt(n, 10)
	}
	authkey := spec.Authkey
	if authkey == nil {
		authkey = make([]byte, 32)
		if _, err := rand.Read(authkey); err != nil {
			return nil, err
		}
	}
	dir := spec.Dir
	if dir == "" {
		if dir, err = os.Getwd(); err != nil {
			return nil, err
		}
	}

	sp := &Spawning{}
	defer sp.closeAll()
	args := make(pickle.Tuple, len(spec.Args))
	for i, a := range spec.Args {
		if args[i], err = sp.reduce(a); err != nil {
			return nil, fmt.Errorf("process: argument %d: %w", i, err)
		}
	}
	kwargs, err := sp.reduce(spec.Kwargs)
	if err != nil {
		return nil, fmt.Errorf("process: keyword arguments: %w", err)
	}
	trackerFD := -1
	if fd, explicit := trackerToPass(spec.Tracker); fd >= 0 {
		// An unusable default tracker (its pipe closed) is no tracker;
		// Spec.Tracker's must work.
		if _, err := sp.DupFd(fd); err == nil {
			trackerFD = childFD(len(sp.files) - 1)
		} else if explicit {
			return nil, err
		}
	}
	startFD := -1
	var startR *os.File
	if spec.Python != "" {
		r, w, err := bootstrapPipe()
		if err != nil {
			return nil, err
		}
		startR = r
		defer func() {
			if startR != nil {
				startR.Close()
			}
		}()
		sp.File(w)
		startFD = childFD(len(sp.files) - 1)
	}
	childR, parentW, err := payloadPipe()
	if err != nil {
		return nil, err
	}
	sp.File(childR)
	pipeHandle := childFD(len(sp.files) - 1)

	payload, err := encodePayload(spec, name, authkey, dir, n, args, kwargs.(*pickle.Dict), startFD)
	if err != nil {
		parentW.Close()
		return nil, err
	}

	var argv []string
	if spec.Python != "" {
		argv = pythonArgv(argv0, spec.Flags, trackerFD, pipeHandle)
	} else {
		argv = workerArgv(append([]string{argv0}, spec.Executable[1:]...), trackerFD, pipeHandle)
	}
	cmd := &exec.Cmd{Path: argv0, Args: argv, Dir: spec.Dir, ExtraFiles: sp.files,
		Env: childEnv(spec), Stdin: spec.Stdin, Stdout: spec.Stdout, Stderr: spec.Stderr}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	tail := &stderrTail{w: cmd.Stderr}
	if _, isFile := cmd.Stdout.(*os.File); !isFile && sameWriter(cmd.Stdout, cmd.Stderr) {
		// exec.Cmd calls a writer shared by Stdout and Stderr from one
		// goroutine at a time; keep that promise across the wrapper.
		cmd.Stdout = &lockedWriter{mu: &tail.mu, w: cmd.Stdout}
	}
	cmd.Stderr = tail
	if spec.Setpgid {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	// A grandchild (e.g. the child's own resource tracker) may hold a
	// Stdout/Stderr pipe open after the child exits; don't wait for it long.
	cmd.WaitDelay = outputGrace
	if err := cmd.Start(); err != nil {
		parentW.Close()
		return nil, fmt.Errorf("process: starting %s: %w", argv0, err)
	}
	sp.closeAll() // the child has its copies
	sp.files = nil

	p := &Process{name: name, authkey: authkey, cmd: cmd, payload: parentW, stderr: tail, logger: spec.Logger,
		done: make(chan struct{})}
	p.stopCtx = context.AfterFunc(ctx, func() { _ = p.Kill() })
	p.log(slog.LevelDebug, "process: started", slog.String("target", spec.Target))
	go p.wait()

	if err := writePayload(ctx, parentW, payload, p.done); err != nil {
		_ = p.Kill()
		<-p.done
		if ctx.Err() == nil && !p.killedByUs() {
			return nil, p.bootstrapErr()
		}
		return nil, fmt.Errorf("process: writing the spawn payload to %s (pid %d): %w", name, cmd.Process.Pid, err)
	}
	if startR != nil {
		r := startR
		startR = nil
		if err := p.awaitBootstrap(ctx, r); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// trackerToPass is the tracker fd a child inherits: Spec.Tracker's, else
// the default tracker's; -1 for none.
func trackerToPass(t *ResourceTracker) (fd int, explicit bool) {
	if t != nil {
		return t.FD(), true
	}
	if d, ok := DefaultTracker().(interface{ FD() int }); ok {
		return d.FD(), false
	}
	return -1, false
}

// sameWriter reports a == b without panicking on uncomparable writers.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// lockedWriter serializes writes to w with the stderr tail's.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// payloadPipe makes the spawn pipe: a blocking read end for the child
// (Python's spawn_main reads it with plain blocking reads) and a
// non-blocking, pollable write end for us (write deadlines). The two ends
// are separate open file descriptions, so their modes are independent.
func payloadPipe() (r, w *os.File, err error) {
	var fds [2]int
	if fds[0], fds[1], err = sysfd.Pipe(false); err != nil {
		return nil, nil, fmt.Errorf("process: pipe: %w", err)
	}
	if err := unix.SetNonblock(fds[1], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("process: pipe: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "spawn-pipe-r"), os.NewFile(uintptr(fds[1]), "spawn-pipe-w"), nil
}

func (spec *Spec) check() (string, error) {
	var prog string
	switch {
	case spec.Python != "" && len(spec.Executable) > 0:
		return "", fmt.Errorf("process: %w: both Python and Executable set", ErrBadSpec)
	case spec.Python != "":
		prog = spec.Python
		if spec.Target == "" {
			return "", fmt.Errorf("process: %w: a Python child needs a Target (\"module:function\")", ErrBadSpec)
		}
	case len(spec.Executable) > 0 && spec.Executable[0] != "":
		prog = spec.Executable[0]
	case len(spec.Executable) > 0:
		return "", fmt.Errorf("process: %w: Executable[0] is empty", ErrBadSpec)
	default:
		py, err := Python()
		if err != nil {
			return "", fmt.Errorf("process: %w: no Python or Executable set, and %w", ErrBadSpec, err)
		}
		spec.Python, prog = py, py
		if spec.Target == "" {
			return "", fmt.Errorf("process: %w: a Python child needs a Target (\"module:function\")", ErrBadSpec)
		}
	}
	if spec.Target != "" {
		if _, err := parseTarget(spec.Target); err != nil {
			return "", err
		}
	}
	path, err := exec.LookPath(prog)
	if err != nil {
		return "", fmt.Errorf("process: %w: %w", ErrBadSpec, err)
	}
	return path, nil
}

func parseTarget(t string) (pickle.Global, error) {
	mod, fn, ok := strings.Cut(t, ":")
	if !ok || mod == "" || fn == "" || strings.ContainsAny(t, " \t\n") {
		return pickle.Global{}, fmt.Errorf("process: %w: Target %q is not \"module:function\"", ErrBadSpec, t)
	}
	return pickle.Global{Module: mod, Name: fn}, nil
}

func childEnv(spec Spec) []string {
	env := append(os.Environ(), spec.Env...)
	if len(spec.Path) == 0 {
		return env
	}
	old := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PYTHONPATH="); ok {
			old = v
		}
	}
	pp := strings.Join(spec.Path, string(os.PathListSeparator))
	if old != "" {
		pp += string(os.PathListSeparator) + old
	}
	return append(env, "PYTHONPATH="+pp)
}

// encodePayload builds the two pickles: the preparation data (a subset of
// spawn.get_preparation_data: no sys_path/sys_argv, which would replace
// the child's own; init_main_from_path only for Spec.MainPath) and the SpawnProcess object with the __dict__
// BaseProcess.__init__ makes, in its order.
func encodePayload(spec Spec, name string, authkey []byte, dir string, n int64, args pickle.Tuple, kwargs *pickle.Dict, startFD int) ([]byte, error) {
	prep := pickle.NewDict()
	set := func(d *pickle.Dict, k string, v any) {
		_ = d.Set(k, v)
	}
	set(prep, "log_to_stderr", false)
	set(prep, "authkey", reduction.AuthenticationString(authkey))
	set(prep, "name", name)
	set(prep, "orig_dir", dir)
	set(prep, "dir", dir)
	set(prep, "start_method", "spawn")
	if spec.MainPath != "" {
		set(prep, "init_main_from_path", spec.MainPath)
	}

	config := pickle.NewDict()
	set(config, "authkey", reduction.AuthenticationString(authkey))
	set(config, "semprefix", "/mp")
	if spec.Daemon {
		set(config, "daemon", true)
	}
	var target any
	if spec.Target != "" {
		g, err := parseTarget(spec.Target)
		if err != nil {
			return nil, err
		}
		target = g
	}
	st := pickle.NewDict()
	set(st, "_identity", pickle.Tuple{n})
	set(st, "_config", config)
	set(st, "_parent_pid", int64(os.Getpid()))
	set(st, "_parent_name", "MainProcess")
	set(st, "_popen", nil)
	set(st, "_closed", false)
	set(st, "_target", target)
	set(st, "_args", args)
	set(st, "_kwargs", kwargs)
	set(st, "_name", name)
	if startFD >= 0 {
		set(st, bootstrapKey, bootstrapMarker(startFD))
	}
	obj := &pickle.Object{Callable: reduction.GlobalSpawnProcess, Args: pickle.Tuple{}, NewObj: true, State: st}

	b, err := pickle.Marshal(prep)
	if err != nil {
		return nil, fmt.Errorf("process: pickling the preparation data: %w", err)
	}
	b2, err := pickle.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("process: pickling the process object: %w", err)
	}
	return append(b, b2...), nil
}

// writePayload writes the whole payload, giving up when ctx ends or the
// child exits (a child that dies before reading gives EPIPE anyway).
func writePayload(ctx context.Context, w *os.File, payload []byte, exited <-chan struct{}) error {
	stop := context.AfterFunc(ctx, func() { _ = w.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	errc := make(chan error, 1)
	go func() {
		_, err := w.Write(payload)
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	case <-exited:
		_ = w.SetWriteDeadline(time.Unix(1, 0))
		if err := <-errc; err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		return errors.New("child exited before reading its payload")
	}
}

func (p *Process) wait() {
	err := p.cmd.Wait()
	p.stopCtx()
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.code = -int(ws.Signal())
	} else {
		p.code = st.ExitCode()
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		p.waitErr = err // I/O copying errors
	}
	// The child is gone: drop its parent sentinel like Popen.close does.
	_ = p.payload.Close()
	p.logExit()
	close(p.done)
}

// killedByUs reports an exit by SIGKILL (Kill, or the end of Start's ctx).
func (p *Process) killedByUs() bool { return p.code == -int(syscall.SIGKILL) }

func (p *Process) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if p.logger != nil {
		p.logger.LogAttrs(context.Background(), level, msg,
			append([]slog.Attr{slog.String("name", p.name), slog.Int("pid", p.Pid())}, attrs...)...)
	}
}

// logExit records the exit (p.code is set).
func (p *Process) logExit() {
	if p.logger == nil {
		return
	}
	if p.code == 0 {
		p.log(slog.LevelInfo, "process: exited", slog.Int("exitcode", 0))
		return
	}
	p.log(slog.LevelWarn, "process: exited with an error", slog.Int("exitcode", p.code),
		slog.String("stderr", lastLine(p.stderr.String())))
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Name is the child's process name.
func (p *Process) Name() string { return p.name }

// Authkey is the authentication key the child received.
func (p *Process) Authkey() []byte { return append([]byte(nil), p.authkey...) }

// Done is closed when the child has exited and been reaped (Python: the
// sentinel becoming readable).
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the child to exit and returns nil for exit code 0 and an
// *ExitError otherwise, like exec.Cmd.Wait. When ctx ends first it returns
// an error matching ctx.Err() and the child keeps running.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.result()
	case <-ctx.Done():
		return fmt.Errorf("process: waiting for %s (pid %d): %w", p.name, p.Pid(), ctx.Err())
	}
}

// Join is Python's join(): it waits until the child has exited, whatever
// its exit code (see ExitCode), or until ctx ends (an error matching
// ctx.Err(); the child keeps running).
func (p *Process) Join(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("process: joining %s (pid %d): %w", p.name, p.Pid(), ctx.Err())
	}
}

// JoinTimeout is Python's join(timeout=d) followed by a look at exitcode:
// it reports whether the child exited within d (false, with a nil error,
// when d passed first). A negative d waits like Join.
func (p *Process) JoinTimeout(ctx context.Context, d time.Duration) (bool, error) {
	return pytimeout.Wait(ctx, d, func(ctx context.Context) (bool, error) {
		err := p.Join(ctx)
		return err == nil, err
	})
}

func (p *Process) result() error {
	if p.code != 0 {
		return &ExitError{Name: p.name, Pid: p.Pid(), Code: p.code, Stderr: p.stderr.String()}
	}
	return p.waitErr
}

// ExitCode mirrors Python's Process.exitcode and os.ProcessState.ExitCode:
// -1 while the child runs, else its exit status, or -signum when a signal
// ended it (Python's convention: -15 after Terminate, -9 after Kill). -1
// is also SIGHUP's code: Exited tells the two apart.
func (p *Process) ExitCode() int {
	select {
	case <-p.done:
		return p.code
	default:
		return -1
	}
}

// Exited reports whether the child has exited (and been reaped): Python's
// exitcode is not None.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// IsAlive reports whether the child is still running.
func (p *Process) IsAlive() bool { return !p.Exited() }

// Signal sends sig to the child; it is a no-op once the child has exited.
func (p *Process) Signal(sig os.Signal) error {
	if !p.IsAlive() {
		return nil
	}
	err := p.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Terminate sends SIGTERM (Python: terminate()).
func (p *Process) Terminate() error { return p.Signal(syscall.SIGTERM) }

// Kill sends SIGKILL (Python: kill()).
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// Close checks that the child has exited, like Python's close, which fails
// with ErrRunning while it runs. Everything else is released when the child
// exits; Close is idempotent.
func (p *Process) Close() error {
	if p.IsAlive() {
		return fmt.Errorf("process: %w: %s (pid %d)", ErrRunning, p.name, p.Pid())
	}
	return nil
}
