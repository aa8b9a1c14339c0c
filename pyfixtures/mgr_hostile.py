"""Hostile-but-authenticated client probes for a manager server.

Connects with the authkey from MPWIRE_AUTHKEY (hex) to a server (made for
mpwire's Go-hosted one, started with a small item bound) and sends requests
that cost little to send and much to serve naively: a tuple-key hash bomb,
a shared list whose repr is 10^8 strings long, list multiplication, huge
ranges, dict iterators, deep nesting. Each probe prints one line

  PROBE <name> <outcome> <seconds>

where outcome is "value" (a correct answer), or the exception class the
server answered with (MemoryError from a method, RemoteError for a failed
create or a method that is not exposed, as CPython's server answers). Then a second client
connects and must be served normally: the script prints "SECOND OK" and
"DONE <checks>".

    MPWIRE_AUTHKEY=6b6579 python3 mgr_hostile.py --address tcp:127.0.0.1:5000
"""
import sys
import time

import _fixture
import mgr_client
from mgr_client import check, parse_address
from multiprocessing.managers import SyncManager, RemoteError


def probe(name, fn):
    t0 = time.perf_counter()
    try:
        fn()
        outcome = "value"
    except (MemoryError, RemoteError) as e:
        outcome = type(e).__name__
    print("PROBE %s %s %.3f" % (name, outcome, time.perf_counter() - t0), flush=True)
    return outcome


def bomb(n):
    t = ()
    for _ in range(n):
        t = (t, t)
    return t


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--address", required=True)
    p.add_argument("--hash-n", type=int, default=26,
                   help="levels of the tuple hashed by this client too (default %(default)s)")
    args = p.parse_args()
    _fixture.start(args)
    sys.setrecursionlimit(10000)  # the pickler recurses once per nesting level
    key = _fixture.authkey_from_env() or b"mpwire-test"
    address = parse_address(args.address)
    m = SyncManager(address=address, authkey=key)
    m.connect()

    # Tuple-key hash bomb: 2^60 leaves by content, 60 distinct tuples. The
    # client never hashes it (the proxy only pickles it); the server does.
    d = m.dict()
    t60 = bomb(60)

    def hash_bomb():
        d[t60] = 1
        d.update([(t60, 2)])
        check(t60 in d and d[t60] == 2 and len(d) == 1, "dict keyed by t60")
        l = m.list([t60, 1, t60])
        check(l.count(t60) == 2 and l.index(1) == 1, "list.count/index of t60")
        l.remove(t60)
        check(len(l) == 2, "list.remove of t60")
    probe("hash-bomb", hash_bomb)

    # d.update({t: 1}): a real dict, hashed by this client (2^n steps here).
    tn = bomb(args.hash_n)

    def update_bomb():
        d.update({tn: 3})
        check(d[tn] == 3 and len(d) == 2, "dict.update with {t: 3}")
        check(sorted(d.values()) == [2, 3], "values")
    probe("update-bomb", update_bomb)

    # A list holding 10^8 strings by reference (< 1 KB pickled).
    x = ["x" * 10]
    for _ in range(4):
        x = [x] * 100
    lx = m.list()
    lx.append(x)

    def laughs_str():
        s = str(lx)
        check(s.startswith("[[[[[['xxxxxxxxxx'], ['xxxxxxxxxx']") and s.endswith("... (repr truncated)"),
              "str(proxy) truncated: %s...%s" % (s[:40], s[-40:]))
        check(len(s) < 2 << 20, "str(proxy) bounded: %d" % len(s))
    probe("laughs-str", laughs_str)

    def laughs_getvalue():
        v = lx._getvalue()
        check(v[0][99][99][99][99][0] == "x" * 10, "#GETVALUE value")
    probe("laughs-getvalue", laughs_getvalue)

    def not_exposed():
        try:
            lx._callmethod("no_such_method")
        except RemoteError as e:
            text = str(e)
            check("of <class 'list'> object is not in exposed=" in text, "message names the type: %s" % text[-300:])
            check(len(text) < 10000, "message of %d chars" % len(text))
            raise
    check(probe("not-exposed", not_exposed) == "RemoteError", "not exposed is a RemoteError")

    # l *= 2 until the server's item bound answers MemoryError.
    lm = m.list([0])

    def imul():
        for _ in range(64):
            lm.__imul__(2)
    check(probe("imul", imul) == "MemoryError", "l *= 2 stops at the bound")
    check(len(lm) > 1, "the list kept its last size")

    def extend_range():
        lm.extend(range(10 ** 12))
    check(probe("extend-range", extend_range) == "MemoryError", "extend(range) is refused")

    # A failing create is a #TRACEBACK (RemoteError), as from CPython's
    # server; its text names the MemoryError.
    def memory_traceback(fn):
        def run():
            try:
                fn()
            except RemoteError as e:
                check("MemoryError" in str(e), "create failed with %s" % str(e)[-200:])
                raise
        return run

    check(probe("list-range", memory_traceback(lambda: m.list(range(10 ** 12)))) == "RemoteError",
          "list(range) is refused")
    check(probe("array-range", memory_traceback(lambda: m.Array("i", range(10 ** 12)))) == "RemoteError",
          "Array(range) is refused")

    def mul():
        lm * (10 ** 9)
    check(probe("mul", mul) == "MemoryError", "l * n is refused")

    # Dict iterators each hold a copy of the keys.
    del lm
    dk = m.dict([(i, i) for i in range(4000)])
    its = []

    def iterators():
        for _ in range(1000):
            its.append(iter(dk))
    check(probe("iterators", iterators) == "MemoryError", "iterators stop at the bound")
    del its[:]
    check(sum(1 for _ in iter(dk)) == 4000, "iteration works once iterators are released")

    # Deep nesting stored and read back (as deep as every CPython here
    # pickles without raising RecursionError).
    deep = []
    for _ in range(400):
        deep = [deep]
    v = m.Value("O", None)

    def nesting():
        v.set(deep)
        got = v.get()
        n = 0
        while got:
            got, n = got[0], n + 1
        check(n == 400, "depth %d" % n)
        check(len(str(v)) > 800, "str of the Value")
    probe("nesting", nesting)

    # The first client goes on, and a second one is served normally.
    d2 = m.dict({"a": 1})
    check(d2["a"] == 1, "first client still served")
    m2 = SyncManager(address=address, authkey=key)
    m2.connect()
    d3 = m2.dict()
    d3["k"] = [1, 2]
    l3 = m2.list(range(10))
    check(d3["k"] == [1, 2] and len(l3) == 10 and str(l3) == str(list(range(10))), "second client")
    print("SECOND OK", flush=True)
    print("DONE %d" % mgr_client.checks, flush=True)


if __name__ == "__main__":
    main()
