"""Targets for Python spawn children of a Go parent (mpwire sharedmem tests).

A Go parent (process.Start with Target "shm_targets:<name>") passes
sharedctypes objects it allocated; these functions use them as any
multiprocessing child would.

    python3 pyfixtures/shm_targets.py --help
"""
import sys


def seed(num, arr, raw=None):
    """The Value/Array tutorial: set num to 3.1415927 and negate arr."""
    print(type(num).__name__, type(arr).__name__,
          "" if raw is None else type(raw).__name__, raw.value if raw is not None else "", flush=True)
    with num.get_lock():
        num.value = 3.1415927
    with arr.get_lock():
        for i in range(len(arr)):
            arr[i] = -arr[i]
    if raw is not None:
        raw.value = b"py"


def incr(v, n):
    """n increments of v under its lock."""
    for _ in range(n):
        with v.get_lock():
            v.value += 1


if __name__ == "__main__":
    import argparse
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    sys.exit(0)
