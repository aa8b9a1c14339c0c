"""The seed program's parent with a Go child: the child puts 'Python' on a
multiprocessing.Queue and this Python parent gets it.

    PYTHONPATH=python python3 examples/queue/parent.py --child /path/to/queue-example
"""
import argparse
import multiprocessing
import sys

import mpwire


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", required=True, help="the Go child binary")
    args = p.parse_args()

    ctx = mpwire.get_context()                       # spawn: a fork-context Queue cannot reach a Go child
    q = ctx.Queue()                                  # create the Queue for process communication
    p = mpwire.GoProcess(args.child, args=(q,))      # create the (Go) child process
    p.start()                                        # start it
    print('(%s) Python parent starts getting data...' % multiprocessing.current_process().pid, flush=True)
    print(q.get(True, 30), flush=True)               # get the data: Python
    p.join(30)
    return p.exitcode


if __name__ == "__main__":
    sys.exit(main())
