"""The Python side of the Pipe examples (ports of the multiprocessing.Pipe seeds).

Roles, each on an inherited Connection fd:
  reply     recv() one object, print it, send back a reply tuple
  producer  send one random int 1..10 (the seed's producer_task), close
  consumer  recv() one value and print it (the seed's consumer_task)

    python3 examples/pipe/peer.py --fd 3 --role reply
"""
import os
import random
import argparse
import sys
from multiprocessing.connection import Connection


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--role", choices=["reply", "producer", "consumer"], required=True)
    args = p.parse_args()
    if args.role == "reply":
        conn = Connection(args.fd)
        obj = conn.recv()
        print("(%d) Python received %r" % (os.getpid(), obj), flush=True)
        conn.send(("thanks from Python %d.%d" % sys.version_info[:2], obj, len(obj)))
        conn.close()
    elif args.role == "producer":
        conn = Connection(args.fd, readable=False)
        value = random.randint(1, 10)
        conn.send(value)
        print("Value [%d] send by PID [%d]" % (value, os.getpid()), flush=True)
        conn.close()
    else:
        conn = Connection(args.fd, writable=False)
        print("Value [%d] received by PID [%d]" % (conn.recv(), os.getpid()), flush=True)
        conn.close()


if __name__ == "__main__":
    main()
