"""Python parent of the goworker example: feeds a Go worker over a Pipe.

The Go worker is started with mpwire.GoProcess, a spawn-context
multiprocessing Process whose child is a Go binary. It receives one end of a
multiprocessing Pipe plus a plain-data argument, answers each task sent on the
Pipe, and exits when it receives None.

    PYTHONPATH=python python3 examples/goworker/parent.py --worker /path/to/goworker
"""
import argparse
import sys

import mpwire


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", required=True, help="the Go worker binary")
    args = p.parse_args()

    ctx = mpwire.get_context()  # spawn (or forkserver): not fork, whose locks a Go worker cannot open
    ours, theirs = ctx.Pipe()
    worker = mpwire.GoProcess(args.worker, args=(theirs, {"greeting": "hello from Go"}), name="GoWorker-1")
    worker.start()
    theirs.close()
    print("Python %d.%d started %r" % (sys.version_info[:2] + (worker,)), flush=True)

    tasks = [[1, 2, 3], list(range(100)), "a few words to count", b"\x00" * 100000]
    for task in tasks:
        ours.send(task)
        if not ours.poll(30):
            raise SystemExit("the Go worker did not answer")
        print("task %-28s -> %r" % (repr(task)[:28], ours.recv()), flush=True)
    ours.send(None)
    worker.join(30)
    print("Go worker exited with exitcode", worker.exitcode, flush=True)
    return worker.exitcode


if __name__ == "__main__":
    sys.exit(main())
