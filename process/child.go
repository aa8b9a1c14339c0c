package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpwire/mpwire/connection"
	"github.com/mpwire/mpwire/internal/reduction"
	"github.com/mpwire/mpwire/internal/sysfd"
	"github.com/mpwire/mpwire/pickle"
)

// DefaultMaxPayload bounds the two spawn pickles a child accepts (1 GiB).
const DefaultMaxPayload = 1 << 30

var defaultDec, _ = pickle.DecOptions{}.DecMode()

// ErrParentExited is the cause (context.Cause) of a ChildProcess's context
// when the parent process has exited or closed its end of the spawn pipe.
var ErrParentExited = errors.New("parent process exited")

// ChildConfig holds the settings of a Go worker's side of the spawn
// protocol: how Child reads the payload, and the Conns it hands out. The
// zero value gives the defaults.
type ChildConfig struct {
	// Argv is the command line to parse; nil means os.Args.
	Argv []string
	// MaxPayload bounds the bytes read for the two pickles; 0 means
	// DefaultMaxPayload, a negative value no limit.
	MaxPayload int64
	// DecMode decodes the payload, with its limits; nil means pickle's
	// defaults.
	DecMode pickle.DecMode
	// KeepInheritable leaves inherited descriptors as they are. By default
	// Child marks every descriptor above 2 close-on-exec, as Python's
	// close_fds=True does for its own children, so that programs the worker
	// starts do not hold the parent's sentinel pipe, the resource tracker
	// pipe or Connection ends open.
	KeepInheritable bool
	// Conn holds the settings of the Conns that Conn and KwargConn return.
	Conn connection.Config
	// NoDefaultTracker keeps Child from making the parent's resource
	// tracker (tracker_fd) this process's default tracker. By default Child
	// calls SetDefaultTracker(child.Tracker()) when the parent passed one,
	// as a Python child uses its parent's tracker: the semaphores and
	// shared memory the worker creates are then unlinked by that tracker if
	// the worker dies without closing them.
	NoDefaultTracker bool
	// Logger, if set, records the worker's view of its parent: Info when
	// the parent exits (the Context's end). nil logs nothing.
	Logger *slog.Logger
}

// ChildProcess is the running Go worker as its spawn parent described it:
// the decoded preparation data and Process object, with typed accessors. Its
// methods are safe for concurrent use.
type ChildProcess struct {
	spawn      spawnArgs
	prep       *pickle.Dict
	obj        *pickle.Object
	state      *pickle.Dict
	name       string
	parentName string
	parentPid  int
	identity   []int
	authkey    []byte
	config     *pickle.Dict
	target     any
	args       pickle.Tuple
	kwargs     *pickle.Dict

	connCfg connection.Config
	tracker *inheritedTracker // nil without tracker_fd
	logger  *slog.Logger

	mu    sync.Mutex
	taken map[int]bool

	sentinel  *os.File // the payload pipe: EOF when the parent exits
	wakeR     int      // the watcher's wake-up pipe: Close closes wakeW
	wakeW     int
	ctx       context.Context
	cancel    context.CancelCauseFunc
	watchDone chan struct{}
	closeOnce sync.Once
}

// Child reads the spawn payload of a Go worker started by a multiprocessing
// parent (mpwire.GoProcess in Python, or Start with Spec.Executable in Go):
// it parses the command line, reads exactly two pickles from pipe_handle
// (the parent never closes that pipe), and starts watching the pipe for the
// parent's exit. ctx bounds reading the payload (its end is an error
// matching ctx.Err()); its values, not its cancellation, carry over to the
// returned process's Context.
func Child(ctx context.Context) (*ChildProcess, error) { return ChildConfig{}.Child(ctx) }

