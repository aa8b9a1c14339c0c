"""A multiprocessing manager client for mpwire's manager tests.

Connects to a manager server (CPython's or mpwire's Go-hosted one) with the
authkey from MPWIRE_AUTHKEY (hex) and runs one role:

  scenario            every SyncManager typeid through the stock proxies, with
                      assertions; prints "OK <checks>" and the number of objects
  barrier ID          wait once on the Barrier with ident ID, print the index
  append ID N         append 1 to the list ID, N times
  seed DICT LIST      the seed program's f(d, l): d[1] = '1'; d['2'] = 2; l.append(1)
  condwait ID         acquire the Condition ID, print WAITING, wait(10), print the result
  mixed BID CID LID QID
                      barrier BID, condwait CID, then hold the Lock LID for
                      1 s (printing LOCKED, RELEASED) and put 'from-python'
                      on the Queue QID (an AutoProxy: methods from get_methods)
  bench N             N round trips (len() of a list), prints calls/s
  shutdown            ask the server to stop

Usage: python3 mgr_client.py --address tcp:127.0.0.1:5000 ROLE [ARGS...]
"""
import os
import queue
import sys
import threading
import time

import _fixture
from multiprocessing.managers import (BaseManager, SyncManager, Token, BarrierProxy, ListProxy,
                                      DictProxy, ConditionProxy, RemoteError,
                                      AcquirerProxy, AutoProxy)


class JobsManager(BaseManager):
    pass


JobsManager.register("get_jobs")
JobsManager.register("calc")


def parse_address(s):
    family, _, rest = s.partition(":")
    if family == "tcp":
        host, _, port = rest.rpartition(":")
        return (host, int(port))
    if family == "unix":
        return rest
    raise SystemExit("bad address %r" % s)


checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


def raises(exc, fn, *args):
    try:
        fn(*args)
    except exc as e:
        check(True, "")
        return e
    raise AssertionError("%s%r did not raise %s" % (getattr(fn, "__name__", fn), args, exc.__name__))


