#!/usr/bin/env python3
"""Random plain values pickled by CPython 3.13, for the pickle module's tests.

    python3 tests/gen/gen_pickle.py                 # writes tests/vectors/pickle/vectors.txt
    python3 tests/gen/gen_pickle.py live SEED N P   # N records for protocol P on stdout
    python3 tests/gen/gen_pickle.py check FILE

Record format (one per line): the pickle in hex, a space, repr() of the value.
vectors.txt holds, per value, a line "R <repr>" followed by "P<proto> <hex>" for protocols 0-5.
`check` reads FILE (lines "hex repr": a pickle written by the C library, and CPython's repr of
the value it came from), loads each with pickle.loads, compares reprs and prints one line per
mismatch and a final "checked N ok M".

Runs under PYTHONHASHSEED=0 (re-executes itself if needed) so sets of str/bytes iterate in the
order the library reproduces; values are passed through pickle.loads(pickle.dumps()) until stable so
their sets iterate in the order any unpickler (ours too) rebuilds them in.
"""
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


def fixed_values():
    """Values for the framing and batching edges: payloads of exactly one frame's size (they
    go between frames), a list long enough for several frames, batches of exactly 1000."""
    yield ["a" * 65536, b"\x01" * 65536, "end"]
    yield list(range(25000))
    yield {i: None for i in range(2000)}
    yield set(range(1000))


def write_vectors():
    os.makedirs(VEC, exist_ok=True)
    with open(os.path.join(VEC, "vectors.txt"), "w", encoding="utf-8", newline="\n") as f:
        for v in list(fixed_values()) + list(values(20261125, 300)):
            f.write("R " + repr(v) + "\n")
            for proto in range(6):
                f.write(f"P{proto} " + pickle.dumps(v, proto).hex() + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 1:
        write_vectors()
    elif sys.argv[1] == "live":
        live(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit("usage: gen_pickle.py [live SEED N P | check FILE]")
