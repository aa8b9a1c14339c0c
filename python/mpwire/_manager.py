"""mpwire.Manager(): multiprocessing.Manager() served by mpwire's Go server.

CPython's manager server is one Python process: every call from every
client takes its GIL. mpwire.Manager() starts the Go-hosted server instead
(the mpmanager command of github.com/mpwire/mpwire) and returns a connected
SyncManager, so the proxies are CPython's own and nothing else changes::

    import mpwire

    with mpwire.Manager() as m:          # instead of multiprocessing.Manager()
        d = m.dict()
        q = m.Queue()
        with m.Pool(4) as pool:          # workers run this interpreter
            print(pool.map(f, range(10)))

The server serves every SyncManager typeid (and Python 3.14's set).
Pool workers are Python processes running this interpreter, with this
process's sys.path and main script, so functions defined in the main
script can be called. Differences from a Python server: a custom typeid
registered with register() in Python cannot be served (the server is not
Python), and start(initializer) is refused.

The binary is found, in order: the executable= argument, the
MPWIRE_MANAGER environment variable, mpmanager in PATH, then $GOBIN and
$GOPATH/bin (where go install puts it). Install it with

    go install github.com/mpwire/mpwire/cmd/mpmanager@latest
"""
import os
import shutil
import subprocess
import sys

from multiprocessing import process as _process
from multiprocessing import util as _util
from multiprocessing.managers import BaseProxy, State, SyncManager, dispatch

__all__ = ["Manager", "GoSyncManager", "ManagerNotFoundError"]

ENV = "MPWIRE_MANAGER"
COMMAND = "mpmanager"
INSTALL = "go install github.com/mpwire/mpwire/cmd/mpmanager@latest"


class ManagerNotFoundError(FileNotFoundError):
    """The mpmanager binary (mpwire's Go manager server) was not found."""


def find_executable(executable=None):
    """The mpmanager binary to run: executable, $MPWIRE_MANAGER, PATH,
    $GOBIN, $GOPATH/bin (default ~/go/bin); ManagerNotFoundError says how
    to install it."""
    tried = []
    for what, path in (("executable=", executable), ("$" + ENV, os.environ.get(ENV))):
        if path:
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
            raise ManagerNotFoundError("%s %r is not an executable file; install the Go manager "
                                       "server with:  %s" % (what, path, INSTALL))
    found = shutil.which(COMMAND)
    if found:
        return found
    tried.append("PATH")
    gopath = os.environ.get("GOPATH") or os.path.join(os.path.expanduser("~"), "go")
    for d in (os.environ.get("GOBIN"), os.path.join(gopath.split(os.pathsep)[0], "bin")):
        if d:
            path = os.path.join(d, COMMAND)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
            tried.append(d)
    raise ManagerNotFoundError(
        "mpwire.Manager() needs the Go manager server %r, which was not found (looked in %s). "
        "Install it with:\n    %s\n(from a checkout of github.com/mpwire/mpwire: go install ./cmd/mpmanager), "
        "then put it in PATH, set %s to its path, or pass executable=PATH."
        % (COMMAND, ", ".join(tried), INSTALL, ENV))


def _address_arg(address):
    """--address for a Python address: (host, port), a path, '\\0name'."""
    if isinstance(address, tuple):
        host, port = address
        return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    if isinstance(address, bytes):
        address = address.decode()
    if address.startswith("\0"):
        return "@" + address[1:]
    if "/" not in address:
        address = os.path.join(".", address)
    return address


def _parse_ready(line):
    """The server's Python address from its "READY network address" line."""
    words = line.decode().rstrip("\n").split(" ", 2)
    if len(words) != 3 or words[0] != "READY":
        raise RuntimeError("mpwire.Manager: the server said %r, not READY" % line)
    network, addr = words[1], words[2]
    if network == "unix":
        return "\0" + addr[1:] if addr.startswith("@") else addr
    host, _, port = addr.rpartition(":")
    return (host.strip("[]"), int(port))


