"""Targets for Python spawn children of a Go parent (mpwire sharedmem tests).

A Go parent (process.Start with Target "shm_targets:<name>") passes
sharedctypes objects it allocated; these functions use them as any
multiprocessing child would.

    python3 pyfixtures/shm_targets.py --help
"""
import sys


def seed(num, arr, raw=None):
    """The Value/Array tutorial: set num to 3.1415927 and negate arr."""
    if raw is not None:
        print(type(num).__name__, type(arr).__name__, type(raw).__name__, raw.value, flush=True)
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


def show_list(sl, shm):
    """Print a ShareableList and a SharedMemory from a Go parent, then write to both.

    Attaching registered both names with this process's resource tracker, which
    would unlink them when this process exits (3.8-3.12 always; 3.13 unless
    track=False): unregister them, the usual workaround, so the Go creator
    keeps ownership."""
    from multiprocessing import resource_tracker
    for name in (sl.shm._name, shm._name):
        resource_tracker.unregister(name, "shared_memory")
    print("Python child sees", repr(list(sl)), "format", repr(sl.format), flush=True)
    print("Python child reads", bytes(shm.buf[:11]), "from", shm.name, flush=True)
    sl[0] = "python"
    shm.buf[:6] = b"PYTHON"
    sl.shm.close()
    shm.close()


if __name__ == "__main__":
    import argparse
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    sys.exit(0)
