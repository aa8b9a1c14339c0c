"""mpwire pickle corpus: CPython's pickles of many values, and a type-exact checker.

Modes (stdin/stdout carry JSON lines, one object per line; bytes are hex):

  gen      Print the corpus.  For every named value and every protocol 0..5 one
           line {"name", "kind": "value", "proto", "hex", "plain", "desc"?}; for every
           hand-written or pickletester pickle {"name", "kind": "raw", "proto":
           null, "hex"}; for pickles Python itself refuses {"kind": "error"};
           {"name", "proto", "skip": reason} when this interpreter cannot dump
           a value at a protocol.  The last line is {"summary": ...} with the
           opcodes the corpus covers.  desc (acyclic plain values only) is a
           JSON tree of the value, see describe_plain; tdesc (datetime, date,
           timedelta) is described in describe_time.
  check    Read lines {"name", "hex", "tag"?, "orig"?, "expr"?, "dump"?,
           "unordered"?}.  The
           expected value is, in this order: eval(expr) if given, the corpus
           value called name, or pickle.loads(orig).  Load hex and compare it
           with the expected value type-exactly (type(x) is type(y) at every
           level, nan-aware, -0.0 distinct, dict order, and the same
           object-sharing structure for mutable objects).  Print one line
           {"tag", "name", "ok", "err"?, "back"?}: back is pickle.dumps(loaded,
           dump) in hex when dump is given (so Go can read it back).  With
           "unordered": true dict order is ignored (values built from Go maps).
  describe Print type, repr and pickletools.dis of one pickle given in hex
           (argument or stdin), for debugging by hand.
  list     Print the case names with their kind.

    python3 pyfixtures/pickle_corpus.py gen | head -3
    echo '{"name":"int_255","hex":"80044bff2e"}' | python3 pyfixtures/pickle_corpus.py check
"""
import argparse
import ast
import collections
import datetime
import decimal
import fractions
import io
import json
import math
import os
import pathlib
import pickle
import pickletools
import struct
import sys
import sysconfig
import time
import uuid

import _fixture
import pickle_classes as pc
from pickle_classes import (Color, DictSub, Empty, Flags, GetState, IntSub, ListSub, MyError,
                            NewArgs, NewArgsEx, Pair, Point, Reduced, ReducedState, SetSub,
                            Slotted, SlottedDict, StrSub)

PROTOCOLS = range(0, pickle.HIGHEST_PROTOCOL + 1)


class C:
    """test.pickletester.C: the DATA0..DATA4 pickles name it __main__.C."""

    def __eq__(self, other):
        return self.__dict__ == other.__dict__


C.__module__ = "__main__"
sys.modules["__main__"].C = C


# --------------------------------------------------------------------------
# The corpus: name -> factory.  Factories return fresh objects so that the
# checker never compares an object with itself.  PLAIN cases hold only
# None/bool/int/float/str/bytes/list/tuple/dict/set/frozenset/bytearray, the
# types a Go codec can map natively and re-encode byte-identically.

VALUES = collections.OrderedDict()
PLAIN = set()


def case(name, factory, plain=False):
    if name in VALUES:
        raise ValueError("duplicate case " + name)
    VALUES[name] = factory
    if plain:
        PLAIN.add(name)


def plain(name, factory):
    case(name, factory, plain=True)


def _ints():
    vals = [0, 1, -1, 2, 100, 127, 128, 255, 256, -255, -256, -257, 1000, 65535, 65536,
            -65535, -65536, -65537, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1,
            2 ** 32 - 1, 2 ** 32, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63, -2 ** 63, -2 ** 63 - 1,
            2 ** 64 - 1, 2 ** 64, -2 ** 64, 2 ** 64 + 1, 10 ** 30, -10 ** 30, 10 ** 100,
            -(10 ** 100), 2 ** 2039, 2 ** 2039 - 1, -2 ** 2039, 2 ** 2040, -2 ** 2040 - 1,
            2 ** 4000 + 12345, -(3 ** 3000)]
    for v in vals:
        digits = str(abs(v)) if abs(v) < 10 ** 25 else "bits%d" % abs(v).bit_length()
        plain(("int_m" if v < 0 else "int_") + digits, (lambda v=v: v))


_ints()
plain("none", lambda: None)
plain("true", lambda: True)
plain("false", lambda: False)
plain("bools_and_ints", lambda: [True, 1, False, 0, (True, 1)])

for _n, _f in [("0", 0.0), ("m0", -0.0), ("1_5", 1.5), ("m1_5", -1.5), ("tenth", 0.1),
               ("third", 1 / 3), ("1e16", 1e16), ("1e300", 1e300), ("m1e_300", -1e-300),
               ("inf", math.inf), ("minf", -math.inf), ("nan", math.nan),
               ("subnormal_min", 5e-324), ("subnormal", 2.5e-310),
               ("normal_min", 2.2250738585072014e-308), ("max", 1.7976931348623157e308),
               ("int_valued", 12345.0), ("2p53", 2.0 ** 53)]:
    plain("float_" + _n, (lambda v=_f: v))
plain("float_list_nan_inf", lambda: [math.nan, math.inf, -math.inf, -0.0])

