"""A Python 3.14 manager client, on an older interpreter.

CPython 3.14's multiprocessing.managers gives SyncManager a 'set' typeid
(SetProxy), list proxies clear() and copy(), dict proxies |=, |, reversed()
and fromkeys(), and locked() on lock proxies. register_314_proxies()
registers the same proxy types (exposed lists as 3.14's source has them,
docs/spec.md#manager) on this interpreter's SyncManager, so a 3.8-3.13
client makes the calls a 3.14 client makes.

  scenario    every 3.14 addition against the server (MPWIRE_AUTHKEY hex),
              each result compared with the same operation on a local
              set/dict/list; prints "OK <checks>"

Usage: python3 mgr_py314.py --address tcp:127.0.0.1:5000 scenario
"""
import collections.abc
import sys
import threading

import _fixture
import multiprocessing.managers as managers
from multiprocessing.managers import SyncManager


def register_314_proxies(manager_class=SyncManager):
    """Register 3.14's list, dict, set and lock proxies on manager_class."""
    BaseListProxy = managers.MakeProxyType("BaseListProxy", (
        "__add__", "__contains__", "__delitem__", "__getitem__", "__imul__",
        "__len__", "__mul__", "__reversed__", "__rmul__", "__setitem__",
        "append", "clear", "copy", "count", "extend", "index", "insert", "pop",
        "remove", "reverse", "sort"))

    class ListProxy(BaseListProxy):
        def __iadd__(self, value):
            self._callmethod("extend", (value,))
            return self

        def __imul__(self, value):
            self._callmethod("__imul__", (value,))
            return self

    BaseDictProxy = managers.MakeProxyType("_BaseDictProxy", (
        "__contains__", "__delitem__", "__getitem__", "__ior__", "__iter__",
        "__len__", "__or__", "__reversed__", "__ror__",
        "__setitem__", "clear", "copy", "fromkeys", "get", "items",
        "keys", "pop", "popitem", "setdefault", "update", "values"))
    BaseDictProxy._method_to_typeid_ = {"__iter__": "Iterator"}

    class DictProxy(BaseDictProxy):
        def __ior__(self, value):
            self._callmethod("__ior__", (value,))
            return self

    BaseSetProxy = managers.MakeProxyType("_BaseSetProxy", (
        "__and__", "__class_getitem__", "__contains__", "__iand__", "__ior__",
        "__isub__", "__iter__", "__ixor__", "__len__", "__or__", "__rand__",
        "__ror__", "__rsub__", "__rxor__", "__sub__", "__xor__",
        "__ge__", "__gt__", "__le__", "__lt__",
        "add", "clear", "copy", "difference", "difference_update", "discard",
        "intersection", "intersection_update", "isdisjoint", "issubset",
        "issuperset", "pop", "remove", "symmetric_difference",
        "symmetric_difference_update", "union", "update"))

    class SetProxy(BaseSetProxy):
        def __ior__(self, value):
            self._callmethod("__ior__", (value,))
            return self

        def __iand__(self, value):
            self._callmethod("__iand__", (value,))
            return self

        def __ixor__(self, value):
            self._callmethod("__ixor__", (value,))
            return self

        def __isub__(self, value):
            self._callmethod("__isub__", (value,))
            return self

    class AcquirerProxy(managers.AcquirerProxy):
        _exposed_ = ("acquire", "release", "locked")

        def locked(self):
            return self._callmethod("locked")

    class ConditionProxy(managers.ConditionProxy):
        _exposed_ = ("acquire", "release", "locked", "wait", "notify", "notify_all")

        def locked(self):
            return self._callmethod("locked")

    if sys.version_info >= (3, 9):
        import types
        for cls in (ListProxy, DictProxy, SetProxy):
            cls.__class_getitem__ = classmethod(types.GenericAlias)
    collections.abc.MutableSequence.register(BaseListProxy)
    collections.abc.MutableMapping.register(BaseDictProxy)
    # Proxies pickle by class name: put them where 3.14 has them, so a
    # child process (running this module too) rebuilds the same classes.
    for cls in (ListProxy, DictProxy, SetProxy, AcquirerProxy, ConditionProxy):
        cls.__module__ = "multiprocessing.managers"
        setattr(managers, cls.__name__, cls)
    managers.BaseListProxy = BaseListProxy
    managers._BaseDictProxy = BaseDictProxy
    managers._BaseSetProxy = BaseSetProxy
    manager_class.register("list", list, ListProxy)
    manager_class.register("dict", dict, DictProxy)
    manager_class.register("set", set, SetProxy)
    for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore"):
        manager_class.register(name, getattr(threading, name), AcquirerProxy)
    manager_class.register("Condition", threading.Condition, ConditionProxy)


checks = 0


def check(got, want, what):
    global checks
    checks += 1
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def raises(exc, fn, *args):
    global checks
    try:
        fn(*args)
    except exc:
        checks += 1
        return
    raise AssertionError("%r%r did not raise %s" % (fn, args, exc.__name__))


