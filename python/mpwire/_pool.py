"""GoPool: a multiprocessing.pool.Pool whose workers are Go processes.

GoPool *is* a multiprocessing.pool.Pool (spawn context): map, imap,
imap_unordered, starmap, apply, apply_async, map_async, starmap_async,
callbacks, chunksize, close, terminate, join and the context manager are
Python's own code. Only the workers differ: Pool.Process is overridden to
start GoProcess children, which receive exactly what a Python pool worker
receives - target multiprocessing.pool.worker's arguments (inqueue,
outqueue, initializer, initargs, maxtasksperchild, wrap_exception) - and run
the same loop in Go (github.com/mpwire/mpwire/pool.Worker): get
(job, i, func, args, kwds) from inqueue, call the Go function func names
(directly or over a mapstar/starmapstar chunk), put (job, i, (ok, value)) on
outqueue. Functions are named: GoFunc("square") or the plain string "square"
is the function the Go worker registered with pool.Register("square", fn).
A Go error or panic raises RuntimeError (or the exception type the Go
function chose) with the Go message, and the Go text as the remote traceback
(exc.__cause__). Dead workers are replaced and maxtasksperchild works,
because the pool's own worker handler does both.
"""
import multiprocessing
import multiprocessing.pool
import operator
from multiprocessing import reduction as _reduction

from . import _context as _guard
from ._process import GoProcess, _resolve

__all__ = ["GoPool", "GoFunc"]


class GoFunc(object):
    """The name of a function registered in the Go worker (pool.Register).

    It pickles as GoFunc(name); calling it in Python raises TypeError, since
    only Go workers can run it."""

    __slots__ = ("name", "_reduced")

    def __init__(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError("GoFunc name must be a non-empty str")
        self.name = name
        self._reduced = (GoFunc, (name,))

    def __reduce__(self):
        return self._reduced

    def __call__(self, *args, **kwargs):
        raise TypeError("GoFunc(%r) runs only in a Go pool worker" % self.name)

    def __eq__(self, other):
        return isinstance(other, GoFunc) and other.name == self.name

    def __hash__(self):
        return hash(("GoFunc", self.name))

    def __repr__(self):
        return "GoFunc(%r)" % self.name


# Pools and executors pickle a task's function with every task, through
# multiprocessing's ForkingPickler. A reducer written in C (attrgetter of
# the precomputed reduction) keeps that off the Python interpreter: calling
# GoFunc.__reduce__ would run Python code per task in the parent, which is
# the bottleneck of a pool of tiny tasks.
_reduction.ForkingPickler.register(GoFunc, operator.attrgetter("_reduced"))


class GoPool(multiprocessing.pool.Pool):
    """GoPool(executable, processes=None, initializer=None, initargs=(),
    maxtasksperchild=None)

    A multiprocessing.pool.Pool in the spawn context whose workers are the Go
    program executable (a path or an argv prefix list, as for
    mpwire.GoProcess). initializer is a GoFunc or a name string (run once in
    each Go worker with initargs). Task functions are GoFunc objects or
    name strings. Queues, locks and Values in initargs must come from a
    spawn or forkserver context (mpwire.get_context()); one made in the fork
    context raises ForkContextError before any worker starts."""

    def __init__(self, executable, processes=None, initializer=None, initargs=(),
                 maxtasksperchild=None):
        self._go_executable = _resolve(executable)
        if isinstance(initializer, str):
            initializer = GoFunc(initializer)
        # Pool.__del__ reads _state: set it before a check can raise.
        self._state = getattr(multiprocessing.pool, "INIT", "INIT")
        _guard.check("mpwire.GoPool", [("initargs", tuple(initargs))])
        super().__init__(processes, initializer, initargs, maxtasksperchild,
                         context=multiprocessing.get_context("spawn"))

    @property
    def executable(self):
        return self._go_executable

    # Pool calls self.Process(ctx, target=worker, args=(...)) from
    # _repopulate_pool_static (3.8+); a bound method keeps the executable.
    def Process(self, ctx, *args, **kwds):
        return GoProcess(self._go_executable, args=kwds.get("args", ()),
                         name=kwds.get("name"), daemon=kwds.get("daemon"))

    # Pool's worker handler thread waits on the worker sentinels, the change
    # notifier and the result pipe's reader. The last one is readable
    # whenever results wait for the result handler, so with workers that
    # keep up (Go workers do) the worker handler spins - polls every
    # worker's exit code and waits again, thousands of times a second -
    # taking the GIL from the task and result handlers. It needs none of
    # those wake-ups: a worker that exits fires its sentinel, and close(),
    # terminate() and the last result of the cache put to the notifier.
    def _get_sentinels(self):
        return [self._change_notifier._reader]

    def __reduce__(self):
        raise NotImplementedError("pool objects cannot be passed between processes or pickled")
