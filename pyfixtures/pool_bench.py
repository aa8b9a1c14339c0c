"""Side-by-side pool timings for mpwire's pool benchmarks (go run ./benchmarks
-cases pool, and the pool package's TestPoolBenchTable).

    python3 pyfixtures/pool_bench.py --mode python            # Python Pool, Python workers
    PYTHONPATH=python python3 pyfixtures/pool_bench.py --mode go --go ./worker  # GoPool, Go workers
    PYTHONPATH=python python3 pyfixtures/pool_bench.py --mode both --go ./worker --rounds-paired 9
    ... --kind executor ...                                   # ProcessPoolExecutor / GoProcessPoolExecutor

Modes python and go print one JSON object: tiny tasks per second (map of
square with chunksize=1, and with Pool.map's default chunksize,
ceil(n / (4 * workers)), which Executor.map is given explicitly) and the
seconds for a CPU-bound map (spin(rounds) per item; the Go worker
implements the same function). Workers are started and warmed up (a map
of 100 items) before anything is timed.

Mode both keeps a Python-worker pool and a Go-worker pool open side by side
and alternates short measurements between them (--rounds-paired rounds, the
order flipped every round), so that both sides of each pair see the same
machine load: on a shared machine the load changes faster than one long
measurement of each side takes. It prints {"python": {...}, "go": {...}}
with a list of per-round values for each measure.
"""
import json
import sys
import time

import _fixture
import pool_funcs


def tiny1(pool, sq, n, executor):
    t0 = time.perf_counter()
    if executor:
        for _ in pool.map(sq, range(n)):
            pass
    else:
        pool.map(sq, range(n), chunksize=1)
    return n / (time.perf_counter() - t0)


def tinyd(pool, sq, n, workers, executor):
    t0 = time.perf_counter()
    if executor:
        for _ in pool.map(sq, range(n), chunksize=-(-n // (4 * workers))):
            pass
    else:
        pool.map(sq, range(n))
    return n / (time.perf_counter() - t0)


def cpu(pool, spin, rounds, items, executor):
    t0 = time.perf_counter()
    if executor:
        list(pool.map(spin, [rounds] * items))
    else:
        pool.map(spin, [rounds] * items, chunksize=1)
    return time.perf_counter() - t0


def warm(pool, sq, executor):
    r = pool.map(sq, range(100))
    if executor:
        list(r)


def measure(pool, sq, spin, args, executor):
    warm(pool, sq, executor)
    return {"tiny_chunk1_per_s": tiny1(pool, sq, args.n, executor),
            "tiny_default_per_s": tinyd(pool, sq, args.n * 10, args.processes, executor),
            "cpu_s": cpu(pool, spin, args.rounds, args.items, executor)}


def open_pool(kind, mode, args):
    """(pool, square, spin) for kind pool/executor with Python or Go workers."""
    import multiprocessing as mp
    if mode == "python":
        sq, spin = pool_funcs.square, pool_funcs.spin
        if kind == "pool":
            return mp.get_context("spawn").Pool(args.processes), sq, spin
        from concurrent.futures import ProcessPoolExecutor
        return ProcessPoolExecutor(args.processes, mp_context=mp.get_context("spawn")), sq, spin
    from mpwire import GoFunc, GoPool, GoProcessPoolExecutor
    sq, spin = GoFunc("square"), GoFunc("spin")
    if kind == "pool":
        return GoPool(args.go, processes=args.processes), sq, spin
    return GoProcessPoolExecutor(args.go, max_workers=args.processes), sq, spin


def close_pool(pool, kind):
    if kind == "pool":
        pool.close()
        pool.join()
    else:
        pool.shutdown(wait=True)


def paired(args):
    executor = args.kind == "executor"
    pools = {m: open_pool(args.kind, m, args) for m in ("python", "go")}
    try:
        for pool, sq, _ in pools.values():
            warm(pool, sq, executor)
        out = {m: {"tiny_chunk1_per_s": [], "tiny_default_per_s": [], "cpu_s": []} for m in pools}
        for i in range(args.rounds_paired):
            order = ("python", "go") if i % 2 == 0 else ("go", "python")
            for m in order:
                pool, sq, _ = pools[m]
                out[m]["tiny_chunk1_per_s"].append(tiny1(pool, sq, args.n, executor))
            for m in order:
                pool, sq, _ = pools[m]
                out[m]["tiny_default_per_s"].append(tinyd(pool, sq, args.n * 10, args.processes, executor))
            for m in order:
                pool, _, spin = pools[m]
                out[m]["cpu_s"].append(cpu(pool, spin, args.rounds, args.items, executor))
        return out
    finally:
        for pool, _, _ in pools.values():
            close_pool(pool, args.kind)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--kind", choices=["pool", "executor"], default="pool",
                   help="multiprocessing Pool or concurrent.futures ProcessPoolExecutor")
    p.add_argument("--mode", choices=["python", "go", "both"], required=True)
    p.add_argument("--go", help="Go worker binary (modes go and both)")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--n", type=int, default=20000, help="tiny tasks (per round in mode both)")
    p.add_argument("--rounds", type=int, default=100000, help="spin rounds per CPU task")
    p.add_argument("--items", type=int, default=4, help="CPU tasks")
    p.add_argument("--rounds-paired", type=int, default=9, help="alternating rounds in mode both")
    args = p.parse_args()
    _fixture.start(args)
    if args.mode == "both":
        r = paired(args)
    else:
        pool, sq, spin = open_pool(args.kind, args.mode, args)
        try:
            r = measure(pool, sq, spin, args, args.kind == "executor")
        finally:
            close_pool(pool, args.kind)
        r["mode"] = args.mode
    r["kind"] = args.kind
    r["python_version"] = "%d.%d" % sys.version_info[:2]
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    sys.exit(main())
