"""A Python parent using mpwire.GoProcessPoolExecutor (CPython's own
ProcessPoolExecutor with Go workers). Prints one JSON object per scenario;
the Go test checks them:

    PYTHONPATH=python python3 pyfixtures/executor_parent.py --go ./pool.test --scenario all

The Go worker must register: square(x), add(a, b), fail(msg), panic(msg),
valueerror(msg), pid(), sleep(seconds), touchsleep(path, seconds), init(v),
initvalue(x), echo(x), kwargs(*args, **kwargs) (a pool.Func returning
[args, kwargs]), crash(msg) (panics in a new goroutine: the worker dies),
exit(code) (os.Exit mid-task), unpicklable() (returns a Go channel),
hold(dir) (waits for dir/release).

Scenarios: basic (submit, map with chunksize and several iterables,
as_completed, wait, Future.cancel, map timeout, names as str and GoFunc,
partial, kwargs, values), errors (exception types and their Go tracebacks,
unknown names, Python callables refused), initializer, broken (a worker
that panics, one that exits mid-task, a failing initializer:
BrokenProcessPool), shutdown (shutdown(wait=True) leaves no worker or
semaphore; cancel_futures on 3.9+), maxtasks (max_tasks_per_child, 3.11+),
asyncio (run_in_executor), forkctx (a fork-context lock in initargs), all.
"""
import asyncio
import concurrent.futures as cf
import functools
import gc
import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback

import _fixture
from mpwire import ForkContextError, GoFunc, GoProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

TIMEOUT = 30


emit = _fixture.emit


def exc_info(e):
    cause = e.__cause__
    return {"type": type(e).__name__, "msg": str(e),
            "remote": str(cause) if cause is not None else None,
            "remote_type": type(cause).__name__ if cause is not None else None}


def raised(fn):
    try:
        fn()
    except Exception as e:
        return exc_info(e)
    return None


def sem_names(q):
    names = []
    for lock in (getattr(q, "_rlock", None), getattr(q, "_wlock", None), getattr(q, "_sem", None)):
        n = getattr(getattr(lock, "_semlock", None), "name", None)
        if n:
            names.append(n)
    return names


def hold_dir():
    """A directory for the Go function hold(dir): it creates dir/running and
    returns once dir/release exists."""
    return tempfile.mkdtemp(prefix="mpw-hold-")


def await_running(d):
    deadline = time.time() + TIMEOUT
    while not os.path.exists(os.path.join(d, "running")):
        if time.time() > deadline:
            raise RuntimeError("hold() did not start")
        time.sleep(0.005)


def release(d):
    open(os.path.join(d, "release"), "w").close()


def scenario_basic(go):
    sq = GoFunc("square")
    with GoProcessPoolExecutor(go, max_workers=2) as ex:
        emit(scenario="submit", got=ex.submit(sq, 7).result(TIMEOUT),
             by_name=ex.submit("square", 8).result(TIMEOUT))
        emit(scenario="map", got=list(ex.map(sq, range(200), timeout=TIMEOUT)))
        emit(scenario="map-chunksize", got=list(ex.map(sq, range(100), chunksize=7, timeout=TIMEOUT)))
        emit(scenario="map-two-iterables", got=list(ex.map("add", range(50), range(0, 100, 2), chunksize=4)))
        emit(scenario="map-empty", got=list(ex.map(sq, [])))
        fs = {ex.submit(sq, i): i for i in range(30)}
        got = sorted((fs[f], f.result()) for f in cf.as_completed(fs, timeout=TIMEOUT))
        emit(scenario="as-completed", got=[r for _, r in got], n=len(got))
        d = hold_dir()
        slow = ex.submit(GoFunc("hold"), d)
        fast = ex.submit(sq, 3)
        done, not_done = cf.wait([slow, fast], timeout=TIMEOUT, return_when=cf.FIRST_COMPLETED)
        first = sorted("fast" if f is fast else "slow" for f in done)
        release(d)
        done2, not_done2 = cf.wait([slow, fast], timeout=TIMEOUT, return_when=cf.ALL_COMPLETED)
        emit(scenario="wait", first=first, all_done=len(done2), not_done=len(not_done2),
             results=[slow.result(), fast.result()])
        d = hold_dir()
        try:
            list(ex.map(GoFunc("hold"), [d], timeout=0.2))
            timed_out = None
        except cf.TimeoutError as e:
            timed_out = type(e).__name__
        release(d)
        emit(scenario="map-timeout", raised=timed_out)
        emit(scenario="partial", got=ex.submit(functools.partial(GoFunc("add"), 40), 2).result(TIMEOUT))
        emit(scenario="kwargs", got=ex.submit("kwargs", 1, "two", k=3).result(TIMEOUT))
        values = [None, True, 7, -2 ** 70, 2.5, "ünï", b"\x00\xff", [1, [2]], (3, "t"), {"k": [1]}]
        emit(scenario="echo", got=[repr(x) for x in ex.map(GoFunc("echo"), values, timeout=TIMEOUT)],
             want=[repr(x) for x in values])
    # cancel: the one worker is busy; of the calls queued behind it, those
    # still pending (at most max_workers + 1 = 2 reach the call queue, where
    # they cannot be cancelled) are cancelled.
    with GoProcessPoolExecutor(go, max_workers=1) as ex:
        d = hold_dir()
        busy = ex.submit(GoFunc("hold"), d)
        await_running(d)
        queued = [ex.submit(sq, i) for i in range(10)]
        cancelled = [f.cancel() for f in queued]
        busy_cancel = busy.cancel()
        release(d)
        results = {i: f.result(TIMEOUT) for i, f in enumerate(queued) if not f.cancelled()}
        emit(scenario="cancel", busy_cancel=busy_cancel, busy=busy.result(TIMEOUT),
             ncancelled=sum(cancelled), consistent=all(cancelled[i] == f.cancelled() for i, f in enumerate(queued)),
             results_ok=all(v == i * i for i, v in results.items()))


