"""Python side of examples/pool/pymap: a multiprocessing Pool with Go workers.

    PYTHONPATH=python python3 examples/pool/pymap/parent.py --worker /path/to/pymap
"""
import argparse
import sys
import time

from mpwire import GoFunc, GoPool


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", required=True, help="the Go worker binary")
    p.add_argument("--n", type=int, default=100000)
    args = p.parse_args()

    print("Python %d.%d starts a multiprocessing Pool of 2 Go workers" % sys.version_info[:2])
    with GoPool(args.worker, processes=2) as pool:
        print("worker pids:", [w.pid for w in pool._pool])
        t0 = time.perf_counter()
        steps = pool.map(GoFunc("collatz"), range(1, args.n + 1))
        dt = time.perf_counter() - t0
        print("pool.map(GoFunc('collatz'), range(1, %d)) returned %d results in %.2f s"
              % (args.n + 1, len(steps), dt))
        best = max(range(len(steps)), key=steps.__getitem__)
        print("longest chain below %d starts at %d: %d steps" % (args.n + 1, best + 1, steps[best]))
        print("first ten:", steps[:10])
        try:
            pool.apply(GoFunc("collatz"), ("not a number",))
        except TypeError as e:
            print("a bad argument raises in Python:", type(e).__name__, e)
    print("the with block terminated the pool and its Go workers")


if __name__ == "__main__":
    main()
