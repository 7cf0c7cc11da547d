"""Writes the shelve vectors: a shelf CPython 3.13 made on each backend we read.

    python3 tests/gen/gen_shelve.py tests/vectors/shelve    (runs under CPython 3.13: cpython.py)

cpython.sqlite3 (dbm.sqlite3) and cpython_dumb.dat/.dir (dbm.dumb) hold the same shelf: the
values in VALUES under their keys, pickled with shelve's default protocol. cpython_raw.dat/.dir
is a raw dbm.dumb file whose byte keys exercise every quoting rule of the .dir index.
test_shelve.c checks these against the literals repeated there.
"""
import dbm.dumb
import dbm.sqlite3
import os
import shelve
import sys

import cpython

cpython.require()

VALUES = {
    "ada": {"name": "Ada", "age": 36, "langs": ["en", "fr"]},
    "grace": (1906, 1992, None, True),
    "café": "ünïcödé",
    "empty": b"",
    "big": 2**100,
}

RAW = {
    b"it's": b"1",
    b'say "hi"': b"2",
    b"both '\"": b"3",
    b"\xe9t\xe9": b"4",
    b"\x00\x01\n\t\r\\": b"5",
    b"\xa0\xad\x85\x7f": b"6",
    b"": b"7",
}


def main():
    out = sys.argv[1]
    for name in os.listdir(out):
        if name.startswith("cpython"):
            os.remove(os.path.join(out, name))
    base = os.path.join(out, "cpython")
    with shelve.Shelf(dbm.sqlite3.open(base + ".sqlite3", "c")) as sh:
        sh.update(VALUES)
    with shelve.Shelf(dbm.dumb.open(base + "_dumb", "c")) as sh:
        sh.update(VALUES)
    with dbm.dumb.open(base + "_raw", "c") as db:
        for k, v in RAW.items():
            db[k] = v
        db[b"it's"] = b"rewritten, longer than before" * 30  # moves to a new block
        del db[b"both '\""]
        db[b"both '\""] = b"3"
    for name in os.listdir(out):
        if name.endswith(".bak"):
            os.remove(os.path.join(out, name))


if __name__ == "__main__":
    main()
