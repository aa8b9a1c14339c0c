"""A Python parent using mpwire.GoPool (a real multiprocessing Pool with Go
workers). Prints one JSON object per scenario; the Go test checks them:

    PYTHONPATH=python python3 pyfixtures/pool_parent.py --go ./pool.test --scenario all

The Go worker must register: square(x), add(a, b), fail(msg), panic(msg),
valueerror(msg), pid(), sleep(seconds), init(v), initvalue(), echo(x).
Scenarios: basic (map, chunksize, imap, imap_unordered, starmap, apply,
apply_async, map_async callbacks, a plain name string, echo of values),
errors (Go error, panic, chosen exception type, unknown name, a failing
item inside map), maxtasks (maxtasksperchild=1: every task in a fresh
worker), replace (a killed worker is replaced), initializer, terminate
(terminate() mid-map: worker pids and the queues' semaphores are reported
so the Go side can check they are gone), all.
"""
import os
import signal
import sys
import tempfile
import time
import traceback

import _fixture
from mpwire import GoPool, GoFunc

TIMEOUT = 30


emit = _fixture.emit


def exc_info(fn):
    try:
        fn()
    except Exception as e:
        cause = e.__cause__
        return {"type": type(e).__name__, "msg": str(e),
                "remote": str(cause) if cause is not None else None,
                "remote_type": type(cause).__name__ if cause is not None else None}
    return None


def scenario_basic(go):
    with GoPool(go, processes=2) as pool:
        sq = GoFunc("square")
        emit(scenario="map", got=pool.map(sq, range(1000)))
        emit(scenario="map-chunksize", got=pool.map(sq, range(100), chunksize=7))
        emit(scenario="map-empty", got=pool.map(sq, []))
        emit(scenario="imap", got=list(pool.imap(sq, range(200))))
        emit(scenario="imap-chunksize", got=list(pool.imap(sq, range(200), chunksize=9)))
        emit(scenario="imap-unordered", got=list(pool.imap_unordered(sq, range(200), chunksize=3)))
        emit(scenario="starmap", got=pool.starmap(GoFunc("add"), [(i, 2 * i) for i in range(50)]))
        emit(scenario="apply", got=pool.apply("add", (20, 22)))
        r = pool.apply_async(GoFunc("sleep"), (0.2,))
        ready_before = r.ready()
        r.wait(TIMEOUT)
        emit(scenario="apply-async", ready_before=ready_before, ready=r.ready(),
             successful=r.successful(), got=r.get(TIMEOUT))
        got = []
        r = pool.map_async(sq, range(10), callback=got.append)
        r.wait(TIMEOUT)
        emit(scenario="map-async-callback", got=r.get(TIMEOUT), callback=got)
        errs = []
        r = pool.map_async(GoFunc("fail"), ["cb"], error_callback=lambda e: errs.append(str(e)))
        r.wait(TIMEOUT)
        emit(scenario="map-async-error-callback", successful=r.successful(), errors=errs)
        r = pool.apply_async(GoFunc("sleep"), (1,))
        try:
            r.get(0.1)
            timed_out = False
        except Exception as e:
            timed_out = type(e).__name__
        emit(scenario="get-timeout", raised=timed_out)
        values = [None, True, 7, -2 ** 70, 2.5, "ünï", b"\x00\xff", [1, [2]], (3, "t"), {"k": [1]}]
        emit(scenario="echo", got=[repr(x) for x in pool.map(GoFunc("echo"), values)],
             want=[repr(x) for x in values])
        pool.close()
        pool.join()
        emit(scenario="close-join", ok=True)


def scenario_errors(go):
    with GoPool(go, processes=2) as pool:
        emit(scenario="error", **exc_info(lambda: pool.apply(GoFunc("fail"), ("boom",))))
        emit(scenario="panic", **exc_info(lambda: pool.apply(GoFunc("panic"), ("oh no",))))
        emit(scenario="valueerror", **exc_info(lambda: pool.apply(GoFunc("valueerror"), ("bad value",))))
        emit(scenario="unknown", **exc_info(lambda: pool.apply(GoFunc("nosuch"), ())))
        emit(scenario="bad-arg", **exc_info(lambda: pool.apply(GoFunc("square"), ("x",))))
        emit(scenario="map-one-fails", **exc_info(lambda: pool.map(GoFunc("add"), [1, 2, 3])))
        # the pool still works after failures
        emit(scenario="after-errors", got=pool.map(GoFunc("square"), range(5)))
        emit(scenario="call-in-python", **exc_info(lambda: GoFunc("square")(3)))


def scenario_maxtasks(go):
    with GoPool(go, processes=2, maxtasksperchild=1) as pool:
        pids = [pool.apply(GoFunc("pid")) for _ in range(4)]
        got = pool.map(GoFunc("square"), range(6), chunksize=1)
        emit(scenario="maxtasks", pids=pids, got=got)


def scenario_replace(go):
    # Kill the worker while it runs a task (not while it waits in get()
    # holding the inqueue's read lock: that hangs a Python pool too). The
    # task is lost, as with Python workers; the pool starts a new worker.
    with GoPool(go, processes=1) as pool:
        first = pool.apply(GoFunc("pid"))
        mark = os.path.join(tempfile.mkdtemp(), "running")
        lost = pool.apply_async(GoFunc("touchsleep"), (mark, 30))
        deadline = time.time() + TIMEOUT
        while not os.path.exists(mark) and time.time() < deadline:
            time.sleep(0.01)
        os.kill(first, signal.SIGKILL)
        second = pool.apply_async(GoFunc("pid")).get(TIMEOUT)
        emit(scenario="replace", first=first, second=second, lost_ready=lost.ready(),
             after=pool.map(GoFunc("square"), range(10)))
        pool.terminate()


def scenario_initializer(go):
    with GoPool(go, processes=2, initializer="init", initargs=(41,)) as pool:
        emit(scenario="initializer", got=pool.map(GoFunc("initvalue"), range(4), chunksize=1))


def sem_names(q):
    names = []
    for lock in (q._rlock, q._wlock):
        n = getattr(lock._semlock, "name", None)
        if n:
            names.append(n)
    return names


def scenario_terminate(go):
    pool = GoPool(go, processes=2)
    pids = [w.pid for w in pool._pool]
    names = sem_names(pool._inqueue) + sem_names(pool._outqueue)
    r = pool.map_async(GoFunc("sleep"), [0.02] * 500, chunksize=1)
    time.sleep(0.3)
    pool.terminate()
    pool.join()
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except OSError:
            pass
    emit(scenario="terminate", pids=pids, alive=alive, names=names, ready=r.ready())


SCENARIOS = {
    "basic": scenario_basic,
    "errors": scenario_errors,
    "maxtasks": scenario_maxtasks,
    "replace": scenario_replace,
    "initializer": scenario_initializer,
    "terminate": scenario_terminate,
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
