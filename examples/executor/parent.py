"""Python side of examples/executor: concurrent.futures and asyncio with Go workers.

    PYTHONPATH=python python3 examples/executor/parent.py --worker /path/to/executor
"""
import argparse
import asyncio
import concurrent.futures as cf
import sys

from mpwire import GoFunc, GoProcessPoolExecutor


async def with_asyncio(executor):
    loop = asyncio.get_running_loop()
    primes = GoFunc("primes_below")
    # run_in_executor wants a callable: pass GoFunc("name"), not the plain string
    counts = await asyncio.gather(*(loop.run_in_executor(executor, primes, n)
                                    for n in (10, 100, 1000, 10000)))
    print("asyncio.gather(run_in_executor(...)):", counts)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", required=True, help="the Go worker binary")
    args = p.parse_args()

    print("Python %d.%d starts a ProcessPoolExecutor of 2 Go workers" % sys.version_info[:2])
    with GoProcessPoolExecutor(args.worker, max_workers=2) as ex:
        future = ex.submit(GoFunc("primes_below"), 1000000)
        print("submit: primes below 1,000,000:", future.result(timeout=30))

        sizes = [10 ** k for k in range(1, 7)]
        print("map(chunksize=2):", list(ex.map("primes_below", sizes, chunksize=2, timeout=30)))

        futures = {ex.submit(GoFunc("checked_sqrt"), x): x for x in (16.0, 2.0, -1.0)}
        for f in cf.as_completed(futures, timeout=30):
            x = futures[f]
            if f.exception() is not None:
                e = f.exception()
                print("checked_sqrt(%g) raised %s: %s (Go traceback in __cause__: %s)"
                      % (x, type(e).__name__, e, type(e.__cause__).__name__))
            else:
                print("checked_sqrt(%g) = %g" % (x, f.result()))

        asyncio.run(with_asyncio(ex))

        try:
            ex.submit(len, "Python functions cannot run in Go workers")
        except TypeError as e:
            print("a Python callable is refused:", str(e).split(":")[0])
    print("the with block shut the executor and its Go workers down")


if __name__ == "__main__":
    main()
