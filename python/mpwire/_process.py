"""GoProcess: a spawn-context multiprocessing process whose child is a Go binary.

A Python child is started as::

    python [flags] -c 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=N, pipe_handle=M)' --multiprocessing-fork

and a Go worker with multiprocessing's "frozen executable" form::

    /path/to/go-worker --multiprocessing-fork tracker_fd=N pipe_handle=M

(executable may also be a list: its items are the argv prefix, e.g.
["/usr/bin/env", "MYVAR=1", "/path/to/go-worker"]). Everything else is
multiprocessing's own spawn code path: spawn.get_preparation_data,
reduction.dump of a real multiprocessing.context.SpawnProcess object while
context.set_spawning_popen is active, the resource tracker's fd, pass_fds,
the payload pipe and the sentinel pipe. The Go side
(github.com/mpwire/mpwire/process.Child) reads the same two pickles a Python
child would.
"""
import io
import os
import sys

import multiprocessing
from multiprocessing import context as _context
from multiprocessing import popen_spawn_posix as _popen_spawn_posix
from multiprocessing import process as _process
from multiprocessing import spawn as _spawn
from multiprocessing import util as _util

from . import _context as _guard

__all__ = ["GoProcess", "spawn_command_line", "dump_spawn_payload"]

FORK_MARKER = "--multiprocessing-fork"


def spawn_command_line(executable, tracker_fd, pipe_handle):
    """The argv a Go worker is started with (see the module docstring)."""
    if isinstance(executable, (list, tuple)):
        prefix = [os.fsdecode(a) for a in executable]
    else:
        prefix = [os.fsdecode(executable)]
    return prefix + [FORK_MARKER, "tracker_fd=%d" % tracker_fd, "pipe_handle=%d" % pipe_handle]


def dump_spawn_payload(process_obj, popen):
    """The two pickles spawn writes to a child: preparation data, then the
    Process object, pickled with multiprocessing's ForkingPickler while popen is
    the spawning Popen (which is what makes Connections, SemLocks, Queues and
    the AuthenticationString picklable).

    An argument made in the fork context raises ForkContextError here,
    before anything is started."""
    prep_data = _spawn.get_preparation_data(process_obj._name)
    fp = io.BytesIO()
    roots = [("args", getattr(process_obj, "_args", ())), ("kwargs", getattr(process_obj, "_kwargs", {}))]
    _context.set_spawning_popen(popen)
    try:
        _guard.dump(prep_data, fp, "mpwire.GoProcess", roots)
        _guard.dump(process_obj, fp, "mpwire.GoProcess", roots)
    finally:
        _context.set_spawning_popen(None)
    return fp.getvalue()


class _GoPopen(_popen_spawn_posix.Popen):
    """popen_spawn_posix.Popen with the Go worker's command line.

    _launch mirrors popen_spawn_posix.Popen._launch, which is identical in
    CPython 3.8 to 3.13, except for the argv and the executable."""

    method = "spawn"

    def __init__(self, process_obj, executable):
        self._go_executable = executable
        super().__init__(process_obj)

    def _launch(self, process_obj):
        from multiprocessing import resource_tracker
        # The tracker is a Python process started with spawn.get_executable()
        # (the interpreter), exactly as for a Python child.
        tracker_fd = resource_tracker.getfd()
        self._fds.append(tracker_fd)
        payload = dump_spawn_payload(process_obj, self)

        parent_r = child_w = child_r = parent_w = None
        try:
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            cmd = spawn_command_line(self._go_executable, tracker_fd, child_r)
            self._fds.extend([child_r, child_w])
            self.pid = _util.spawnv_passfds(os.fsencode(cmd[0]), cmd, self._fds)
            self.sentinel = parent_r
            # Like Python, write in one go and keep parent_w open: the child
            # parses exactly two pickles and watches the pipe for our death.
            with open(parent_w, "wb", closefd=False) as f:
                f.write(payload)
        finally:
            fds_to_close = [fd for fd in (parent_r, parent_w) if fd is not None]
            self.finalizer = _util.Finalize(self, _util.close_fds, fds_to_close)
            for fd in (child_r, child_w):
                if fd is not None:
                    os.close(fd)


