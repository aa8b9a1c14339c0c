"""Targets for Python children that Go starts with process.Start (spawn protocol).

Go names them as Spec.Target = "proc_target:<function>" with this directory in
Spec.Path. Each is a plain module-level function, exactly what a Python parent
would pass as Process(target=...). Run as a script, the module starts each
target from a Python spawn parent instead, as a reference:

    python3 pyfixtures/proc_target.py --help
"""
import hashlib
import os
import sys
import time

import multiprocessing as mp


def _about():
    p = mp.current_process()
    parent = mp.parent_process() if hasattr(mp, "parent_process") else None
    return {
        "name": p.name,
        "pid": os.getpid(),
        "daemon": p.daemon,
        "authkey": bytes(p.authkey),
        "identity": list(p._identity),
        "parent_pid": parent.pid if parent is not None else None,
        "parent_alive": parent.is_alive() if parent is not None else None,
        "start_method": mp.get_start_method(allow_none=True),
        "cwd": os.getcwd(),
        "python": "%d.%d" % sys.version_info[:2],
    }


def echo(conn, data=None, **kwargs):
    """Receive one message on conn and answer with it, data, kwargs and facts about this process."""
    if not conn.poll(30):
        raise TimeoutError("no message from the parent")
    msg = conn.recv()
    reply = _about()
    reply.update(msg=msg, data=data, kwargs=kwargs)
    conn.send(reply)
    conn.close()


def read_dupfd(conn, dupfd):
    """Answer with the class of dupfd (a popen_spawn_posix._DupFd) and up to
    100 bytes read from the fd it names."""
    fd = dupfd.detach()
    conn.send((type(dupfd).__module__ + "." + type(dupfd).__name__, os.read(fd, 100)))
    os.close(fd)


def fail(*args):
    """Raise on purpose: Process._bootstrap prints the traceback and exits with 1."""
    raise ValueError("failing on purpose", args)


def exit_with(code):
    """sys.exit(code): exitcode is code (or 1 with the message for a str)."""
    sys.exit(code)


def sleep_forever(conn):
    """Say "ready" on conn, then sleep until killed."""
    conn.send("ready")
    while True:
        time.sleep(1)


def digest(conn, blob):
    """Answer with the length and SHA-256 of a (large) bytes argument."""
    conn.send({"len": len(blob), "sha256": hashlib.sha256(blob).hexdigest()})
    conn.close()


def make_lock(conn):
    """Create a spawn-context Lock (registered with the resource tracker), send
    its /dev/shm name on conn, then sleep until killed."""
    lock = mp.get_context("spawn").Lock()
    conn.send(lock._semlock.name)
    while True:
        time.sleep(1)


def watch_parent(conn, marker):
    """Say "ready", wait for the parent to die (parent_process().join()), then
    create the file marker."""
    conn.send("ready")
    conn.close()
    mp.parent_process().join(60)
    with open(marker, "w") as f:
        f.write("parent gone\n")


def noop():
    """Do nothing (spawn latency benchmarks)."""


def _reference():
    import argparse
    import _fixture
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--target", default="echo", choices=["echo", "fail", "exit_with"],
                   help="target to run in a Python spawn child (default %(default)s)")
    p.add_argument("--bench", type=int, default=0, metavar="N",
                   help="instead, time N spawn start+join cycles of noop and print the mean in ns")
    args = p.parse_args()
    _fixture.start(args)
    ctx = mp.get_context("spawn")
    if args.bench:
        from multiprocessing import resource_tracker
        resource_tracker.ensure_running()  # not part of each start, as in Go
        t0 = time.perf_counter()
        for _ in range(args.bench):
            proc = ctx.Process(target=noop)
            proc.start()
            proc.join()
        print("ns/op", int((time.perf_counter() - t0) / args.bench * 1e9))
        return
    if args.target == "echo":
        a, b = ctx.Pipe()
        proc = ctx.Process(target=echo, args=(b, {"k": "v"}), name="PyEcho")
        proc.start()
        b.close()
        a.send("ping")
        print(a.recv())
    else:
        proc = ctx.Process(target=fail if args.target == "fail" else exit_with, args=(3,))
        proc.start()
    proc.join(30)
    print("exitcode", proc.exitcode)


if __name__ == "__main__":
    _reference()