def scenario(m):
    # set: every method and operator, against a local set.
    s, ref = m.set([1, 2, 3]), {1, 2, 3}

    def same(what):
        check(set(s._getvalue()), ref, what)

    same("set([1, 2, 3])")
    s.add(4)
    ref.add(4)
    same("add")
    s.discard(9)
    s.discard(1)
    ref.discard(1)
    same("discard")
    s.remove(2)
    ref.remove(2)
    same("remove")
    raises(KeyError, s.remove, 42)
    check(len(s), len(ref), "len")
    check(3 in s, True, "in")
    check(42 in s, False, "not in")
    check(sorted(iter(s)), sorted(ref), "iter")
    for other in ({3, 5}, frozenset({4, 6, 7})):
        check(s & other, ref & other, "&")
        check(other & s, other & ref, "r&")
        check(s | other, ref | other, "|")
        check(other | s, other | ref, "r|")
        check(s - other, ref - other, "-")
        check(other - s, other - ref, "r-")
        check(s ^ other, ref ^ other, "^")
        check(other ^ s, other ^ ref, "r^")
        for op in ("__le__", "__lt__", "__ge__", "__gt__"):
            check(getattr(s, op)(other), getattr(ref, op)(other), op)
    check(s <= {3, 4, 9}, True, "<=")
    check(s < {3, 4}, False, "<")
    raises(TypeError, lambda: s & [1])
    check(s.union([7], (8,)), ref.union([7], (8,)), "union")
    check(s.intersection([3, 4, 5]), ref.intersection([3, 4, 5]), "intersection")
    check(s.difference([3]), ref.difference([3]), "difference")
    check(s.symmetric_difference([3, 10]), ref.symmetric_difference([3, 10]), "symmetric_difference")
    check(s.isdisjoint([99]), True, "isdisjoint")
    check(s.issubset(range(10)), True, "issubset")
    check(s.issuperset([3]), True, "issuperset")
    check(type(s.copy()), set, "copy type")
    s.update([10, 11], {12})
    ref.update([10, 11], {12})
    same("update")
    s.intersection_update([3, 4, 10, 11, 12, 13])
    ref.intersection_update([3, 4, 10, 11, 12, 13])
    same("intersection_update")
    s.difference_update([10])
    ref.difference_update([10])
    same("difference_update")
    s.symmetric_difference_update([11, 20])
    ref.symmetric_difference_update([11, 20])
    same("symmetric_difference_update")
    s |= {30}
    ref |= {30}
    same("|=")
    s &= {3, 4, 12, 20, 30}
    ref &= {3, 4, 12, 20, 30}
    same("&=")
    s -= {3}
    ref -= {3}
    same("-=")
    s ^= {4, 40}
    ref ^= {4, 40}
    same("^=")
    v = s.pop()
    ref.remove(v)
    same("pop")
    raises(TypeError, s.add, [1])
    s.clear()
    ref.clear()
    same("clear")
    raises(KeyError, s.pop)
    check(str(m.set()), "set()", "str(empty)")
    check(m.set("ab")._getvalue(), {"a", "b"}, "set(str)")
    # __class_getitem__ is exposed by 3.14's _BaseSetProxy (SetProxy
    # overrides it with a local classmethod; the server answers anyway).
    if sys.version_info >= (3, 9):
        check(s._callmethod("__class_getitem__", (int,)), set[int], "__class_getitem__")
        check(managers.SetProxy[int].__origin__, managers.SetProxy, "SetProxy[int]")

    # list: clear and copy.
    lst = m.list([1, 2, 3])
    check(lst.copy(), [1, 2, 3], "list.copy")
    check(type(lst.copy()), list, "list.copy type")
    lst.clear()
    check(len(lst), 0, "list.clear")

    # dict: |=, |, reversed, fromkeys.
    d = m.dict({"a": 1, "b": 2})
    d |= {"c": 3}
    check(d._getvalue(), {"a": 1, "b": 2, "c": 3}, "dict |= dict")
    d |= [("d", 4)]
    check(d._getvalue(), {"a": 1, "b": 2, "c": 3, "d": 4}, "dict |= pairs")
    check(d | {"a": 0, "e": 5}, {"a": 0, "b": 2, "c": 3, "d": 4, "e": 5}, "dict | dict")
    check({"a": 0, "z": 9} | d if sys.version_info >= (3, 9) else d.__ror__({"a": 0, "z": 9}),
          {"a": 1, "z": 9, "b": 2, "c": 3, "d": 4}, "dict.__ror__")
    check(d.__or__([1]), NotImplemented, "dict | list")
    check(list(reversed(d)), ["d", "c", "b", "a"], "reversed(dict)")
    check(d.fromkeys("xy", 0), {"x": 0, "y": 0}, "fromkeys")
    check(d.fromkeys([1]), {1: None}, "fromkeys default")

    # locked() on Lock, RLock and Condition proxies.
    for make in (m.Lock, m.RLock, m.Condition):
        lk = make()
        check(lk.locked(), False, "%s.locked()" % make.__name__)
        lk.acquire()
        check(lk.locked(), True, "%s.locked() held" % make.__name__)
        lk.release()
        check(lk.locked(), False, "%s.locked() released" % make.__name__)
    del s, lst, d, lk, v


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    p.add_argument("--address", required=True)
    p.add_argument("role", choices=["scenario"])
    args = p.parse_args()
    _fixture.start(args)
    family, _, rest = args.address.partition(":")
    host, _, port = rest.rpartition(":")
    address = (host, int(port)) if family == "tcp" else rest

    class Manager314(SyncManager):
        pass

    register_314_proxies(Manager314)
    m = Manager314(address=address, authkey=_fixture.authkey_from_env())
    m.connect()
    scenario(m)
    print("OK", checks, flush=True)


if __name__ == "__main__":
    main()
