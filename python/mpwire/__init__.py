"""mpwire: start Go workers from Python multiprocessing as if they were Python children.

The Python side of github.com/mpwire/mpwire (stdlib only, CPython 3.8+,
POSIX)::

    import multiprocessing as mp
    import mpwire

    ctx = mpwire.get_context()            # spawn (or forkserver): objects a Go worker can open
    q, results = ctx.Queue(), ctx.Queue()
    p = mpwire.GoProcess("./worker", args=(q, results))
    p.start()
    for n in range(5):
        q.put(n)
    q.put(None)
    print([results.get(timeout=10) for _ in range(5)])
    p.join()

GoProcess is a spawn-context Process whose child is a Go program (started
through multiprocessing's own spawn code, so Queues, Pipe ends, locks,
Values and plain data reach it as they would reach a Python child); GoPool
is a multiprocessing.pool.Pool of Go workers, GoFunc names a function the
Go workers registered, and GoProcessPoolExecutor is a
concurrent.futures.ProcessPoolExecutor of Go workers (asyncio's
run_in_executor included). get_context() returns a context whose objects Go
workers can receive: not "fork", Linux's default up to Python 3.13, whose
locks and queues cannot leave the process tree that forked them
(ForkContextError says so before a worker starts).

Manager() is a drop-in for multiprocessing.Manager() served by mpwire's Go
manager server (the mpmanager command: go install
github.com/mpwire/mpwire/cmd/mpmanager@latest), which is not bound by one
process's GIL: the same SyncManager proxies, Pool with this interpreter's
workers included.

Install: pip install ./python from a checkout of github.com/mpwire/mpwire,
or put that directory on PYTHONPATH, or write it out from the Go module with
go run github.com/mpwire/mpwire/cmd/mpcat python install DIR.
Licensed under the Apache License 2.0.
"""
from ._context import ForkContextError, get_context
from ._manager import GoSyncManager, Manager, ManagerNotFoundError
from ._executor import GoProcessPoolExecutor
from ._pool import GoFunc, GoPool
from ._process import GoProcess

__version__ = "0.1.0.dev0"

__all__ = ["GoProcess", "GoPool", "GoFunc", "GoProcessPoolExecutor", "get_context",
           "ForkContextError", "Manager", "GoSyncManager", "ManagerNotFoundError"]

# Public classes pickle and print under the package's name (a GoFunc crosses
# the wire as mpwire.GoFunc), not the private module that defines them.
for _cls in (GoProcess, GoPool, GoFunc, GoProcessPoolExecutor, ForkContextError,
             GoSyncManager, ManagerNotFoundError):
    _cls.__module__ = __name__
del _cls
