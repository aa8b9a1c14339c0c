"""A Python parent that starts Go workers with mpwire.GoProcess (spawn protocol).

Runs scenarios against a Go worker binary that understands the worker roles of
mpwire's process tests (kwargs["role"]) and prints one JSON object per
scenario on stdout:

    PYTHONPATH=python python3 pyfixtures/proc_parent.py --go ./worker --scenario echo

Scenarios: echo (a Pipe end + plain data, the worker replies), exit (exit
codes 0 and 3), panic, error, terminate, kill, large (a 300 KiB argument),
kinds (one argument of every multiprocessing kind), register (the worker
registers a /dev/shm name with our resource tracker, which unlinks it when
this parent exits), leak (the worker creates a Queue and a SharedMemory and
exits without closing them; our tracker unlinks them), orphan (start a
worker, then die without joining: the worker must notice), all (everything
except orphan). After the scenarios the parent reports the fds it leaked.
"""
import gc
import hashlib
import os
import sys

import _fixture
import mpwire

import multiprocessing as mp

CTX = mp.get_context("spawn")
TIMEOUT = 30


def fds():
    """Open fds, except multiprocessing.heap arenas (the Value/Array memory,
    which the heap keeps for reuse by design)."""
    out = []
    for n in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + n)
        except OSError:
            continue  # the fd listdir itself used
        if "/pym-" not in target:
            out.append(int(n))
    return sorted(out)


emit = _fixture.emit


def recv(conn):
    if not conn.poll(TIMEOUT):
        raise TimeoutError("no reply from the Go worker")
    return conn.recv()


def finish(p):
    code = _fixture.finish(p, TIMEOUT)
    p.close()
    return code


def scenario_echo(go):
    ours, theirs = CTX.Pipe()
    data = {"n": 3, "s": "text", "b": b"\x00\xff", "f": 1.5, "l": [1, 2], "t": (1, "x"), "none": None}
    p = mpwire.GoProcess(go, args=(theirs, data), kwargs={"role": "echo", "extra": 7}, name="GoEcho",
                         daemon=True)
    p.start()
    theirs.close()
    pid, sentinel = p.pid, p.sentinel
    alive = p.is_alive()
    ours.send({"msg": "ping", "from": os.getpid()})
    reply = recv(ours)
    ours.close()
    from multiprocessing.connection import wait
    sentinel_ready = wait([sentinel], TIMEOUT) == [sentinel]
    code = finish(p)
    emit(scenario="echo", exitcode=code, alive_after_start=alive, pid_ok=(reply.get("pid") == pid),
         sentinel=sentinel_ready, reply=reply, data_ok=(reply.get("data") == data),
         parent_pid_ok=(reply.get("parent_pid") == os.getpid()),
         authkey_ok=(reply.get("authkey") == bytes(mp.current_process().authkey)))


def scenario_exit(go):
    codes = {}
    for want in (0, 3):
        p = mpwire.GoProcess(go, kwargs={"role": "exit", "code": want}, name="GoExit%d" % want)
        p.start()
        codes[str(want)] = finish(p)
    emit(scenario="exit", codes=codes)


def scenario_panic(go):
    p = mpwire.GoProcess(go, kwargs={"role": "panic"}, name="GoPanic")
    p.start()
    emit(scenario="panic", exitcode=finish(p))


def scenario_error(go):
    p = mpwire.GoProcess(go, kwargs={"role": "error"}, name="GoError")
    p.start()
    emit(scenario="error", exitcode=finish(p))


def _stop(go, how):
    ours, theirs = CTX.Pipe()
    p = mpwire.GoProcess(go, args=(theirs,), kwargs={"role": "sleep"}, name="GoSleep")
    p.start()
    theirs.close()
    ready = recv(ours)
    getattr(p, how)()
    p.join(TIMEOUT)
    alive = p.is_alive()
    code = finish(p)
    ours.close()
    emit(scenario=how, ready=ready, exitcode=code, alive_after_join=alive)


def scenario_terminate(go):
    _stop(go, "terminate")


def scenario_kill(go):
    _stop(go, "kill")


def scenario_large(go):
    blob = os.urandom(300 * 1024)
    ours, theirs = CTX.Pipe()
    p = mpwire.GoProcess(go, args=(theirs, blob), kwargs={"role": "digest"}, name="GoLarge")
    p.start()
    theirs.close()
    reply = recv(ours)
    ours.close()
    emit(scenario="large", exitcode=finish(p), len_ok=(reply.get("len") == len(blob)),
         sha_ok=(reply.get("sha256") == hashlib.sha256(blob).hexdigest()))


def sem_names(root):
    """Names of every SemLock reachable from root (what the tracker must unlink)."""
    from multiprocessing.synchronize import SemLock
    names, seen, stack = set(), set(), [root]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, SemLock):
            names.add(x._semlock.name)
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        stack.extend(getattr(x, "__dict__", {}).values())
    return sorted(names)


