"""The CPython side of test_shelve_proof.c: reads shelves we wrote, writes shelves we read,
and answers dbm.whichdb(). Run by path with CPython 3.13:

  shelve_peer.py check  dumb|sqlite3|rawsqlite DB REPRS   compare a shelf with a repr file
  shelve_peer.py write  dumb|sqlite3 DB REPRS SEED COUNT  write random values and their reprs
  shelve_peer.py mutate dumb|sqlite3 DB                   change a shelf we wrote (see mutate())
  shelve_peer.py whichdb NAME...                         one repr(dbm.whichdb(NAME)) per line

A repr file has one line per key: repr(key), a tab, repr(value) of the value as unpickled
(a set's order depends on its insertion history, and unpickling is one history). Set order
also depends on str and bytes hashes, so the script always runs with PYTHONHASHSEED=0 (our
value module's hashes are CPython's with that seed).
"""
import ast
import math
import os
import pickle
import random
import shelve
import sqlite3
import sys
import tempfile

if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))

import dbm
import dbm.dumb
import dbm.sqlite3


def open_shelf(backend, path, flag):
    mod = dbm.dumb if backend == "dumb" else dbm.sqlite3
    return shelve.Shelf(mod.open(path, flag), keyencoding="utf-8")


def read_reprs(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            k, v = line.rstrip("\n").split("\t")
            yield ast.literal_eval(k), v


def schema(path):
    cx = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = cx.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
        rows = rows.fetchall()
        journal = cx.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        cx.close()
    return rows, journal


def raw_sqlite_items(path):
    """The tiny reader: CPython's sqlite3 module on the 3.13 schema, no dbm module."""
    with tempfile.TemporaryDirectory() as d:
        ref = os.path.join(d, "ref.sqlite3")
        dbm.sqlite3.open(ref, "c").close()
        want = schema(ref)
    got = schema(path)
    if got != want:
        sys.exit(f"schema differs from dbm.sqlite3's:\n  ours   {got}\n  python {want}")
    cx = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {k.decode("utf-8"): pickle.loads(v)
                for k, v in cx.execute("SELECT key, value FROM Dict")}
    finally:
        cx.close()


def check(backend, path, reprs):
    expected = dict(read_reprs(reprs))
    env = {"inf": math.inf, "__builtins__": {"set": set, "frozenset": frozenset,
                                             "bytearray": bytearray}}
    if backend == "rawsqlite":
        items = raw_sqlite_items(path)
    else:
        with open_shelf(backend, path, "r") as sh:
            items = {k: sh[k] for k in sh.keys()}
    bad = 0
    if set(items) != set(expected):
        print("keys differ:", sorted(set(items) ^ set(expected))[:10])
        bad += 1
    for k, text in expected.items():
        if k not in items:
            continue
        v = items[k]
        if repr(v) != text or eval(text, env) != v:
            print(f"value of {k!r} differs:\n  ours   {text}\n  python {v!r}")
            bad += 1
            if bad > 10:
                break
    print(f"{backend}: {len(items)} values, {bad} mismatches")
    return 1 if bad else 0


ALPHABET = "abcxyz \t\n'\"\\é€😀\x00\x7f\u2028"


def rand_str(r):
    return "".join(r.choice(ALPHABET) for _ in range(r.randrange(12)))


def rand_key(r):
    return r.choice([rand_str(r), r.randrange(-1000, 1000), (r.randrange(9), rand_str(r))])


def rand_value(r, depth=0):
    kind = r.randrange(14 if depth < 3 else 8)
    if kind == 0:
        return r.choice([None, True, False])
    if kind == 1:
        return r.randrange(-2**31, 2**31)
    if kind == 2:
        return r.getrandbits(r.randrange(64, 300)) * r.choice([1, -1])
    if kind == 3:
        return r.choice([r.uniform(-1e6, 1e6), math.inf, -math.inf, -0.0, 1e300, 5e-324, 0.1])
    if kind == 4:
        return rand_str(r)
    if kind == 5:
        return r.randbytes(r.randrange(20))
    if kind == 6:
        return bytearray(r.randbytes(r.randrange(8)))
    if kind == 7:
        return r.randrange(256)
    n = r.randrange(5)
    if kind in (8, 9):
        return [rand_value(r, depth + 1) for _ in range(n)]
    if kind == 10:
        return tuple(rand_value(r, depth + 1) for _ in range(n))
    if kind in (11, 12):
        return {rand_key(r): rand_value(r, depth + 1) for _ in range(n)}
    return r.choice([set, frozenset])(rand_key(r) for _ in range(n))


def write(backend, path, reprs, seed, count):
    r = random.Random(seed)
    with open_shelf(backend, path, "n") as sh, open(reprs, "w", encoding="utf-8") as out:
        for i in range(count):
            k = f"py{i}" if i % 3 else f"ключ-{i}-é"
            v = rand_value(r)
            sh[k] = v
            # A set's order depends on its insertion history: the repr to expect is that of
            # the value as a reader loads it back.
            out.write(f"{k!r}\t{pickle.loads(pickle.dumps(v, sh._protocol))!r}\n")
    return 0


def mutate(backend, path):
    """Keys are ours, numbered: "k<i>" or "ключ-<i>-é". Deletes those with i % 5 == 0,
    replaces those with i % 5 == 1 by ('py', key), leaves the rest, adds one."""
    with open_shelf(backend, path, "w") as sh:
        for k in list(sh.keys()):
            i = int(k.split("-")[1] if k.startswith("ключ") else k[1:])
            if i % 5 == 0:
                del sh[k]
            elif i % 5 == 1:
                sh[k] = ("py", k)
        sh["added-by-python"] = {"x": [1, 2]}
    return 0


def main(argv):
    if argv[1] == "check":
        return check(argv[2], argv[3], argv[4])
    if argv[1] == "write":
        return write(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]))
    if argv[1] == "mutate":
        return mutate(argv[2], argv[3])
    if argv[1] == "whichdb":
        for name in argv[2:]:
            print(repr(dbm.whichdb(name)))
        return 0
    sys.exit(f"unknown command {argv[1]!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
