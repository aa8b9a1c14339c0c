"""Python sides of mpwire's benchmark entry point (go run ./benchmarks).

Modes (every timing is printed as "ELAPSED <seconds>" or one JSON line):

  pickle-time DIR   For each DIR/<name>.pickle (written by pickle_bench.py
                    gen), time the C pickle.loads(data) and
                    pickle.dumps(obj, protocol=4) of the loaded value with
                    timeit: --number calls per sample (0: autorange), best of
                    --repeat. One JSON line per workload: {"name", "bytes",
                    "loads_ns", "dumps_ns", "loads_gc_ns", "loads_faults",
                    "dumps_faults", "python", "c_pickle"}. First pymalloc's
                    arenas are pinned and every workload in DIR is loaded and
                    dumped --warm times (default 3; 0 skips both:
                    pickle_bench._warm).
  pickle-serve DIR  Warm up as pickle-time does, print READY, then for each
                    workload name read from stdin print its pickle-time
                    JSON line, until EOF.
  bulk-send         Wrap --fd as a Connection, send_bytes --count frames of
                    --size bytes, wait for the receiver's b"ok", print
                    ELAPSED (first frame to the acknowledgement).
  bulk-recv         Wrap --fd as a Connection, print READY, recv_bytes_into
                    a preallocated buffer --count times, send b"ok".
  jsonl-echo        Read JSON lines on stdin; for each, json.loads it and
                    write json.dumps of the value back on stdout (flushed),
                    until EOF. What people do today instead of a pickle
                    Connection between Go and Python.

    python3 pyfixtures/pickle_bench.py gen /tmp/w && python3 pyfixtures/bench_py.py pickle-time /tmp/w
    echo '{"a": 1}' | python3 pyfixtures/bench_py.py jsonl-echo
"""
import argparse
import json
import sys
import time

import _fixture
import pickle_bench


def mode_pickle_time(args):
    pickle_bench.time_dir(args.dir, args.only, args.repeat, args.number, args.warm)


def mode_pickle_serve(args):
    pickle_bench.serve_dir(args.dir, args.repeat, args.number)


def mode_bulk_send(args):
    from multiprocessing.connection import Connection
    c = Connection(args.fd)
    payload = b"x" * args.size
    t0 = time.perf_counter()
    for _ in range(args.count):
        c.send_bytes(payload)
    if c.recv_bytes() != b"ok":
        raise SystemExit("bad acknowledgement")
    elapsed = time.perf_counter() - t0
    c.close()
    print("ELAPSED %.9f" % elapsed, flush=True)


def mode_bulk_recv(args):
    from multiprocessing.connection import Connection
    c = Connection(args.fd)
    buf = bytearray(args.size)
    _fixture.ready("READY")
    for _ in range(args.count):
        n = c.recv_bytes_into(buf)
        if n != args.size:
            raise SystemExit("short frame %d" % n)
    c.send_bytes(b"ok")
    c.close()


def mode_jsonl_echo(args):
    rd, wr = sys.stdin.buffer, sys.stdout.buffer
    loads, dumps = json.loads, json.dumps
    for line in rd:
        wr.write(dumps(loads(line)).encode() + b"\n")
        wr.flush()


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = "\n".join(__doc__.splitlines()[2:])
    p.add_argument("mode", choices=["pickle-time", "pickle-serve", "bulk-send", "bulk-recv", "jsonl-echo"])
    p.add_argument("dir", nargs="?", help="pickle-time: directory of <workload>.pickle files")
    p.add_argument("--number", type=int, default=0, help="pickle-time: calls per sample, 0 = autorange")
    p.add_argument("--repeat", type=int, default=3, help="pickle-time, pickle-serve: samples, best is kept (default %(default)s)")
    p.add_argument("--only", action="append", help="pickle-time: only this workload (repeatable)")
    p.add_argument("--warm", type=int, default=3, help="pickle-time: warm-up rounds over every workload, after pinning the arenas (default %(default)s; 0: neither)")
    p.add_argument("--fd", type=int, help="bulk-*: inherited socket fd")
    p.add_argument("--size", type=int, default=1 << 20, help="bulk-*: frame size (default %(default)s)")
    p.add_argument("--count", type=int, default=100, help="bulk-*: frames (default %(default)s)")
    args = p.parse_args()
    _fixture.start(args)
    {"pickle-time": mode_pickle_time, "pickle-serve": mode_pickle_serve, "bulk-send": mode_bulk_send, "bulk-recv": mode_bulk_recv,
     "jsonl-echo": mode_jsonl_echo}[args.mode](args)


if __name__ == "__main__":
    main()
