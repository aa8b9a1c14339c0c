"""Echo multiprocessing messages on inherited file descriptors.

Go hands this script the ends of Pipes (or socketpairs) as inherited fds; the
script wraps them in multiprocessing.connection.Connection and echoes every
message it receives back until EOF, then prints a summary line.

    python3 pyfixtures/conn_echo.py --rfd 3 --wfd 3            # duplex socket
    python3 pyfixtures/conn_echo.py --rfd 3 --wfd 4 --mode obj  # two one-way pipes

Modes: bytes (recv_bytes/send_bytes), obj (recv/send: replies with
[type name, repr, the object] so the Go side can check what Python decoded),
obj-echo (recv/send the object itself), mid-frame (write a header announcing 100 bytes, 10 bytes of body, then die
by SIGKILL), close (close at once).
"""
import os
import signal
import sys
from multiprocessing.connection import Connection

import _fixture


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--rfd", type=int, required=True, help="fd to receive on")
    p.add_argument("--wfd", type=int, required=True, help="fd to send on (same as --rfd for a duplex socket)")
    p.add_argument("--mode", default="bytes", choices=["bytes", "obj", "obj-echo", "mid-frame", "close"])
    args = p.parse_args()
    _fixture.start(args)
    if args.rfd == args.wfd:
        r = w = Connection(args.rfd)
    else:
        r = Connection(args.rfd, writable=False)
        w = Connection(args.wfd, readable=False)
    info = "rfd readable=%s writable=%s" % (r.readable, r.writable)
    if args.mode == "mid-frame":
        os.write(args.wfd, b"\x00\x00\x00\x64" + b"x" * 10)
        os.kill(os.getpid(), signal.SIGKILL)
    if args.mode == "close":
        r.close()
        if w is not r:
            w.close()
        print("closed", flush=True)
        return
    n = total = 0
    while True:
        try:
            if args.mode == "bytes":
                msg = r.recv_bytes()
                total += len(msg)
                w.send_bytes(msg)
            elif args.mode == "obj-echo":
                w.send(r.recv())
            else:
                obj = r.recv()
                w.send([type(obj).__name__, repr(obj), obj])
        except EOFError:
            break
        n += 1
    r.close()
    if w is not r:
        w.close()
    print("echoed %d message(s), %d bytes, Python %d.%d, %s" % ((n, total) + sys.version_info[:2] + (info,)), flush=True)


if __name__ == "__main__":
    main()
