#!/usr/bin/env python3
# Usage: gen_io.py tests/vectors/io
"""Generates tests/vectors/io/bytesio.txt: random io.BytesIO operation sequences run by
CPython 3.13, each operation with its result, for tests/test_io.c to replay against
st_bytesio; and tests/vectors/io/stringio.txt: the same for io.StringIO and the UTF-8 text
helpers (st_bytesio_write_text, read_text, readline_text, getvalue_text), restricted to the
operations where byte and code-point positions cannot differ (seek to the start or the end,
writes at the end only).

Format, one token group per line:
  new x<hex>                      start a case: io.BytesIO(initial)
  <op> <args...> = <result>       an operation and what it returned
  <op> <args...> ! <Type> <msg>   an operation and the exception it raised
Bytes are written x<hex> ("x" alone is empty), None as N.
Writes are never made at positions beyond 1 MiB.
Ops: write x<hex> | read <n> | readline <n> | readinto <n> | seek <pos> <whence> | tell |
     truncate <n|N> | getvalue | close
"""
import io
import random
import sys

import cpython

cpython.require()

SEED = 20261125
CASES = 1500
MAXSIZE = 2**63 - 1


def hx(b):
    return "x" + b.hex()


def rand_bytes(rng):
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 40])
    alphabet = b"ab\n\x00\xff"
    return bytes(rng.choice(alphabet) for _ in range(n))


def rand_n(rng):
    return rng.choice([-1, -5, 0, 1, 2, 3, 4, 7, 10, 100])


def one_op(rng, f):
    k = rng.random()
    # A write far past the end would make CPython (and us) allocate exabytes; CPython's
    # errors there are allocator artifacts. test_io.c checks that overflow separately.
    if k < 0.22 and not (not f.closed and f.tell() > 1 << 20):
        data = rand_bytes(rng)
        return "write %s" % hx(data), lambda: f.write(data)
    if k < 0.34:
        n = rand_n(rng)
        return "read %d" % n, lambda: f.read(n)
    if k < 0.46:
        n = rand_n(rng)
        return "readline %d" % n, lambda: f.readline(n)
    if k < 0.52:
        n = rng.choice([0, 1, 3, 8, 50])

        def readinto():
            buf = bytearray(n)
            got = f.readinto(buf)
            return (got, bytes(buf[:got]))
        return "readinto %d" % n, readinto
    if k < 0.72:
        whence = rng.choice([0, 0, 1, 1, 2, 2, 3, -1])
        if rng.random() < 0.03:
            pos = MAXSIZE - rng.choice([0, 1, 2])
        else:
            pos = rng.choice([-100, -10, -3, -1, 0, 1, 2, 3, 5, 10, 30])
        return "seek %d %d" % (pos, whence), lambda: f.seek(pos, whence)
    if k < 0.78:
        return "tell", f.tell
    if k < 0.86:
        size = rng.choice([None, None, -1, 0, 1, 3, 6, 20])
        arg = "N" if size is None else str(size)
        return "truncate %s" % arg, lambda: f.truncate(size)
    if k < 0.96:
        return "getvalue", f.getvalue
    return "close", f.close


TEXT_ALPHABET = "ab\n\x00\u00e9\u2603\U0001F600"


def one_text_op(rng, f):
    k = rng.random()
    if k < 0.3 and f.tell() == len(f.getvalue()):
        # only at the end: overwriting inside replaces bytes here, code points in Python
        data = "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.choice([0, 1, 2, 5, 12])))
        return "write %s" % hx(data.encode()), lambda: f.write(data)
    if k < 0.5:
        n = rand_n(rng)
        return "read %d" % n, lambda: f.read(n)
    if k < 0.7:
        n = rand_n(rng)
        return "readline %d" % n, lambda: f.readline(n)
    if k < 0.85:
        whence = rng.choice([0, 2])
        # the position returned counts code points in Python: recorded as None, not compared
        return "seek 0 %d" % whence, lambda: (f.seek(0, whence), None)[1]
    return "getvalue", f.getvalue


def text_cases(rng):
    out = ["# io.StringIO(initial) cases; str results as x<hex of UTF-8>"]
    for _ in range(600):
        init = "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.choice([0, 3, 9])))
        f = io.StringIO(init)
        out.append("new %s" % hx(init.encode()))
        for _ in range(rng.randint(1, 25)):
            text, call = one_text_op(rng, f)
            r = call()
            out.append("%s = %s" % (text, hx(r.encode()) if isinstance(r, str) else fmt_result(r)))
    return out


def fmt_result(r):
    if r is None:
        return "N"
    if isinstance(r, bytes):
        return hx(r)
    if isinstance(r, tuple):
        return "%d %s" % (r[0], hx(r[1]))
    return str(r)


def main():
    rng = random.Random(SEED)
    out = [__doc__.strip().replace("\n", "\n# ").join(["# ", ""])]
    for _ in range(CASES):
        init = rand_bytes(rng)
        f = io.BytesIO(init)
        out.append("new %s" % hx(init))
        for _ in range(rng.randint(1, 30)):
            text, call = one_op(rng, f)
            try:
                out.append("%s = %s" % (text, fmt_result(call())))
            except Exception as e:
                out.append("%s ! %s %s" % (text, type(e).__name__, e))
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    with open(outdir + "/bytesio.txt", "w") as fh:
        fh.write("\n".join(out) + "\n")
    with open(outdir + "/stringio.txt", "w") as fh:
        fh.write("\n".join(text_cases(rng)) + "\n")


if __name__ == "__main__":
    main()