_STRS = {
    "empty": "", "ascii": "abc", "space": "hello world", "len255": "a" * 255, "len256": "b" * 256,
    "len65536": "c" * 65536, "latin1": "h\xe9llo w\xf6rld \xff", "cyrillic": "\u041f\u0440\u0438\u0432\u0435\u0442",
    "cjk": "\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8", "astral": "\U0001F600\U0001D11E x \U0010FFFF",
    "nul": "a\x00b", "newlines": "line1\nline2\r\nend\n", "backslash": "a\\b\\\\c",
    "backslash_u": "\\u1234 and \\U0001F600 literally", "ctrl": "\x01\x1a\x1b\x7f\x80\x9f",
    "quotes": "it's \"quoted\"", "bom": "\ufeffbom", "multibyte255": "\u20ac" * 85,
    "multibyte_over255": "\u20ac" * 86, "long_nonascii": "\u0436\U0001F40D" * 5000,
    "whitespace": " \t\n\x0b\x0c\r", "digits": "12345", "percent": "%s %d %%",
}
for _n, _s in _STRS.items():
    plain("str_" + _n, (lambda v=_s: v))
case("str_lone_surrogate", lambda: "a\ud800b\udfff")  # not valid UTF-8: surrogatepass on the wire

_BYTES = {
    "empty": b"", "ascii": b"abc", "all256": bytes(range(256)), "nul255": b"\x00" * 255,
    "len256": b"x" * 256, "high": b"\x80\xff\xfe", "utf8": "\u20ac".encode(), "len70000": bytes(range(256)) * 273 + b"!",
    "newline": b"a\nb\\c",
}
for _n, _b in _BYTES.items():
    plain("bytes_" + _n, (lambda v=_b: v))
for _n, _b in [("empty", b""), ("ascii", b"abc"), ("all256", bytes(range(256))), ("len300", b"y" * 300)]:
    plain("bytearray_" + _n, (lambda v=_b: bytearray(v)))
plain("bytes_and_bytearray", lambda: [b"same", bytearray(b"same"), b"", bytearray()])

plain("list_empty", lambda: [])
plain("list_one", lambda: [1])
plain("list_three", lambda: [1, "two", 3.0])
plain("list_1000", lambda: list(range(1000)))
plain("list_1001", lambda: list(range(1001)))
plain("list_2500_mixed", lambda: [i if i % 3 else str(i) for i in range(2500)])
plain("list_nested", lambda: [[[]], [[1], [2, [3]]], []])
plain("list_of_none", lambda: [None] * 5)
plain("tuple_empty", lambda: ())
plain("tuple1", lambda: (1,))
plain("tuple2", lambda: (1, "a"))
plain("tuple3", lambda: (1, "a", None))
plain("tuple4", lambda: (1, 2, 3, 4))
plain("tuple_long", lambda: tuple(range(50)))
plain("tuple_nested", lambda: ((), ((),), (1, (2, (3, ())))))
plain("tuple_of_lists", lambda: ([], [1], [[2]]))
plain("dict_empty", lambda: {})
plain("dict_str", lambda: {"a": 1, "b": "two", "c": None})
plain("dict_order", lambda: {"z": 1, "a": 2, "m": 3, "b": 4})
plain("dict_1000", lambda: {"k%d" % i: i for i in range(1000)})
plain("dict_1001", lambda: {i: -i for i in range(1001)})
plain("dict_int_keys", lambda: {0: "zero", -1: "m1", 2 ** 40: "big", 2 ** 70: "huge"})
plain("dict_mixed_keys", lambda: {None: 1, True: 2, 3: 3, 1.5: 4, "s": 5, b"b": 6,
                                   (1, "t"): 7, frozenset({1, 2}): 8, (): 9, -0.5: 10})
plain("dict_tuple_keys", lambda: {(1, 2): "a", (1, (2, 3)): "b", ("x",): "c"})
plain("dict_frozenset_keys", lambda: {frozenset(): 0, frozenset({"a"}): 1, frozenset({1, (2, 3)}): 2})
plain("dict_nested", lambda: {"a": {"b": {"c": [1, {"d": ()}]}}})
plain("dict_bool_int_keys", lambda: {True: "t", 2: "two", False: "f"})
plain("set_empty", lambda: set())
plain("set_ints", lambda: {1, 2, 3})
plain("set_mixed", lambda: {None, "a", (1, 2), 3.5, b"x", frozenset({1})})
plain("set_1000", lambda: set(range(1000)))
plain("set_1001", lambda: set(range(1001)))
plain("dict_one", lambda: {"only": 1})
plain("list_two", lambda: [None, None])
plain("frozenset_empty", lambda: frozenset())
plain("frozenset_ints", lambda: frozenset({1, 2, 3}))
plain("frozenset_nested", lambda: frozenset({frozenset({1}), (1, frozenset())}))
plain("list_of_sets", lambda: [set(), {1}, frozenset({2})])
plain("message_like", lambda: {"id": 42, "op": "put", "args": ("q", [1.5, None]), "kw": {},
                               "payload": b"\x00\x01", "ok": True})

# Sharing and self-reference (identity structure must survive).


def _shared_list():
    a = [1, 2]
    return [a, a, [a]]


def _shared_dict():
    d = {"k": 1}
    return {"x": d, "y": d, "z": [d]}


def _shared_tuple():
    t = (1, [2])
    return [t, t]


def _shared_strs():
    s = "shared string"
    b = b"shared bytes"
    return [s, s, b, b, (s, b)]


def _self_list():
    l = [1]
    l.append(l)
    return l


def _self_dict():
    d = {"a": 1}
    d["self"] = d
    return d


def _tuple_cycle():
    l = []
    t = (l, 1)
    l.append(t)
    return t


