#!/usr/bin/env python3
"""Writes tests/vectors/struct/*.txt from CPython 3.13's struct module (deterministic: fixed seed).

Run from the source tree (it runs itself under CPython 3.13, found as cpython.py says):
    python3 tests/gen/gen_struct.py

Files (one case per line, tab-separated; formats are hex-encoded because they hold whitespace):
  calcsize.txt  fmt  (size | !ExcType<TAB>message)
  pack.txt      fmt  typed-args  args-repr  (hex | !ExcType<TAB>message)
  unpack.txt    fmt  data-hex  typed-values  values-repr
  offsets.txt   pack_into|unpack_from  fmt  buflen  offset  (ok | !ExcType<TAB>message)
  iter.txt      fmt  data-hex  (count | !ExcType<TAB>message)

Typed tokens, one per value, space-separated: i:<decimal> (integer codes, '?' as its int,
'c' as its byte), f:<16 hex digits: the double's bits, big-endian>, s:<hex> (s and p).
typed-args is '-' when a value cannot be passed as the C argument type of its code (those cases
are for the value path only). Exception types are 'struct.error' or the builtin name.
"""
import os
import random
import struct

import cpython

cpython.require()

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "vectors", "struct")

NATIVE_CODES = "xcbB?hHiIlLqQnNefdspP"
STD_CODES = "xcbB?hHiIlLqQefdsp"
PREFIXES = ["", "@", "=", "<", ">", "!"]
SPACES = [" ", "\t", "\n", "  ", "\r", "\x0b", "\x0c"]

# C argument types of the typed API: (min, max) a C caller can pass.
C_ARG = {
    "b": (-2**31, 2**31 - 1), "h": (-2**31, 2**31 - 1), "i": (-2**31, 2**31 - 1),
    "B": (0, 2**32 - 1), "H": (0, 2**32 - 1), "I": (0, 2**32 - 1),
    "l": (-2**63, 2**63 - 1), "L": (0, 2**64 - 1),
    "q": (-2**63, 2**63 - 1), "Q": (0, 2**64 - 1),
    "n": (-2**63, 2**63 - 1), "N": (0, 2**64 - 1),
    "P": (0, 2**64 - 1), "?": (-2**31, 2**31 - 1), "c": (0, 255),
}
INT_CODES = "bBhHiIlLqQnNP"
FLOAT_CODES = "efd"


def hexfmt(fmt):
    return fmt.encode("latin-1").hex()


def err(e):
    name = type(e).__name__
    if isinstance(e, struct.error):
        name = "struct.error"
    return "!%s\t%s" % (name, e)


def native(prefix):
    return prefix in ("", "@")


def field_range(code, prefix):
    size = struct.calcsize(prefix + code) if code != "P" else struct.calcsize("P")
    if code in "bhilqn":
        return -(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1
    return 0, 2 ** (8 * size) - 1


def rand_int(rng, code, prefix):
    lo, hi = field_range(code, prefix)
    clo, chi = C_ARG[code]
    r = rng.random()
    if r < 0.25:
        return rng.choice([lo, hi, 0, 1, -1 if lo < 0 else 2])
    if r < 0.93:
        return rng.randint(lo, hi)
    # Out of the field's range but still a valid C argument (when there is room).
    cands = [v for v in (lo - 1, hi + 1, rng.randint(clo, chi), clo, chi) if clo <= v <= chi]
    return rng.choice(cands)


SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.5, float("inf"), float("-inf"), float("nan"), 65504.0, 65519.99,
                  65520.0, 1e10, 1e-8, 2**-24, 2**-25, 1.5 * 2**-25, 2**-14, 6.1e-5, 3.4028235e38,
                  3.4028236e38, 1e39, 1e-45, 1.4e-45, 2.5, 0.1, 1e308, 5e-324, 1.0009765625,
                  1.00048828125, 1.000732421875, 2049.0, 2051.0, 4097.0]


def rand_float(rng):
    r = rng.random()
    if r < 0.35:
        return rng.choice(SPECIAL_FLOATS) * rng.choice([1, -1])
    if r < 0.7:
        return rng.uniform(-70000, 70000)
    if r < 0.85:
        return rng.uniform(-1, 1) * 10 ** rng.randint(-40, 40)
    x = struct.unpack("<d", rng.randbytes(8))[0]
    return x if x == x else float("nan")


def rand_bytes(rng, n):
    return rng.randbytes(rng.randint(0, n + 3))


