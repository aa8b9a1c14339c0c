"""Serve a multiprocessing.connection.Listener for a Go client.

Prints the listening address and READY, then accepts --accept connections.
For each: on success receives one message and replies (bytes mode:
b'echo:' + message; obj mode: [type name, repr, the object]); prints
"OK <n bytes>" or "AUTHFAIL <message>" per connection. The authkey comes from
the hex environment variable MPWIRE_AUTHKEY (unset: authkey=None).

    MPWIRE_AUTHKEY=736563726574 python3 pyfixtures/conn_listener.py --family tcp
"""
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Listener, answer_challenge, deliver_challenge

import _fixture


def address_for(family, address):
    """A Go-style address (host:port, a path, @name) as a Listener address
    and family."""
    if family == "tcp":
        host, _, port = address.rpartition(":")
        return (host or "127.0.0.1", int(port or 0)), "AF_INET"
    if address.startswith("@"):
        address = "\0" + address[1:]
    return address, "AF_UNIX"


def address_text(a):
    """A Listener's address written the Go way (the inverse of address_for):
    host:port, a socket path, or @name for an abstract socket."""
    if isinstance(a, tuple):
        return "%s:%d" % a[:2]
    if isinstance(a, bytes):
        return "@" + a[1:].decode()
    return a


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--family", choices=["tcp", "unix"], default="tcp")
    p.add_argument("--address", default="127.0.0.1:0",
                   help="host:port, a socket path, or @name for an abstract socket")
    p.add_argument("--accept", type=int, default=1, help="connections to accept")
    p.add_argument("--mode", choices=["bytes", "obj", "accept-only"], default="bytes",
                   help="accept-only: close each connection right after authentication, print nothing")
    p.add_argument("--digest", help="Python 3.12+: authenticate by calling deliver_challenge(conn, key, "
                   "digest_name=DIGEST) and answer_challenge by hand instead of Listener's default {sha256}")
    args = p.parse_args()
    _fixture.start(args)
    address, family = address_for(args.family, args.address)
    key = _fixture.authkey_from_env()
    l = Listener(address, family, authkey=None if args.digest else key)
    _fixture.ready(address_text(l.address), "READY")
    for _ in range(args.accept):
        try:
            c = l.accept()
            if args.digest:
                deliver_challenge(c, key, digest_name=args.digest)
                answer_challenge(c, key)
        except AuthenticationError as e:
            print("AUTHFAIL", e, flush=True)
            continue
        if args.mode == "accept-only":
            c.close()
            continue
        if args.mode == "bytes":
            msg = c.recv_bytes()
            c.send_bytes(b"echo:" + msg)
        else:
            msg = c.recv()
            c.send([type(msg).__name__, repr(msg), msg])
            msg = repr(msg).encode()
        print("OK", len(msg), flush=True)
        c.close()
    l.close()
    print("DONE Python %d.%d" % sys.version_info[:2], flush=True)


if __name__ == "__main__":
    main()