def _list_tuple_cycle():
    l = [0]
    t = (l,)
    l.append(t)
    return l


def _dict_cycle_via_tuple():
    d = {}
    d["t"] = (d, d)
    return d


def _shared_set():
    s = {1, 2}
    return [s, (s,), {"s": s}]


def _many_memo():
    # > 256 memoized objects, so protocol 1+ need LONG_BINPUT/LONG_BINGET.
    strs = ["s%d" % i for i in range(300)]
    return strs + list(reversed(strs))


def _many_shared_lists():
    ls = [[i] for i in range(300)]
    return ls + ls


def _shared_bytearray():
    b = bytearray(b"ba")
    return [b, b]


plain("shared_list", _shared_list)
plain("shared_dict", _shared_dict)
plain("shared_tuple", _shared_tuple)
plain("shared_strs", _shared_strs)
plain("shared_set", _shared_set)
# Equal but distinct objects: CPython memoizes by identity, so it writes each
# one out in full (a byte-identical encoder must not merge them).
plain("distinct_equal_strs", lambda: [str(10 ** 6), str(10 ** 6), "".join(["a", "b"]), "".join(["a", "b"])])
plain("distinct_equal_bytes", lambda: [bytes([120] * 3), bytes([120] * 3)])
plain("distinct_equal_tuples", lambda: [tuple([1, 2]), tuple([1, 2])])
plain("distinct_equal_frozensets", lambda: [frozenset([1]), frozenset([1])])
plain("shared_bytearray", _shared_bytearray)
plain("self_list", _self_list)
plain("self_dict", _self_dict)
plain("tuple_cycle", _tuple_cycle)
plain("list_tuple_cycle", _list_tuple_cycle)
plain("dict_cycle_via_tuple", _dict_cycle_via_tuple)
plain("memo_300_strs", _many_memo)
plain("memo_300_lists", _many_shared_lists)
plain("deep_list_200", lambda: _deep(200, lambda x: [x]))
plain("deep_dict_200", lambda: _deep(200, lambda x: {"k": x}))
plain("deep_tuple_200", lambda: _deep(200, lambda x: (x,)))


def _deep(n, wrap):
    v = 0
    for _ in range(n):
        v = wrap(v)
    return v