// Child is the package-level Child with these settings.
func (o ChildConfig) Child(ctx context.Context) (*ChildProcess, error) {
	argv := o.Argv
	if argv == nil {
		argv = os.Args
	}
	ppid := unix.Getppid() // before anything can make us an orphan unnoticed
	sa, err := parseArgv(argv)
	if err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(sa.PipeHandle), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("process: %w: pipe_handle %d is not an open descriptor: %v", ErrNotChild, sa.PipeHandle, err)
	}
	if sa.TrackerFD >= 0 {
		if _, err := unix.FcntlInt(uintptr(sa.TrackerFD), unix.F_GETFD, 0); err != nil {
			sa.TrackerFD = -1 // like a closed tracker pipe in Python: the tracker is just not reachable
		}
	}
	if !o.KeepInheritable {
		cloexecInherited()
	}
	// Non-blocking, so that os.File uses the poller: deadlines for reading
	// the payload, and a watcher that Close can interrupt.
	if err := unix.SetNonblock(sa.PipeHandle, true); err != nil {
		return nil, fmt.Errorf("process: pipe_handle %d: %w", sa.PipeHandle, err)
	}
	f := os.NewFile(uintptr(sa.PipeHandle), "spawn-pipe")
	c, err := readPayload(ctx, f, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.spawn = sa
	c.connCfg = o.Conn
	c.logger = o.Logger
	if sa.TrackerFD >= 0 {
		c.tracker = &inheritedTracker{c: c}
		if !o.NoDefaultTracker {
			SetDefaultTracker(c.tracker)
		}
	}
	wakeR, wakeW, err := sysfd.Pipe(true)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("process: wake-up pipe: %w", err)
	}
	c.sentinel, c.wakeR, c.wakeW = f, wakeR, wakeW
	c.ctx, c.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	c.watchDone = make(chan struct{})
	go c.watchParent(ppid)
	return c, nil
}

func readPayload(ctx context.Context, f *os.File, o ChildConfig) (*ChildProcess, error) {
	// Only AfterFunc, not ctx.Deadline(): the read must fail after ctx.Err()
	// is set, so that the error reports the context.
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		_ = f.SetReadDeadline(time.Time{})
	}()
	max := o.MaxPayload
	switch {
	case max == 0:
		max = DefaultMaxPayload
	case max < 0:
		max = math.MaxInt64
	}
	c, err := decodePayload(&limitedReader{r: f, n: max, max: max}, o.DecMode)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("process: reading the spawn payload: %w", context.Cause(ctx))
	}
	return c, err
}

// decodePayload reads the two pickles from r and interprets them.
func decodePayload(r io.Reader, mode pickle.DecMode) (*ChildProcess, error) {
	if mode == nil {
		mode = defaultDec
	}
	dec := mode.NewDecoder(r)
	var prep, obj any
	if err := dec.Decode(&prep); err != nil {
		return nil, fmt.Errorf("process: %w: preparation data: %w", ErrProtocol, err)
	}
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("process: %w: process object: %w", ErrProtocol, err)
	}
	return interpret(prep, obj)
}

