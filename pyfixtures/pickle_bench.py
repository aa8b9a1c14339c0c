"""mpwire pickle benchmark workloads and CPython's own timings of them.

Modes:

  gen DIR    Write each workload as DIR/<name>.pickle: pickle.dumps(value,
             protocol=4) by this interpreter's C pickler.  Prints one line
             "<name> <bytes>" per workload.
  hostile DIR
             Write the amplification bombs of the "hostile" benchmark case:
             DIR/tuple_bomb_26.pickle is pickle.dumps({t: 1}, protocol=4)
             with t = (); t = (t, t) 26 times (a dict key whose hash walks
             2^26 tuples in CPython).
  time DIR   For each DIR/<name>.pickle (the same bytes the Go benchmarks
             decode), time CPython's C pickle.loads(data) and
             pickle.dumps(obj, protocol=4) of the loaded value with timeit
             (autorange, best of --repeat) and print one JSON line per
             workload: {"name", "bytes", "loads_ns", "dumps_ns", "python"}.

    python3 pyfixtures/pickle_bench.py gen /tmp/w && python3 pyfixtures/pickle_bench.py time /tmp/w
"""
import argparse
import json
import os
import pickle
import resource
import sys
import timeit

import _fixture


def _deep(n):
    v = {"leaf": [1, 2.5, "x"]}
    for i in range(n):
        v = [i, v] if i % 2 else {"d": v, "i": i}
    return v


def _record(i):
    return {"id": i, "name": "item%d" % i, "score": i * 0.5, "tags": ["a", "b"], "ok": i % 2 == 0}


# name -> factory; the Go benchmarks use the same names. small_dicts_10k
# and records_by_name_10k are also decoded into Go structs (typed).
WORKLOADS = {
    "small_dicts_10k": lambda: [_record(i) for i in range(10000)],
    "records_by_name_10k": lambda: {"item%d" % i: _record(i) for i in range(10000)},
    "ints_100k": lambda: [(i * 2654435761) % (1 << (8 + (i % 5) * 12)) - (1 << (7 + (i % 5) * 12))
                          for i in range(100000)],
    "bytes_1mib": lambda: bytes(range(256)) * 4096,
    "nonascii_str_10k": lambda: ["h\xe9llo w\xf6rld %d \u00fcn\u00efc\u00f6d\u00e9 \u2713 \u65e5\u672c \U0001F600" % i
                                 for i in range(10000)],
    "deep_nesting_400": lambda: _deep(400),
}


def _write(directory, workloads):
    os.makedirs(directory, exist_ok=True)
    for name, f in workloads.items():
        data = pickle.dumps(f(), protocol=4)
        with open(os.path.join(directory, name + ".pickle"), "wb") as fh:
            fh.write(data)
        print(name, len(data), flush=True)


def mode_gen(args):
    _write(args.dir, WORKLOADS)


def _tuple_bomb(n):
    t = ()
    for _ in range(n):
        t = (t, t)
    return {t: 1}


# name -> factory of the hostile case (not in WORKLOADS: other Go decoders
# need 2^26 steps for them).
HOSTILE = {
    "tuple_bomb_26": lambda: _tuple_bomb(26),
}


def mode_hostile(args):
    _write(args.dir, HOSTILE)


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _best_ns(stmt, number, repeat, gc_on=False):
    """Best time of one call of stmt in ns, and the minor page faults per
    call over the timed samples."""
    # timeit switches the cyclic collector off while it times; gc_on
    # times with it on, as a program runs.
    t = timeit.Timer(stmt, setup="import gc; gc.enable()" if gc_on else "pass")
    if number <= 0:
        number, _ = t.autorange()
    f0 = _minor_faults()
    best = min(t.repeat(repeat=repeat, number=number))
    return best / number * 1e9, (_minor_faults() - f0) / (repeat * number)


# Objects that keep pymalloc's arenas mapped (pin_arenas).
_pins = []


