"""Capture the spawn payload multiprocessing sends a child, through mpwire.GoProcess.

Parent mode (default): builds one argument of every kind multiprocessing can
hand a spawned child, starts this same script as the "Go" executable through
mpwire.GoProcess, and waits for it. Stub mode (--stub, what the parent runs):
reads exactly two pickles from pipe_handle (pickletools.genops stops at STOP;
the parent never closes the pipe), writes them to --out, writes argv and the
inherited fd table to --out + ".json", and exits with --code.

    PYTHONPATH=python python3 pyfixtures/proc_capture.py --out /tmp/spawn.bin
    python3 -m pickletools /tmp/spawn.bin
"""
import json
import os
import sys

import _fixture


def read_pickle(f, buf):
    import pickletools

    class Tee(object):
        def read(self, n):
            b = f.read(n)
            buf.extend(b)
            return b

        def readline(self):
            b = f.readline()
            buf.extend(b)
            return b

    for _ in pickletools.genops(Tee()):
        pass


def stub(argv):
    out = argv[argv.index("--out") + 1]
    code = int(argv[argv.index("--code") + 1])
    kw = dict(a.split("=", 1) for a in argv[argv.index("--multiprocessing-fork") + 1:])
    fd = int(kw["pipe_handle"])
    buf = bytearray()
    with os.fdopen(fd, "rb", buffering=0, closefd=False) as f:
        read_pickle(f, buf)
        first = len(buf)
        read_pickle(f, buf)
    with open(out, "wb") as f:
        f.write(buf)
    fds = {}
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            fds[name] = os.readlink("/proc/self/fd/" + name)
        except OSError:
            pass
    with open(out + ".json", "w") as f:
        json.dump({"argv": argv, "first_len": first, "total_len": len(buf),
                   "python": "%d.%d" % sys.version_info[:2], "fds": fds}, f, indent=1)
    sys.exit(code)


def parent(args):
    import multiprocessing as mp
    import mpwire

    ctx = mp.get_context("spawn")
    r, w = ctx.Pipe(duplex=False)
    a, b = ctx.Pipe()
    items = [
        ("plain", {"n": 3, "s": "text", "b": b"bytes", "f": 1.5, "l": [1, (2, 3)], "none": None}),
        ("pipe_duplex", b),
        ("pipe_reader", r),
        ("pipe_writer", w),
        ("lock", ctx.Lock()),
        ("rlock", ctx.RLock()),
        ("semaphore", ctx.Semaphore(2)),
        ("bounded_semaphore", ctx.BoundedSemaphore(3)),
        ("event", ctx.Event()),
        ("condition", ctx.Condition()),
        ("value", ctx.Value("i", 42)),
        ("array", ctx.Array("d", [1.0, 2.0])),
        ("queue", ctx.Queue(5)),
        ("simple_queue", ctx.SimpleQueue()),
        ("joinable_queue", ctx.JoinableQueue()),
    ]
    if args.only:
        items = [kv for kv in items if kv[0] in args.only.split(",")]
    exe = [sys.executable, os.path.abspath(__file__), "--stub", "--out", args.out, "--code", str(args.code)]
    p = mpwire.GoProcess(exe, args=tuple(v for _, v in items),
                         kwargs={"names": [k for k, _ in items], "flag": True},
                         name="CaptureProcess")
    p.start()
    p.join(args.timeout)
    if p.exitcode != args.code:
        print("unexpected exit code", p.exitcode, file=sys.stderr)
        return 1
    print("captured", os.path.getsize(args.out), "bytes, exitcode", p.exitcode, flush=True)
    return 0


def main():
    if "--stub" in sys.argv:
        stub(sys.argv)
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="file to write the two pickles to")
    p.add_argument("--code", type=int, default=7, help="exit code of the stub (default %(default)s)")
    p.add_argument("--only", default="", help="comma-separated subset of argument kinds")
    p.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()
    _fixture.start(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