// interpret checks the decoded pickles against what spawn writes
// (docs/spec.md#spawn): a dict, then a Process object whose BUILD state is
// its __dict__.
func interpret(prepV, objV any) (*ChildProcess, error) {
	prep, ok := prepV.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("process: %w: preparation data is %s, want a dict", ErrProtocol, reduction.Describe(prepV))
	}
	obj, ok := objV.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("process: %w: process object is %s, want an instance", ErrProtocol, reduction.Describe(objV))
	}
	state, ok := obj.State.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("process: %w: process object %s has state %s, want its __dict__", ErrProtocol, reduction.Describe(obj), reduction.Describe(obj.State))
	}
	c := &ChildProcess{prep: prep, obj: obj, state: state, parentPid: -1, taken: map[int]bool{}}
	bad := func(key, want string, v any) error {
		return fmt.Errorf("process: %w: process object %s is %s, want %s", ErrProtocol, key, reduction.Describe(v), want)
	}
	if v, ok := state.Get("_name"); ok {
		if c.name, ok = v.(string); !ok {
			return nil, bad("_name", "a str", v)
		}
	} else if v, ok := prep.Get("name"); ok {
		c.name, _ = v.(string)
	}
	if v, ok := state.Get("_parent_name"); ok && v != nil {
		if c.parentName, ok = v.(string); !ok {
			return nil, bad("_parent_name", "a str", v)
		}
	}
	if v, ok := state.Get("_parent_pid"); ok && v != nil {
		n, ok := v.(int64)
		if !ok || n < 0 || n > 1<<31 {
			return nil, bad("_parent_pid", "a pid", v)
		}
		c.parentPid = int(n)
	}
	if v, ok := state.Get("_identity"); ok {
		t, ok := v.(pickle.Tuple)
		if !ok {
			return nil, bad("_identity", "a tuple", v)
		}
		for _, e := range t {
			n, ok := e.(int64)
			if !ok {
				return nil, bad("_identity", "a tuple of ints", v)
			}
			c.identity = append(c.identity, int(n))
		}
	}
	if v, ok := state.Get("_config"); ok {
		if c.config, ok = v.(*pickle.Dict); !ok {
			return nil, bad("_config", "a dict", v)
		}
		if k, ok := c.config.Get("authkey"); ok {
			if c.authkey, ok = reduction.AuthkeyBytes(k); !ok {
				return nil, bad("_config['authkey']", "AuthenticationString", k)
			}
		}
	} else {
		c.config = pickle.NewDict()
	}
	if c.authkey == nil {
		if k, ok := prep.Get("authkey"); ok {
			c.authkey, _ = reduction.AuthkeyBytes(k)
		}
	}
	c.target, _ = state.Get("_target")
	if v, ok := state.Get("_args"); ok {
		switch a := v.(type) {
		case pickle.Tuple:
			c.args = a
		case []any:
			c.args = pickle.Tuple(a)
		default:
			return nil, bad("_args", "a tuple", v)
		}
	}
	if v, ok := state.Get("_kwargs"); ok && v != nil {
		if c.kwargs, ok = v.(*pickle.Dict); !ok {
			return nil, bad("_kwargs", "a dict", v)
		}
	} else {
		c.kwargs = pickle.NewDict()
	}
	return c, nil
}

// cloexecInherited marks every open descriptor above 2 close-on-exec.
func cloexecInherited() {
	ents, err := os.ReadDir(sysfd.FDDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC == 0 {
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, fl|unix.FD_CLOEXEC)
		}
	}
}

// watchParent waits for the parent's exit: EOF on the payload pipe (the
// parent holds the write end until it exits, or closes its Process
// object), as for Python's parent_process().sentinel.
//
// The pipe alone misses a parent whose write end lives on in other
// processes (children it forked later inherit it), so the watcher also
// compares getppid every parentPollInterval: a change means the process
// that started us has exited and we were reparented.
//
// It waits in poll(2) on its own thread, not on the runtime's network
// poller and timers: a worker whose goroutine blocks in system calls
// between short tasks (a pool worker's queue get) then leaves the
// runtime's idle threads asleep, where a goroutine parked on the poller
// makes an idle thread wait in epoll and wake for every event on the
// process's other descriptors (the queue pipes: one per task). Close wakes
// it through wakeW.
func (c *ChildProcess) watchParent(ppid int) {
	defer close(c.watchDone)
	defer unix.Close(c.wakeR)
	cause, how := error(ErrParentExited), ""
	rc, err := c.sentinel.SyscallConn()
	if err == nil {
		err = rc.Control(func(fd uintptr) { cause, how = c.waitParent(int(fd), ppid) })
	}
	if err != nil {
		cause = context.Canceled // the pipe was closed under us
	}
	if errors.Is(cause, ErrParentExited) {
		c.parentExited(how, cause)
		return
	}
	c.cancel(cause)
}

// waitParent is watchParent's loop on the payload pipe's descriptor. It
// returns the cause for the ChildProcess's context and, for a parent that
// exited, how that was seen (for the log).
func (c *ChildProcess) waitParent(fd, ppid int) (cause error, how string) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(c.wakeR), Events: unix.POLLIN}}
	var buf [512]byte
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		n, err := unix.Poll(fds, int(parentPollInterval/time.Millisecond))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("%w (poll: %v)", ErrParentExited, err), "poll failed"
		case fds[1].Revents != 0:
			return context.Canceled, "" // Close
		case fds[0].Revents != 0:
			// A parent writes nothing after the payload: EOF (or an error)
			// means it has gone; stray bytes are dropped.
			m, err := unix.Read(fd, buf[:])
			if m == 0 && err == nil || err != nil && err != unix.EAGAIN && err != unix.EINTR {
				return ErrParentExited, "the spawn pipe reached EOF"
			}
		case n == 0 && unix.Getppid() != ppid:
			return ErrParentExited, "getppid changed"
		}
	}
}

