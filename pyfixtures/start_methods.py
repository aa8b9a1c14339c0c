"""Start methods and Go workers: the fork-context guard and forkserver objects.

Run by python/startmethods_test.go (the Go test binary is the worker, roles
in kwargs["role"]); prints one JSON object per scenario:

    PYTHONPATH=python python3 pyfixtures/start_methods.py --go ./python.test --scenario all

Scenarios:
  guard           every SemLock-based object made in the fork context, handed to
                  GoProcess (args, kwargs, nested) and GoPool (initargs), must raise
                  mpwire.ForkContextError before any process starts; the same
                  objects from get_context() must not. Also reports what this
                  Python's own pickling does with a fork-context SemLock.
  forkserver      Queue, Lock, Value, Array and Event made in the forkserver context
                  (get_context("forkserver")) handed to a Go worker, which uses them.
  forkserver-default  the same after set_start_method("forkserver"), with the
                  default context's objects and mpwire.get_context().

A target for a Go parent (process.Start): via_forkserver(q, address, authkey)
starts a forkserver child that puts on the Go-made Queue q and talks to the Go
Listener at address.
"""
import os
import sys

import multiprocessing as mp

import _fixture
import mpwire

TIMEOUT = 30


emit = _fixture.emit


def _objects(ctx):
    """One of each SemLock-based kind, made from ctx."""
    return [
        ("Queue", lambda: ctx.Queue()),
        ("SimpleQueue", lambda: ctx.SimpleQueue()),
        ("JoinableQueue", lambda: ctx.JoinableQueue()),
        ("Lock", lambda: ctx.Lock()),
        ("RLock", lambda: ctx.RLock()),
        ("Semaphore", lambda: ctx.Semaphore(2)),
        ("BoundedSemaphore", lambda: ctx.BoundedSemaphore(2)),
        ("Condition", lambda: ctx.Condition()),
        ("Event", lambda: ctx.Event()),
        ("Barrier", lambda: ctx.Barrier(2)),
        ("Value", lambda: ctx.Value("i", 0)),
        ("Array", lambda: ctx.Array("d", 3)),
    ]


def _raises(fn):
    try:
        fn()
    except Exception as e:
        return type(e).__name__, str(e)
    return None, None


class Holder(object):
    """A user object holding a lock: the check must look inside."""

    def __init__(self, lock):
        self.lock = lock


def scenario_guard(go):
    # get_context() must not fix the global start method (as
    # multiprocessing.get_context() does); checked before anything else.
    default_method = mpwire.get_context().get_start_method()
    global_after = mp.get_start_method(allow_none=True)
    fork = mp.get_context("fork")
    results = {}
    for kind, make in _objects(fork):
        obj = make()
        cases = {
            "args": lambda: mpwire.GoProcess(go, args=(1, obj)).start(),
            "kwargs": lambda: mpwire.GoProcess(go, kwargs={"x": obj}).start(),
            "nested": lambda: mpwire.GoProcess(go, args=([{"deep": (obj,)}],)).start(),
            "holder": lambda: mpwire.GoProcess(go, args=(Holder(obj),)).start(),
            "pool": lambda: mpwire.GoPool(go, processes=1, initializer="init", initargs=(obj,)),
        }
        out = {}
        for name, fn in cases.items():
            exc, msg = _raises(fn)
            out[name] = {"exc": exc, "msg": msg, "children": len(mp.active_children())}
        results[kind] = out
    # Python's own verdict on a fork-context SemLock pickled for a spawn
    # child: 3.11+ refuses, 3.8-3.10 pickle it with the name None.
    from multiprocessing import context as mpcontext

    class _Popen(object):
        def duplicate_for_child(self, fd):
            return fd

    lock = fork.Lock()
    mpcontext.set_spawning_popen(_Popen())
    try:
        try:
            state = lock.__getstate__()
            own = {"pickles": True, "name": state[3]}
        except RuntimeError as e:
            own = {"pickles": False, "error": str(e)}
    finally:
        mpcontext.set_spawning_popen(None)
    # Objects of a spawn or forkserver context pass the check (the worker
    # role "noop" just exits).
    ok = {}
    for method in ("spawn", "forkserver"):
        ctx = mpwire.get_context(method)
        objs = [make() for _, make in _objects(ctx)]
        p = mpwire.GoProcess(go, args=tuple(objs), kwargs={"role": "noop"})
        exc, msg = _raises(p.start)
        if exc is None:
            p.join(TIMEOUT)
        ok[method] = {"exc": exc, "msg": msg, "exitcode": p.exitcode}
    get = {"default": default_method, "global_after": global_after,
           "fork": _raises(lambda: mpwire.get_context("fork"))}
    emit(scenario="guard", results=results, python_own=own, ok=ok, get_context=get)


def _forkserver_round(go, ctx):
    q, out = ctx.Queue(), ctx.Queue()
    lock, ev = ctx.Lock(), ctx.Event()
    v, arr = ctx.Value("i", 0), ctx.Array("d", [1.5, 2.5, 3.5])
    p = mpwire.GoProcess(go, args=(q, out, lock, v, arr, ev), kwargs={"role": "forkserver"})
    p.start()
    for i in range(5):
        q.put({"n": i})
    q.put(None)
    got = [out.get(True, TIMEOUT) for _ in range(5)]
    set_by_go = ev.wait(TIMEOUT)
    p.join(TIMEOUT)
    # The worker released the lock it took: we can take it at once.
    free = lock.acquire(timeout=TIMEOUT)
    if free:
        lock.release()
    return {"got": got, "event": set_by_go, "value": v.value, "array": list(arr),
            "lock_free": free, "exitcode": p.exitcode, "method": ctx.get_start_method()}


def scenario_forkserver(go):
    emit(scenario="forkserver", **_forkserver_round(go, mpwire.get_context("forkserver")))


def scenario_forkserver_default(go):
    mp.set_start_method("forkserver")
    r = _forkserver_round(go, mp)  # the default context's Queue, Lock, Value...
    r["get_context"] = mpwire.get_context().get_start_method()
    emit(scenario="forkserver-default", **r)


SCENARIOS = {
    "guard": scenario_guard,
    "forkserver": scenario_forkserver,
    "forkserver-default": scenario_forkserver_default,
}


# ---- target for a Go parent (process.Start) ----

def _grandchild(q, address, authkey, parent_pid):
    from multiprocessing.connection import Client
    me = mp.current_process()
    with Client(address, authkey=authkey) as c:
        c.send({"hello": "from a forkserver child", "pid": os.getpid()})
        reply = c.recv()
    q.put({"pid": os.getpid(), "ppid": os.getppid(), "parent_pid": parent_pid,
           "name": me.name, "reply": reply, "start_method": mp.get_start_method()})
    q.close()
    q.join_thread()


def via_forkserver(q, address, authkey):
    """Start a forkserver child that uses the Go parent's Queue and Listener."""
    ctx = mp.get_context("forkserver")
    p = ctx.Process(target=_grandchild, args=(q, address, authkey, os.getpid()), name="FSChild")
    p.start()
    p.join(TIMEOUT)
    if p.exitcode != 0:
        raise SystemExit("forkserver child exit code %r" % p.exitcode)


def main():
    # "all" leaves out forkserver-default: it sets the global start method, so it runs alone.
    args, names = _fixture.scenario_args(__doc__.splitlines()[0], SCENARIOS, not_in_all=["forkserver-default"])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    for name in names:
        SCENARIOS[name](args.go)


if __name__ == "__main__":
    main()
