"""GoProcessPoolExecutor: a concurrent.futures.ProcessPoolExecutor whose workers are Go processes.

GoProcessPoolExecutor *is* a ProcessPoolExecutor: submit, map(timeout=,
chunksize=), shutdown(wait, cancel_futures), the context manager,
initializer/initargs, max_tasks_per_child (3.11+), the call and result
queues, the management thread and its wake-ups, and BrokenProcessPool when
a worker dies are CPython's own code. Only the workers differ: the executor
gets an mp_context (a spawn context) whose Process starts the Go program
through the spawn protocol, exactly as mpwire.GoProcess does. The Go worker
(github.com/mpwire/mpwire/pool.ServeWorker, the same main as for GoPool)
reads what concurrent.futures.process._process_worker would read - the call
queue, the result queue, initializer, initargs and max_tasks - and runs the
same loop in Go: get a _CallItem, call the registered Go function, put a
_ResultItem, stop at None or after max_tasks calls.

Functions are named, as for GoPool: GoFunc("square") or the plain string
"square" is the function the Go worker registered with
pool.Register("square", fn). A Python callable raises TypeError at submit or
map time, since a Go worker cannot run Python code. An error returned by the
Go function arrives as the Python exception it names (a *pickle.PythonError,
e.g. ValueError), any other error or a panic inside the function as
RuntimeError; the Go text (and, for a panic, the Go stack) is the
exception's __cause__, as for exceptions of Python workers. A worker that
dies (a panic in another goroutine, os.Exit, a signal) breaks the executor
with BrokenProcessPool, as a Python worker's death does.

asyncio: loop.run_in_executor(executor, GoFunc("square"), 7) works like any
executor call (pass a GoFunc: asyncio's debug mode checks that the function
is callable, and a plain string is not).
"""
import functools
import sys
import threading
from concurrent.futures import process as _cfprocess
from multiprocessing import context as _mpcontext

from . import _context as _guard
from ._pool import GoFunc
from ._process import _GoPopen, _resolve

__all__ = ["GoProcessPoolExecutor"]


class _GoWorkerProcess(_mpcontext.SpawnProcess):
    """A spawn Process whose child is the Go program _go_executable.

    Its pickled state, which crosses the spawn pipe, is a SpawnProcess's
    (target concurrent.futures.process._process_worker and its arguments),
    without the executable."""

    _go_executable = None

    # BaseProcess.start calls self._Popen(self).
    def _Popen(self, process_obj):
        return _GoPopen(process_obj, self._go_executable)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_go_executable", None)
        return state


class _GoContext(_mpcontext.SpawnContext):
    """The spawn context, except that Process starts the Go program.

    Queues, SimpleQueues and locks are the spawn context's own (named
    semaphores a Go worker opens by name)."""

    def __init__(self, executable):
        self._go_executable = executable

    def Process(self, *args, **kwargs):
        p = _GoWorkerProcess(*args, **kwargs)
        p._go_executable = self._go_executable
        return p


def _how_to_name(fn):
    name = getattr(fn, "__name__", None)
    hint = ""
    if isinstance(name, str) and name.isidentifier():
        hint = " (if the Go worker registered it under the same name: mpwire.GoFunc(%r))" % name
    return hint


def _go_callable(fn, where):
    """fn as something a Go worker can run: a GoFunc, a str (made a
    GoFunc), or a functools.partial of one; TypeError for anything else."""
    if isinstance(fn, GoFunc):
        return fn
    if isinstance(fn, str):
        return GoFunc(fn)
    if isinstance(fn, functools.partial):
        inner = fn.func
        if inner is _cfprocess._process_chunk and fn.args:
            # ProcessPoolExecutor.map's chunks: partial(_process_chunk, fn).
            g = _go_callable(fn.args[0], where)
            if g is fn.args[0]:
                return fn
            return functools.partial(inner, g, *fn.args[1:], **fn.keywords)
        g = _go_callable(inner, where)
        return fn if g is inner else functools.partial(g, *fn.args, **fn.keywords)
    raise TypeError(
        "mpwire.GoProcessPoolExecutor.%s: %r is a Python callable, but the workers are Go "
        "programs, which run only the functions they registered with pool.Register(name, fn): "
        "pass the name, as a str or mpwire.GoFunc(name), e.g. executor.submit(mpwire.GoFunc(\"square\"), 7)%s"
        % (where, fn, _how_to_name(fn)))


class GoProcessPoolExecutor(_cfprocess.ProcessPoolExecutor):
    """GoProcessPoolExecutor(executable, max_workers=None, initializer=None,
    initargs=(), *, max_tasks_per_child=None)

    A concurrent.futures.ProcessPoolExecutor whose workers are the Go program
    executable (a path or an argv prefix list, as for mpwire.GoProcess),
    whose main calls pool.ServeWorker. Functions are GoFunc objects or name
    strings of functions the Go program registered (pool.Register); so is
    initializer (run once in each worker with initargs). max_tasks_per_child
    needs Python 3.11+ (the ProcessPoolExecutor that supports it). Queues,
    locks and Values in initargs must come from a spawn or forkserver
    context (mpwire.get_context()); one made in the fork context raises
    ForkContextError here, before any worker starts.

    submit, map, shutdown and the context manager are ProcessPoolExecutor's
    own; submit and map also accept a function name string."""

    def __init__(self, executable, max_workers=None, initializer=None, initargs=(), *,
                 max_tasks_per_child=None):
        self._go_executable = _resolve(executable)
        if initializer is not None:
            initializer = _go_callable(initializer, "initializer")
        initargs = tuple(initargs)
        _guard.check("mpwire.GoProcessPoolExecutor", [("initargs", initargs)])
        kwargs = {}
        if max_tasks_per_child is not None:
            if sys.version_info < (3, 11):
                raise TypeError("mpwire.GoProcessPoolExecutor: max_tasks_per_child needs Python 3.11 or "
                                "newer (ProcessPoolExecutor's own support for it); this is %d.%d"
                                % sys.version_info[:2])
            kwargs["max_tasks_per_child"] = max_tasks_per_child
        super().__init__(max_workers, mp_context=_GoContext(self._go_executable),
                         initializer=initializer, initargs=initargs, **kwargs)

    @property
    def executable(self):
        """The Go worker program (a path, or an argv prefix list)."""
        return self._go_executable

    if sys.version_info >= (3, 11):
        def _adjust_process_count(self):
            # CPython gh-115634 (3.11 up to its fix): after a worker exits at
            # max_tasks_per_child, the management thread calls this to replace
            # it, but a stale _idle_worker_semaphore token can make it spawn
            # nothing, and the queued calls then wait forever. As in the
            # upstream fix, a replacement depends only on the worker count;
            # submit() keeps CPython's idle-worker check.
            if threading.current_thread() is self._executor_manager_thread:
                if self._processes is not None and len(self._processes) < self._max_workers:
                    self._spawn_process()
                return
            super()._adjust_process_count()

    def submit(self, fn, /, *args, **kwargs):
        """Schedule fn(*args, **kwargs) in a Go worker and return a Future; fn
        is a GoFunc or the name of a function the Go worker registered."""
        return super().submit(_go_callable(fn, "submit"), *args, **kwargs)

    def map(self, fn, *iterables, timeout=None, chunksize=1, **kwargs):
        """ProcessPoolExecutor.map with fn a GoFunc or a registered name:
        chunks of chunksize calls travel as one call item."""
        return super().map(_go_callable(fn, "map"), *iterables, timeout=timeout,
                           chunksize=chunksize, **kwargs)
