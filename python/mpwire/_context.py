"""Start methods: which multiprocessing objects a Go worker can receive.

A Go worker is started the way multiprocessing starts a "spawn" child: it
receives its arguments pickled and opens every lock and semaphore by name.
Objects made in the "fork" context (the default on Linux up to Python 3.13)
have no name - their semaphores are unlinked as soon as they are created,
because a forked child inherits them - so they cannot reach a Go worker.
Python 3.11+ refuses to pickle them for a spawn child ("A SemLock created in
a fork context is being shared with a process in a spawn context"); 3.8-3.10
pickle them with the name None, which no other process can open.

get_context() returns a context whose objects work; GoProcess and GoPool
check what they hand a worker and raise ForkContextError, which says how to
fix it, before the worker starts.
"""
import io
import multiprocessing
from multiprocessing import context as _mpcontext
from multiprocessing import reduction as _reduction
from multiprocessing import synchronize as _synchronize

__all__ = ["get_context", "ForkContextError"]

# The start methods whose locks, semaphores and queues a Go worker can open.
_SHAREABLE = ("spawn", "forkserver")


def get_context(method=None):
    """A multiprocessing context whose objects can be handed to Go workers.

    With no method: the default context when its start method is "spawn" or
    "forkserver" (macOS, Windows, and Linux from Python 3.14 on, or after
    multiprocessing.set_start_method), else the "spawn" context. method may
    be "spawn" or "forkserver"; "fork" raises ValueError, since fork-context
    locks and queues cannot reach a Go worker.

        ctx = mpwire.get_context()
        q = ctx.Queue()
        mpwire.GoProcess("./worker", args=(q,)).start()
    """
    if method is None:
        default = multiprocessing.get_start_method(allow_none=True)
        if default is None:
            default = _platform_default()
        method = default if default in _SHAREABLE else "spawn"
    if method not in _SHAREABLE:
        raise ValueError("mpwire.get_context(%r): objects of the %r start method cannot be "
                         "handed to a Go worker; use 'spawn' or 'forkserver'" % (method, method))
    return multiprocessing.get_context(method)


def _platform_default():
    """The start method the default context would use, without fixing the
    global start method as multiprocessing.get_context() does: the concrete
    context DefaultContext wraps (3.4-3.14), else the first of
    get_all_start_methods(), which lists the default first."""
    concrete = getattr(_mpcontext._default_context, "_default_context", None)
    name = getattr(concrete, "_name", None)
    return name if isinstance(name, str) else multiprocessing.get_all_start_methods()[0]


class ForkContextError(RuntimeError):
    """An object made in the "fork" context was handed to a Go worker.

    Its locks and semaphores were unlinked at creation, so the worker could
    not open them. The message names the object and the fix: make it from
    mpwire.get_context() (or multiprocessing.get_context("spawn") or
    "forkserver"), or call multiprocessing.set_start_method("spawn") at
    program start. It is a RuntimeError, as Python's own error for the same
    mistake (3.11+)."""


def _is_fork_semlock(obj):
    """True for a SemLock that was made in the fork context."""
    fork = getattr(obj, "_is_fork_ctx", None)  # 3.11+
    if fork is not None:
        return bool(fork)
    # 3.8-3.10: a fork-context semaphore is unlinked at birth, so it has no name.
    sl = getattr(obj, "_semlock", None)
    return sl is not None and getattr(sl, "name", "") is None