def scenario(address, key):
    m = SyncManager(address=address, authkey=key)
    m.connect()
    before = m._number_of_objects()

    d = m.dict()
    d[1] = "1"
    d["2"] = 2
    check(d[1] == "1" and d["2"] == 2, "dict get")
    check(len(d) == 2 and 1 in d and 3 not in d, "dict len/contains")
    check(sorted(map(str, d.keys())) == ["1", "2"], "dict keys")
    check(list(iter(d)) == [1, "2"], "dict __iter__ through an Iterator proxy")
    check(str(d) == "{1: '1', '2': 2}", "dict str: %s" % d)
    e = raises(KeyError, lambda: d["missing"])
    check(e.args == ("missing",), "KeyError args %r" % (e.args,))
    d.update({"u": [1, 2]}, v=None)
    check(d.get("u") == [1, 2] and d.get("zz", 5) == 5, "dict update/get")
    check(d.pop("u") == [1, 2] and d.setdefault("s", 3) == 3, "dict pop/setdefault")
    check(d.popitem() == ("s", 3), "dict popitem")
    check(d.copy() == {1: "1", "2": 2, "v": None}, "dict copy")
    check(d._getvalue() == {1: "1", "2": 2, "v": None}, "dict _getvalue")
    del d["v"]
    check(dict(d.items()) == {1: "1", "2": 2}, "dict items")
    d.clear()
    check(len(d) == 0, "dict clear")

    l = m.list(range(5))
    l.append(1)
    l.extend([7, 8])
    l += [9]
    check(l[:] == [0, 1, 2, 3, 4, 1, 7, 8, 9], "list slice %r" % (l[:],))
    check(l[-1] == 9 and l[1:3] == [1, 2] and l[::3] == [0, 3, 7], "list index/slice")
    check(l.index(3) == 3 and l.count(1) == 2 and 7 in l, "list index/count/contains")
    raises(IndexError, lambda: l[100])
    raises(ValueError, l.remove, 99)
    l[0] = "x"
    del l[0]
    l.insert(0, -1)
    l.sort(reverse=True)
    check(l[0] == 9, "list sort")
    l.reverse()
    check(l.pop() == 9 and l.pop(0) == -1, "list pop")
    check(l + ["z"] == [1, 1, 2, 3, 4, 7, 8, "z"], "list __add__")
    check(len(l * 2) == 14, "list __mul__")
    l *= 2
    check(len(l) == 14, "list __imul__")
    del l[1:14]
    check(l._getvalue() == [1], "list del slice %r" % (l._getvalue(),))
    raises(TypeError, l.sort, 1)

    ns = m.Namespace(a=1)
    ns.x = "y"
    check(ns.x == "y" and ns.a == 1, "namespace attrs")
    raises(AttributeError, lambda: ns.missing)
    del ns.a
    check(repr(ns._getvalue()) == "Namespace(x='y')", "namespace getvalue %r" % (ns._getvalue(),))

    q = m.Queue(1)
    q.put("a")
    raises(queue.Full, q.put_nowait, "b")
    raises(queue.Full, q.put, "b", True, 0.1)
    check(q.full() and q.qsize() == 1, "queue full/qsize")
    check(q.get() == "a", "queue get")
    t0 = time.monotonic()
    raises(queue.Empty, q.get, True, 0.2)
    check(time.monotonic() - t0 >= 0.15, "queue get timeout waited")
    raises(queue.Empty, q.get_nowait)
    threading.Timer(0.2, q.put, ("late",)).start()
    check(q.get(timeout=10) == "late", "blocking get")
    jq = m.JoinableQueue()
    jq.put(1)
    jq.get()
    jq.task_done()
    jq.join()
    raises(ValueError, jq.task_done)

    lock = m.Lock()
    check(lock.acquire() is True, "lock acquire")
    check(lock.acquire(False) is False, "lock held")
    check(lock.acquire(True, 0.05) is False, "lock timeout")
    lock.release()
    raises(RuntimeError, lock.release)
    with lock:
        pass
    rl = m.RLock()
    rl.acquire()
    rl.acquire()
    res = []
    th = threading.Thread(target=lambda: res.append(rl.acquire(True, 0.1)))
    th.start()
    th.join()
    check(res == [False], "rlock owned by another thread")
    rl.release()
    rl.release()
    raises(RuntimeError, rl.release)
    sem = m.Semaphore(2)
    check(sem.acquire() and sem.acquire() and not sem.acquire(False), "semaphore")
    sem.release()
    sem.release()
    bs = m.BoundedSemaphore(1)
    bs.acquire()
    bs.release()
    raises(ValueError, bs.release)

    cond = m.Condition()
    got = []

    def waiter():
        with cond:
            got.append(cond.wait(10))

    th = threading.Thread(target=waiter)
    th.start()
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        with cond:
            cond.notify()
        time.sleep(0.02)
    th.join(10)
    check(got == [True], "condition notify %r" % got)
    raises(RuntimeError, cond.notify)
    with cond:
        check(cond.wait(0.05) is False, "condition wait timeout")
        check(cond.wait_for(lambda: True, 1), "condition wait_for")

    ev = m.Event()
    check(not ev.is_set() and ev.wait(0.05) is False, "event unset")
    threading.Timer(0.1, ev.set).start()
    check(ev.wait(10) is True and ev.is_set(), "event set")
    ev.clear()
    check(not ev.is_set(), "event clear")

    b = m.Barrier(2, timeout=10)
    idx = []
    th = threading.Thread(target=lambda: idx.append(b.wait()))
    th.start()
    idx.append(b.wait())
    th.join()
    check(sorted(idx) == [0, 1] and b.parties == 2 and b.n_waiting == 0, "barrier")
    b.abort()
    check(b.broken, "barrier broken")
    raises(threading.BrokenBarrierError, b.wait)
    b.reset()
    check(not b.broken, "barrier reset")

    v = m.Value("i", 0)
    v.value = 5
    v.set(v.get() + 1)
    check(v.value == 6, "value")
    a = m.Array("i", [1, 2, 3])
    a[1] = 20
    check(len(a) == 3 and a[1] == 20, "array")
    raises(TypeError, a.__setitem__, 0, "s")
    check(list(a._getvalue()) == [1, 20, 3], "array getvalue")

    raises(RemoteError, d._callmethod, "no_such_method")

    # A proxy stored inside another shared object keeps its referent alive
    # (it is rebuilt with the process authkey, as in Python).
    import gc
    import multiprocessing
    multiprocessing.current_process().authkey = key
    gc.collect()  # exceptions caught above hold proxies in reference cycles
    n0 = m._number_of_objects()
    outer = m.list()
    inner = m.dict()
    inner["a"] = 1
    outer.append(inner)
    # The server holds a proxy and prints it as BaseProxy.__repr__ does.
    import re
    shown = str(outer)
    check(re.fullmatch(r"\[<DictProxy object, typeid 'dict' at 0x[0-9a-f]+>\]", shown), "nested proxy str: %s" % shown)
    del inner
    gc.collect()
    check(m._number_of_objects() == n0 + 1, "stored proxy counted: %d -> %d: %s" % (n0, m._number_of_objects(), m._debug_info()))
    x = outer[0]
    x["b"] = 2
    check(x._getvalue() == {"a": 1, "b": 2}, "nested proxy")
    del x, outer

    # e (a KeyError) holds a traceback whose frames hold the dict proxy.
    del d, l, ns, q, jq, lock, rl, sem, bs, cond, ev, b, v, a, e
    import gc
    gc.collect()
    after = m._number_of_objects()
    check(after == before, "objects %d -> %d: %s" % (before, after, m._debug_info()))

    jm = JobsManager(address=address, authkey=key)
    jm.connect()
    jobs = jm.get_jobs()
    jobs.put("from-python")
    calc = jm.calc()
    check(calc.add(20, 22) == 42, "custom add")
    e = raises(ValueError, calc.fail)
    check(e.args == ("bad", 7), "custom exception args %r" % (e.args,))
    print("OK", checks, flush=True)


