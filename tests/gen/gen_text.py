#!/usr/bin/env python3
# Usage: gen_text.py tests/vectors/io
"""Generates tests/vectors/io/codec.txt and tests/vectors/io/text.txt from CPython 3.13 for
tests/test_io.c: what the codecs (utf-8, ascii, latin-1) make of bytes and str under each error
handler, and what io.TextIOWrapper over a BytesIO reads (readline(size) until the end, read(n),
tell() after each line) and writes (newline translation, encoding errors).

Text (str) is written as the hex of its UTF-8 with surrogates encoded as 'surrogatepass' does,
the library's form. An exception is "!Type: message". Lines are tab-separated:
  decode  <enc> <errors> <hex bytes>  <hex str | !error>
  encode  <enc> <errors> <hex str>    <hex bytes | !error>
  lines   <enc> <errors> <newline> <size> <hex file> <results>   readline(size) until '' (or an
          error): results are "<hex line>@<tell>" joined by ",", the last one "!error" or ""
  read    <enc> <errors> <newline> <n> <hex file> <results>      read(n) until '' likewise
  write   <enc> <errors> <newline> <hex str> <hex bytes | !error>
newline is "N" for None, else "x<hex>".
"""
import io
import random
import sys

import cpython

cpython.require()

SEED = 20261207
ENCODINGS = ["utf-8", "ascii", "latin-1"]
ERRORS = ["strict", "replace", "ignore", "surrogateescape", "backslashreplace"]
NEWLINES = [None, "", "\n", "\r", "\r\n"]


def sx(s):
    return s.encode("utf-8", "surrogatepass").hex()


def err(e):
    return "!%s: %s" % (type(e).__name__, e)


def nl(n):
    return "N" if n is None else "x" + n.encode().hex()


PIECES = [b"a", b"bc", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80",
          b"\xff", b"\x80", b"\xe2\x82", b"\xed\xa0\x80", b"\xc3", b"\xf4\x90\x80\x80", b"\x00",
          b"xyz", b" ", b"\xe9"]


def rand_bytes(rng, n):
    return b"".join(rng.choice(PIECES) for _ in range(n))


def rand_str(rng):
    chars = ["a", "b", "\n", "\r", "\xe9", "\xff", "\u20ac", "\U0001f600", "\udcff", "\udc80",
             "\ud800", "\udc41", "\x00", "z"]
    return "".join(rng.choice(chars) for _ in range(rng.randrange(0, 8)))


def main():
    out = sys.argv[1]
    rng = random.Random(SEED)
    with open(out + "/codec.txt", "w") as f:
        for _ in range(600):
            data = rand_bytes(rng, rng.randrange(0, 7))
            for enc in ENCODINGS:
                for e in ERRORS:
                    try:
                        r = sx(data.decode(enc, e))
                    except UnicodeError as x:
                        r = err(x)
                    f.write("decode\t%s\t%s\t%s\t%s\n" % (enc, e, data.hex(), r))
        for _ in range(300):
            s = rand_str(rng)
            for enc in ENCODINGS:
                for e in ERRORS:
                    try:
                        r = s.encode(enc, e).hex()
                    except UnicodeError as x:
                        r = err(x)
                    f.write("encode\t%s\t%s\t%s\t%s\n" % (enc, e, sx(s), r))
    with open(out + "/text.txt", "w") as f:
        for _ in range(1500):
            data = rand_bytes(rng, rng.randrange(0, 10))
            enc = rng.choice(ENCODINGS)
            e = rng.choice(ERRORS)
            n = rng.choice(NEWLINES)
            size = rng.choice([-1, -1, -1, 0, 1, 2, 3, 5])
            t = io.TextIOWrapper(io.BytesIO(data), encoding=enc, errors=e, newline=n)
            res = []
            try:
                for _ in range(100):
                    line = t.readline(size)
                    if line == "" and size != 0:
                        break
                    res.append("%s@%d" % (sx(line), t.tell()))
                    if size == 0:
                        break
                res.append("")
            except (UnicodeError, OSError) as x:
                res.append(err(x))
            f.write("lines\t%s\t%s\t%s\t%d\t%s\t%s\n" % (enc, e, nl(n), size, data.hex(),
                                                        ",".join(res)))
        for _ in range(400):
            data = rand_bytes(rng, rng.randrange(0, 10))
            enc = rng.choice(ENCODINGS)
            e = rng.choice(ERRORS)
            n = rng.choice(NEWLINES)
            k = rng.choice([-1, 1, 2, 3, 7])
            t = io.TextIOWrapper(io.BytesIO(data), encoding=enc, errors=e, newline=n)
            res = []
            try:
                for _ in range(100):
                    got = t.read(k)
                    if got == "":
                        break
                    res.append(sx(got))
                res.append("")
            except (UnicodeError, OSError) as x:
                res.append(err(x))
            f.write("read\t%s\t%s\t%s\t%d\t%s\t%s\n" % (enc, e, nl(n), k, data.hex(), ",".join(res)))
        for _ in range(400):
            s = rand_str(rng)
            enc = rng.choice(ENCODINGS)
            e = rng.choice(ERRORS)
            n = rng.choice(NEWLINES)
            b = io.BytesIO()
            t = io.TextIOWrapper(b, encoding=enc, errors=e, newline=n)
            try:
                t.write(s)
                t.flush()
                r = b.getvalue().hex()
            except UnicodeError as x:
                r = err(x)
            f.write("write\t%s\t%s\t%s\t%s\t%s\n" % (enc, e, nl(n), sx(s), r))


main()
