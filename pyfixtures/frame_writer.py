"""Write multiprocessing frames with Connection.send_bytes to an inherited fd.

Used by the harness smoke test and the quick start: Go hands this script one
end of a socketpair or pipe as an inherited file descriptor; the script wraps
it in multiprocessing.connection.Connection and sends each --hex payload as
one frame, then (with --echo) echoes frames it receives until EOF.

    python3 pyfixtures/frame_writer.py --fd 3 --hex 68656c6c6f
"""
import sys
from multiprocessing.connection import Connection

import _fixture


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--fd", type=int, required=True, help="inherited file descriptor to use")
    p.add_argument("--hex", action="append", default=[],
                   help="payload to send as one frame, in hex (repeatable; '' sends an empty frame)")
    p.add_argument("--echo", action="store_true",
                   help="after sending, echo every received frame back until EOF")
    args = p.parse_args()
    _fixture.start(args)
    conn = Connection(args.fd)
    for h in args.hex:
        conn.send_bytes(bytes.fromhex(h))
    if args.echo:
        while True:
            try:
                msg = conn.recv_bytes()
            except EOFError:
                break
            conn.send_bytes(msg)
    conn.close()
    print("sent %d frame(s) from Python %d.%d" % ((len(args.hex),) + sys.version_info[:2]), flush=True)


if __name__ == "__main__":
    main()