def _resolve(executable):
    """Check the program exists and is executable: spawnv_passfds reports an
    exec failure only as exit status 255."""
    prog = executable[0] if isinstance(executable, (list, tuple)) else executable
    prog = os.fsdecode(prog)
    if not prog:
        raise ValueError("GoProcess: empty executable")
    if os.sep not in prog:
        import shutil
        found = shutil.which(prog)
        if found is None:
            raise FileNotFoundError("GoProcess: %r not found on PATH" % prog)
        prog = found
    if not os.path.exists(prog):
        raise FileNotFoundError("GoProcess: %r does not exist" % prog)
    if not os.path.isfile(prog) or not os.access(prog, os.X_OK):
        raise PermissionError("GoProcess: %r is not an executable file" % prog)
    if isinstance(executable, (list, tuple)):
        return [prog] + [os.fsdecode(a) for a in executable[1:]]
    return prog


class GoProcess(object):
    """A spawn-context multiprocessing process whose child is a Go binary.

    GoProcess(executable, args=(), kwargs=None, name=None, daemon=None)

    executable is the Go worker (a path, or an argv prefix list). args and
    kwargs are handed to the worker the way Process(target, args, kwargs)
    hands them to a Python target; the worker reads them with
    process.Child(). The process object that crosses the pipe is a real
    multiprocessing.context.SpawnProcess (target None), so the worker receives
    the same bytes a Python child would.

    Queues, locks, Values and other SemLock-based objects in args must come
    from a spawn or forkserver context (mpwire.get_context()): start()
    raises ForkContextError, before the worker starts, for one made in the
    fork context (Linux's default up to Python 3.13). Pipe ends and plain
    data may come from any context.

    Behaves like get_context("spawn").Process: start, join(timeout),
    is_alive, pid/ident, exitcode, terminate, kill, sentinel, close, name,
    daemon, authkey. The underlying SpawnProcess is available as .process; it is registered
    like any child (multiprocessing.active_children(), daemonic children are
    terminated and others joined at interpreter exit).
    """

    def __init__(self, executable, args=(), kwargs=None, name=None, daemon=None):
        self._executable = _resolve(executable)
        self.process = multiprocessing.get_context("spawn").Process(
            target=None, name=name, args=tuple(args), kwargs=dict(kwargs or {}), daemon=daemon)

    @property
    def executable(self):
        return self._executable

    def start(self):
        """Start the Go worker (BaseProcess.start with the Go Popen)."""
        p = self.process
        p._check_closed()
        assert p._popen is None, "cannot start a process twice"
        assert p._parent_pid == os.getpid(), \
            "can only start a process object created by current process"
        assert not _process._current_process._config.get("daemon"), \
            "daemonic processes are not allowed to have children"
        _process._cleanup()
        p._popen = _GoPopen(p, self._executable)
        p._sentinel = p._popen.sentinel
        del p._target, p._args, p._kwargs
        _process._children.add(p)

    def join(self, timeout=None):
        """Wait until the worker exits, at most timeout seconds."""
        self.process.join(timeout)

    def is_alive(self):
        return self.process.is_alive()

    def terminate(self):
        """Send SIGTERM."""
        self.process.terminate()

    def kill(self):
        """Send SIGKILL."""
        self.process.kill()

    def close(self):
        """Release the process object's resources (the worker must have exited)."""
        self.process.close()

    @property
    def pid(self):
        return self.process.pid

    ident = pid

    @property
    def exitcode(self):
        """None while running, the exit status, or -signum."""
        return self.process.exitcode

    @property
    def sentinel(self):
        """An fd that becomes readable (EOF) when the worker exits."""
        return self.process.sentinel

    @property
    def name(self):
        return self.process.name

    @name.setter
    def name(self, value):
        self.process.name = value

    @property
    def daemon(self):
        return self.process.daemon

    @daemon.setter
    def daemon(self, value):
        self.process.daemon = value

    @property
    def authkey(self):
        return self.process.authkey

    @authkey.setter
    def authkey(self, value):
        self.process.authkey = value

    def __repr__(self):
        return "<Go" + repr(self.process)[1:]
