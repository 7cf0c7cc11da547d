#!/usr/bin/env python3
"""Random plain values pickled by CPython 3.13, for the pickle module's tests.

    python3 tests/gen/gen_pickle.py                 # writes tests/vectors/pickle/*.txt
    python3 tests/gen/gen_pickle.py live SEED N P   # N records for protocol P on stdout
    python3 tests/gen/gen_pickle.py stdlive SEED N P  # the same with the standard library's types
                                                      # (7 framing edges, then N - 7 random)
    python3 tests/gen/gen_pickle.py check FILE
    python3 tests/gen/gen_pickle.py checkexpr FILE

stdtypes.txt and stdlive hold values of datetime, decimal, uuid, complex and collections
(nested in plain data); their repr is the one of the value as CPython loads it back (protocols
0-3 drop a datetime's fold, as CPython's pickler does). `checkexpr` reads lines "hex<TAB>expr"
(a pickle the C library wrote from a value it built, and the Python expression of that value),
and checks that pickle.loads gives an object of the same type, equal (or, for NaNs, of the same
repr) to eval(expr), printing a final "checked N ok M".

Record format (one per line): the pickle in hex, a space, repr() of the value.
vectors.txt holds, per value, a line "R <repr>" followed by "P<proto> <hex>" for protocols 0-5.
`check` reads FILE (lines "hex repr": a pickle written by the C library, and CPython's repr of
the value it came from), loads each with pickle.loads, compares reprs and prints one line per
mismatch and a final "checked N ok M".

Runs under PYTHONHASHSEED=0 (re-executes itself if needed) so sets of str/bytes iterate in the
order the library reproduces; values are passed through pickle.loads(pickle.dumps()) until stable so
their sets iterate in the order any unpickler (ours too) rebuilds them in.
"""
import math
import os
import pickle
import random
import sys

import cpython

