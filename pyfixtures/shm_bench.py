"""CPython baselines for mpwire's sharedmem benchmarks; prints JSON.

    python3 pyfixtures/shm_bench.py --mib 64 --seconds 2

copy_shm:  bytes/s moving --mib MiB through a SharedMemory segment (write the
           whole buffer into the segment, read it back out into a reused
           bytearray).
copy_pipe: bytes/s moving the same buffer through multiprocessing.Pipe()
           (send_bytes in a thread, recv_bytes_into a reused bytearray).
lock_incr: increments/s of a spawn-context Value('i') under its lock
           (with v.get_lock(): v.value += 1), one process.
"""
import json
import threading
import time
import multiprocessing as mp
from multiprocessing import shared_memory

import _fixture


def rate(fn, work, seconds):
    """Run fn repeatedly for about `seconds`, return work units per second."""
    fn()  # warm up
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            return n * work / el


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=64)
    p.add_argument("--seconds", type=float, default=2.0)
    args = p.parse_args()
    _fixture.start(args)
    size = args.mib << 20
    data = bytes(range(256)) * (size // 256)
    out = {"python": "%d.%d" % __import__("sys").version_info[:2], "bytes": size}

    sink = bytearray(size)
    shm = shared_memory.SharedMemory(create=True, size=size)
    try:
        def via_shm():
            shm.buf[:size] = data
            sink[:] = shm.buf[:size]
        out["copy_shm"] = rate(via_shm, size, args.seconds)
    finally:
        shm.close()
        shm.unlink()

    r, w = mp.Pipe(duplex=False)

    def via_pipe():
        t = threading.Thread(target=w.send_bytes, args=(data,))
        t.start()
        r.recv_bytes_into(sink)
        t.join()
    out["copy_pipe"] = rate(via_pipe, size, args.seconds)

    v = mp.get_context("spawn").Value("i", 0)

    def incr():
        for _ in range(10000):
            with v.get_lock():
                v.value += 1
    out["lock_incr"] = rate(incr, 10000, args.seconds)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