// parentExited logs how the parent's exit was seen and cancels the
// ChildProcess's context with cause.
func (c *ChildProcess) parentExited(how string, cause error) {
	if c.logger != nil {
		c.logger.LogAttrs(context.Background(), slog.LevelInfo, "process: parent exited",
			slog.String("name", c.name), slog.Int("parent_pid", c.parentPid), slog.String("seen_by", how))
	}
	c.cancel(cause)
}

// parentPollInterval is how often the watcher compares getppid.
const parentPollInterval = 500 * time.Millisecond

type limitedReader struct {
	r   io.Reader
	n   int64 // bytes left
	max int64 // the limit, for the error message
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("process: %w: spawn payload exceeds ChildConfig.MaxPayload (%d bytes)", ErrProtocol, l.max)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// Name is the process name (Python's current_process().name in a child).
func (c *ChildProcess) Name() string { return c.name }

// Pid is this process's id.
func (c *ChildProcess) Pid() int { return os.Getpid() }

// ParentPid is the pid of the parent as it pickled it (-1 if absent).
func (c *ChildProcess) ParentPid() int { return c.parentPid }

// ParentName is the parent's process name ("MainProcess" for a top-level parent).
func (c *ChildProcess) ParentName() string { return c.parentName }

// Identity is the process's _identity tuple ((1,) for a parent's first child).
func (c *ChildProcess) Identity() []int { return append([]int(nil), c.identity...) }

// Authkey is the authentication key the child inherited (the parent's
// current_process().authkey unless set on the Process object).
func (c *ChildProcess) Authkey() []byte { return append([]byte(nil), c.authkey...) }

// Daemon reports the daemon flag (a daemonic process may not have children).
func (c *ChildProcess) Daemon() bool {
	v, _ := c.config.Get("daemon")
	b, _ := v.(bool)
	return b
}

// Target is the _target the parent pickled: nil for mpwire.GoProcess, a
// pickle.Global for a module-level function, or whatever the parent sent.
func (c *ChildProcess) Target() any { return c.target }

// TrackerFD is the inherited write end of the parent's resource tracker
// pipe, or -1 if the parent passed None (see ResourceTracker).
func (c *ChildProcess) TrackerFD() int { return c.spawn.TrackerFD }

// Tracker is the parent's resource tracker (nil if the parent passed
// None): RegisterResource and UnregisterResource as a Tracker, the same
// value each time. Child makes it the default tracker unless
// ChildConfig.NoDefaultTracker.
func (c *ChildProcess) Tracker() Tracker {
	if c.tracker == nil {
		return nil
	}
	return c.tracker
}

// inheritedTracker is the parent's tracker as a Tracker.
type inheritedTracker struct{ c *ChildProcess }

func (t *inheritedTracker) Register(name, rtype string) error {
	return t.c.RegisterResource(name, rtype)
}
func (t *inheritedTracker) Unregister(name, rtype string) error {
	return t.c.UnregisterResource(name, rtype)
}

// FD is the inherited tracker_fd (what Start passes on to children).
func (t *inheritedTracker) FD() int { return t.c.spawn.TrackerFD }

// RegisterResource asks the parent's resource tracker to unlink name (of
// type rtype, e.g. ResourceSemaphore) if it is still registered when the
// tracker exits, as Python does for SemLocks and SharedMemory it creates. It
// fails with ErrNoTracker when the parent passed tracker_fd=None.
func (c *ChildProcess) RegisterResource(name, rtype string) error {
	return c.trackerSend("REGISTER", name, rtype)
}

// UnregisterResource withdraws a RegisterResource (the resource was unlinked).
func (c *ChildProcess) UnregisterResource(name, rtype string) error {
	return c.trackerSend("UNREGISTER", name, rtype)
}

func (c *ChildProcess) trackerSend(cmd, name, rtype string) error {
	if c.spawn.TrackerFD < 0 {
		return fmt.Errorf("process: %w", ErrNoTracker)
	}
	msg, err := trackerMessage(cmd, name, rtype)
	if err != nil {
		return err
	}
	n, err := unix.Write(c.spawn.TrackerFD, msg)
	if err == nil && n != len(msg) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("process: writing to the resource tracker: %w", err)
	}
	return nil
}