def scenario_pickling(go):
    # Tasks carry their function on every call: multiprocessing's
    # ForkingPickler reduces a GoFunc with a C-level reducer (no Python
    # __reduce__ call per task), to the same bytes as pickle's.
    from multiprocessing.reduction import ForkingPickler
    import pickle
    g = GoFunc("square")
    plain = pickle.dumps(g, protocol=4)
    orig = GoFunc.__reduce__
    GoFunc.__reduce__ = lambda self: (_ for _ in ()).throw(AssertionError("Python __reduce__ called"))
    try:
        forking = bytes(ForkingPickler.dumps(g, protocol=4))
        err = None
    except AssertionError as e:
        forking, err = b"", str(e)
    finally:
        GoFunc.__reduce__ = orig
    emit(scenario="gofunc-pickle", same=forking == plain, error=err,
         roundtrip=pickle.loads(forking or plain) == g)


def scenario_errors(go):
    with GoProcessPoolExecutor(go, max_workers=2) as ex:
        for name, fn, args in [("error", "fail", ("boom",)), ("panic", "panic", ("oh no",)),
                               ("valueerror", "valueerror", ("bad value",)),
                               ("unknown", "nosuch", ()), ("bad-arg", "square", ("x",)),
                               ("unpicklable", "unpicklable", ())]:
            e = ex.submit(GoFunc(fn), *args).exception(TIMEOUT)
            d = exc_info(e)
            d["is_valueerror"] = isinstance(e, ValueError)
            emit(scenario=name, **d)
        try:
            list(ex.map("add", [1, 2, 3], chunksize=2, timeout=TIMEOUT))
            emit(scenario="map-one-fails", type=None)
        except Exception as e:
            emit(scenario="map-one-fails", **exc_info(e))
        emit(scenario="python-callable",
             submit=raised(lambda: ex.submit(len, "abc")),
             map=raised(lambda: ex.map(abs, [1, 2])),
             init=raised(lambda: GoProcessPoolExecutor(go, initializer=print)))
        emit(scenario="after-errors", got=list(ex.map(GoFunc("square"), range(5), timeout=TIMEOUT)))


def scenario_initializer(go):
    with GoProcessPoolExecutor(go, max_workers=2, initializer="init", initargs=(41,)) as ex:
        emit(scenario="initializer", got=list(ex.map(GoFunc("initvalue"), range(6), timeout=TIMEOUT)))


def broken_case(go, fn, args, **kw):
    ex = GoProcessPoolExecutor(go, max_workers=2, **kw)
    try:
        f = ex.submit(GoFunc(fn), *args)
        e = f.exception(TIMEOUT)
        after = raised(lambda: ex.submit(GoFunc("square"), 2))
        pids = list((ex._processes or {}).keys())
        return dict(type=type(e).__name__ if e is not None else None,
                    is_broken=isinstance(e, BrokenProcessPool),
                    msg=str(e), after=after, pids=pids)
    finally:
        ex.shutdown(wait=True)


def scenario_broken(go):
    emit(scenario="broken-panic", **broken_case(go, "crash", ("goroutine panic",)))
    emit(scenario="broken-exit", **broken_case(go, "exit", (3,)))
    emit(scenario="broken-initializer", **broken_case(go, "square", (2,), initializer="fail", initargs=("init failed",)))


