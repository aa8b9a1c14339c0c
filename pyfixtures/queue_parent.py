"""A Python parent that shares multiprocessing queues with Go workers.

It creates Queue / JoinableQueue / SimpleQueue objects in a spawn context,
starts a Go worker (a binary that understands the roles of mpwire's queue
tests: kwargs["role"]) with mpwire.GoProcess, and prints one JSON object per
scenario:

    PYTHONPATH=python python3 pyfixtures/queue_parent.py --go ./queue.test --scenario all

Scenarios: seed (the worker puts 'Python', we get it: seed 000 with a Go
child), echo-queue / echo-joinable / echo-simple (every sample value goes to
the worker and comes back; compared type-exactly), joinable (we join() while
the worker gets and task_done()s), timeouts (the worker's Full/Empty
results on our Queue(1)), all.
"""
import threading

import _fixture
import mpwire
import queue_peer

import multiprocessing as mp

CTX = mp.get_context("spawn")
TIMEOUT = 30


emit = _fixture.emit


def finish(p):
    return _fixture.finish(p, TIMEOUT)


def scenario_seed(go):
    q = CTX.Queue()
    p = mpwire.GoProcess(go, args=(q,), kwargs={"role": "put", "items": ["Python"]})
    p.start()
    got = q.get(True, TIMEOUT)
    emit(scenario="seed", got=got, exitcode=finish(p), qsize=q.qsize(), empty=q.empty())


def _echo(go, name, make):
    items = queue_peer.samples()
    qin, qout = make(), make()
    p = mpwire.GoProcess(go, args=(qin, qout), kwargs={"role": "echo", "n": len(items)})
    p.start()
    bad = []
    for x in items:
        qin.put(x)
    for x in items:
        y = qout.get() if name == "echo-simple" else qout.get(True, TIMEOUT)
        if queue_peer.canon(x) != queue_peer.canon(y):
            bad.append([repr(x)[:80], repr(y)[:80]])
    joined = None
    if name == "echo-joinable":
        t = threading.Thread(target=qin.join, daemon=True)
        t.start()
        t.join(TIMEOUT)
        joined = not t.is_alive()
    emit(scenario=name, n=len(items), bad=bad, exitcode=finish(p), joined=joined)


def scenario_echo_queue(go):
    _echo(go, "echo-queue", lambda: CTX.Queue())


def scenario_echo_joinable(go):
    _echo(go, "echo-joinable", lambda: CTX.JoinableQueue())


def scenario_echo_simple(go):
    _echo(go, "echo-simple", lambda: CTX.SimpleQueue())


def scenario_joinable(go):
    """We put 50 items and join(); the Go worker gets and task_done()s them
    one by one (echoing them to a second queue that we drain)."""
    q, out = CTX.JoinableQueue(5), CTX.Queue()
    p = mpwire.GoProcess(go, args=(q, out), kwargs={"role": "echo", "n": 50})
    p.start()
    drained = []
    t = threading.Thread(target=lambda: drained.extend(out.get(True, TIMEOUT) for _ in range(50)), daemon=True)
    t.start()
    for i in range(50):
        q.put(i)  # blocks while 5 are unfinished in the pipe: maxsize 5
    j = threading.Thread(target=q.join, daemon=True)
    j.start()
    j.join(TIMEOUT)
    t.join(TIMEOUT)
    emit(scenario="joinable", joined=not j.is_alive(), drained=drained, exitcode=finish(p))


def scenario_timeouts(go):
    q, out = CTX.Queue(1), CTX.Queue()
    p = mpwire.GoProcess(go, args=(q, out), kwargs={"role": "timeouts"})
    p.start()
    res = out.get(True, TIMEOUT)
    code = finish(p)
    py_qsize, py_full = q.qsize(), q.full()
    got = q.get(True, TIMEOUT)
    try:
        q.get(True, 0.2)
        after = "item"
    except Exception as e:  # queue.Empty
        after = type(e).__name__
    emit(scenario="timeouts", go=res, exitcode=code, py_qsize=py_qsize, py_full=py_full, got=got,
         after=after, final_qsize=q.qsize())


SCENARIOS = {
    "seed": scenario_seed,
    "echo-queue": scenario_echo_queue,
    "echo-joinable": scenario_echo_joinable,
    "echo-simple": scenario_echo_simple,
    "joinable": scenario_joinable,
    "timeouts": scenario_timeouts,
}


def main():
    args, names = _fixture.scenario_args(__doc__.splitlines()[0], SCENARIOS)
    for name in names:
        SCENARIOS[name](args.go)


if __name__ == "__main__":
    main()