// Preparation is the first pickle: the dict from spawn.get_preparation_data
// (name, authkey, sys_path, sys_argv, dir, start_method, …). Do not modify it.
func (c *ChildProcess) Preparation() *pickle.Dict { return c.prep }

// Object is the second pickle, the Process object; its State is the
// object's __dict__. Do not modify it.
func (c *ChildProcess) Object() *pickle.Object { return c.obj }

// Args are the positional arguments as generic pickle values (see package
// pickle): plain data as Go values, multiprocessing objects (Connections,
// Queues, SemLocks, Value/Array) as *pickle.Object in their reduced form.
func (c *ChildProcess) Args() pickle.Tuple { return c.args }

// NumArgs is len(Args()).
func (c *ChildProcess) NumArgs() int { return len(c.args) }

// Arg returns positional argument i, or nil if there is no such argument
// (use NumArgs to tell that from None).
func (c *ChildProcess) Arg(i int) any {
	if i < 0 || i >= len(c.args) {
		return nil
	}
	return c.args[i]
}

// Kwargs are the keyword arguments (str keys).
func (c *ChildProcess) Kwargs() *pickle.Dict { return c.kwargs }

// Kwarg returns keyword argument name.
func (c *ChildProcess) Kwarg(name string) (any, bool) { return c.kwargs.Get(name) }

// UnmarshalArg stores positional argument i in v (a non-nil pointer) the way
// pickle.Unmarshal would have decoded it into v.
func (c *ChildProcess) UnmarshalArg(i int, v any) error {
	if i < 0 || i >= len(c.args) {
		return fmt.Errorf("process: %w: argument %d of %d", ErrNoArg, i, len(c.args))
	}
	return remarshal(c.args[i], v)
}

// UnmarshalKwarg stores keyword argument name in v (a non-nil pointer).
func (c *ChildProcess) UnmarshalKwarg(name string, v any) error {
	a, ok := c.kwargs.Get(name)
	if !ok {
		return fmt.Errorf("process: %w: keyword %q", ErrNoArg, name)
	}
	return remarshal(a, v)
}

func remarshal(a, v any) error {
	b, err := pickle.Marshal(a)
	if err != nil {
		return fmt.Errorf("process: re-encoding argument: %w", err)
	}
	return pickle.Unmarshal(b, v)
}

// Conn returns positional argument i, a pickled multiprocessing Connection
// (a Pipe end), as a *connection.Conn that owns the inherited descriptor.
// Each Connection can be taken once (ErrFDTaken after that). The Conn has
// the settings of ChildConfig.Conn.
func (c *ChildProcess) Conn(i int) (*connection.Conn, error) {
	if i < 0 || i >= len(c.args) {
		return nil, fmt.Errorf("process: %w: argument %d of %d", ErrNoArg, i, len(c.args))
	}
	return c.ConnFrom(c.args[i], c.connCfg)
}

// KwargConn is Conn for keyword argument name.
func (c *ChildProcess) KwargConn(name string) (*connection.Conn, error) {
	a, ok := c.kwargs.Get(name)
	if !ok {
		return nil, fmt.Errorf("process: %w: keyword %q", ErrNoArg, name)
	}
	return c.ConnFrom(a, c.connCfg)
}

