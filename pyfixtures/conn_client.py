"""Connect to a multiprocessing Listener (e.g. a Go one) with Client().

Sends one message and prints the reply as "REPLY <hex>", or
"AUTHFAIL <message>" if authentication fails. The authkey comes from the hex
environment variable MPWIRE_AUTHKEY (unset: authkey=None).

    MPWIRE_AUTHKEY=736563726574 python3 pyfixtures/conn_client.py --family tcp --address 127.0.0.1:5000
"""
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client

import _fixture
from conn_listener import address_for


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--family", choices=["tcp", "unix"], default="tcp")
    p.add_argument("--address", required=True)
    p.add_argument("--message", default="hello from python", help="text to send with send_bytes")
    args = p.parse_args()
    _fixture.start(args)
    address, family = address_for(args.family, args.address)
    try:
        c = Client(address, family, authkey=_fixture.authkey_from_env())
    except AuthenticationError as e:
        print("AUTHFAIL", e, flush=True)
        return
    c.send_bytes(args.message.encode())
    print("REPLY", c.recv_bytes().hex(), flush=True)
    c.close()


if __name__ == "__main__":
    main()
