"""python -m mpwire: try a Go worker from the command line.

    python -m mpwire run ./worker [--message hello]    GoProcess: send one message on a Pipe, print the reply
    python -m mpwire map ./worker square [--n 10]       GoPool: map a registered Go function over range(n)
    python -m mpwire version                            the package version and where it was imported from
"""
import argparse
import json
import os
import sys

import mpwire


def _run(args):
    ctx = mpwire.get_context()
    ours, theirs = ctx.Pipe()
    proc = mpwire.GoProcess(args.executable, args=(theirs,), name="GoWorker")
    proc.start()
    theirs.close()
    ours.send(args.message)
    if ours.poll(args.timeout):
        print(json.dumps(repr(ours.recv())))
    proc.join(args.timeout)
    print("exitcode", proc.exitcode)
    return 0 if proc.exitcode == 0 else 1


def _map(args):
    with mpwire.GoPool(args.executable, processes=args.processes) as pool:
        print(pool.map(mpwire.GoFunc(args.function), range(args.n)))
    return 0


def _version(args):
    print("mpwire", mpwire.__version__, os.path.dirname(os.path.abspath(mpwire.__file__)))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m mpwire", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="start a Go worker, send it one message on a Pipe and print the reply")
    r.add_argument("executable", help="the Go worker binary")
    r.add_argument("--message", default="hello", help="string to send (default %(default)s)")
    r.add_argument("--timeout", type=float, default=30.0)
    r.set_defaults(fn=_run)
    m = sub.add_parser("map", help="map a Go function over range(n) with a GoPool and print the results")
    m.add_argument("executable", help="the Go worker binary (it must call pool.ServeWorker)")
    m.add_argument("function", help="registered Go function name")
    m.add_argument("--n", type=int, default=10)
    m.add_argument("--processes", type=int, default=2)
    m.set_defaults(fn=_map)
    v = sub.add_parser("version", help="print the version and the package directory")
    v.set_defaults(fn=_version)
    args = p.parse_args(argv)
    if getattr(args, "fn", None) is None:
        p.print_help()
        return 2
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
