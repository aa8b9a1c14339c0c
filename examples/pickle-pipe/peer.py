"""The Python side of examples/pickle-pipe.

Wraps an inherited fd as a multiprocessing Connection, receives one pickled
object with recv(), prints what it got, and replies with send().

    python3 examples/pickle-pipe/peer.py --fd 3
"""
import argparse
import sys
from multiprocessing.connection import Connection


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fd", type=int, required=True)
    args = p.parse_args()
    conn = Connection(args.fd)
    obj = conn.recv()
    print("Python %d.%d received %r (a %s)" % (sys.version_info[:2] + (obj, type(obj).__name__)), flush=True)
    numbers = [x for x in obj.get("numbers", []) if isinstance(x, int)]
    conn.send({"greeting": "hello from Python %d.%d" % sys.version_info[:2],
               "sum": sum(numbers), "echo": obj, "as_tuple": tuple(numbers)})
    conn.close()


if __name__ == "__main__":
    main()
