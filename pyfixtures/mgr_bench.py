"""Python callers of a manager server for go run ./benchmarks (case manager).

Connects to the server at --address (tcp:HOST:PORT or unix:PATH) with the
authkey MPWIRE_AUTHKEY (hex), makes one shared dict, starts --threads
threads that each make one call (opening their connection), prints READY,
waits for a line on stdin, then every thread alternates d[key] = i and
d[key] (one proxy call each) for --duration seconds. Prints "OPS <calls>
<seconds>": the calls all threads made and the time they ran; then waits
for stdin to close before it exits (its connections stay open until then).

Usage: python3 mgr_bench.py --address unix:/tmp/m.sock --threads 8 --duration 1
"""
import sys
import threading
import time

import _fixture
from multiprocessing.managers import SyncManager


def parse_address(s):
    family, _, rest = s.partition(":")
    if family == "tcp":
        host, _, port = rest.rpartition(":")
        return (host, int(port))
    return rest


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--address", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--duration", type=float, default=1.0)
    args = p.parse_args()
    _fixture.start(args)
    m = SyncManager(address=parse_address(args.address), authkey=_fixture.authkey_from_env())
    m.connect()
    d = m.dict()
    go = threading.Event()
    finish = threading.Event()
    measured = threading.Semaphore(0)
    counts = [0] * args.threads
    spans = [0.0] * args.threads

    def caller(k):
        key = "k%d" % k
        d[key] = 0  # opens this thread's connection
        go.wait()
        t0 = time.perf_counter()
        end = t0 + args.duration
        n = i = 0
        while True:
            d[key] = i
            d[key]
            n += 2
            i += 1
            if i & 7 == 0 and time.perf_counter() >= end:
                break
        counts[k] = n
        spans[k] = time.perf_counter() - t0
        measured.release()
        # This thread's connection closes when the thread ends (proxies
        # keep it in a threading.local): keep it open until told.
        finish.wait()

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(args.threads)]
    for t in threads:
        t.start()
    while len(d) < args.threads:
        time.sleep(0.01)
    _fixture.ready("READY")
    sys.stdin.readline()
    go.set()
    for _ in threads:
        measured.acquire()
    print("OPS %d %.6f" % (sum(counts), max(spans)), flush=True)
    # Keep the connections open until stdin closes, so that the server's
    # CPU time (per-thread counters) can be read while its threads live.
    sys.stdin.readline()
    finish.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
