"""Side-by-side pool timings for mpwire's pool benchmarks (go run ./benchmarks
-cases pool, and the pool package's TestPoolBenchTable).

    python3 pyfixtures/pool_bench.py --mode python            # Python Pool, Python workers
    PYTHONPATH=python python3 pyfixtures/pool_bench.py --mode go --go ./worker  # GoPool, Go workers
    python3 pyfixtures/pool_bench.py --kind executor --mode python              # ProcessPoolExecutor
    PYTHONPATH=python python3 pyfixtures/pool_bench.py --kind executor --mode go --go ./worker

Prints one JSON object: tiny tasks per second (map of square with
chunksize=1, and with the map's default chunksize: Pool.map's, or 1 for
Executor.map) and the seconds for a CPU-bound map (spin(rounds) per item;
the Go worker implements the same function). Workers are started and warmed
up (a map of 100 items) before anything is timed.
"""
import json
import sys
import time

import _fixture
import pool_funcs


def measure(pool, sq, spin, n, rounds, items):
    pool.map(sq, range(100))  # warm up: workers started and importing done
    t0 = time.perf_counter()
    pool.map(sq, range(n), chunksize=1)
    tiny1 = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    pool.map(sq, range(n * 10))
    tinyd = n * 10 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    pool.map(spin, [rounds] * items, chunksize=1)
    cpu = time.perf_counter() - t0
    return {"tiny_chunk1_per_s": tiny1, "tiny_default_per_s": tinyd, "cpu_s": cpu}


def measure_executor(ex, sq, spin, n, rounds, items):
    list(ex.map(sq, range(100)))  # warm up: every worker started
    t0 = time.perf_counter()
    for _ in ex.map(sq, range(n)):
        pass
    tiny1 = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    # Pool.map's default chunksize: ceil(len / (4 * workers))
    for _ in ex.map(sq, range(n * 10), chunksize=-(-n * 10 // (4 * ex._max_workers))):
        pass
    tinyd = n * 10 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    list(ex.map(spin, [rounds] * items))
    cpu = time.perf_counter() - t0
    return {"tiny_chunk1_per_s": tiny1, "tiny_default_per_s": tinyd, "cpu_s": cpu}


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--kind", choices=["pool", "executor"], default="pool",
                   help="multiprocessing Pool or concurrent.futures ProcessPoolExecutor")
    p.add_argument("--mode", choices=["python", "go"], required=True)
    p.add_argument("--go", help="Go worker binary (mode go)")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--n", type=int, default=20000, help="tiny tasks")
    p.add_argument("--rounds", type=int, default=100000, help="spin rounds per CPU task")
    p.add_argument("--items", type=int, default=4, help="CPU tasks")
    args = p.parse_args()
    _fixture.start(args)
    import multiprocessing as mp
    if args.kind == "pool":
        if args.mode == "python":
            with mp.get_context("spawn").Pool(args.processes) as pool:
                r = measure(pool, pool_funcs.square, pool_funcs.spin, args.n, args.rounds, args.items)
        else:
            from mpwire import GoPool, GoFunc
            with GoPool(args.go, processes=args.processes) as pool:
                r = measure(pool, GoFunc("square"), GoFunc("spin"), args.n, args.rounds, args.items)
    else:
        from concurrent.futures import ProcessPoolExecutor
        if args.mode == "python":
            with ProcessPoolExecutor(args.processes, mp_context=mp.get_context("spawn")) as ex:
                r = measure_executor(ex, pool_funcs.square, pool_funcs.spin, args.n, args.rounds, args.items)
        else:
            from mpwire import GoProcessPoolExecutor, GoFunc
            with GoProcessPoolExecutor(args.go, max_workers=args.processes) as ex:
                r = measure_executor(ex, GoFunc("square"), GoFunc("spin"), args.n, args.rounds, args.items)
    r["kind"] = args.kind
    r["mode"] = args.mode
    r["python"] = "%d.%d" % sys.version_info[:2]
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    sys.exit(main())
