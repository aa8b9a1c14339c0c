"""Print what Python's Connection.poll and connection.wait report in a fixed scenario.

The Go test runs the same scenario on Go Pipes and compares the lines.

    python3 pyfixtures/conn_poll.py
"""
import os
from multiprocessing import Pipe
from multiprocessing.connection import wait

import _fixture


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    _fixture.start(args)
    for duplex in (True, False):
        r, w = Pipe(duplex=duplex)
        out = []
        out.append(("empty", r.poll(0)))
        out.append(("empty-timeout", r.poll(0.05)))
        os.write(w.fileno(), b"\x00\x00\x00\x05ab")       # a partial frame
        out.append(("partial", r.poll(0)))
        os.write(w.fileno(), b"cde")
        out.append(("whole", r.poll(0)))
        r.recv_bytes()
        out.append(("drained", r.poll(0)))
        w.send_bytes(b"x")
        w.send_bytes(b"y")
        r.recv_bytes()
        out.append(("one-left", r.poll(0)))
        r.recv_bytes()
        w.close()
        out.append(("peer-closed", r.poll(0)))
        try:
            r.recv_bytes()
            out.append(("recv-after-close", "message"))
        except EOFError:
            out.append(("recv-after-close", "EOF"))
        out.append(("after-EOF", r.poll(0)))
        r.close()
        # wait(): three readers, the second and third ready
        pairs = [Pipe(duplex=duplex) for _ in range(3)]
        pairs[1][1].send_bytes(b"1")
        pairs[2][1].close()
        readers = [a for a, _ in pairs]
        ready = wait(readers, 0.05)
        out.append(("wait", ",".join(str(readers.index(c)) for c in ready)))
        out.append(("wait-none", len(wait([pairs[0][0]], 0.05))))
        for line in out:
            print("duplex=%s %s %s" % (duplex, line[0], line[1]))
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
