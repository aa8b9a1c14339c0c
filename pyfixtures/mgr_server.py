"""A multiprocessing SyncManager server for mpwire's manager tests.

Serves in this process (BaseManager.get_server().serve_forever()) at a TCP
or unix address, with the authkey from MPWIRE_AUTHKEY (hex), and prints one
line "READY <address-as-python-repr>" when it accepts connections. It stops
when a client sends 'shutdown'. Besides SyncManager's typeids it registers:

  Custom      an object with add(a, b), fail() raising ValueError('custom', 42),
              oops() raising a custom exception class, unpicklable() whose
              result cannot be pickled
  get_shared  always the same dict (BaseManager.register('get_shared', callable=...))

Usage: python3 mgr_server.py [--family tcp|unix] [--path SOCKET]
"""
import os
import sys
import threading

import _fixture
from multiprocessing.managers import SyncManager


class CustomError(Exception):
    pass


class Custom(object):
    def add(self, a, b):
        return a + b

    def fail(self):
        raise ValueError("custom", 42)

    def oops(self):
        raise CustomError("oops")

    def unpicklable(self):
        return threading.Lock()

    def echo(self, *args, **kwargs):
        return [list(args), kwargs]


SHARED = {"jobs": 0}


class TestManager(SyncManager):
    pass


TestManager.register("Custom", Custom)
TestManager.register("get_shared", callable=lambda: SHARED)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--family", choices=["tcp", "unix"], default="tcp")
    p.add_argument("--path", help="unix socket path (default: in $TMPDIR)")
    args = p.parse_args()
    _fixture.start(args)
    key = _fixture.authkey_from_env()
    if key is None:
        key = b"mpwire-test"
    if args.family == "tcp":
        address = ("127.0.0.1", 0)
    else:
        import tempfile
        address = args.path or os.path.join(tempfile.gettempdir(), "mgr-%d.sock" % os.getpid())
    m = TestManager(address=address, authkey=key)
    server = m.get_server()
    _fixture.ready("READY", repr(server.address))
    server.serve_forever()


if __name__ == "__main__":
    main()