def pin_arenas(mib=64):
    """Keep mib MiB of pymalloc arenas mapped for the rest of the process.

    pymalloc returns an arena to the kernel as soon as its last object is
    freed, so a loop that builds and drops a large value maps fresh pages
    and faults every one of them in again on each call: 250-770 faults per
    loads of the 10k-dict workloads on the VMs measured, at ~10 us a fault
    most of CPython's time (docs/benchmarks.md, "Page faults"). A
    long-running program's arenas are mostly pinned by the long-lived
    objects scattered through them; this gives the timing interpreter the
    same: it fills mib MiB with floats and keeps one in 8192 (one per
    192 KiB, less than the smallest arena, 256 KiB on 3.8-3.9 and 1 MiB
    since 3.10), so every arena keeps a float and its other pools stay
    free for any size of object. CPython is then timed on its own work,
    the faster and steadier baseline."""
    floats = [float(i) for i in range(mib * (1 << 20) // 24)]
    _pins.append(floats[::8192])


def _warm(datas, rounds=3):
    """Pin the allocator's arenas (pin_arenas), then run loads and dumps of
    every workload rounds times before timing, so every CPython time is
    taken warm (cold and warm times of the same call differ up to 5x for
    str workloads and 90x for dumps of 1 MiB bytes on the machines
    measured; docs/benchmarks.md). rounds=0 does neither."""
    if rounds <= 0:
        return
    pin_arenas()
    for _ in range(rounds):
        for data in datas:
            obj = pickle.loads(data)
            pickle.dumps(obj, protocol=4)


def read_dir(directory):
    """The workloads of directory: {name: bytes of <name>.pickle}, by name."""
    datas = {}
    for f in sorted(os.listdir(directory)):
        if f.endswith(".pickle"):
            with open(os.path.join(directory, f), "rb") as fh:
                datas[f[:-len(".pickle")]] = fh.read()
    return datas


def time_one(name, data, number=0, repeat=5):
    """Time C pickle.loads(data) and pickle.dumps(obj, protocol=4) of
    one workload with timeit (number calls per sample, 0: autorange; best
    of repeat). loads is timed twice: with the cyclic collector off
    (timeit's default; loads_ns) and on (loads_gc_ns); loads_faults and
    dumps_faults are the minor page faults per call while timed. Returns
    the JSON line printed for it."""
    obj = pickle.loads(data)
    loads_ns, loads_faults = _best_ns(lambda: pickle.loads(data), number, repeat)
    dumps_ns, dumps_faults = _best_ns(lambda: pickle.dumps(obj, protocol=4), number, repeat)
    loads_gc_ns, _ = _best_ns(lambda: pickle.loads(data), number, repeat, gc_on=True)
    return json.dumps({"name": name, "bytes": len(data), "loads_ns": loads_ns, "dumps_ns": dumps_ns,
                       "loads_gc_ns": loads_gc_ns, "loads_faults": loads_faults, "dumps_faults": dumps_faults,
                       "python": "%d.%d.%d" % sys.version_info[:3],
                       "c_pickle": pickle.Pickler.__module__ == "_pickle"})


def time_dir(directory, only=None, repeat=5, number=0, warm=3):
    """Time every <name>.pickle in directory (or the names in only) with
    time_one, after warm rounds of a warm-up pass over every workload in
    directory (see _warm; 0 skips it: the hostile case's bomb would only
    cost seconds). Prints one JSON line per workload. bench_py.py
    pickle-time uses it too."""
    datas = read_dir(directory)
    _warm(datas.values(), warm)
    for name, data in datas.items():
        if not only or name in only:
            print(time_one(name, data, number, repeat), flush=True)


def serve_dir(directory, repeat=1, number=0):
    """bench_py.py pickle-serve: warm up on every workload of directory,
    print READY, then time the workload named on each line of stdin
    (time_one) and print its JSON line, until EOF. One warm interpreter
    serves a whole benchmark run, and the Go harness asks for each
    workload right before it times its own decoders on it, so both sides
    are measured within seconds of each other."""
    datas = read_dir(directory)
    _warm(datas.values())
    print("READY", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if name not in datas:
            print(json.dumps({"error": "no workload %r in %s" % (name, directory)}), flush=True)
            continue
        print(time_one(name, datas[name], number, repeat), flush=True)


def mode_time(args):
    time_dir(args.dir, args.only, args.repeat)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = "\n".join(__doc__.splitlines()[2:])
    p.add_argument("mode", choices=["gen", "hostile", "time"])
    p.add_argument("dir", help="directory of <workload>.pickle files")
    p.add_argument("--repeat", type=int, default=5, help="timeit repeats, best is kept (default %(default)s)")
    p.add_argument("--only", action="append", help="time only this workload (repeatable)")
    args = p.parse_args()
    _fixture.start(args)
    {"gen": mode_gen, "hostile": mode_hostile, "time": mode_time}[args.mode](args)


if __name__ == "__main__":
    main()
