"""Classes of several kinds whose instances the pickle tests round-trip (tests/gen/
gen_pickle_objects.py and tests/test_pickle.c): plain, __slots__, __reduce__ in its forms,
__getstate__, __getnewargs_ex__, dataclasses, enums, nested classes, list and dict subclasses.
Imported by name (pickle_classes) by CPython processes that load what the C library wrote."""
import copyreg
import dataclasses
import datetime
import enum


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


class SlottedDict(Slotted):
    def __init__(self, a, b, c):
        super().__init__(a, b)
        self.c = c


class Reduced:
    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (Reduced, self.args)


class ReducedState:
    def __init__(self, name, state=None):
        self.name = name
        self.state = state

    def __reduce__(self):
        return (ReducedState, (self.name,), self.state)

    def __setstate__(self, state):
        self.state = state


def rebuild(kind, *args):
    return (kind, args)


class ReducedFunc:
    def __init__(self, kind, *args):
        self.kind = kind
        self.args = args

    def __reduce__(self):
        return (rebuild, (self.kind,) + self.args)


def set_state(obj, state):
    obj.__dict__.update(state)


class WithSetter:
    def __init__(self, v):
        self.v = v

    def __reduce__(self):
        return (WithSetter, (None,), {"v": self.v}, None, None, set_state)


class NewobjReduce:
    def __init__(self, v):
        self.v = v

    def __reduce__(self):
        return (copyreg.__newobj__, (NewobjReduce,), {"v": self.v})


class Bag(list):
    def __init__(self, items=(), label=""):
        super().__init__(items)
        self.label = label


class Table(dict):
    pass


class ItemsReduce:
    def __init__(self, items, pairs):
        self.items = items
        self.pairs = pairs

    def __reduce__(self):
        return (ItemsReduce, ((), ()), None, iter(self.items), iter(self.pairs))

    def append(self, x):
        self.items = self.items + (x,) if isinstance(self.items, tuple) else [*self.items, x]

    def extend(self, xs):
        for x in xs:
            self.append(x)

    def __setitem__(self, k, v):
        self.pairs = (*self.pairs, (k, v))


class GetState:
    def __init__(self, n):
        self.n = n
        self.cache = object

    def __getstate__(self):
        return {"n": self.n}


class NewArgs:
    def __new__(cls, a, b=0):
        self = super().__new__(cls)
        self.a, self.b = a, b
        return self

    def __getnewargs__(self):
        return (self.a, self.b)


class NewArgsEx:
    def __new__(cls, a, *, key=None):
        self = super().__new__(cls)
        self.a, self.key = a, key
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {"key": self.key})


@dataclasses.dataclass
class Data:
    name: str
    size: int = 0
    tags: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Frozen:
    x: int
    y: int


class Color(enum.Enum):
    RED = 1
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Perm(enum.Flag):
    R = 4
    W = 2
    X = 1


class Outer:
    class Inner:
        def __init__(self, v):
            self.v = v

    @classmethod
    def make(cls):
        return cls()


class Node:
    def __init__(self, value, next=None):
        self.value = value
        self.next = next


class MyInt(int):
    pass


class MyStr(str):
    def __init__(self, s):
        self.extra = len(s)


def module_function():
    return 1


class Offset(datetime.tzinfo):
    """A tzinfo of the program's own, not a datetime.timezone: a datetime that holds one stays
    an object on the C side, beside the standard library types it holds."""

    def __init__(self, hours=0):
        self.hours = hours

    def utcoffset(self, dt):
        return datetime.timedelta(hours=self.hours)

    def __reduce__(self):
        return (Offset, (self.hours,))


copyreg.constructor(rebuild)