cpython.require(hashseed_zero=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VEC = os.path.join(ROOT, "tests", "vectors", "pickle")

sys.setrecursionlimit(10000)

ALPHABETS = ["abc", "abcdefghijklmnopqrstuvwxyz0123456789 _-", "\\'\"\n\r\t\x00\x1a\x7f\x80\xff",
             "äöüßé€", "日本語中文", "\U0001f600\U00010348", "\ud800\udfff"]


def gen_str(rng):
    alpha = rng.choice(ALPHABETS[:6] if rng.random() < 0.97 else ALPHABETS)
    n = rng.choice([0, 1, 1, 2, 3, 5, 8, 20, 60]) if rng.random() < 0.998 else rng.choice([300, 70000])
    return "".join(rng.choice(alpha) for _ in range(n))


def gen_bytes(rng):
    n = rng.choice([0, 1, 1, 2, 4, 16, 100]) if rng.random() < 0.998 else rng.choice([256, 300, 70000])
    return bytes(rng.randrange(256) for _ in range(n))


def gen_int(rng):
    k = rng.randrange(9)
    if k == 0:
        return rng.choice([0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, -2**31 - 1,
                           2**63 - 1, -2**63, 2**64, -2**64, 127, 128, -128, -129, 32767, -32768])
    if k < 4:
        return rng.randrange(-300, 70000)
    if k < 6:
        return rng.randrange(-2**40, 2**40)
    if k < 8:
        return rng.randrange(-2**70, 2**70)
    bits = rng.choice([100, 300, 2100])
    return rng.randrange(-2**bits, 2**bits)


def gen_float(rng, allow_nan=True):
    k = rng.randrange(6)
    if k == 0:
        c = [0.0, -0.0, 1.0, -1.5, float("inf"), float("-inf"), 1e300, 5e-324, 1e16, 0.1]
        if allow_nan:
            c.append(float("nan"))
        return rng.choice(c)
    if k < 3:
        return rng.random() * 10 ** rng.randrange(-10, 20)
    return float(rng.randrange(-1000, 1000)) / 8


def gen_hashable(rng, depth):
    k = rng.randrange(10)
    if k == 0:
        return rng.choice([None, True, False])
    if k < 3:
        return gen_int(rng)
    if k == 3:
        return gen_float(rng, allow_nan=False)
    if k < 7:
        return gen_str(rng)
    if k == 7:
        return gen_bytes(rng)
    if depth <= 0:
        return gen_int(rng)
    if k == 8:
        return tuple(gen_hashable(rng, depth - 1) for _ in range(rng.randrange(5)))
    return frozenset(gen_hashable(rng, depth - 1) for _ in range(rng.randrange(6)))


def container_len(rng):
    """A length, and the depth left for the items (big containers hold scalars only)."""
    if rng.random() < 0.005:
        return rng.choice([999, 1000, 1001, 2000]), 0
    return rng.choice([0, 1, 2, 3, 4, 5, 7, 12]), None


def gen_value(rng, depth, pool):
    if pool and rng.random() < 0.08:
        return rng.choice(pool)  # a shared reference
    k = rng.randrange(16)
    if depth <= 0 or k < 6:
        if k == 0:
            v = rng.choice([None, True, False])
        elif k in (1, 2):
            v = gen_int(rng)
        elif k == 3:
            v = gen_float(rng)
        elif k == 4:
            v = gen_str(rng)
        else:
            v = gen_bytes(rng) if rng.random() < 0.8 else bytearray(gen_bytes(rng))
    elif k < 8:
        n, d = container_len(rng)
        v = [gen_value(rng, depth - 1 if d is None else d, pool) for _ in range(n)]
        if rng.random() < 0.05:
            v.append(v)  # recursive list
    elif k < 10:
        v = tuple(gen_value(rng, depth - 1, pool) for _ in range(rng.randrange(6)))
        if rng.random() < 0.05:
            inner = [v]
            v = (inner,) + v
            inner.append(v)  # a tuple reachable from itself through a list
    elif k < 12:
        n, d = container_len(rng)
        v = {gen_hashable(rng, 2 if d is None else 0): gen_value(rng, depth - 1 if d is None else d, pool)
             for _ in range(n)}
        if rng.random() < 0.05:
            v["self"] = v
    elif k < 14:
        n, d = container_len(rng)
        v = {gen_hashable(rng, 2 if d is None else 0) for _ in range(n)}
    elif k < 15:
        n, d = container_len(rng)
        v = frozenset(gen_hashable(rng, 2 if d is None else 0) for _ in range(n))
    else:
        v = rng.choice([(), [], {}, set(), frozenset(), b"", "", bytearray()])
    if rng.random() < 0.3:
        pool.append(v)
    return v


def values(seed, n):
    rng = random.Random(seed)
    made = 0
    while made < n:
        v = gen_value(rng, rng.randrange(1, 5), [])
        # Rebuilding a set from its iteration order can change that order: iterate to a
        # value that every unpickler rebuilds exactly (give up on the rare one that does not).
        data = pickle.dumps(v, 4)
        for _ in range(20):
            v = pickle.loads(data)
            again = pickle.dumps(v, 4)
            if again == data:
                break
            data = again
        else:
            continue
        made += 1
        yield v


def live(seed, n, proto):
    out = sys.stdout
    for v in values(seed, n):
        out.write(pickle.dumps(v, proto).hex() + " " + repr(v) + "\n")


def check(path):
    """Each line of path: our pickle in hex, a space, CPython's repr() of the value."""
    ok = n = 0
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            n += 1
            hx, want = line.rstrip("\n").split(" ", 1)
            try:
                got = repr(pickle.loads(bytes.fromhex(hx)))
            except Exception as e:
                print(f"FAIL {i}: {type(e).__name__}: {e}")
                continue
            if got != want:
                print(f"FAIL {i}: {got[:200]} != {want[:200]}")
                continue
            ok += 1
    print(f"checked {n} ok {ok}")


def gen_std(rng, depth, pool):
    """A value of one of the standard library's types; containers hold gen_value items."""
    import collections
    import datetime as dt
    import decimal
    import uuid
    k = rng.randrange(12)
    tzs = [None, None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5), "EST"),
           dt.timezone(dt.timedelta(minutes=rng.randrange(-1439, 1440)))]
    if k == 0:
        return dt.date(rng.randrange(1, 10000), rng.randrange(1, 13), rng.randrange(1, 29))
    if k == 1:
        return dt.time(rng.randrange(24), rng.randrange(60), rng.choice([0, rng.randrange(60)]),
                       rng.choice([0, rng.randrange(10**6)]), tzinfo=rng.choice(tzs),
                       fold=rng.randrange(2))
    if k == 2:
        return dt.datetime(rng.randrange(1, 10000), rng.randrange(1, 13), rng.randrange(1, 29),
                           rng.randrange(24), rng.randrange(60), rng.randrange(60),
                           rng.choice([0, rng.randrange(10**6)]), tzinfo=rng.choice(tzs),
                           fold=rng.randrange(2))
    if k == 3:
        return dt.timedelta(rng.randrange(-999999999, 10**9), rng.randrange(-10**6, 10**6),
                            rng.randrange(-10**7, 10**7))
    if k == 4:
        return rng.choice(tzs[2:])
    if k == 5:
        return decimal.Decimal(rng.choice([
            "%d.%0*d" % (rng.randrange(-10**6, 10**6), rng.randrange(1, 5), rng.randrange(1000)),
            "%dE%d" % (rng.randrange(-99, 100), rng.randrange(-30, 30)), "NaN", "-Infinity",
            "sNaN1", "-0.00", str(rng.randrange(-2**80, 2**80))]))
    if k == 6:
        return uuid.UUID(int=rng.randrange(2**128),
                         is_safe=rng.choice(list(uuid.SafeUUID)))
    if k == 7:
        return complex(gen_float(rng), gen_float(rng))
    if depth <= 0:
        return dt.timedelta(rng.randrange(100))
    n, d = container_len(rng)
    depth = depth - 1 if d is None else d
    if k == 8:
        v = collections.OrderedDict((gen_hashable(rng, 1), gen_value(rng, depth, pool))
                                    for _ in range(n))
        if rng.random() < 0.1:
            v["self"] = v
        return v
    if k == 9:
        f = rng.choice([None, list, dict, set, int, str, float, tuple, bytes, frozenset,
                        collections.OrderedDict, collections.Counter, collections.deque])
        return collections.defaultdict(f, ((gen_hashable(rng, 1), gen_value(rng, depth, pool))
                                           for _ in range(n)))
    if k == 10:
        v = collections.deque((gen_value(rng, depth, pool) for _ in range(n)),
                              maxlen=rng.choice([None, None, n, n + 2, max(n - 1, 0)]))
        if rng.random() < 0.1 and (v.maxlen is None or v.maxlen > 0):
            v.append(v)
        return v
    return collections.Counter({gen_hashable(rng, 1): rng.randrange(-5, 50) for _ in range(n)})


