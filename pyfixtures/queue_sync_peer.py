"""Python peer for mpwire's synchronize tests (stdlib only, CPython 3.8+).

sync_probe(lock, event, cond, sem, ctl) is the target of a Python child that
a Go parent starts with process.Start, handing it Go-created
multiprocessing.synchronize objects (rebuilt by multiprocessing's own
unpickling). It runs the commands the Go side sends on ctl:

  ("lock_acquire", timeout) -> bool        ("lock_release",) -> "ok"
  ("event_wait", timeout)   -> bool        ("event_set",) ("event_clear",) -> "ok"
  ("event_is_set",)         -> bool
  ("cond_wait", timeout)    -> bool (with cond: cond.wait(timeout))
  ("cond_notify_all",)      -> "ok" (with cond: cond.notify_all())
  ("sem_value",)            -> int   ("sem_release",) -> "ok" | "ValueError: ..."
  ("exit",)                 -> "bye"

Run by hand it plays both sides in Python:

    python3 pyfixtures/queue_sync_peer.py
"""
import os
import sys
import threading

import _fixture

TIMEOUT = 120.0


def sync_probe(lock, event, cond, sem, ctl):
    while True:
        if not ctl.poll(TIMEOUT):
            raise TimeoutError("sync_probe: no command")
        cmd = ctl.recv()
        op = cmd[0]
        try:
            if op == "lock_acquire":
                res = lock.acquire(True, cmd[1])
            elif op == "lock_release":
                lock.release()
                res = "ok"
            elif op == "event_wait":
                res = event.wait(cmd[1])
            elif op == "event_set":
                event.set()
                res = "ok"
            elif op == "event_clear":
                event.clear()
                res = "ok"
            elif op == "event_is_set":
                res = event.is_set()
            elif op == "cond_wait":
                with cond:
                    res = cond.wait(cmd[1])
            elif op == "cond_notify_all":
                with cond:
                    cond.notify_all()
                res = "ok"
            elif op == "sem_value":
                res = sem.get_value()
            elif op == "sem_release":
                sem.release()
                res = "ok"
            elif op == "exit":
                ctl.send("bye")
                return
            else:
                res = "unknown command %r" % (op,)
        except ValueError as e:
            res = "ValueError: %s" % e
        ctl.send(res)


def _main():
    p = _fixture.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    _fixture.start(args)
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    objs = (ctx.Lock(), ctx.Event(), ctx.Condition(), ctx.BoundedSemaphore(1))
    child = ctx.Process(target=sync_probe, args=objs + (theirs,))
    child.start()
    threading.Timer(0.2, objs[1].set).start()
    ours.send(("event_wait", 5))
    print("child saw the event set:", ours.recv())
    ours.send(("sem_release",))
    print("child released a full BoundedSemaphore:", ours.recv())
    ours.send(("exit",))
    print(ours.recv())
    child.join(10)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    _main()