def _find(roots, target, limit=100000):
    """Where target sits inside roots, as (path, argument): path the
    top-level argument's ("args[0]", "kwargs['q']"), argument the object
    there, which holds target or is target. roots is a
    list of (label, tuple-or-dict) pairs such as [("args", args)]. It looks
    through tuples, lists, dicts, sets and instance attributes, and only
    names what the pickler already found, so it may give up: (None, None)."""
    seen = set()
    stack = []
    for label, root in roots:
        items = root.items() if isinstance(root, dict) else enumerate(root)
        stack.extend((v, "%s[%r]" % (label, k), v) for k, v in items)
    while stack and limit > 0:
        obj, path, top = stack.pop()
        limit -= 1
        if obj is target:
            return path, top
        if id(obj) in seen or isinstance(obj, (str, bytes, bytearray, int, float, type(None))):
            continue
        seen.add(id(obj))
        if isinstance(obj, (tuple, list)):
            stack.extend((v, path, top) for v in obj)
        elif isinstance(obj, dict):
            stack.extend((v, path, top) for v in obj.values())
        elif isinstance(obj, (set, frozenset)):
            stack.extend((v, path, top) for v in obj)
        else:
            attrs = getattr(obj, "__dict__", None)
            if isinstance(attrs, dict):
                stack.extend((v, path, top) for v in attrs.values())
    return None, None


def fork_context_error(who, semlock, roots):
    """The ForkContextError for semlock, naming where in roots it was found."""
    kind = type(semlock).__name__
    kind = ("an " if kind[:1] in "AEIOUR" else "a ") + kind  # an RLock, a Lock
    path, top = _find(roots, semlock)
    if path is None:
        where = "an argument holds %s" % kind
    elif top is semlock:
        where = "%s is %s" % (path, kind)
    elif type(top).__module__ == "builtins":
        where = "%s holds %s" % (path, kind)
    else:
        t = type(top)
        where = "%s (a %s.%s) holds %s" % (path, t.__module__, t.__qualname__, kind)
    return ForkContextError(
        "%s: %s made in the 'fork' context, which cannot be shared with a Go worker: "
        "a Go worker starts like a 'spawn' child and opens locks, semaphores and queues by "
        "name, and fork-context ones have none. Make it from a spawn or forkserver context "
        "instead, e.g. ctx = mpwire.get_context() (or multiprocessing.get_context('spawn')), "
        "then ctx.Queue(), ctx.Lock(), ctx.Value(...); or call "
        "multiprocessing.set_start_method('spawn') once at program start, before creating it."
        % (who, where))


class GuardedPickler(_reduction.ForkingPickler):
    """multiprocessing's ForkingPickler that refuses fork-context SemLocks.

    It writes the same bytes as ForkingPickler; reducer_override (3.8+) sees
    every SemLock before its own __getstate__ runs, so the error is ours on
    every version (3.8-3.10 would otherwise send a lock named None)."""

    def reducer_override(self, obj):
        if isinstance(obj, _synchronize.SemLock) and _is_fork_semlock(obj):
            raise _FoundForkSemLock(obj)
        return NotImplemented


class _FoundForkSemLock(Exception):
    def __init__(self, semlock):
        Exception.__init__(self, "fork-context SemLock")
        self.semlock = semlock


def dump(obj, file, who, roots):
    """reduction.dump(obj, file) with the fork-context check; roots name
    where to look for the offending object in the error message."""
    try:
        GuardedPickler(file).dump(obj)
    except _FoundForkSemLock as e:
        raise fork_context_error(who, e.semlock, roots) from None


class _DryRunPopen(object):
    """Enough of a spawning Popen for a dry-run pickling of arguments:
    Connections and heap arenas ask it to duplicate their fds."""

    method = "spawn"

    def duplicate_for_child(self, fd):
        return fd

    def DupFd(self, fd):
        return fd


def check(who, roots):
    """Raise ForkContextError if pickling the objects in roots for a spawn
    child would carry a fork-context SemLock. roots: [(label, object)]."""
    if _mpcontext.get_spawning_popen() is not None:
        return  # already inside a spawn pickling; the real dump checks
    _mpcontext.set_spawning_popen(_DryRunPopen())
    try:
        dump([obj for _, obj in roots], _Discard(), who, roots)
    finally:
        _mpcontext.set_spawning_popen(None)


class _Discard(io.RawIOBase):
    def writable(self):
        return True

    def write(self, b):
        return len(b)