# Beyond plain data: standard library types.
case("complex", lambda: 3 + 4j)
case("complex_signed_zero_nan", lambda: complex(-0.0, math.nan))
case("date", lambda: datetime.date(2024, 2, 29))
case("date_min", lambda: datetime.date.min)
case("time", lambda: datetime.time(12, 30, 15, 123456))
case("time_tz", lambda: datetime.time(1, 2, 3, tzinfo=datetime.timezone.utc))
case("time_fold", lambda: datetime.time(1, 2, 3, fold=1))
case("datetime_naive", lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, 6))
case("datetime_utc", lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.timezone.utc))
case("datetime_offset", lambda: datetime.datetime(1999, 12, 31, 23, 59, 59,
                                                  tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST")))
case("datetime_negoffset", lambda: datetime.datetime(2000, 6, 1, tzinfo=datetime.timezone(-datetime.timedelta(hours=8))))
case("datetime_fold", lambda: datetime.datetime(2021, 11, 7, 1, 30, fold=1))
case("datetime_min", lambda: datetime.datetime.min)
case("datetime_max", lambda: datetime.datetime.max)
case("datetime_epoch_utc", lambda: datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
case("timedelta", lambda: datetime.timedelta(days=1, seconds=2, microseconds=3))
case("timedelta_negative", lambda: datetime.timedelta(days=-1, seconds=5, microseconds=7))
case("timedelta_zero", lambda: datetime.timedelta(0))
case("timedelta_max", lambda: datetime.timedelta.max)
case("timezone_utc", lambda: datetime.timezone.utc)
case("timezone_named", lambda: datetime.timezone(datetime.timedelta(hours=-3), "BRT"))
case("decimal", lambda: decimal.Decimal("3.14"))
case("decimal_trailing_zero", lambda: decimal.Decimal("1.50"))
case("decimal_neg_zero", lambda: decimal.Decimal("-0"))
case("decimal_nan_inf", lambda: [decimal.Decimal("NaN"), decimal.Decimal("-Infinity"), decimal.Decimal("1E+100")])
case("fraction", lambda: fractions.Fraction(-1, 3))
case("ordereddict", lambda: collections.OrderedDict([("b", 1), ("a", [2]), ("c", None)]))
case("ordereddict_empty", lambda: collections.OrderedDict())
case("defaultdict", lambda: collections.defaultdict(list, {"a": [1]}))
case("counter", lambda: collections.Counter("abracadabra"))
case("deque", lambda: collections.deque([1, "2", None], maxlen=5))
case("namedtuple", lambda: Pair(1, "r"))
case("range", lambda: range(1, 10, 3))
case("slice", lambda: slice(1, None, -1))
case("ellipsis", lambda: Ellipsis)
case("notimplemented", lambda: NotImplemented)
case("type_int", lambda: int)
case("type_none", lambda: type(None))
case("class_point", lambda: Point)
case("builtin_function", lambda: len)
case("module_function", lambda: math.sqrt)
case("struct_time", lambda: time.gmtime(0))
case("uuid", lambda: uuid.UUID("12345678-1234-5678-1234-567812345678"))
case("purepath", lambda: pathlib.PurePosixPath("/tmp/x y/\u00e9"))
case("enum", lambda: [Color.RED, Color.GREEN])
case("intflag", lambda: Flags.R | Flags.W)

# Classes defined in pickle_classes.
case("obj_point", lambda: Point(1, "two"))
case("obj_point_nested", lambda: Point([1, 2], {"k": Point()}))
case("obj_empty", lambda: Empty())
case("obj_slotted", lambda: Slotted(1, [2]))
case("obj_slotted_missing", lambda: Slotted("only a"))
case("obj_slotted_dict", lambda: SlottedDict("s", extra=1))
case("obj_reduced", lambda: Reduced(1, (2, 3)))
case("obj_reduced_state", lambda: _reduced_state())
case("obj_newargs", lambda: NewArgs(1, "b"))
case("obj_newargs_ex", lambda: NewArgsEx([1], key="k"))
case("obj_getstate", lambda: GetState(7))
case("obj_listsub", lambda: _with_attr(ListSub([1, 2]), tag="l"))
case("obj_dictsub", lambda: _with_attr(DictSub(a=1), tag="d"))
case("obj_setsub", lambda: SetSub({1, 2}))
case("obj_intsub", lambda: IntSub(5))
case("obj_strsub", lambda: StrSub("s"))
case("obj_shared", lambda: _shared_objs())
case("obj_self_ref", lambda: _self_obj())
case("obj_ext", lambda: [pc.Ext1(), pc.Ext2(), pc.Ext4(), pc.Ext1])
case("pickletester_create_data", lambda: _create_data())

# Exceptions.
case("exc_valueerror", lambda: ValueError("x"))
case("exc_keyerror", lambda: KeyError("k"))
case("exc_noargs", lambda: RuntimeError())
case("exc_multiargs", lambda: TypeError("a", 1, None))
case("exc_oserror", lambda: OSError(2, "No such file or directory"))
case("exc_oserror_filename", lambda: FileNotFoundError(2, "No such file", "/x"))
case("exc_stopiteration", lambda: StopIteration(42))
case("exc_unicodedecode", lambda: UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"))
case("exc_custom", lambda: MyError("boom", 7))
case("exc_with_attr", lambda: _with_attr(ValueError("v"), note="extra"))
case("exc_list", lambda: [ValueError("a"), KeyError("b"), ZeroDivisionError("c")])


def _with_attr(o, **kw):
    o.__dict__.update(kw)
    return o


def _reduced_state():
    r = ReducedState([1, 2])
    r.flag = True
    return r


def _shared_objs():
    p = Point(1, 2)
    return [p, p, {"p": p}]


def _self_obj():
    p = Point(1)
    p.y = p
    return p


def _create_data():
    c = C()
    c.foo = 1
    c.bar = 2
    x = [0, 1, 2.0, 3.0 + 0j]
    x.extend([1, -1, 0xff, -0xff, -0xff - 1, 0xffff, -0xffff, -0xffff - 1,
              0x7fffffff, -0x7fffffff, -0x7fffffff - 1])
    y = ("abc", "abc", c, c)
    x.append(y)
    x.append(y)
    x.append(5)
    return x


# --------------------------------------------------------------------------
# Raw pickles: hand-written opcodes (the ones CPython 3 never writes) and
# Python 2 / pickletester pickles.  The expected value is pickle.loads(raw).

RAW = collections.OrderedDict()


def raw(name, data):
    RAW[name] = data


raw("op_int_bool_true", b"I01\n.")
raw("op_int_bool_false", b"I00\n.")
raw("op_int_maxint64", b"I9223372036854775807\n.")
raw("op_int_negative", b"I-42\n.")
raw("op_long_suffix", b"L123456789012345678901234567890L\n.")
raw("op_long_no_suffix", b"L-5\n.")
raw("op_long4", b"\x80\x02\x8b\x01\x00\x00\x00\xff.")
raw("op_long1_empty", b"\x80\x02\x8a\x00.")
raw("op_float_text", b"F-1.25e-10\n.")
raw("op_float_text_nan", b"Fnan\n.")
raw("op_float_text_subnormal", b"F2.5e-310\n.")
raw("op_float_text_min_subnormal", b"F4.9406564584124654e-324\n.")
raw("op_float_text_underflow", b"F-1e-400\n.")
raw("op_string_single", b"S'abc'\np0\n.")
raw("op_string_double", b'S"with \\"quotes\\""\n.')
raw("op_string_escapes", b"S'a\\nb\\x41\\\\'\n.")
raw("op_string_empty", b"S''\n.")
raw("op_binstring", b"T\x03\x00\x00\x00abc.")
raw("op_binstring_300", b"T" + struct.pack("<I", 300) + b"x" * 300 + b".")
raw("op_short_binstring", b"U\x03abc.")
raw("op_short_binstring_empty", b"\x80\x03U\x00q\x00.")
raw("op_unicode_escapes", b"V\\u03c0 \\U0001f600 caf\xe9\n.")
raw("op_binunicode_py2", b"X\x02\x00\x00\x00\xcf\x80.")
raw("op_binunicode8", b"\x80\x04\x8d\x04\x00\x00\x00\x00\x00\x00\x00\xe2\x82\xac\x00.")
raw("op_binbytes8", b"\x80\x04\x8e\x04\x00\x00\x00\x00\x00\x00\x00\xe2\x82\xac\x00.")
raw("op_bytearray8", b"\x80\x05\x96\x03\x00\x00\x00\x00\x00\x00\x00xxx.")
raw("op_binbytes", b"\x80\x03B\x04\x00\x00\x00\xe2\x82\xac\x00.")
raw("op_dup_self_append", b"]2a.")
raw("op_dup_tuple", b"((l2t.")
raw("op_pop", b"K\x01K\x020.")
raw("op_pop_mark", b"K\x01(K\x02K\x031.")
raw("op_get_put_text", b"((lp100000\ng100000\nt.")
raw("op_binget", b"(]q\xffh\xfft.")
raw("op_long_binget", b"(]r\x00\x00\x01\x00j\x00\x00\x01\x00t.")
raw("op_memo_get_tuple", b"((Kdtp0\nh\x00l.")
raw("op_list_mark", b"(I1\nI2\nl.")
raw("op_dict_mark", b"(S'a'\nI1\nS'b'\nI2\nd.")
raw("op_tuple_mark", b"(I1\nNt.")
raw("op_frame_readline", b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00I42\n.")
raw("op_two_frames", b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00]\x94\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01a.")
raw("op_inst", b"(ipickle_classes\nPoint\np0\n(dp1\nVx\np2\nI1\nsVy\np3\nI2\nsb.")
raw("op_inst_args", b"(I5\nI6\nipickle_classes\nPoint\np0\n.")
raw("op_obj", b"(cpickle_classes\nPoint\nK\x07o}(X\x01\x00\x00\x00zK\x03ub.")
raw("op_global_py2_builtin", b"c__builtin__\nset\n]K\x01aK\x02a\x85R.")
raw("op_global_exceptions", b"\x80\x02cexceptions\nValueError\nq\x00U\x03badq\x01\x85q\x02Rq\x03.")
raw("op_py2_standarderror", b"\x80\x02cexceptions\nStandardError\nq\x00)Rq\x01.")
raw("op_py2_module_rename", b"\x80\x02cUserDict\nUserDict\nq\x00)\x81q\x01}q\x02U\x04dataq\x03}q\x04sb.")
raw("op_picklebuffer_readonly", pickle.dumps(pickle.PickleBuffer(b"abc"), protocol=5))
raw("op_picklebuffer_bytearray", pickle.dumps(pickle.PickleBuffer(bytearray(b"abc")), protocol=5))
raw("op_xrange_compat", b"\x80\x02c__builtin__\nxrange\nK\x01K\x07K\x01\x87R.")
raw("op_newobj_ex", b"\x80\x04\x8c\x0epickle_classes\x8c\tNewArgsEx\x93K\x05\x85}\x8c\x03key\x8c\x01vs\x92.")
raw("op_build_slots_tuple", b"\x80\x02cpickle_classes\nSlotted\n)\x81N}X\x01\x00\x00\x00aK\x01s\x86b.")
raw("op_additems_frozenset", b"\x80\x04(K\x01K\x02\x91\x8f(K\x03\x90\x86.")
# Python key equality: 1 == 1.0 == True, 0.0 == -0.0, (1, 2) == (1.0, 2),
# frozensets by value, NaN only by identity; the first key object is kept.
raw("op_dict_dup_numeric_keys", b"\x80\x02}(K\x01X\x01\x00\x00\x00aG?\xf0\x00\x00\x00\x00\x00\x00"
    b"X\x01\x00\x00\x00b\x88X\x01\x00\x00\x00cu.")
raw("op_dict_signed_zero_keys", b"\x80\x02}(G\x00\x00\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00a"
    b"G\x80\x00\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00bu.")
raw("op_dict_nan_keys_distinct", b"\x80\x02}(G\x7f\xf8\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00a"
    b"G\x7f\xf8\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00bu.")
raw("op_dict_nan_key_shared", b"\x80\x02}(G\x7f\xf8\x00\x00\x00\x00\x00\x00q\x00X\x01\x00\x00\x00a"
    b"h\x00X\x01\x00\x00\x00bu.")
raw("op_dict_bigint_float_key", b"\x80\x02}(\x8a\x08\x00\x00\x00\x00\x00\x00\x20\x00X\x01\x00\x00\x00a"
    b"GC@\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00bu.")
raw("op_dict_tuple_key_equiv", b"\x80\x02}(K\x01K\x02\x86X\x01\x00\x00\x00aG?\xf0\x00\x00\x00\x00\x00\x00"
    b"K\x02\x86X\x01\x00\x00\x00bu.")
raw("op_dict_str_bytes_keys", b"\x80\x03}(X\x01\x00\x00\x00aK\x01C\x01aK\x02u.")
raw("op_set_dup_numeric", b"\x80\x04\x8f(K\x01G?\xf0\x00\x00\x00\x00\x00\x00\x88\x90.")
raw("op_frozenset_key_order", b"\x80\x04}((K\x01K\x02\x91X\x01\x00\x00\x00a(K\x02K\x01\x91X\x01\x00\x00\x00bu.")
raw("op_ext1", b"\x80\x02\x82\xf0)\x81.")
raw("op_ext2", b"\x80\x02\x83\x34\x12)\x81.")
raw("op_ext4", b"\x80\x02\x84\x78\x56\x34\x12)\x81.")


def _pickletester_data():
    """DATA* pickles from the interpreter's own Lib/test/pickletester.py, if installed."""
    path = os.path.join(sysconfig.get_paths()["stdlib"], "test", "pickletester.py")
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError):
        return
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id.startswith("DATA")
                and not node.targets[0].id.endswith("_DIS")):
            try:
                v = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(v, bytes):
                yield "pickletester_" + node.targets[0].id, v


# Pickles CPython refuses to load: a decoder must reject them too.
ERRORS = collections.OrderedDict([
    ("err_empty", b""),
    ("err_no_stop", b"K\x01"),
    ("err_truncated_binunicode", b"\x80\x04X\x05\x00\x00\x00ab"),
    ("err_binunicode8_huge", b"\x80\x04\x8d\x00\x00\x00\x00\x00\x01\x00\x00abc."),
    ("err_bad_opcode", b"\xff."),
    ("err_stack_underflow", b"a."),
    ("err_memo_missing", b"\x80\x04h\x05."),
    ("err_negative_put", b"Va\np-1\n."),
    ("err_bad_string_quote", b"S'abc\n."),
    ("err_badly_escaped_string", b"S'\\'\n."),
    ("err_string_space_after_quote", b"S' ' \n."),
    ("err_unicode_truncated_escape", b"V\\u12\n."),
    ("err_unicode_escape_out_of_range", b"V\\U00110000\n."),
    ("err_global_empty_module", b"c\nlog\n."),
    ("err_reduce_none", b"N)R."),
    ("err_int_junk", b"I12JUNK\n."),
    ("err_int_too_many_digits", b"I" + b"9" * 5000 + b"\n."),
    ("err_persid", b"Pfoo\n."),
    ("err_binpersid", b"K\x01Q."),
    ("err_next_buffer", b"\x80\x05\x97."),
    ("err_readonly_buffer_empty_stack", b"\x80\x05\x98."),
    ("err_mark_missing", b"K\x01t."),
    ("err_setitem_on_list", b"]K\x01K\x02s."),
    ("err_invalid_utf8", b"\x80\x04\x8c\x02\xff\xfe."),
    ("err_frame_overrun", b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N."),
    ("err_unhashable_key", b"}]K\x01s."),
    # FLOAT is read by PyOS_string_to_double, not float().
    ("err_float_text_hex", b"F0x1p-2\n."),
    ("err_float_text_underscore", b"F1_0\n."),
    ("err_float_text_leading_space", b"F 1.5\n."),
    ("err_float_text_overflow", b"F1e400\n."),
])


# --------------------------------------------------------------------------
# Type-exact deep comparison.

class Mismatch(Exception):
    pass


UNORDERED_DICTS = [False]
_MUTABLE = (list, dict, set, bytearray, collections.deque)
_ATOMS = (type(None), bool, int, str, bytes, complex, decimal.Decimal, fractions.Fraction,
          datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo, range, slice,
          type(Ellipsis), type(NotImplemented), uuid.UUID, pathlib.PurePath)


def _tname(t):
    return "%s.%s" % (t.__module__, t.__qualname__)


def same(want, got, path="v", memo=None, rmemo=None):
    """Raise Mismatch unless got equals want type-exactly, with the same sharing."""
    if memo is None:
        memo, rmemo = {}, {}
    tw, tg = type(want), type(got)
    if tw is not tg:
        raise Mismatch("%s: type %s, want %s (%s)" % (path, _tname(tg), _tname(tw), _short(got)))
    mutable = isinstance(want, _MUTABLE) or _is_instance_object(want)
    if mutable:
        k = id(want)
        if k in memo:
            if memo[k] is not got:
                raise Mismatch("%s: sharing lost: a %s that is the same object earlier is a different one here"
                               % (path, _tname(tw)))
            return
        if id(got) in rmemo and rmemo[id(got)] is not want:
            raise Mismatch("%s: extra sharing: two different %s objects became one" % (path, _tname(tw)))
        memo[k] = got
        rmemo[id(got)] = want
    else:
        if memo.get(id(want)) is got:
            return
        memo[id(want)] = got
    if isinstance(want, float):
        if math.isnan(want):
            if not math.isnan(got):
                raise Mismatch("%s: %r, want nan" % (path, got))
        elif struct.pack(">d", want) != struct.pack(">d", got):
            raise Mismatch("%s: %r, want %r" % (path, got, want))
        return
    if isinstance(want, (list, tuple, collections.deque)):
        if len(want) != len(got):
            raise Mismatch("%s: length %d, want %d" % (path, len(got), len(want)))
        for i, (a, b) in enumerate(zip(want, got)):
            same(a, b, "%s[%d]" % (path, i), memo, rmemo)
        if isinstance(want, collections.deque) and want.maxlen != got.maxlen:
            raise Mismatch("%s: maxlen %r, want %r" % (path, got.maxlen, want.maxlen))
    elif isinstance(want, dict):
        if len(want) != len(got):
            raise Mismatch("%s: %d items, want %d" % (path, len(got), len(want)))
        gitems = list(got.items())
        if UNORDERED_DICTS[0]:  # Go maps have no order: match keys, not positions
            gkeys = {k: k for k in got}
            gitems = [(gkeys[k], got[k]) if k in gkeys else (_MISSING, None) for k in want]
        for i, ((ka, va), (kb, vb)) in enumerate(zip(want.items(), gitems)):
            if kb is _MISSING:
                raise Mismatch("%s: missing key %r" % (path, ka))
            same(ka, kb, "%s.key#%d" % (path, i), memo, rmemo)
            same(va, vb, "%s[%r]" % (path, ka), memo, rmemo)
        if isinstance(want, collections.defaultdict):
            same(want.default_factory, got.default_factory, path + ".default_factory", memo, rmemo)
    elif isinstance(want, (set, frozenset)):
        if len(want) != len(got):
            raise Mismatch("%s: %d elements, want %d" % (path, len(got), len(want)))
        index = {x: x for x in got}
        for a in want:
            if a not in index:
                raise Mismatch("%s: missing element %r" % (path, a))
            same(a, index[a], "%s{%r}" % (path, a), memo, rmemo)
    elif isinstance(want, (bytearray, bytes)):
        if bytes(want) != bytes(got):
            raise Mismatch("%s: %s, want %s" % (path, _short(got), _short(want)))
    elif isinstance(want, BaseException):
        same(want.args, got.args, path + ".args", memo, rmemo)
    elif isinstance(want, (int, str)):  # includes bool, IntEnum/IntFlag, str subclasses
        if want != got or (isinstance(want, str) and str.__str__(want) != str.__str__(got)):
            raise Mismatch("%s: %s, want %s" % (path, _short(got), _short(want)))
    elif isinstance(want, _ATOMS):
        if not (want is got or (want == got and repr(want) == repr(got)) or
                (want != want and repr(want) == repr(got))):
            raise Mismatch("%s: %s, want %s" % (path, _short(got), _short(want)))
        return  # value types: their attributes are part of == and repr
    elif isinstance(want, (type, type(len), type(_deep))) or isinstance(want, __import__("enum").Enum):
        if want is not got:
            raise Mismatch("%s: %r, want %r" % (path, got, want))
        return
    elif not _is_instance_object(want):
        raise Mismatch("%s: no comparison for type %s" % (path, _tname(tw)))
    # Attributes: __dict__ and __slots__ (for instances and builtin subclasses).
    wd, gd = getattr(want, "__dict__", None), getattr(got, "__dict__", None)
    if isinstance(wd, dict) and not isinstance(want, type):
        same(dict(wd), dict(gd), path + ".__dict__", memo, rmemo)
    for cls in tw.__mro__:
        for slot in cls.__dict__.get("__slots__", ()):
            if slot in ("__dict__", "__weakref__"):
                continue
            a, b = getattr(want, slot, _MISSING), getattr(got, slot, _MISSING)
            if (a is _MISSING) != (b is _MISSING):
                raise Mismatch("%s.%s: set=%s, want set=%s" % (path, slot, b is not _MISSING, a is not _MISSING))
            if a is not _MISSING:
                same(a, b, "%s.%s" % (path, slot), memo, rmemo)


_MISSING = object()


def _is_instance_object(v):
    """A class instance compared by its attributes (and by identity): one of
    the corpus classes, or any other object with a __dict__ (UserDict, ...)."""
    t = type(v)
    if isinstance(v, (type, BaseException, int, str, tuple, float, bytes, frozenset)) or isinstance(v, _ATOMS):
        return False
    if t.__module__ in ("pickle_classes", "__main__"):
        return True
    return isinstance(getattr(v, "__dict__", None), dict) and not callable(v)


def _short(v):
    try:
        r = repr(v)
    except Exception as e:  # e.g. int too large to print
        r = "<%s: %s>" % (_tname(type(v)), e)
    return r if len(r) <= 120 else r[:117] + "..."


def check_roundtrip(name, value, proto):
    data = pickle.dumps(value, protocol=proto)
    same(value, pickle.loads(data))
    return data


# --------------------------------------------------------------------------
# Modes.

def opcodes_of(data):
    try:
        return {op.name for op, _, _ in pickletools.genops(data)}
    except Exception:
        return set()


def mode_gen(args):
    out = sys.stdout
    covered = set()
    descs = {}
    n = 0
    for name, factory in VALUES.items():
        for proto in PROTOCOLS:
            try:
                data = pickle.dumps(factory(), protocol=proto)
                if args.verify_all or name not in PLAIN:
                    # CPython itself must round-trip the value (it does not
                    # always: fold is lost before protocol 4).
                    same(factory(), pickle.loads(data))
            except Exception as e:
                _emit(out, {"name": name, "proto": proto, "skip": "%s: %s" % (type(e).__name__, e)})
                continue
            if len(data) < 4096:  # big pickles repeat the opcodes of small ones
                covered |= opcodes_of(data)
            rec = {"name": name, "kind": "value", "proto": proto, "hex": data.hex(), "plain": name in PLAIN}
            if name not in descs:
                descs[name] = _desc_or_none(name, factory)
            if descs[name] is not None:
                rec["desc"] = descs[name]
            tdesc = describe_time(factory())
            if tdesc is not None:
                rec["tdesc"] = tdesc
            _emit(out, rec)
            n += 1
    raws = list(RAW.items()) + list(_pickletester_data())
    for name, data in raws:
        try:
            pickle.loads(data)
        except Exception as e:
            _emit(out, {"name": name, "proto": None, "skip": "Python cannot load it: %s: %s" % (type(e).__name__, e)})
            continue
        covered |= opcodes_of(data)
        _emit(out, {"name": name, "kind": "raw", "proto": None, "hex": data.hex(), "plain": False})
        n += 1
    for name, data in ERRORS.items():
        try:
            pickle.loads(data)
        except Exception as e:
            _emit(out, {"name": name, "kind": "error", "proto": None, "hex": data.hex(), "plain": False,
                        "error": "%s: %s" % (type(e).__name__, e)})
            covered |= opcodes_of(data)
            n += 1
        else:
            _emit(out, {"name": name, "proto": None, "skip": "Python loads it"})
    allops = {op.name for op in pickletools.opcodes}
    _emit(out, {"summary": {"cases": n, "python": "%d.%d.%d" % sys.version_info[:3],
                            "opcodes_covered": sorted(covered & allops),
                            "opcodes_missing": sorted(allops - covered)}})


def describe_plain(v, _stack=None):
    """A JSON tree a Go test can compare with its decoded value without Python:
    ["none"], ["bool", b], ["int", "decimal"], ["float", "bits in hex" | "nan"],
    ["str", s], ["bytes", hex], ["bytearray", hex], ["list"|"tuple", [items]],
    ["dict", [[k, v], ...]] in order, ["set"|"frozenset", [items]] sorted by their
    JSON text.  Shared objects are repeated; cyclic values have no description
    (None)."""
    if _stack and id(v) in _stack:
        raise ValueError("cyclic")
    t = type(v)
    if v is None:
        return ["none"]
    if t is bool:
        return ["bool", v]
    if t is int:
        return ["int", str(v) if abs(v) < 10 ** 4000 else hex(v)]
    if t is float:
        return ["float", "nan" if math.isnan(v) else "%016x" % struct.unpack(">Q", struct.pack(">d", v))[0]]
    if t is str:
        return ["str", v]
    if t in (bytes, bytearray):
        return [t.__name__, bytes(v).hex()]
    st = set() if _stack is None else _stack
    st.add(id(v))
    try:
        if t in (list, tuple):
            return [t.__name__, [describe_plain(x, st) for x in v]]
        if t is dict:
            return ["dict", [[describe_plain(k, st), describe_plain(x, st)] for k, x in v.items()]]
        if t in (set, frozenset):
            items = [describe_plain(x, st) for x in v]
            items.sort(key=lambda d: json.dumps(d, sort_keys=True, ensure_ascii=True, separators=(",", ":")))
            return [t.__name__, items]
    finally:
        st.discard(id(v))
    raise ValueError("not plain: " + _tname(t))


def describe_time(v):
    """JSON for the Go tests' typed decoding (time.Time, time.Duration):
    ["datetime", y, mo, d, h, mi, s, us, utcoffset seconds or None] for
    datetime and date (midnight, naive), ["timedelta", "total microseconds"];
    None for anything else."""
    t = type(v)
    if t is datetime.datetime:
        off = v.utcoffset()
        return ["datetime", v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond,
                None if off is None else int(off.total_seconds())]
    if t is datetime.date:
        return ["datetime", v.year, v.month, v.day, 0, 0, 0, 0, None]
    if t is datetime.timedelta:
        return ["timedelta", str((v.days * 86400 + v.seconds) * 10 ** 6 + v.microseconds)]
    return None


def _desc_or_none(name, factory):
    if name not in PLAIN:
        return None
    try:
        return describe_plain(factory())
    except ValueError:
        return None


def _emit(out, obj):
    out.write(json.dumps(obj, sort_keys=True))
    out.write("\n")


def _eval_env():
    env = {"datetime": datetime, "decimal": decimal, "Decimal": decimal.Decimal,
           "collections": collections, "math": math, "pickle_classes": pc, "nan": math.nan,
           "inf": math.inf, "fractions": fractions, "uuid": uuid}
    for k in dir(pc):
        if not k.startswith("_"):
            env[k] = getattr(pc, k)
    return env


def mode_check(args):
    env = _eval_env()
    n = bad = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        res = {"tag": req.get("tag", ""), "name": req.get("name", "")}
        try:
            if req.get("expr") is not None:
                want = eval(req["expr"], env)  # test-side expressions only
            elif req.get("name") in VALUES:
                want = VALUES[req["name"]]()
            elif req.get("orig") is not None:
                want = pickle.loads(bytes.fromhex(req["orig"]))
            else:
                raise Mismatch("no expected value: unknown case %r and no orig/expr" % req.get("name"))
            got = pickle.loads(bytes.fromhex(req["hex"]))
            UNORDERED_DICTS[0] = bool(req.get("unordered"))
            same(want, got)
            res["ok"] = True
            if req.get("dump") is not None:
                res["back"] = pickle.dumps(got, protocol=int(req["dump"])).hex()
        except Exception as e:
            res["ok"] = False
            res["err"] = "%s: %s" % (type(e).__name__, e)
            bad += 1
        n += 1
        _emit(sys.stdout, res)
    sys.stdout.flush()
    print("checked %d, %d failed" % (n, bad), file=sys.stderr)


def mode_describe(args):
    h = args.hex or sys.stdin.read().strip()
    data = bytes.fromhex(h)
    v = pickle.loads(data)
    print(_tname(type(v)), _short(v))
    pickletools.dis(data, out=sys.stdout)


def mode_list(args):
    for name in VALUES:
        print(name, "plain" if name in PLAIN else "value")
    for name in RAW:
        print(name, "raw")
    for name, _ in _pickletester_data():
        print(name, "raw")
    for name in ERRORS:
        print(name, "error")


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("mode", choices=["gen", "check", "describe", "list"], help="what to do (see below)")
    p.add_argument("hex", nargs="?", help="describe: the pickle in hex (default: read stdin)")
    p.add_argument("--verify-all", action="store_true",
                   help="gen: also check that CPython round-trips the plain values (slower)")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = "\n".join(__doc__.splitlines()[2:])
    args = p.parse_args()
    _fixture.start(args)
    {"gen": mode_gen, "check": mode_check, "describe": mode_describe, "list": mode_list}[args.mode](args)


if __name__ == "__main__":
    main()