def std_values(seed, n):
    """Standard library values, alone or inside lists, tuples and dicts with plain data."""
    rng = random.Random(seed)
    made = 0
    while made < n:
        pool = []
        v = gen_std(rng, rng.randrange(1, 4), pool)
        if rng.random() < 0.3:
            v = [v, gen_value(rng, 2, pool), gen_std(rng, 1, pool), v]
        data = pickle.dumps(v, 4)
        for _ in range(20):
            v = pickle.loads(data)
            again = pickle.dumps(v, 4)
            if again == data:
                break
            data = again
        else:
            continue
        made += 1
        yield v


def std_fixed_values():
    """Framing edges: many small objects of each type, so frames close inside their reduce
    (between a class and its arguments, before a state), and items past a frame's size."""
    import collections
    import datetime as dt
    import decimal
    import uuid
    yield [uuid.UUID(int=i, is_safe=uuid.SafeUUID(i % 2 - 1)) for i in range(4000)]
    yield [collections.OrderedDict() for _ in range(9000)] + [collections.deque([], 3)] * 2
    yield [collections.deque([i], 3) for i in range(6000)]
    yield [dt.datetime(2020, 1, 1, i % 24, tzinfo=dt.timezone(dt.timedelta(minutes=i % 900)))
           for i in range(3000)]
    yield [collections.Counter(a=i) for i in range(6000)]
    yield [collections.defaultdict(int if i % 2 else None) for i in range(9000)]
    yield collections.deque(["x" * 70000, decimal.Decimal("1.5"), complex(1, 2)], maxlen=5)


