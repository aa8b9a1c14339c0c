// Package process speaks multiprocessing's spawn start method in both
// directions: Go workers started by Python parents, and Python children
// started by Go. Both sides exchange exactly what CPython 3.8–3.13 exchange
// with a spawned Python child (docs/spec.md#spawn), so the other side runs its own,
// unmodified multiprocessing code.
//
// # The protocol
//
// The parent creates two pipes, starts the child with the read end of one
// (pipe_handle) and the write end of the resource tracker's pipe
// (tracker_fd) inherited at known numbers, and writes two protocol-4 pickles
// on pipe_handle: the preparation data (a dict: name, authkey, sys_path, dir,
// start_method, …) and the Process object (a
// multiprocessing.context.SpawnProcess whose __dict__ holds _name, _config
// with the AuthenticationString authkey, _parent_pid, _target, _args,
// _kwargs, …). It never closes its end of that pipe while it lives, so the
// child reads exactly two pickles and later sees EOF when the parent dies.
// Arguments that hold file descriptors (Pipe ends, Queue pipes, Value/Array
// arenas) are pickled as popen_spawn_posix._DupFd({'fd': N}) where N is the
// number the child inherits; SemLocks travel as their /dev/shm names.
//
// # Python parent, Go worker
//
// The Python package mpwire (the repository's python/ directory: pip install
// ./python; see package github.com/mpwire/mpwire/python) provides
// GoProcess(executable, args, kwargs, name, daemon), a spawn-context Process
// whose child is a Go binary: it runs
// multiprocessing's own spawn code (preparation data, reduction.dump of a real
// SpawnProcess while the spawning Popen is set, pass_fds, the resource
// tracker) and starts
//
//	executable --multiprocessing-fork tracker_fd=N pipe_handle=M
//
// (the frozen-executable form). Queues, locks and Values among the arguments
// must come from a spawn or forkserver context (mpwire.get_context() in
// Python): fork-context semaphores have no name a worker could open, and
// GoProcess refuses them before starting (docs/spec.md, SemLock rule 10).
// In the worker, IsChild(os.Args) recognises
// that command line (and the -c form a Python child gets), and Child reads the
// payload:
//
//	child, err := process.Child(ctx) // ctx bounds reading the payload
//	conn, err := child.Conn(0)       // a Pipe end → *connection.Conn
//	var opts Options
//	err = child.UnmarshalArg(1, &opts) // plain data → typed Go value
//	child.Run(func(ctx context.Context) error { … }) // exit code like Python's
//
// Queues, SemLocks and Value/Array arrive as *pickle.Object in their reduced
// form (Arg, Kwarg) for the packages that implement them; ConnFrom and File
// turn the inherited descriptors inside them into Go objects (a Conn owns
// its fd; File hands out duplicates, since a Value and an Array may share
// one heap arena). The worker's Context ends when the parent exits: EOF on
// the spawn pipe (Python's parent_process().sentinel), or a change of
// getppid, which also catches a parent whose pipe end lives on in children
// it forked later. RegisterResource writes to the parent's resource
// tracker. Exit codes: Run exits 0, the code of a SystemExit error, or 1
// after printing "Process <name>:" and the error or panic stack to stderr,
// as Python's Process._bootstrap does. ChildConfig holds the worker's
// settings (payload limits, the connection.Config of its Conns).
//
// # Go parent, Python child
//
// Start runs
//
//	python [flags] -c 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=N, pipe_handle=M)' --multiprocessing-fork
//
// and writes a payload built from a Spec: Target "module:function" (found
// through Spec.Path, which is prepended to PYTHONPATH), Args and Kwargs of
// plain values, *connection.Conn ends and SpawnReducer values. The child is a
// normal multiprocessing child: current_process().name, parent_process(), an
// exception in the target printed with its traceback and exit code 1.
// Start returns once the child's bootstrap is over (it has imported the
// target's module and rebuilt its arguments: the last entry of the pickled
// Process object makes it write one byte to an inherited pipe while it is
// unpickled), so a child that cannot import its target fails Start with
// ErrBootstrap and an *ExitError quoting its traceback (ExitError.Stderr
// keeps the end of every child's standard error). Spec.Logger records
// starts and exits.
// Process mirrors the Python handle: Wait(ctx) (exec.Cmd's, an *ExitError
// for a non-zero code), Join(ctx) and JoinTimeout(ctx, d), ExitCode (-1
// while running, -signum when killed, as Python's exitcode and
// os.ProcessState's), Exited, IsAlive, Terminate, Kill, Close. Spec.Python
// names the interpreter; empty means Python(): $MPWIRE_PYTHON, else python3
// in PATH. With Spec.Executable instead of Spec.Python the child is started
// in the frozen form, so a Go parent can start a Go worker through the same
// protocol. Spec describes what to run, as an exec.Cmd does; it is not a
// Config because a child has no settings apart from that description.
//
// Differences from a Python parent: the preparation data carries no
// sys_path or sys_argv (they would replace the child's own; Spec.Path
// covers imports) and init_main_from_path only when Spec.MainPath names a
// main script, and start_method is "spawn" (not the global
// default "fork"), so the child's own children can share named SemLocks with
// Go. The resource tracker is optional: Spec.Tracker (or the default tracker,
// SetDefaultTracker) passes a tracker started with StartResourceTracker, as
// Python passes its own; without one the child gets tracker_fd=None and
// starts its own tracker the first time it creates a named resource
// (identical behaviour in 3.8–3.13), which then cleans up when the child
// exits.
//
// # Named resources and cleanup
//
// Named semaphores (every Lock, Queue, Pool) and shared memory segments
// live in /dev/shm until someone unlinks them. Python registers the ones
// it creates with a resource tracker process, which unlinks what is left
// when its last user exits, however they exit. mpwire does the same with
// the process's default tracker: SetDefaultTracker(tracker) in a Go
// parent (a tracker from StartResourceTracker, which needs a Python), and
// in a Go worker automatically the Python parent's (Child; opt out with
// ChildConfig.NoDefaultTracker). Every name mpwire creates is registered
// with it, unregistered when unlinked, and Start passes the tracker to
// children. Without a tracker (no Python around), the names are recorded
// in the process (Resources), and CleanupResources unlinks those still
// linked: Go has no atexit, so a program calls it at the end of main, or
// in its own signal handler, or opts in to CleanupResourcesOnSignal
// (SIGINT, SIGTERM) — a library does not take the signals on its own. What
// survives: nothing when a tracker holds the names (SIGKILL included, as
// long as the tracker itself is not killed); without one, the names of
// objects never closed by a process that was killed with SIGKILL, or that
// exited through os.Exit or a crash without calling CleanupResources.
//
// # Versions
//
// The spawn code paths used here (popen_spawn_posix, spawn_main, _main,
// BaseProcess._bootstrap) are identical in CPython 3.8–3.13 as far as the
// protocol goes. What differs: 3.11+ store set_executable as bytes (GoProcess
// never calls it); the resource tracker gained exit codes and the "dummy"
// type in 3.12/3.13; and a target calling sys.exit() with no argument
// exits with 1 in 3.8 (_bootstrap tests e.args) but 0 in 3.9+ (e.code is
// None). Integer codes and exceptions behave the same everywhere.
package process
