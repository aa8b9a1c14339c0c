"""Functions for mpwire's Go-parent pool tests (pool.New with Python
workers): importable as pool_funcs:<name>. Run as a script it checks them
with a Python Pool:

    python3 pyfixtures/pool_funcs.py
"""
import os
import time

_init_value = None


class CustomError(Exception):
    """An exception class that is not a builtin."""


def square(x):
    return x * x


def add(a, b=0):
    return a + b


def fail(msg):
    raise ValueError(msg)


def fail_custom(msg):
    raise CustomError(msg, 7)


def fail_on(x, bad):
    if x == bad:
        raise KeyError(x)
    return x


def pid(*_):
    return os.getpid()


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def touch_sleep(path, seconds):
    """Create path (so the caller knows the task is running), then sleep."""
    open(path, "w").close()
    time.sleep(seconds)
    return seconds


def init(v):
    global _init_value
    _init_value = v


def failing_init(msg):
    """An initializer that raises in every worker."""
    raise RuntimeError(msg)


def initvalue(_=None):
    return _init_value


def echo(x):
    return x


def spin(n):
    """The CPU-bound benchmark task (same as the Go spin)."""
    h = n
    mask = (1 << 64) - 1
    for _ in range(n):
        h ^= (h << 13) & mask
        h ^= h >> 7
        h ^= (h << 17) & mask
    return h & 0xffff


if __name__ == "__main__":
    import multiprocessing as mp
    with mp.get_context("spawn").Pool(2, initializer=init, initargs=(5,)) as p:
        print(p.map(square, range(5)), p.apply(initvalue), p.map(spin, [10, 1000]))
