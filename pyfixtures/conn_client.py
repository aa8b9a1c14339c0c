"""Connect to multiprocessing Listeners (e.g. Go ones) with Client().

For each target, in order: connect, send one message with send_bytes, print
the reply as "REPLY <hex>" — or "AUTHFAIL <message>" if authentication
fails. A target is FAMILY ADDRESS KEY, where KEY is the authkey in hex or
"-" for authkey=None. With --address instead of --target, the authkey comes
from the hex environment variable MPWIRE_AUTHKEY (unset: None).

    python3 pyfixtures/conn_client.py --target tcp 127.0.0.1:5000 736563726574
    MPWIRE_AUTHKEY=736563726574 python3 pyfixtures/conn_client.py --address 127.0.0.1:5000
"""
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import _fixture
from conn_listener import address_for


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--family", choices=["tcp", "unix"], default="tcp", help="family for --address")
    p.add_argument("--address", help="one target, with the key from MPWIRE_AUTHKEY")
    p.add_argument("--target", nargs=3, action="append", default=[], metavar=("FAMILY", "ADDRESS", "KEY"))
    p.add_argument("--message", default="hello from python", help="text to send with send_bytes")
    args = p.parse_args()
    _fixture.start(args)
    targets = [(f, a, None if k == "-" else bytes.fromhex(k)) for f, a, k in args.target]
    if args.address:
        targets.append((args.family, args.address, _fixture.authkey_from_env()))
    for family, addr, key in targets:
        address, fam = address_for(family, addr)
        try:
            c = Client(address, fam, authkey=key)
        except AuthenticationError as e:
            print("AUTHFAIL", e, flush=True)
            continue
        c.send_bytes(args.message.encode())
        print("REPLY", c.recv_bytes().hex(), flush=True)
        c.close()


if __name__ == "__main__":
    main()