// ConnFrom turns any pickled Connection found in the payload (for example
// inside a list argument, or a Queue's reader/writer state) into a
// *connection.Conn with the settings cfg, owning its inherited descriptor.
// Each Connection can be taken once (ErrFDTaken after that).
func (c *ChildProcess) ConnFrom(v any, cfg connection.Config) (*connection.Conn, error) {
	fd, r, w, err := reduction.ConnectionArgs(v)
	if err != nil {
		return nil, err
	}
	if err := c.take(fd); err != nil {
		return nil, err
	}
	conn, err := cfg.FromFD(fd, r, w)
	if err != nil {
		c.untake(fd)
		return nil, fmt.Errorf("process: inherited connection fd %d: %w", fd, err)
	}
	return conn, nil
}

// File returns a duplicate of the descriptor named by a spawn-time fd
// wrapper found in the payload (a _DupFd, e.g. the heap arena of a
// Value/Array: rebuild_arena(size, _DupFd)). Each call returns a new
// close-on-exec *os.File the caller owns; the inherited descriptor itself
// stays open, because several values may name it (a Value and an Array
// share one arena). Descriptors handed to a Conn, and the spawn pipe, are
// refused with ErrFDTaken.
func (c *ChildProcess) File(v any, name string) (*os.File, error) {
	fd, err := reduction.InheritedFD(v)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved(fd) {
		return nil, fmt.Errorf("process: %w: fd %d", ErrFDTaken, fd)
	}
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, fmt.Errorf("process: %w: fd %d was not inherited: %v", ErrProtocol, fd, err)
	}
	return os.NewFile(uintptr(nfd), name), nil
}

func (c *ChildProcess) reserved(fd int) bool {
	return fd == c.spawn.PipeHandle || (fd == c.spawn.TrackerFD && fd >= 0) || c.taken[fd]
}

func (c *ChildProcess) take(fd int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved(fd) {
		return fmt.Errorf("process: %w: fd %d", ErrFDTaken, fd)
	}
	c.taken[fd] = true
	return nil
}

func (c *ChildProcess) untake(fd int) {
	c.mu.Lock()
	delete(c.taken, fd)
	c.mu.Unlock()
}

// Context is cancelled when the parent exits (context.Cause is then
// ErrParentExited) or when Close is called.
func (c *ChildProcess) Context() context.Context { return c.ctx }

// ParentAlive reports whether the parent still holds its end of the spawn
// pipe (Python: parent_process().is_alive()).
func (c *ChildProcess) ParentAlive() bool { return c.ctx.Err() == nil }

// Close stops watching the parent and closes the spawn pipe. Inherited
// descriptors already handed out stay with their owners. It is idempotent.
func (c *ChildProcess) Close() error {
	var err error
	c.closeOnce.Do(func() {
		_ = unix.Close(c.wakeW) // the watcher sees POLLHUP and returns
		<-c.watchDone
		err = c.sentinel.Close()
	})
	return err
}

// Exit ends the process with code, which the parent's Process.join then
// reports as exitcode. Deferred functions do not run (it is os.Exit).
func (c *ChildProcess) Exit(code int) {
	_ = c.Close()
	os.Exit(code)
}

// SystemExit is an error a Run function returns to exit with a chosen code
// without a traceback, like raising SystemExit(code) in a Python target.
type SystemExit int

func (e SystemExit) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// Run calls fn with the process's Context and exits the way a Python
// child's Process._bootstrap does: 0 when fn returns nil, the code of a
// SystemExit error, and 1 for any other error or a panic, after writing
// "Process <name>:" and the error (or panic value and stack) to standard
// error. It never returns. (A panic in another goroutine still crashes the
// program with Go's exit status 2.)
func (c *ChildProcess) Run(fn func(ctx context.Context) error) {
	c.Exit(c.run(fn, os.Stderr))
}

func (c *ChildProcess) run(fn func(ctx context.Context) error, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "Process %s:\npanic: %v\n\n%s", c.name, r, debug.Stack())
			code = 1
		}
	}()
	err := fn(c.ctx)
	var se SystemExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return int(se)
	default:
		fmt.Fprintf(stderr, "Process %s:\n%v\n", c.name, err)
		return 1
	}
}