def _main_path():
    """The main script, as spawn's get_preparation_data finds it."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    # python -m pkg.mod: the module's file; python script.py: the script.
    path = getattr(spec, "origin", None) if spec is not None else getattr(main, "__file__", None)
    if not path or sys.flags.interactive or path.endswith(("<stdin>", "<string>")):
        return None
    if not os.path.isabs(path) and _process.ORIGINAL_DIR is not None:
        path = os.path.join(_process.ORIGINAL_DIR, path)
    return os.path.normpath(path)


class _ServerProcess(object):
    """The server's process, with the parts of multiprocessing.Process a
    manager uses (join, is_alive, exitcode, pid, terminate, kill)."""

    def __init__(self, popen):
        self._popen = popen
        self.pid = popen.pid
        self.name = COMMAND

    def join(self, timeout=None):
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def is_alive(self):
        return self._popen.poll() is None

    @property
    def exitcode(self):
        return self._popen.poll()

    def terminate(self):
        if self._popen.poll() is None:
            self._popen.terminate()

    def kill(self):
        if self._popen.poll() is None:
            self._popen.kill()

    def __repr__(self):
        return "<%s pid=%d %s>" % (COMMAND, self.pid, "running" if self.is_alive() else "exited")


class GoSyncManager(SyncManager):
    """A SyncManager whose start() runs mpwire's Go server (mpmanager)
    instead of a Python server process. Everything else, proxies
    included, is SyncManager's. executable names the mpmanager binary
    (see find_executable)."""

    def __init__(self, address=None, authkey=None, serializer="pickle", ctx=None, executable=None, **kwargs):
        if serializer != "pickle":
            raise ValueError("mpwire.Manager: the Go server speaks serializer='pickle' only")
        SyncManager.__init__(self, address, authkey, serializer, ctx, **kwargs)
        self._executable = executable

    def get_server(self):
        raise NotImplementedError("mpwire's manager server is a Go program: use start()")

    def start(self, initializer=None, initargs=()):
        """Start the Go server and connect to it."""
        if self._state.value != State.INITIAL:
            if self._state.value == State.STARTED:
                raise _process_error("Already started server")
            if self._state.value == State.SHUTDOWN:
                raise _process_error("Manager has shut down")
            raise _process_error("Unknown state {!r}".format(self._state.value))
        if initializer is not None:
            raise ValueError("mpwire.Manager: the Go server cannot run a Python initializer")
        exe = find_executable(self._executable)
        argv = [exe, "--authkey-stdin", "--stdin-lifeline", "--python", sys.executable,
                "--dir", os.getcwd()]
        path = [p or _process.ORIGINAL_DIR or os.getcwd() for p in sys.path]
        if path:
            argv += ["--path", os.pathsep.join(path)]
        main = _main_path()
        if main:
            argv += ["--main", main]
        if self._address is not None:
            argv += ["--address", _address_arg(self._address)]
        # Its own session: a Ctrl-C in the terminal reaches this program
        # only, as Python's manager server ignores SIGINT; the server ends
        # when this program closes its stdin (exit, crash or shutdown).
        popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 close_fds=True, start_new_session=True)
        try:
            popen.stdin.write(bytes(self._authkey).hex().encode() + b"\n")
            popen.stdin.flush()
            line = popen.stdout.readline()
            if not line:
                popen.wait(10)
                raise RuntimeError("mpwire.Manager: %s exited with status %s before it was ready"
                                   % (exe, popen.returncode))
            self._address = _parse_ready(line)
        except BaseException:
            popen.kill()
            popen.wait()
            raise
        self._process = _ServerProcess(popen)
        self._state.value = State.STARTED
        self.shutdown = _util.Finalize(
            self, type(self)._finalize_go_manager,
            args=(popen, self._address, self._authkey, self._state, self._Client),
            exitpriority=0)

    @staticmethod
    def _finalize_go_manager(popen, address, authkey, state, _Client, timeout=1.0):
        """Shut the server down: a shutdown request, then SIGTERM, SIGKILL."""
        if popen.poll() is None:
            try:
                conn = _Client(address, authkey=authkey)
                try:
                    dispatch(conn, None, "shutdown")
                finally:
                    conn.close()
            except Exception:
                pass
            for stop in (None, popen.terminate, popen.kill):
                if stop is not None:
                    stop()
                try:
                    popen.wait(timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for f in (popen.stdin, popen.stdout):
            try:
                f.close()
            except Exception:
                pass
        state.value = State.SHUTDOWN
        try:
            del BaseProxy._address_to_local[address]
        except KeyError:
            pass


def _process_error(msg):
    from multiprocessing import ProcessError
    return ProcessError(msg)


def Manager(executable=None, address=None, authkey=None, **kwargs):
    """A started manager served by mpwire's Go server: a drop-in for
    multiprocessing.Manager(). Use it as a context manager or call
    shutdown(). executable names the mpmanager binary (default:
    $MPWIRE_MANAGER, then mpmanager in PATH, $GOBIN, $GOPATH/bin); address
    is where it listens (default: a unix socket in a private directory, as
    Python's); authkey defaults to current_process().authkey."""
    m = GoSyncManager(address=address, authkey=authkey, executable=executable, **kwargs)
    m.start()
    return m

