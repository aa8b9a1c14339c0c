"""The seed program's parent with a Go child: the child puts 'Python' on a
multiprocessing.Queue and this Python parent gets it.

    python3 examples/queue/parent.py --child /path/to/queue-example --pyfixtures pyfixtures
"""
import argparse
import multiprocessing
import os
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", required=True, help="the Go child binary")
    p.add_argument("--pyfixtures", required=True, help="directory holding mpwire.py")
    args = p.parse_args()
    sys.path.insert(0, os.path.abspath(args.pyfixtures))
    import mpwire

    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()                                  # create the Queue for process communication
    p = mpwire.GoProcess(args.child, args=(q,))      # create the (Go) child process
    p.start()                                        # start it
    print('(%s) Python parent starts getting data...' % multiprocessing.current_process().pid, flush=True)
    print(q.get(True, 30), flush=True)               # get the data: Python
    p.join(30)
    return p.exitcode


if __name__ == "__main__":
    sys.exit(main())
