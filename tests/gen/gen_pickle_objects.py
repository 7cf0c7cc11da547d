#!/usr/bin/env python3
"""Pickles of instances that are not plain data, written by CPython 3.13, for the pickle
module's object tests (tests/test_pickle.c runs this live, and reads the committed
vectors, "name protocol hex" per line, where there is no CPython).

    python3 tests/gen/gen_pickle_objects.py               # writes tests/vectors/pickle/objects.txt
    python3 tests/gen/gen_pickle_objects.py live P        # "hex name" per case, protocol P
    python3 tests/gen/gen_pickle_objects.py check P FILE  # loads FILE's pickles, compares
    python3 tests/gen/gen_pickle_objects.py pers P        # a Pickler with persistent_id
    python3 tests/gen/gen_pickle_objects.py buffers FILE  # out-of-band buffers both ways

`check` reads lines "hex name" (a pickle the C library wrote and the case it stands for),
loads each with pickle.loads and compares pickle.dumps() of what it got with pickle.dumps()
of what CPython loads from its own pickle of the case, at protocol P, printing one line per mismatch and a final "checked N ok M".
The classes live in tests/gen/pickle_classes.py (module pickle_classes).
"""
import collections
import datetime
import decimal
import io
import os
import pickle
import sys
import uuid

import cpython

cpython.require(hashseed_zero=True)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pickle_classes import (  # noqa: E402
    Bag, Color, Data, Frozen, GetState, ItemsReduce, Level, MyInt, MyStr, NewArgs, NewArgsEx,
    NewobjReduce, Node, Offset, Outer, Perm, Point, Reduced, ReducedFunc, ReducedState, Slotted,
    SlottedDict, Table, WithSetter, module_function)


def cases():
    p = Point(1, 2)
    shared = Point("s", [1, 2])
    ring = Node(1)
    ring.next = Node(2, ring)
    selfref = Point(None, None)
    selfref.x = [selfref, {"me": selfref}]
    table = Table(a=1, b=[2])
    table.note = "t"
    bag = Bag([1, "two", (3,)], label="bag")
    return [
        ("point", p),
        ("point_nested", Point(Point(1.5, None), {"k": (1, 2)})),
        ("slotted", Slotted(1, "b")),
        ("slotted_dict", SlottedDict(1, 2, 3)),
        ("reduced", Reduced(1, "a", (2, 3))),
        ("reduced_empty", Reduced()),
        ("reduced_state", ReducedState("n", {"s": [1, 2]})),
        ("reduced_func", ReducedFunc("k", 1, 2)),
        ("setter", WithSetter(42)),
        ("newobj_reduce", NewobjReduce([1])),
        ("bag", bag),
        ("table", table),
        ("items_reduce", ItemsReduce([1, 2, 3], [("a", 1), ("b", 2)])),
        ("items_batch", ItemsReduce(list(range(2001)), [(i, i) for i in range(1001)])),
        ("getstate", GetState(7)),
        ("newargs", NewArgs(1, b=2)),
        ("newargs_ex", NewArgsEx(1, key="k")),
        ("data", Data("d", 3, ["x"])),
        ("frozen", Frozen(1, 2)),
        ("enum", Color.RED),
        ("enum_str", Color.GREEN),
        ("intenum", Level.HIGH),
        ("flag", Perm.R | Perm.W),
        ("enum_keys", {Color.RED: 1, Level.LOW: [Color.RED]}),
        ("nested_class", Outer.Inner(5)),
        ("class", Point),
        ("nested_class_ref", Outer.Inner),
        ("function", module_function),
        ("builtin", len),
        ("classmethod", Outer.make),
        ("types", [int, list, type(None), Point]),
        ("shared", [shared, shared, (shared,)]),
        ("ring", ring),
        ("selfref", selfref),
        ("myint", MyInt(5)),
        ("mystr", MyStr("abc")),
        ("mixed", {"points": [Point(i, -i) for i in range(3)], "set": {1, 2}, "b": b"x" * 3,
                   "ba": bytearray(b"yz"), "fs": frozenset({"a"})}),
        # objects and the standard library's types in one pickle: the names CPython shares
        # (module names, 'builtins' of the builtin types but not of getattr) and those it
        # does not (a C type's qualified name, _collections' module name)
        ("stdlib_mixed", [
            Data(datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc),
                 decimal.Decimal("2.5"), [collections.OrderedDict(a=1), uuid.UUID(int=7)]),
            Color.RED, collections.defaultdict(list, {"x": [Color.RED]}),
            collections.defaultdict(module_function, {1: 2}), collections.deque([Outer.Inner]),
            datetime.datetime, datetime.datetime(2024, 5, 1, 12, tzinfo=Offset(2)),
            datetime.time(1, tzinfo=Offset(-1)), "datetime", object, int, len]),
    ]


