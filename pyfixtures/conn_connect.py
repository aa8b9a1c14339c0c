"""Time authenticated multiprocessing Client() connects (benchmark driver).

Connects --count times to --address with the authkey from MPWIRE_AUTHKEY
(hex), closing each connection at once, and prints "ELAPSED <seconds>".

    MPWIRE_AUTHKEY=6b6579 python3 pyfixtures/conn_connect.py --address 127.0.0.1:5000
"""
import time
from multiprocessing.connection import Client

import _fixture
from conn_listener import address_for


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--family", choices=["tcp", "unix"], default="tcp")
    p.add_argument("--address", required=True)
    p.add_argument("--count", type=int, default=200)
    args = p.parse_args()
    _fixture.start(args)
    address, family = address_for(args.family, args.address)
    key = _fixture.authkey_from_env()
    Client(address, family, authkey=key).close()  # warm up
    t0 = time.perf_counter()
    for _ in range(args.count):
        Client(address, family, authkey=key).close()
    print("ELAPSED %.9f" % (time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