def tok_int(v):
    return "i:%d" % v


def tok_float(v):
    return "f:" + struct.pack(">d", v).hex()


def tok_bytes(b):
    return "s:" + bytes(b).hex()


def random_format(rng, valid=True):
    prefix = rng.choice(PREFIXES)
    codes = NATIVE_CODES if native(prefix) else STD_CODES
    items = []
    for _ in range(rng.randint(1, 6)):
        c = rng.choice(codes)
        r = rng.random()
        if c in "sp":
            cnt = str(rng.choice([0, 1, 2, 3, 5, 8, 12, rng.randint(0, 20)])) if r < 0.85 else ""
            if rng.random() < 0.02:
                cnt = str(rng.choice([255, 256, 257, 300]))
        elif r < 0.3:
            cnt = str(rng.randint(0, 4))
        else:
            cnt = ""
        item = cnt + c
        if rng.random() < 0.15:
            item = rng.choice(SPACES) + item
        items.append(item)
    fmt = prefix + "".join(items)
    if rng.random() < 0.1:
        fmt += rng.choice(SPACES)
    if not valid:
        kind = rng.randint(0, 6)
        pos = rng.randint(len(prefix), len(fmt))
        if kind == 0:
            fmt = fmt[:pos] + rng.choice("zZjkyY#<>=!@$%uUwW\x80\xff") + fmt[pos:]
        elif kind == 1:
            fmt += str(rng.randint(0, 99))
        elif kind == 2:
            fmt = fmt[:pos] + rng.choice(["9223372036854775807", "99999999999999999999", "4611686018427387904",
                                          "1152921504606846976", "9223372036854775808"]) + rng.choice(codes) + fmt[pos:]
        elif kind == 3:
            fmt = prefix + rng.choice("=<>!") + rng.choice("nNP") + fmt[len(prefix):]
        elif kind == 4:
            fmt = fmt[:pos] + "3 " + fmt[pos:]
        elif kind == 5:
            fmt = fmt + "9223372036854775807x" + rng.choice(["", "x", "i", "0q"])
        else:
            fmt = fmt[:pos] + str(rng.randint(10**17, 10**19)) + "x" + fmt[pos:]
    return fmt


def items_of(fmt):
    """The value codes of a valid format, one per value, with s/p lengths."""
    s = fmt[1:] if fmt[:1] and fmt[:1] in "@=<>!" else fmt
    out = []
    num = ""
    for ch in s:
        if ch.isspace():
            continue
        if ch.isdigit():
            num += ch
            continue
        n = int(num) if num else 1
        num = ""
        if ch in "sp":
            out.append((ch, n))
        elif ch != "x":
            out.extend([(ch, 1)] * n)
    return out


def typed_value(code, v):
    if code in "sp":
        return tok_bytes(v)
    if code == "c":
        return tok_int(v[0])
    if code == "?":
        return tok_int(int(v))
    if code in FLOAT_CODES:
        return tok_float(v)
    return tok_int(v)


def pack_case(rng, fmt, py_only):
    prefix = fmt[0] if fmt[:1] and fmt[:1] in "@=<>!" else ""
    args, typed = [], []
    for code, n in items_of(fmt):
        if code in "sp":
            v = rand_bytes(rng, n if n < 40 else 300)
            typed.append(tok_bytes(v))
        elif code == "c":
            b = rng.randint(0, 255)
            v = bytes([b])
            typed.append(tok_int(b))
        elif code == "?":
            v = rng.choice([0, 1, 2, -7, 255, 65536])
            typed.append(tok_int(v))
        elif code in FLOAT_CODES:
            v = rand_float(rng)
            typed.append(tok_float(v))
        else:
            v = rand_int(rng, code, prefix)
            typed.append(tok_int(v))
        args.append(v)
    typed_ok = True
    if py_only and args:
        typed_ok = False
        k = rng.randrange(len(args))
        code = items_of(fmt)[k][0]
        if code in INT_CODES or code == "?":
            args[k] = rng.choice([True, False, 2**70, -2**70, -1, 2**64, -2**63 - 1, 1.5, "1", b"x", None])
        elif code in FLOAT_CODES:
            args[k] = rng.choice([True, 3, -2**70, 2**1100, "1.0", None, b"x"])
        elif code in "sp":
            args[k] = rng.choice(["ab", 3, None, b"x" * 300])
        else:  # c
            args[k] = rng.choice([b"", b"ab", 97, "a", None])
    if py_only and rng.random() < 0.3:
        typed_ok = False
        if args and rng.random() < 0.5:
            args.pop()
        else:
            args.append(1)
    try:
        res = struct.pack(fmt, *args).hex()
    except Exception as e:  # noqa: BLE001 - every exception is a vector
        res = err(e)
    return "%s\t%s\t%s\t%s" % (hexfmt(fmt), " ".join(typed) if typed_ok else "-", repr(tuple(args)), res)