def std_live(seed, n, proto):
    out = sys.stdout
    for v in std_fixed_values():
        pk = pickle.dumps(v, proto)
        out.write(pk.hex() + " " + repr(pickle.loads(pk)) + "\n")
    for v in std_values(seed, n - 7):
        pk = pickle.dumps(v, proto)
        out.write(pk.hex() + " " + repr(pickle.loads(pk)) + "\n")


def check_expr(path):
    """Each line of path: our pickle in hex, a tab, the Python expression of the value."""
    import collections
    import datetime
    import decimal
    import uuid
    env = {"datetime": datetime, "Decimal": decimal.Decimal, "UUID": uuid.UUID,
           "SafeUUID": uuid.SafeUUID, "OrderedDict": collections.OrderedDict,
           "defaultdict": collections.defaultdict, "deque": collections.deque,
           "Counter": collections.Counter, "nan": float("nan"), "inf": float("inf")}
    ok = n = 0
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            n += 1
            hx, expr = line.rstrip("\n").split("\t", 1)
            want = eval(expr, env)
            try:
                got = pickle.loads(bytes.fromhex(hx))
            except Exception as e:
                print(f"FAIL {i}: {type(e).__name__}: {e} for {expr}")
                continue
            same = type(got) is type(want) and repr(got) == repr(want)
            if "nan" not in repr(want).lower():  # NaNs: the same repr is all one can ask
                same = same and got == want
            if isinstance(want, uuid.UUID):
                same = same and got.is_safe == want.is_safe
            if isinstance(want, collections.defaultdict):
                same = same and got.default_factory is want.default_factory
            if isinstance(want, collections.deque):
                same = same and got.maxlen == want.maxlen
            if not same:
                print(f"FAIL {i}: {got!r} != {want!r}")
                continue
            ok += 1
    print(f"checked {n} ok {ok}")


def fixed_values():
    """Values for the framing and batching edges: payloads of exactly one frame's size (they
    go between frames), a list long enough for several frames, batches of exactly 1000."""
    yield ["a" * 65536, b"\x01" * 65536, "end"]
    yield list(range(25000))
    yield {i: None for i in range(2000)}
    yield set(range(1000))
    # The edges of the library's immediates (ints of 63 bits, doubles of exponent -255..256) on
    # both sides, and numbers repeated (pickle memoizes neither ints nor floats).
    big, tiny, huge = 2**62, 2.0**-255, 2.0**257
    yield [big - 1, big, -big, -big - 1, 2**63 - 1, -2**63, 2**63, 0.0, -0.0, tiny,
           math.nextafter(tiny, 1), math.nextafter(tiny, 0), huge, math.nextafter(huge, 0), -huge,
           5e-324, 2.2250738585072014e-308, 1e300, float("inf"), float("-inf"), float("nan"),
           1.5, 1.5, big, big, -0.0, -0.0, {big: 1.5, 1: -0.0}]


def write_vectors():
    os.makedirs(VEC, exist_ok=True)
    with open(os.path.join(VEC, "vectors.txt"), "w", encoding="utf-8", newline="\n") as f:
        for v in list(fixed_values()) + list(values(20261125, 300)):
            f.write("R " + repr(v) + "\n")
            for proto in range(6):
                f.write(f"P{proto} " + pickle.dumps(v, proto).hex() + "\n")
    with open(os.path.join(VEC, "stdtypes.txt"), "w", encoding="utf-8", newline="\n") as f:
        for v in std_values(20261207, 120):
            for proto in range(6):
                pk = pickle.dumps(v, proto)
                f.write("R " + repr(pickle.loads(pk)) + "\n")
                f.write(f"P{proto} " + pk.hex() + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 1:
        write_vectors()
    elif sys.argv[1] == "live":
        live(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "stdlive":
        std_live(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "check":
        check(sys.argv[2])
    elif sys.argv[1] == "checkexpr":
        check_expr(sys.argv[2])
    else:
        sys.exit("usage: gen_pickle.py [live SEED N P | stdlive SEED N P | check FILE | "
                 "checkexpr FILE]")
