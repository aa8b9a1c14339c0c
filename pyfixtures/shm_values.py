"""A Python parent sharing sharedctypes Values/Arrays with Go workers.

Starts the Go worker (--go, a program using mpwire's sharedmem package, such
as the sharedmem test binary) through mpwire.GoProcess with Value/Array
arguments and prints one JSON line with what it observed.

    PYTHONPATH=python python3 pyfixtures/shm_values.py --go ./sharedmem.test --scenario seed

Scenarios:
  seed     Value('d', 0.0) and Array('i', range(10)); the worker sets the value
           to 3.1415927 and negates every element (the Value/Array tutorial).
  types    one Value, RawValue and Array per typecode (and c_bool), lock=False
           forms and a c_char string; the worker reports what it read on a Pipe
           and writes new values (see the Go test for the expected ones).
  named    a SharedMemory and a ShareableList (pickled by name) handed to the
           worker, which writes "from go" into both.
  counter  Value('i', 0) incremented --n times under its lock by 2 Python
           children and 2 Go workers at once; prints the final value.
"""
import ctypes
import json
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _fixture  # noqa: E402
import mpwire  # noqa: E402

# (typecode or ctypes type, initial value, array initialiser)
TYPES = [
    ("b", -5, [-128, 0, 127]),
    ("B", 200, [0, 1, 255]),
    ("h", -300, [-32768, 5, 32767]),
    ("H", 60000, [0, 7, 65535]),
    ("i", 7, [-2147483648, 0, 2147483647]),
    ("I", 4000000000, [0, 1, 4294967295]),
    ("l", -9000000000, [-2**63, 0, 2**63 - 1]),
    ("L", 2**64 - 1, [0, 2**63, 2**64 - 1]),
    ("q", -(2**62), [-1, 0, 1]),
    ("Q", 2**63 + 5, [3, 2, 1]),
    ("f", 0.5, [1.5, -2.25, 0.0]),
    ("d", 3.25, [1e300, -0.5, 2.0]),
    ("c", b"x", [b"a", b"b", b"c"]),
    ("u", "\u00e9", ["a", "\u03a9", "z"]),
    (ctypes.c_bool, True, [True, False, True]),
]


def enc(v):
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    return v


def incr(v, n):
    """Child target: n increments of v under its lock."""
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--go", required=True, help="the Go worker binary")
    p.add_argument("--scenario", required=True, choices=["seed", "types", "named", "counter"])
    p.add_argument("--n", type=int, default=1000, help="increments per process (counter)")
    p.add_argument("--hold", type=float, default=0.5,
                   help="seconds the parent holds the lock while the children start (counter)")
    p.add_argument("--timeout", type=float, default=50.0)
    args = p.parse_args()
    _fixture.start(args)
    ctx = mp.get_context("spawn")
    out = {"scenario": args.scenario}

    if args.scenario == "seed":
        num = ctx.Value("d", 0.0)
        arr = ctx.Array("i", range(10))
        w = mpwire.GoProcess(args.go, args=(num, arr), kwargs={"role": "seed"})
        w.start()
        w.join(args.timeout)
        out.update(exitcode=w.exitcode, value=num.value, array=arr[:])

    elif args.scenario == "types":
        objs, kinds = [], []
        for code, init, arr in TYPES:
            objs += [ctx.Value(code, init), ctx.RawValue(code, init), ctx.Value(code, init, lock=False),
                     ctx.Array(code, arr), ctx.RawArray(code, arr), ctx.Array(code, arr, lock=False)]
            kinds += ["value", "value", "value", "array", "array", "array"]
        objs.append(ctx.Array("c", b"hello world"))
        kinds.append("string")
        objs.append(ctx.Array("i", 1000))  # zeroed, spans a second heap arena block
        kinds.append("array")
        objs.append(ctx.Value("i", 5, lock=ctx.Lock()))  # a Lock instead of an RLock
        kinds.append("value")
        ours, theirs = ctx.Pipe()
        w = mpwire.GoProcess(args.go, args=(theirs, kinds) + tuple(objs), kwargs={"role": "types"})
        w.start()
        theirs.close()
        reads = ours.recv() if ours.poll(args.timeout) else None
        w.join(args.timeout)
        after = []
        for o, k in zip(objs, kinds):
            if k == "value":
                after.append(o.value)
            elif k == "string":
                after.append(o.value)
            else:
                after.append(o[:])
        out.update(exitcode=w.exitcode, reads=enc(reads), after=enc(after),
                   types=[type(o).__name__ for o in objs])

    elif args.scenario == "named":
        from multiprocessing import shared_memory
        shm = shared_memory.SharedMemory(create=True, size=64)
        sl = shared_memory.ShareableList(["python", 1, None])
        try:
            w = mpwire.GoProcess(args.go, args=(shm, sl), kwargs={"role": "named"})
            w.start()
            w.join(args.timeout)
            out.update(exitcode=w.exitcode, shm=bytes(shm.buf[:7]).decode(), list=list(sl),
                       exists=os.path.exists("/dev/shm/" + shm.name))
        finally:
            for m in (shm, sl.shm):
                m.close()
                m.unlink()

    elif args.scenario == "counter":
        v = ctx.Value("i", 0)
        procs = [ctx.Process(target=incr, args=(v, args.n)) for _ in range(2)]
        procs += [mpwire.GoProcess(args.go, args=(v, args.n), kwargs={"role": "incr"}) for _ in range(2)]
        t0 = time.time()
        # Hold the lock while the children start, so that all four are
        # contending for it from the moment it is released.
        with v.get_lock():
            for pr in procs:
                pr.start()
            time.sleep(args.hold)
        for pr in procs:
            pr.join(args.timeout)
        out.update(exitcodes=[pr.exitcode for pr in procs], value=v.value,
                   seconds=time.time() - t0, expected=4 * args.n)

    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
