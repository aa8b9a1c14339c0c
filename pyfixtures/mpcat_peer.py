"""Python peers for mpcat's tests (dial, listen, proxy) and its corpora.

Modes:

  listener  Listener(--address, authkey from hex env MPWIRE_AUTHKEY); prints
            "<address> READY"; accepts one connection; receives --count
            messages (recv, or recv_bytes with --bytes), and for each prints
            "GOT <json>" where json holds the repr and, with --expect FILE (one
            Python literal per line, in the order mpcat sends them), whether
            the value equals that literal type-exactly; then echoes it back.
            After the count it sends each literal of --send FILE, closes and
            prints "DONE".
  client    Client(--address, same key) to an mpcat listen/proxy; sends each
            literal of --send FILE (send, or send_bytes of its UTF-8 text with
            --bytes) and receives one reply per message, printing "ECHO
            <json>" ({"repr", "same"}); then receives --count more messages
            printing "GOT <json>" like the listener, and closes.
  manager   A SyncManager server on --address (tcp) with the key; prints
            "<address> READY" and serves until killed.
  manager-client  Connects a SyncManager to --address, creates a dict, sets
            and gets an item, prints "VALUE 1", "KEYERROR 'zz'", "DONE".
  corpus    For every literal of --send FILE and every protocol 0..HIGHEST,
            print one JSON line {"expr", "proto", "hex", "repr", "dis"} where
            dis is pickletools.dis's output (repr is null
            for values Python prints with an address); then the same for
            EXTRAS (recursive, shared, exceptions, complex, class instances).

    MPWIRE_AUTHKEY=736563726574 python3 pyfixtures/mpcat_peer.py listener --address 127.0.0.1:0 --count 1
    python3 pyfixtures/mpcat_peer.py corpus --send cmd/mpcat/testdata/literals.txt | head -1
"""
import io
import json
import math
import pickle
import pickletools
import sys
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

import _fixture
from conn_listener import address_for, address_text

ENV = {"__builtins__": {}, "set": set, "frozenset": frozenset, "float": float,
       "bytearray": bytearray, "bytes": bytes, "tuple": tuple, "list": list,
       "dict": dict, "int": int}


# Values beyond literals for the corpus: (name, code building x, whether
# mpcat's repr is Python's repr for it).
EXTRAS = [
    ("recursive list", "x = []; x.append(x)", True),
    ("recursive dict", "x = {}; x['self'] = x", True),
    ("shared list", "a = [1]; x = [a, a, (a,)]", True),
    ("exception", "x = KeyError('zz')", True),
    ("exception with two args", "x = ValueError('bad', 3)", True),
    ("complex", "x = [complex(1, 2), complex(0, -1.5), complex(-0.0, 2), complex(1.5, float('nan'))]", True),
    ("OrderedDict", "import collections; x = collections.OrderedDict([(1, 'a'), (2, 'b')])", False),
    ("datetime", "import datetime; x = datetime.datetime(2020, 1, 2, 3, 4, 5, 6)", False),
    ("Decimal", "import decimal; x = decimal.Decimal('1.5')", False),
    ("class", "import collections; x = [collections.OrderedDict, len]", False),
    ("bytearray list", "x = [bytearray(b'a'), bytearray(b'a')]", True),
]


def literals(path):
    if not path:
        return []
    out = []
    with open(path, encoding="utf-8", errors="surrogatepass") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(line)
    return out


def same(a, b):
    """Type-exact, nan-aware, -0.0-aware equality."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a) and \
            all(type(x) is type(y) for x, y in zip(a, b))
    return a == b and repr(a) == repr(b)


def report(tag, obj, expected=None, have_expected=False):
    d = {"repr": repr(obj), "type": type(obj).__name__}
    if have_expected:
        d["same"] = same(obj, expected)
        d["want"] = repr(expected)
    print(tag, json.dumps(d), flush=True)


def connect_key():
    return _fixture.authkey_from_env()


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("mode", choices=["listener", "client", "corpus", "manager", "manager-client"])
    p.add_argument("--address", default="127.0.0.1:0")
    p.add_argument("--family", choices=["tcp", "unix"], default=None)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--expect", help="file of literals mpcat will send")
    p.add_argument("--send", help="file of literals to send")
    p.add_argument("--bytes", action="store_true")
    p.add_argument("--no-echo", action="store_true",
                   help="client: send everything without waiting for replies")
    p.add_argument("--raw-first", help="listener: send_bytes of this hex before anything else")
    args = p.parse_args()
    _fixture.start(args)
    if args.mode == "corpus":
        cases = [(expr, eval(expr, ENV), True) for expr in literals(args.send)]
        for name, code, plain in EXTRAS:
            env = {}
            exec(code, env)
            cases.append((name, env["x"], plain))
        for expr, obj, plain in cases:
            for proto in range(pickle.HIGHEST_PROTOCOL + 1):
                data = pickle.dumps(obj, proto)
                out = io.StringIO()
                pickletools.dis(data, out)
                print(json.dumps({"expr": expr, "proto": proto, "hex": data.hex(),
                                  "repr": repr(obj) if plain else None, "dis": out.getvalue()}))
        return
    if args.mode == "manager":
        from multiprocessing.managers import SyncManager
        m = SyncManager(address=("127.0.0.1", 0), authkey=connect_key())
        server = m.get_server()
        _fixture.ready("%s:%d" % server.address[:2], "READY")
        server.serve_forever()
        return
    if args.mode == "manager-client":
        from multiprocessing.managers import SyncManager
        host, _, port = args.address.rpartition(":")
        m = SyncManager(address=(host, int(port)), authkey=connect_key())
        m.connect()
        d = m.dict()
        d["a"] = 1
        print("VALUE", d["a"], flush=True)
        try:
            d["zz"]
        except KeyError as e:
            print("KEYERROR", e, flush=True)
        del d
        print("DONE", flush=True)
        return
    family = args.family or ("unix" if ("/" in args.address or args.address.startswith("@")) else "tcp")
    address, fam = address_for(family, args.address)
    key = connect_key()
    expect = [eval(e, ENV) for e in literals(args.expect)]
    send = [eval(e, ENV) for e in literals(args.send)]
    send_text = literals(args.send)
    if args.mode == "listener":
        l = Listener(address, fam, authkey=key)
        _fixture.ready(address_text(l.address), "READY")
        try:
            c = l.accept()
        except AuthenticationError as e:
            print("AUTHFAIL", e, flush=True)
            return
        if args.raw_first:
            c.send_bytes(bytes.fromhex(args.raw_first))
        for i in range(args.count):
            if args.bytes:
                obj = c.recv_bytes()
                report("GOT", obj)
                c.send_bytes(obj)
            else:
                obj = c.recv()
                report("GOT", obj, expect[i] if i < len(expect) else None, i < len(expect))
                c.send(obj)
        for obj in send:
            c.send(obj)
        c.close()
        l.close()
        print("DONE", flush=True)
        return
    try:
        c = Client(address, fam, authkey=key)
    except AuthenticationError as e:
        print("AUTHFAIL", e, flush=True)
        return
    for obj, text in zip(send, send_text):
        if args.no_echo:
            c.send(obj)
            continue
        if args.bytes:
            c.send_bytes(text.encode("utf-8", "surrogatepass"))
            report("ECHO", c.recv_bytes())
        else:
            c.send(obj)
            report("ECHO", c.recv(), obj, True)
    for i in range(args.count):
        obj = c.recv()
        report("GOT", obj, expect[i] if i < len(expect) else None, i < len(expect))
    c.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
