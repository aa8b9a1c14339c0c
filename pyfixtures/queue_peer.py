"""Python peers for mpwire's queue tests (stdlib only, CPython 3.8+).

The functions here are the targets of Python children that a Go parent
starts with process.Start (spawn protocol): the child receives a real
multiprocessing Queue / JoinableQueue / SimpleQueue that the Go side created,
rebuilt by multiprocessing's own unpickling code.

  probe(q, ctl)            run commands sent by the Go side on ctl (a
                           Connection) against q and answer each one
  echo(qin, qout, n)       get n items from qin and put (type name, item) on qout
  produce(q, start, n, ...)  put the ints start..start+n-1 (stress test)
  consume(q, conn)         get ints until None, send them back as int64 bytes
  die_mid_item(q, announced, sent)  start an item of `announced` bytes, write
                           `sent` of them and die, like a producer killed
                           in the middle of a write
  bench_produce / bench_consume   the benchmark workloads

Run by hand, the script demonstrates the same functions with Python on both
sides (no Go needed):

    python3 pyfixtures/queue_peer.py --n 5
"""
import array
import os
import queue as _queue
import sys
import threading
import time

import _fixture

TIMEOUT = 30.0


def canon(x):
    """A comparable, type-exact description of a value (sets sorted)."""
    t = type(x).__name__
    if isinstance(x, (list, tuple)):
        return (t, [canon(e) for e in x])
    if isinstance(x, dict):
        return (t, sorted((repr(canon(k)), canon(v)) for k, v in x.items()))
    if isinstance(x, (set, frozenset)):
        return (t, sorted(repr(canon(e)) for e in x))
    if isinstance(x, float) and x != x:
        return (t, "nan")
    return (t, repr(x))


def samples():
    """One value of every type the pickle codec maps, for echo tests."""
    import datetime
    import decimal
    import collections
    return [
        None, True, False, 0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, 2**63 - 1,
        -2**63, 2**64, -2**100, 10**40, 0.0, -0.0, 1.5, -2.25e300, float("inf"), float("-inf"),
        "", "text", "ünïcödé ☃ 𝄞", "x" * 300, b"", b"\x00\xff", b"y" * 70000, bytearray(b"ab"),
        [], [1, "a", None], (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), {}, {"a": 1, 2: "b", (1, 2): [3]},
        {1, 2, 3}, frozenset({"x", 4}), {"nested": [{"deep": (1, [2, {3: b"4"}])}]},
        complex(1, -2), decimal.Decimal("3.14"), datetime.datetime(2024, 2, 29, 12, 30, 15, 123456),
        datetime.date(1999, 12, 31), datetime.timedelta(days=2, seconds=3, microseconds=4),
        collections.OrderedDict([("z", 1), ("a", 2)]), ValueError("boom", 3), KeyError("k"),
        list(range(2000)), {i: str(i) for i in range(1200)},
    ]


def _answer(ctl, value):
    ctl.send(value)


def probe(q, ctl):
    """Serve commands from the Go side until ("exit",).

    Commands (tuples) and answers:
      ("put", obj, block, timeout)   -> "ok" | "Full" | "ValueError: ..."
      ("get", block, timeout)        -> ("ok", obj) | "Empty" | "ValueError: ..."
      ("qsize",) ("empty",) ("full",) -> the value
      ("task_done",)                 -> "ok" | "ValueError: ..."
      ("join", timeout)              -> True if join() returned within timeout
      ("flush",)                     -> "ok" after close() + join_thread()
      ("pid",)                       -> os.getpid()
      ("exit",)                      -> "bye", then the function returns
    """
    while True:
        if not ctl.poll(TIMEOUT * 4):
            raise TimeoutError("probe: no command from the Go side")
        cmd = ctl.recv()
        op = cmd[0]
        try:
            if op == "put":
                _, obj, block, timeout = cmd
                if hasattr(q, "full"):
                    q.put(obj, block, timeout)
                else:
                    q.put(obj)
                _answer(ctl, "ok")
            elif op == "get":
                _, block, timeout = cmd
                if hasattr(q, "full"):
                    x = q.get(block, timeout)
                else:
                    x = q.get()
                _answer(ctl, ("ok", x))
            elif op == "qsize":
                _answer(ctl, q.qsize())
            elif op == "empty":
                _answer(ctl, q.empty())
            elif op == "full":
                _answer(ctl, q.full())
            elif op == "task_done":
                q.task_done()
                _answer(ctl, "ok")
            elif op == "join":
                t = threading.Thread(target=q.join, daemon=True)
                t.start()
                t.join(cmd[1])
                _answer(ctl, not t.is_alive())
            elif op == "flush":
                q.close()
                q.join_thread()
                _answer(ctl, "ok")
            elif op == "pid":
                _answer(ctl, os.getpid())
            elif op == "exit":
                _answer(ctl, "bye")
                return
            else:
                _answer(ctl, "unknown command %r" % (op,))
        except _queue.Full:
            _answer(ctl, "Full")
        except _queue.Empty:
            _answer(ctl, "Empty")
        except ValueError as e:
            _answer(ctl, "ValueError: %s" % e)


def echo(qin, qout, n):
    """Get n items from qin; put (type name, item) on qout; flush qout."""
    for _ in range(n):
        x = qin.get(True, TIMEOUT)
        qout.put((type(x).__name__, x))
        if hasattr(qin, "task_done"):
            qin.task_done()
    if hasattr(qout, "join_thread"):
        qout.close()
        qout.join_thread()


def produce(q, start, n, sentinels=0):
    """Put the ints start..start+n-1, then `sentinels` Nones; flush."""
    put = q.put
    for i in range(start, start + n):
        put(i)
    for _ in range(sentinels):
        put(None)
    q.close()
    q.join_thread()


def consume(q, conn):
    """Get ints until None; send them back as one bytes of native int64s."""
    got = array.array("q")
    get = q.get
    while True:
        x = get(True, TIMEOUT)
        if x is None:
            break
        got.append(x)
    conn.send_bytes(got.tobytes())
    conn.close()


def die_mid_item(q, announced, sent):
    """Take a slot and _wlock as put() and the feeder do, write the frame
    header of an `announced`-byte item and `sent` bytes of it, then exit
    at once: a producer killed in the middle of an item."""
    import struct
    q._sem.acquire()
    q._wlock.acquire()
    os.write(q._writer.fileno(), struct.pack("!i", announced) + b"x" * sent)
    os._exit(3)


def bench_produce(q, n, size):
    """Put n items: ints (size 0) or bytes of `size` bytes; flush."""
    item = b"x" * size if size else None
    put = q.put
    if size:
        for _ in range(n):
            put(item)
    else:
        for i in range(n):
            put(i)
    q.close()
    q.join_thread()


def bench_consume(q, n, conn):
    """Get n items; send back the elapsed seconds from the first item."""
    get = q.get
    get(True, TIMEOUT)
    t0 = time.perf_counter()
    for _ in range(n - 1):
        get(True, TIMEOUT)
    conn.send(time.perf_counter() - t0)
    conn.close()


def _main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5, help="items to echo (default %(default)s)")
    args = p.parse_args()
    _fixture.start(args)
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    qin, qout = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=echo, args=(qin, qout, args.n))
    child.start()
    for i in range(args.n):
        qin.put({"i": i})
    for _ in range(args.n):
        print(qout.get(True, TIMEOUT))
    child.join(TIMEOUT)
    print("exitcode", child.exitcode)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    _main()