def scenario_kinds(go):
    ours, theirs = CTX.Pipe()
    r, w = CTX.Pipe(duplex=False)
    objs = [theirs, r, w, CTX.Lock(), CTX.RLock(), CTX.Semaphore(2), CTX.BoundedSemaphore(3),
            CTX.Event(), CTX.Condition(), CTX.Value("i", 42), CTX.Array("d", [1.0, 2.0]),
            CTX.Queue(5), CTX.SimpleQueue(), CTX.JoinableQueue(), [1, "two"]]
    p = mpwire.GoProcess(go, args=tuple(objs), kwargs={"role": "kinds"}, name="GoKinds")
    p.start()
    theirs.close()
    reply = recv(ours)
    ours.close()
    r.close()
    w.close()
    code = finish(p)
    sems = sem_names(objs)
    del objs
    gc.collect()
    emit(scenario="kinds", exitcode=code, kinds=reply, sems=sems)


def scenario_api(go):
    """GoProcess's error cases and the Process API around them."""
    def raises(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - we report the type
            return type(e).__name__
        return None
    res = {
        "missing": raises(lambda: mpwire.GoProcess("/nonexistent/worker")),
        "not_executable": raises(lambda: mpwire.GoProcess(os.path.abspath(__file__))),
        "not_on_path": raises(lambda: mpwire.GoProcess("no-such-mpwire-worker")),
    }
    ours, theirs = CTX.Pipe()
    p = mpwire.GoProcess([go], args=(theirs,), kwargs={"role": "sleep"})  # argv-prefix form
    res["exitcode_before_start"] = p.exitcode
    res["repr_initial"] = repr(p)
    p.start()
    theirs.close()
    recv(ours)
    res["start_twice"] = raises(p.start)
    res["close_running"] = raises(p.close)
    res["name"] = p.name
    res["in_active_children"] = p.process in mp.active_children()
    p.terminate()
    res["exitcode"] = finish(p)
    ours.close()
    res["closed_pid"] = raises(lambda: p.pid)
    emit(scenario="api", **res)


def scenario_set_executable(go):
    """Plain multiprocessing, no mpwire: spawn.set_executable(go) makes a
    spawn-context Process start the Go worker with a Python child's command
    line (-c 'from multiprocessing.spawn import spawn_main; ...')."""
    from multiprocessing import resource_tracker, spawn
    resource_tracker.ensure_running()  # else set_executable would start the tracker with go
    old = spawn.get_executable()
    spawn.set_executable(go)
    try:
        p = CTX.Process(kwargs={"role": "exit", "code": 5}, name="GoViaSetExecutable")
        p.start()
    finally:
        spawn.set_executable(os.fsdecode(old))
    emit(scenario="set_executable", exitcode=finish(p))


def scenario_register(go):
    ours, theirs = CTX.Pipe()
    p = mpwire.GoProcess(go, args=(theirs,), kwargs={"role": "register"}, name="GoRegister")
    p.start()
    theirs.close()
    name = recv(ours)
    ours.close()
    emit(scenario="register", exitcode=finish(p), name=name)


def scenario_leak(go):
    """The worker creates a Queue and a SharedMemory and exits without
    closing them: our resource tracker, which it inherited, unlinks them
    once we are gone too."""
    ours, theirs = CTX.Pipe()
    p = mpwire.GoProcess(go, args=(theirs,), kwargs={"role": "leak", "how": "exit"}, name="GoLeak")
    p.start()
    theirs.close()
    names = recv(ours)
    ours.send("go ahead")
    ours.close()
    emit(scenario="leak", exitcode=finish(p), names=names)


def _hold(tracker_fd):
    """Sleep with stdio on /dev/null and without the resource tracker's pipe
    (whose tracker would otherwise live on, holding our stderr), so that the
    harness sees our output end."""
    import time
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(tracker_fd)
    time.sleep(30)


def scenario_orphan(go, marker, hold_pipe):
    ours, theirs = CTX.Pipe()
    p = mpwire.GoProcess(go, args=(theirs, marker), kwargs={"role": "watch"}, name="GoOrphan")
    p.start()
    theirs.close()
    ready = recv(ours)
    holder = None
    if hold_pipe:
        # A fork child inherits every fd, our end of the worker's spawn pipe
        # included, and outlives us: the pipe never reports our death.
        from multiprocessing import resource_tracker
        holder = mp.get_context("fork").Process(target=_hold, args=(resource_tracker.getfd(),))
        holder.start()
    emit(scenario="orphan", ready=ready, pid=p.pid, holder=holder.pid if holder else None)
    os._exit(0)  # die without joining: the worker's Context must end


SCENARIOS = ["echo", "exit", "panic", "error", "terminate", "kill", "large", "kinds", "register", "leak", "api",
             "set_executable"]


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--go", required=True, help="the Go worker binary")
    p.add_argument("--scenario", default="all", help="one of %s, orphan or all" % ", ".join(SCENARIOS))
    p.add_argument("--marker", help="file the orphaned worker creates (orphan scenario)")
    p.add_argument("--hold-pipe", action="store_true",
                   help="orphan scenario: keep the spawn pipe open in a forked grandchild")
    args = p.parse_args()
    _fixture.start(args)
    if args.scenario == "orphan":
        scenario_orphan(args.go, args.marker, args.hold_pipe)
        return 0
    # Start the tracker first so that its pipe is not counted as a leak.
    from multiprocessing import resource_tracker
    resource_tracker.ensure_running()
    before = fds()
    names = SCENARIOS if args.scenario == "all" else args.scenario.split(",")
    for name in names:
        globals()["scenario_" + name](args.go)
    gc.collect()
    after = fds()
    emit(scenario="fds", leaked=[fd for fd in after if fd not in before],
         children=[c.name for c in mp.active_children()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
