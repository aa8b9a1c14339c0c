"""Time multiprocessing ping-pong round trips from Python (benchmark driver).

Wraps an inherited fd as a Connection, sends --count messages of --size
bytes (send_bytes) or a pickled list (--obj, send/recv), waiting for each
echo, and prints "ELAPSED <seconds>". The echo side is conn_echo.py --mode bytes or obj-echo (or Go).

    python3 pyfixtures/conn_pingpong.py --fd 3 --count 10000 --size 32
"""
import time
from multiprocessing.connection import Connection

import _fixture


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--obj", action="store_true", help="send/recv a pickled [int, None, str] instead of bytes")
    args = p.parse_args()
    _fixture.start(args)
    c = Connection(args.fd)
    payload = b"x" * args.size
    obj = [42, None, "hello"]
    for _ in range(100):  # warm up
        if args.obj:
            c.send(obj)
            c.recv()
        else:
            c.send_bytes(payload)
            c.recv_bytes()
    t0 = time.perf_counter()
    if args.obj:
        for _ in range(args.count):
            c.send(obj)
            c.recv()
    else:
        for _ in range(args.count):
            c.send_bytes(payload)
            c.recv_bytes()
    elapsed = time.perf_counter() - t0
    c.close()
    print("ELAPSED %.9f" % elapsed, flush=True)


if __name__ == "__main__":
    main()