def dumps(obj, proto):
    return pickle.dumps(obj, proto)


def live(proto):
    for name, obj in cases():
        try:
            data = dumps(obj, proto)
        except Exception as e:  # a case CPython cannot write at this protocol
            print(f"# {name}: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        print(data.hex(), name)


def check(proto, path):
    known = dict(cases())
    checked = ok = 0
    with open(path) as f:
        for line in f:
            hexdata, name = line.split()
            checked += 1
            try:
                got = pickle.loads(bytes.fromhex(hexdata))
                # what CPython loads from its own pickle of the case (a __reduce__ may make
                # another kind of object)
                want = pickle.loads(dumps(known[name], proto))
                same = dumps(got, proto) == dumps(want, proto)
            except Exception as e:
                same = False
                print(f"{name}: {type(e).__name__}: {e}")
            if same:
                ok += 1
            else:
                print(f"{name}: differs")
    print(f"checked {checked} ok {ok}")


class Pers(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Point):
            return ("point", obj.x)
        if obj == "secret":
            return "S1"
        return None


def pers(proto):
    """CPython's pickle of a value with persistent ids ("W hex"), written by Pers."""
    value = [Point(1, 2), "secret", {"k": Point(3, 4)}, "plain"]
    buf = io.BytesIO()
    Pers(buf, proto).dump(value)
    print("W", buf.getvalue().hex())


def buffers(path):
    """Out-of-band buffers: "W hex" and the buffers' "B hex"/"R hex" (read-only) of CPython's
    protocol 5 pickle, "I hex" the same value pickled in band; then loads path's "hex" with the
    buffers given after it (each "x" + hex) and prints the
    repr of the result."""
    value = [pickle.PickleBuffer(b"abc"), pickle.PickleBuffer(bytearray(b"defg")),
             pickle.PickleBuffer(b""), b"in-band"]
    bufs = []
    data = pickle.dumps(value, 5, buffer_callback=bufs.append)
    print("W", data.hex())
    print("I", pickle.dumps(value, 5).hex())
    for b in bufs:
        print("R" if b.raw().readonly else "B", bytes(b.raw()).hex())
    if path != "-":
        with open(path) as f:
            lines = f.read().split()
        data, given = bytes.fromhex(lines[0]), [bytes.fromhex(x[1:]) for x in lines[1:]]
        got = pickle.loads(data, buffers=given)
        print("L", repr([bytes(x) if isinstance(x, memoryview) else x for x in got]))


def vectors():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "vectors",
                        "pickle", "objects.txt")
    with open(path, "w") as f:
        for proto in range(6):
            for name, obj in cases():
                if name == "items_batch":  # large; the live test has it
                    continue
                try:
                    f.write(f"{name} {proto} {dumps(obj, proto).hex()}\n")
                except TypeError:  # a case CPython cannot write at this protocol
                    pass


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    if len(sys.argv) == 1:
        vectors()
    elif sys.argv[1] == "live":
        live(int(sys.argv[2]))
    elif sys.argv[1] == "check":
        check(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "pers":
        pers(int(sys.argv[2]))
    else:
        buffers(sys.argv[2])
