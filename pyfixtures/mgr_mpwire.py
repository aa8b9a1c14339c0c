"""A Python program using mpwire.Manager() (the Go manager server) as it
would use multiprocessing.Manager().

Roles:
  dropin      the documented use: with mpwire.Manager() as m, shared
              objects handed to spawn children, m.Pool with functions of
              this script (map, apply_async with callbacks, imap, a worker's
              exception), then the server exits; prints "OK <checks>"
  explicit    Manager(executable=$MPWIRE_TEST_MANAGER) with MPWIRE_MANAGER
              unset, and shutdown() called by hand
  notfound    no binary anywhere: ManagerNotFoundError naming go install
  lifeline    start a manager, print "PID <server pid>", then sleep; the
              caller kills this process and checks the server exits too

Usage: python3 mgr_mpwire.py ROLE
"""
import os
import sys
import time

import _fixture
import multiprocessing as mp

import mpwire

checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


def square(x):
    return x * x


def fail(x):
    raise ValueError("bad %r" % (x,))


def child(d, lst, q, lock):
    with lock:
        d["child"] = os.getpid()
        lst.append("from child")
    q.put(("done", os.getpid()))


def dropin():
    mp.set_start_method("spawn")
    with mpwire.Manager() as m:
        check(isinstance(m, mp.managers.SyncManager), "a SyncManager")
        check(m._process.is_alive(), "server running")
        d, lst, q, lock = m.dict(), m.list(), m.Queue(), m.Lock()
        ns = m.Namespace(x=1)
        ns.y = 2
        check((ns.x, ns.y) == (1, 2), "namespace")
        procs = [mp.Process(target=child, args=(d, lst, q, lock)) for _ in range(2)]
        for p in procs:
            p.start()
        pids = sorted(q.get(timeout=30)[1] for _ in procs)
        for p in procs:
            p.join(30)
            check(p.exitcode == 0, "child exit code %r" % p.exitcode)
        check(sorted(p.pid for p in procs) == pids, "children reported")
        check(list(lst) == ["from child"] * 2 and d["child"] in pids, "children wrote")

        results = m.list()
        with m.Pool(2) as pool:
            check(pool.map(square, range(20)) == [x * x for x in range(20)], "map")
            check(pool.starmap(pow, [(2, 3), (3, 2)]) == [8, 9], "starmap")
            r = pool.apply_async(square, (9,), callback=results.append)
            check(r.get(timeout=30) == 81, "apply_async")
            check(r.ready() and r.successful(), "ready, successful")
            check(list(results) == [81], "callback ran before ready: %r" % list(results))
            e = pool.apply_async(fail, (1,), error_callback=results.append)
            e.wait(30)
            check(not e.successful(), "failed task")
            try:
                e.get()
                check(False, "no exception")
            except ValueError as exc:
                check(exc.args == ("bad 1",), "exception args %r" % (exc.args,))
            check(isinstance(results[1], ValueError), "error_callback")
            check(list(pool.imap(square, range(5))) == [0, 1, 4, 9, 16], "imap")
            check(sorted(pool.imap_unordered(square, range(5), chunksize=2)) == [0, 1, 4, 9, 16], "imap_unordered")
            check(pool.apply(square, (), {"x": 4}) == 16, "apply with kwds")
        server = m._process
    check(not server.is_alive() and server.exitcode == 0, "server exited: %r" % server.exitcode)


def explicit():
    exe = os.environ["MPWIRE_TEST_MANAGER"]
    os.environ.pop("MPWIRE_MANAGER", None)
    m = mpwire.Manager(executable=exe)
    d = m.dict(a=1)
    check(d["a"] == 1, "dict")
    check(m._number_of_objects() == 1, "one object")
    server = m._process
    m.shutdown()
    m.join(10)  # as BaseManager.join: forgets the exited process
    check(m._process is None and server.exitcode == 0, "shut down: %r" % server.exitcode)
    try:
        m.dict()
        check(False, "a call after shutdown worked")
    except Exception:
        check(True, "")


def notfound():
    os.environ.pop("MPWIRE_MANAGER", None)
    os.environ["PATH"] = os.environ["GOBIN"] = os.environ["GOPATH"] = os.environ["MPWIRE_TEST_EMPTY"]
    try:
        mpwire.Manager()
        check(False, "started without a binary")
    except mpwire.ManagerNotFoundError as e:
        check("go install github.com/mpwire/mpwire/cmd/mpmanager" in str(e), "install hint: %s" % e)
        check(isinstance(e, FileNotFoundError), "a FileNotFoundError")
    try:
        mpwire.Manager(executable=os.path.join(os.environ["MPWIRE_TEST_EMPTY"], "nope"))
        check(False, "started a missing executable")
    except mpwire.ManagerNotFoundError as e:
        check("go install" in str(e), "install hint for executable=: %s" % e)


def lifeline():
    m = mpwire.Manager()
    m.dict()
    print("PID", m._process.pid, flush=True)
    time.sleep(120)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("role", choices=["dropin", "explicit", "notfound", "lifeline"])
    args = p.parse_args()
    _fixture.start(args)
    globals()[args.role]()
    print("OK", checks, flush=True)


if __name__ == "__main__":
    main()