def scenario_shutdown(go):
    ex = GoProcessPoolExecutor(go, max_workers=2)
    got = list(ex.map(GoFunc("square"), range(10), timeout=TIMEOUT))
    procs = list(ex._processes.values())
    pids = [p.pid for p in procs]
    names = sem_names(ex._call_queue) + sem_names(ex._result_queue)
    ex.shutdown(wait=True)
    gc.collect()  # the queues' SemLocks unlink their names when collected
    left = [n for n in names if os.path.exists("/dev/shm/sem." + n.lstrip("/"))]
    emit(scenario="shutdown", got=got, pids=pids, exitcodes=[p.exitcode for p in procs], names=names,
         left=left, alive=[p.is_alive() for p in procs], after=raised(lambda: ex.submit(GoFunc("square"), 1)))
    if sys.version_info >= (3, 9):
        ex = GoProcessPoolExecutor(go, max_workers=1)
        d = hold_dir()
        busy = ex.submit(GoFunc("hold"), d)
        await_running(d)
        rest = [ex.submit(GoFunc("square"), i) for i in range(20)]
        ex.shutdown(wait=False, cancel_futures=True)
        deadline = time.time() + TIMEOUT
        while sum(f.cancelled() for f in rest) < len(rest) - 2 and time.time() < deadline:
            time.sleep(0.005)
        ncancelled = sum(f.cancelled() for f in rest)
        release(d)
        # (wait() never counts a future cancelled this way as done)
        cf.wait([busy] + [f for f in rest if not f.cancelled()], timeout=TIMEOUT)
        emit(scenario="shutdown-cancel-futures", busy=busy.result(0), ncancelled=ncancelled,
             consistent=all(f.cancelled() or f.result(0) == i * i for i, f in enumerate(rest)))


def scenario_maxtasks(go):
    if sys.version_info < (3, 11):
        emit(scenario="maxtasks", skipped=True,
             refused=raised(lambda: GoProcessPoolExecutor(go, max_tasks_per_child=1)))
        return
    with GoProcessPoolExecutor(go, max_workers=1, max_tasks_per_child=2) as ex:
        pids = [ex.submit(GoFunc("pid")).result(TIMEOUT) for _ in range(6)]
        got = list(ex.map(GoFunc("square"), range(7), timeout=TIMEOUT))
        emit(scenario="maxtasks", pids=pids, got=got)


def scenario_asyncio(go):
    async def main(ex):
        loop = asyncio.get_running_loop()
        sq = GoFunc("square")
        got = await asyncio.gather(*(loop.run_in_executor(ex, sq, i) for i in range(20)))
        try:
            await loop.run_in_executor(ex, GoFunc("valueerror"), "from asyncio")
            err = None
        except ValueError as e:
            err = exc_info(e)
        slept = await asyncio.wait_for(loop.run_in_executor(ex, GoFunc("sleep"), 0.1), TIMEOUT)
        return got, err, slept

    with GoProcessPoolExecutor(go, max_workers=2) as ex:
        got, err, slept = asyncio.run(main(ex))
    emit(scenario="asyncio", got=got, error=err, slept=slept)


def scenario_forkctx(go):
    if "fork" not in mp.get_all_start_methods():
        emit(scenario="forkctx", skipped=True)
        return
    lock = mp.get_context("fork").Lock()
    e = _catch(lambda: GoProcessPoolExecutor(go, initializer="init", initargs=(lock,)))
    emit(scenario="forkctx", type=type(e).__name__ if e is not None else None,
         is_fork_error=isinstance(e, ForkContextError), msg=str(e))


def _catch(fn):
    try:
        fn()
    except Exception as e:
        return e
    return None


SCENARIOS = {
    "basic": scenario_basic,
    "errors": scenario_errors,
    "initializer": scenario_initializer,
    "broken": scenario_broken,
    "shutdown": scenario_shutdown,
    "maxtasks": scenario_maxtasks,
    "asyncio": scenario_asyncio,
    "forkctx": scenario_forkctx,
    "pickling": scenario_pickling,
}


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--go", required=True, help="Go worker binary")
    p.add_argument("--scenario", default="all",
                   help="comma-separated scenarios: %s, or all" % ", ".join(sorted(SCENARIOS)))
    args = p.parse_args()
    _fixture.start(args)
    names = sorted(SCENARIOS) if args.scenario == "all" else args.scenario.split(",")
    for n in names:
        if n not in SCENARIOS:
            p.error("unknown scenario %r" % n)
    for n in names:
        try:
            SCENARIOS[n](args.go)
        except Exception:
            emit(scenario=n, crashed=traceback.format_exc())
    return 0


if __name__ == "__main__":
    sys.exit(main())
