"""Round-trip Python values through a Go peer with Connection.send/recv.

Wraps an inherited duplex fd, sends each value of a fixed list of every
pickle-able builtin type with send(), expects the Go side to send it back
(decoded and re-encoded by Go), and checks equality and exact type. Prints
one line per value ("ok <i> <type>" or "MISMATCH <i> ...") and "DONE <n>".

    python3 pyfixtures/conn_values.py --fd 3
"""
import sys
from multiprocessing.connection import Connection

import _fixture

SHARED = [1, 2, 3]

VALUES = [
    None, True, False,
    0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**63 - 1, -2**63, 2**64, -(2**100), 10**60,
    0.0, -0.0, 1.5, -2.25e-300, 1e308, float("inf"), float("-inf"),
    "", "hi", "héllo ☃ 𝄞", "x" * 100000,
    b"", b"\x00\xff", bytes(range(256)) * 300,
    bytearray(), bytearray(b"ab\x00"),
    [], [1, [2, [3, []]]], list(range(5000)),
    (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4, "five"),
    {}, {"k": (1, True)}, {1: "a", (1, 2): None, frozenset({1}): b"x", 2.5: [], None: 0, b"b": "bytes key"},
    set(), {1, 2, 3}, {"a", (1, 2)}, frozenset(), frozenset({"a", 1}),
    [SHARED, SHARED, {"again": SHARED}],
    {"nested": [{"deep": [(1, {2: {3: [4]}})]}]},
]


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--fd", type=int, required=True)
    args = p.parse_args()
    _fixture.start(args)
    c = Connection(args.fd)
    bad = 0
    for i, v in enumerate(VALUES):
        c.send(v)
        back = c.recv()
        # repr also checks order (dict insertion order, list/tuple contents);
        # a set's iteration order may legitimately differ after a rebuild.
        same_repr = isinstance(v, (set, frozenset)) or repr(back) == repr(v)
        if back == v and type(back) is type(v) and same_repr:
            print("ok", i, type(v).__name__)
        else:
            bad += 1
            r = repr(back)
            print("MISMATCH", i, type(v).__name__, type(back).__name__, r[:200])
    c.close()
    print("DONE", len(VALUES), "bad", bad, "Python %d.%d" % sys.version_info[:2], flush=True)


if __name__ == "__main__":
    main()