def token_proxy(cls, typeid, address, key, ident):
    return cls(Token(typeid, address, ident), "pickle", authkey=key)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--address", required=True)
    p.add_argument("role")
    p.add_argument("args", nargs="*")
    args = p.parse_args()
    _fixture.start(args)
    key = _fixture.authkey_from_env() or b"mpwire-test"
    address = parse_address(args.address)
    if args.role == "scenario":
        scenario(address, key)
    elif args.role == "barrier":
        b = token_proxy(BarrierProxy, "Barrier", address, key, args.args[0])
        print("INDEX", b.wait(), flush=True)
    elif args.role == "append":
        l = token_proxy(ListProxy, "list", address, key, args.args[0])
        for _ in range(int(args.args[1])):
            l.append(1)
        print("DONE", flush=True)
    elif args.role == "seed":
        d = token_proxy(DictProxy, "dict", address, key, args.args[0])
        l = token_proxy(ListProxy, "list", address, key, args.args[1])
        d[1] = "1"
        d["2"] = 2
        l.append(1)
        print("DONE", flush=True)
    elif args.role in ("condwait", "mixed"):
        if args.role == "mixed":
            b = token_proxy(BarrierProxy, "Barrier", address, key, args.args.pop(0))
            print("INDEX", b.wait(), flush=True)
        c = token_proxy(ConditionProxy, "Condition", address, key, args.args[0])
        with c:
            print("WAITING", flush=True)
            print("NOTIFIED", c.wait(10), flush=True)
        if args.role == "mixed":
            lock = token_proxy(AcquirerProxy, "Lock", address, key, args.args[1])
            lock.acquire()
            print("LOCKED", flush=True)
            time.sleep(1.0)
            lock.release()
            print("RELEASED", flush=True)
            q = AutoProxy(Token("Queue", address, args.args[2]), "pickle", authkey=key)
            q.put("from-python")
    elif args.role == "bench":
        m = SyncManager(address=address, authkey=key)
        m.connect()
        l = m.list()
        n = int(args.args[0])
        len(l)
        t0 = time.perf_counter()
        for _ in range(n):
            len(l)
        dt = time.perf_counter() - t0
        print("CALLS_PER_SEC %.1f" % (n / dt), flush=True)
    elif args.role == "shutdown":
        m = SyncManager(address=address, authkey=key)
        m.connect()
        from multiprocessing.managers import dispatch
        from multiprocessing.connection import Client
        conn = Client(address, authkey=key)
        dispatch(conn, None, "shutdown")
        conn.close()
    else:
        raise SystemExit("unknown role %r" % args.role)


if __name__ == "__main__":
    main()
