"""Classes that mpwire's pickle corpus pickles (stdlib only, Python 3.8+).

They live in their own importable module so that pickles name them
``pickle_classes.X`` (not ``__main__.X``) and every fixture script that imports
this module can load what another one dumped.  Each class exercises a
different reduction path of the pickler:

* Point        plain instance with a __dict__      (NEWOBJ/_reconstructor + BUILD dict)
* GoPoint      the same, mapped to a Go struct by the Go tests (pickle.RegisterClass)
* Slotted      __slots__ only                      (BUILD (None, slots))
* SlottedDict  __slots__ and __dict__              (BUILD (dict, slots))
* Reduced      __reduce__ -> (callable, args)      (REDUCE)
* ReducedState __reduce__ with state and items     (REDUCE + BUILD + APPENDS/SETITEMS)
* NewArgs      __getnewargs__                      (NEWOBJ with args)
* NewArgsEx    __getnewargs_ex__ with kwargs       (NEWOBJ_EX, protocol 4+)
* GetState     __getstate__/__setstate__           (BUILD with a non-dict state)
* ListSub, DictSub, IntSub, StrSub, SetSub         builtin subclasses with attributes
* MyError      exception subclass with attributes
* Color        enum.Enum, Flags enum.IntFlag
* Pair         collections.namedtuple
"""
import collections
import copyreg
import enum


class Point:
    def __init__(self, x=0, y=0):
        self.x = x
        self.y = y

    def __repr__(self):
        return "Point(%r)" % (self.__dict__,)


class GoPoint:
    """Mapped to a Go struct with pickle.RegisterClass by the Go tests."""

    def __init__(self, x=0, y=0, label=""):
        self.x = x
        self.y = y
        self.label = label

    def __repr__(self):
        return "GoPoint(%r)" % (self.__dict__,)


class Empty:
    """An instance with an empty __dict__ (no BUILD at all)."""


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a=None, b=None):
        self.a = a
        if b is not None:
            self.b = b  # leave b unset when None: tests a missing slot

    def __reduce_ex__(self, proto):
        # Python < 3.11 refuses __slots__ without __getstate__ at protocol 0/1;
        # spell out the protocol-2 reduction so every protocol works.
        state = {}
        for name in self.__slots__:
            if hasattr(self, name):
                state[name] = getattr(self, name)
        return (copyreg.__newobj__, (type(self),), (None, state))

    def __repr__(self):
        return "Slotted(%r)" % ({n: getattr(self, n) for n in self.__slots__ if hasattr(self, n)},)


class SlottedDict:
    __slots__ = ("s", "__dict__")

    def __init__(self, s=None, **kw):
        self.s = s
        self.__dict__.update(kw)

    def __reduce_ex__(self, proto):
        return (copyreg.__newobj__, (type(self),), (dict(self.__dict__), {"s": self.s}))


class Reduced:
    def __init__(self, a, b=None):
        self.a = a
        self.b = b

    def __reduce__(self):
        return (Reduced, (self.a, self.b))


class ReducedState(list):
    """A list subclass whose reduction carries state and list items."""

    def __reduce__(self):
        return (ReducedState, (), dict(self.__dict__), iter(list(self)))


class NewArgs:
    def __new__(cls, a, b):
        self = object.__new__(cls)
        self.a = a
        self.b = b
        return self

    def __getnewargs__(self):
        return (self.a, self.b)


class NewArgsEx:
    def __new__(cls, a, *, key=None):
        self = object.__new__(cls)
        self.a = a
        self.key = key
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {"key": self.key})


class GetState:
    """State is a tuple, not a dict: BUILD must call __setstate__."""

    def __init__(self, v=0):
        self.v = v

    def __getstate__(self):
        return ("v", self.v)

    def __setstate__(self, state):
        assert state[0] == "v"
        self.v = state[1]


class ListSub(list):
    pass


class DictSub(dict):
    pass


class SetSub(set):
    pass


class IntSub(int):
    pass


class StrSub(str):
    pass


class MyError(Exception):
    def __init__(self, msg, code=0):
        super().__init__(msg, code)
        self.code = code
        self.detail = {"why": msg}


class Color(enum.Enum):
    RED = 1
    GREEN = "green"


class Flags(enum.IntFlag):
    R = 4
    W = 2


Pair = collections.namedtuple("Pair", "left right")

# Extension codes (copyreg) so protocol 2+ pickles contain EXT1/EXT2/EXT4.
# Both the dumping and the loading side import this module, so both have them.
EXT_CODES = {
    ("pickle_classes", "Ext1"): 0xF0,
    ("pickle_classes", "Ext2"): 0x1234,
    ("pickle_classes", "Ext4"): 0x12345678,
}


class Ext1:
    pass


class Ext2:
    pass


class Ext4:
    pass


for (_mod, _name), _code in EXT_CODES.items():
    try:
        copyreg.add_extension(_mod, _name, _code)
    except ValueError:
        pass  # already registered (module imported twice under two names)
