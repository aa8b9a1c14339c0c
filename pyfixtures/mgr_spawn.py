"""The seed program (a Manager dict and list shared by ten workers) with Go
workers started through mpwire.GoProcess and Python workers started with
the spawn context, all receiving the proxies as Process arguments.

The parent starts a SyncManager (spawn) at 127.0.0.1 with the authkey from
MPWIRE_AUTHKEY (hex, default b'mpwire-test'), creates d = m.dict() and
l = m.list(range(5)), runs --go Go workers (the executable --go-worker,
which applies f(d, l) to the proxies it receives) and --py Python workers
running seed_f, joins them, and prints

    DICT {1: '1', '2': 2}
    LIST [0, 1, 2, 3, 4, 1, ...]
    OBJECTS <number_of_objects after deleting the proxies>

seed_f is also the target that Go parents give Python children
(process.Start with Target "mgr_spawn:seed_f").
"""
import gc
import multiprocessing as mp
import os
import sys

import _fixture


def seed_f(d, l):
    """The seed program's worker."""
    d[1] = "1"
    d["2"] = 2
    l.append(1)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--go-worker", help="the Go worker executable")
    p.add_argument("--go", type=int, default=5, help="number of Go workers")
    p.add_argument("--py", type=int, default=5, help="number of Python workers")
    args = p.parse_args()
    _fixture.start(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mpwire

    key = _fixture.authkey_from_env() or b"mpwire-test"
    ctx = mp.get_context("spawn")
    from multiprocessing.managers import SyncManager
    m = SyncManager(address=("127.0.0.1", 0), authkey=key, ctx=ctx)
    m.start()
    d = m.dict()
    l = m.list(range(5))
    workers = []
    for i in range(max(args.go, args.py)):
        if i < args.go:
            workers.append(mpwire.GoProcess(args.go_worker, args=(d, l), name="go-worker-%d" % i))
        if i < args.py:
            workers.append(ctx.Process(target=seed_f, args=(d, l), name="py-worker-%d" % i))
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    codes = [w.exitcode for w in workers]
    if any(c != 0 for c in codes):
        raise SystemExit("worker exit codes %r" % codes)
    print("DICT", d, flush=True)
    print("LIST", l, flush=True)
    del d, l
    gc.collect()
    print("OBJECTS", m._number_of_objects(), flush=True)
    m.shutdown()


if __name__ == "__main__":
    main()