def unpack_case(rng, fmt):
    size = struct.calcsize(fmt)
    data = rng.randbytes(size)
    vals = struct.unpack(fmt, data)
    typed = [typed_value(code, v) for (code, _), v in zip(items_of(fmt), vals)]
    return "%s\t%s\t%s\t%s" % (hexfmt(fmt), data.hex(), " ".join(typed), repr(vals))


def offsets_case(rng):
    fmt = rng.choice(["i", "<q", "3h", "", "x", "<5s", "@bi", "=d"])
    buflen = rng.randint(0, 24)
    offset = rng.randint(-30, 30)
    op = rng.choice(["pack_into", "unpack_from"])
    s = struct.Struct(fmt)
    try:
        if op == "pack_into":
            args = [b"abcde" if "s" in fmt else 1] * len(items_of(fmt))
            s.pack_into(bytearray(buflen), offset, *args)
        else:
            s.unpack_from(bytes(buflen), offset)
        res = "ok"
    except Exception as e:  # noqa: BLE001
        res = err(e)
    return "%s\t%s\t%d\t%d\t%s" % (op, hexfmt(fmt), buflen, offset, res)


def iter_case(rng):
    fmt = rng.choice(["i", "<hb", "", "0i", "x", "<3s", "@ci", ">e"])
    size = struct.calcsize(fmt)
    n = rng.randint(0, 6) * max(size, 1) + (rng.randint(0, 2) if rng.random() < 0.4 else 0)
    data = rng.randbytes(n)
    try:
        res = str(len(list(struct.iter_unpack(fmt, data))))
    except Exception as e:  # noqa: BLE001
        res = err(e)
    return "%s\t%s\t%s" % (hexfmt(fmt), data.hex(), res)


def single_formats():
    """Every code under every prefix, alone and with a count: exercises the varargs path."""
    out = []
    for prefix in PREFIXES:
        for c in (NATIVE_CODES if native(prefix) else STD_CODES):
            if c == "x":
                continue
            out.append(prefix + c)
            if c in "sp":
                out += [prefix + "0" + c, prefix + "4" + c, prefix + "1" + c, prefix + "300" + c]
    return out


def main():
    rng = random.Random(20261125)
    os.makedirs(OUT, exist_ok=True)

    calc = []
    for i in range(3000):
        fmt = random_format(rng, valid=i % 3 != 0)
        try:
            res = str(struct.calcsize(fmt.encode("latin-1")))  # C formats are bytes
        except Exception as e:  # noqa: BLE001
            res = err(e)
        calc.append("%s\t%s" % (hexfmt(fmt), res))
    for fmt in ["", "@", "<", "0l", "@bi0l", "b0i", "3", "<3", "i 4", "4 i", " i ", "=n", "<P", "!N",
                "9223372036854775807x", "9223372036854775807xx", "4611686018427387904h",
                "99999999999999999999i", "\x80", "i\xff", "<<i", "@@", "ci0q", "?0d", "b0l 0l"]:
        try:
            res = str(struct.calcsize(fmt.encode("latin-1")))  # C formats are bytes
        except Exception as e:  # noqa: BLE001
            res = err(e)
        calc.append("%s\t%s" % (hexfmt(fmt), res))

    pack, unpack = [], []
    formats = [random_format(rng) for _ in range(6000)]
    for fmt in single_formats():
        formats += [fmt] * 12
    for fmt in formats:
        if struct.calcsize(fmt) > 4000:
            continue
        pack.append(pack_case(rng, fmt, py_only=rng.random() < 0.12))
        unpack.append(unpack_case(rng, fmt))

    offsets = [offsets_case(rng) for _ in range(600)]
    iters = [iter_case(rng) for _ in range(200)]

    for name, lines in [("calcsize", calc), ("pack", pack), ("unpack", unpack), ("offsets", offsets),
                        ("iter", iters)]:
        with open(os.path.join(OUT, name + ".txt"), "w", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print("%s: %d cases" % (name, len(lines)))


if __name__ == "__main__":
    main()
