#!/usr/bin/env python3
"""Writes tests/vectors/struct/*.txt from CPython 3.13's struct module (deterministic: fixed seed).

Run from the source tree (it runs itself under CPython 3.13, found as cpython.py says):
    python3 tests/gen/gen_struct.py

Native layout ('@' or no prefix) and the byte order of '=' are the machine's, and so is
PY_SSIZE_T_MAX, which bounds calcsize. The vectors cover the layouts in ABIS: a case whose result
is the same on each of them is written to struct/, the others to struct/<abi>/ (one copy per
layout, with that layout's result), and struct/abis.txt names each layout by the facts a test can
measure on its machine, so that it reads the files of its own layout. This machine's CPython
gives the results of its layout; the other layouts' are derived from it code by code (sizes,
alignments, byte order and the 4-byte n N P l L of CPython's own C code), and that derivation is
checked against this CPython on every case of this machine's layout first (so run it on a
64-bit machine: a narrower layout is derived from a wider one, not the other way).

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
import operator
import os
import random
import struct
import sys

import cpython

cpython.require()

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "vectors", "struct")

NATIVE_CODES = "xcbB?hHiIlLqQnNefdspP"
STD_CODES = "xcbB?hHiIlLqQefdsp"
PREFIXES = ["", "@", "=", "<", ">", "!"]
SPACES = [" ", "\t", "\n", "  ", "\r", "\x0b", "\x0c"]

INT_CODES = "bBhHiIlLqQnNP"
FLOAT_CODES = "efd"
WORD_CODES = "lLnNP"  # the codes whose size is the C long's or the pointer's


class Abi:
    """A native layout: byte order, and size/alignment of each native code (the alignment as
    CPython measures it, offsetof(struct {char c; T x;}, x)); ssize_t has the pointer's size."""

    def __init__(self, name, order, word, align8):
        self.name, self.order, self.word = name, order, word
        self.ssize_max = 2 ** (8 * word - 1) - 1
        self.native = {c: (1, 1) for c in "xcbBsp?"}
        self.native.update({c: (2, 2) for c in "hHe"})
        self.native.update({c: (4, 4) for c in "iIf"})
        self.native.update({c: (8, align8) for c in "qQd"})
        self.native.update({c: (word, word) for c in WORD_CODES})
        # C argument types of the typed API: (min, max) a C caller can pass.
        lo, hi = -2 ** (8 * word - 1), 2 ** (8 * word - 1) - 1
        self.c_arg = {
            "b": (-2**31, 2**31 - 1), "h": (-2**31, 2**31 - 1), "i": (-2**31, 2**31 - 1),
            "B": (0, 2**32 - 1), "H": (0, 2**32 - 1), "I": (0, 2**32 - 1),
            "l": (lo, hi), "L": (0, 2 * hi + 1), "n": (lo, hi), "N": (0, 2 * hi + 1), "P": (0, 2 * hi + 1),
            "q": (-2**63, 2**63 - 1), "Q": (0, 2**64 - 1), "?": (-2**31, 2**31 - 1), "c": (0, 255),
        }

    def facts(self):
        """The line of abis.txt: what tests/test_struct.c measures on its machine, in its words."""
        codes = "?hilqnPfd"
        return "%s ssize=%d %s" % (self.order, self.word, " ".join(
            "%s=%d/%d" % ((c,) + self.native[c]) for c in codes))


ABIS = [
    Abi("lp64-le", "little", 8, 8),   # x86-64, aarch64, ppc64le, riscv64
    Abi("lp64-be", "big", 8, 8),      # s390x, ppc64
    Abi("i386", "little", 4, 4),      # i386 System V: 8-byte types aligned to 4
]


def host_abi():
    """The entry of ABIS that this CPython's native layout is, checked code by code."""
    for abi in ABIS:
        if abi.order == sys.byteorder and abi.ssize_max == sys.maxsize and all(
                struct.calcsize("@" + c) == size and struct.calcsize("@b" + c) == max(align, 1) + size
                for c, (size, align) in abi.native.items() if c != "x"):
            return abi
    sys.exit("this CPython's native struct layout is none of ABIS")


def hexfmt(fmt):
    return fmt.encode("latin-1").hex()


def err(e):
    name = type(e).__name__
    if isinstance(e, struct.error):
        name = "struct.error"
    return "!%s\t%s" % (name, e)


def native(prefix):
    return prefix in ("", "@")


def field_range(code, prefix, abi):
    size = abi.native[code][0] if native(prefix) else struct.calcsize("<" + code)
    if code in "bhilqn":
        return -(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1
    return 0, 2 ** (8 * size) - 1


def rand_int(rng, code, prefix, abi):
    lo, hi = field_range(code, prefix, abi)
    clo, chi = abi.c_arg[code]
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


def draw_args(rng, fmt, py_only, abi):
    """Arguments for pack(fmt), in abi's ranges: (args, typed tokens or None when some value is
    no C argument of its code)."""
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
            v = rand_int(rng, code, prefix, abi)
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
    return args, typed if typed_ok else None


def pack_line(fmt, args, typed, abi, host):
    """The pack case under abi (typed is '-' where a value is no C argument there)."""
    c_ok = typed is not None and all(
        abi.c_arg[code][0] <= v <= abi.c_arg[code][1]
        for (code, _), v in zip(items_of(fmt), args) if code in INT_CODES)
    res = outcome(lambda: derived_pack(fmt, args, abi, host).hex())
    if abi is host:
        real = outcome(lambda: struct.pack(fmt, *args).hex())
        assert res == real, (fmt, args, res, real)
    return "%s\t%s\t%s\t%s" % (hexfmt(fmt), " ".join(typed) if c_ok else "-", repr(tuple(args)), res)


def unpack_line(fmt, data, abi, host):
    """The unpack case under abi, or None where the record has another size there."""
    if layout(fmt, abi)[1] != len(data):
        return None
    vals = derived_unpack(fmt, data, abi, host)
    if abi is host:
        real = struct.unpack(fmt, data)
        assert repr(vals) == repr(real), (fmt, data, vals, real)
    typed = [typed_value(code, v) for (code, _), v in zip(items_of(fmt), vals)]
    return "%s\t%s\t%s\t%s" % (hexfmt(fmt), data.hex(), " ".join(typed), repr(vals))


# ---- Another layout's results, derived code by code -------------------------------------------

SPACE = " \t\n\r\x0b\x0c"  # Py_ISSPACE
STD = {c: (struct.calcsize("<" + c), 0) for c in STD_CODES}


def outcome(fn):
    try:
        return str(fn())
    except Exception as e:  # noqa: BLE001 - every exception is a vector
        return err(e)


def layout(fmt, abi):
    """CPython's prepare_s under abi: (prefix, size, [(code, offset, n)]), n being the field
    length of s and p and the count of the others; raises struct.error as CPython does."""
    prefix = fmt[:1] if fmt[:1] and fmt[:1] in "@=<>!" else ""
    table = abi.native if native(prefix) else STD
    top = abi.ssize_max
    too_long = struct.error("total struct size too long")
    s = fmt[len(prefix):] + "\0"
    size, items, i = 0, [], 0
    while s[i] != "\0":
        c = s[i]
        i += 1
        if c in SPACE:
            continue
        num = 1
        if "0" <= c <= "9":
            num = int(c)
            while "0" <= s[i] <= "9":
                num = num * 10 + int(s[i])
                i += 1
                if num > top:
                    raise too_long
            c = s[i]
            i += 1
            if c == "\0":
                raise struct.error("repeat count given without format specifier")
        if c not in table:
            raise struct.error("bad char in struct format")
        itemsize, align = table[c]
        if align > 1 and size > 0:
            extra = (align - 1) - (size - 1) % align
            if extra > top - size:
                raise too_long
            size += extra
        if num > (top - size) // itemsize:
            raise too_long
        if c != "x" and (num or c in "sp"):
            items.append((c, size, num))
        size += num * itemsize
    return prefix, size, items


def std_format(fmt, abi):
    """'=' is abi's byte order; the other standard prefixes mean the same everywhere."""
    return ("<" if abi.order == "little" else ">") + fmt[1:] if fmt[:1] == "=" else fmt


def pack_native(code, n, v, abi, host):
    """One native value's bytes under abi, or the struct.error its CPython raises."""
    if code in "sp":
        return struct.pack("%d%s" % (n, code), v)
    size = abi.native[code][0]
    if size == host.native[code][0]:
        b = struct.pack("@" + code, v)
        return b if abi.order == host.order else b[::-1]
    # A word code narrower than here: CPython's np_long, np_ulong, np_ssize_t and np_size_t
    # report an OverflowError with _range_error() for the field's size; np_void_p takes what
    # PyLong_AsVoidPtr takes (a C long or unsigned long) and s_pack_internal turns its
    # OverflowError into "int too large to convert".
    assert code in WORD_CODES and size < host.native[code][0]
    bits = 8 * size
    if code == "P":
        lo, hi, message = -2 ** (bits - 1), 2 ** bits - 1, "int too large to convert"
    else:
        lo, hi = (-2 ** (bits - 1), 2 ** (bits - 1) - 1) if code in "ln" else (0, 2 ** bits - 1)
        message = "'%s' format requires %d <= number <= %d" % (code, lo, hi)
    try:
        struct.pack("@" + code, v)  # a value of the wrong type fails the same way there
    except struct.error as e:
        if str(e).startswith("'%s' format requires" % code):
            raise struct.error(message) from None
        raise
    x = operator.index(v)
    if not lo <= x <= hi:
        raise struct.error(message)
    return (x % 2 ** bits).to_bytes(size, abi.order)


def derived_pack(fmt, args, abi, host):
    prefix, size, items = layout(fmt, abi)
    if not native(prefix):
        return struct.pack(std_format(fmt, abi), *args)
    nitems = sum(1 if c in "sp" else n for c, _, n in items)
    if len(args) != nitems:
        raise struct.error("pack expected %d items for packing (got %d)" % (nitems, len(args)))
    buf, k = bytearray(size), 0
    for c, off, n in items:
        width = n if c in "sp" else abi.native[c][0]
        for j in range(1 if c in "sp" else n):
            buf[off + j * width:off + (j + 1) * width] = pack_native(c, n, args[k], abi, host)
            k += 1
    return bytes(buf)


def derived_unpack(fmt, data, abi, host):
    prefix, size, items = layout(fmt, abi)
    if not native(prefix):
        return struct.unpack(std_format(fmt, abi), data)
    out = []
    for c, off, n in items:
        if c in "sp":
            out += struct.unpack("%d%s" % (n, c), data[off:off + n])
            continue
        width = abi.native[c][0]
        for j in range(n):
            b = data[off + j * width:off + (j + 1) * width]
            if width == host.native[c][0]:
                out += struct.unpack("@" + c, b if abi.order == host.order else b[::-1])
            else:
                out.append(int.from_bytes(b, abi.order, signed=c in "ln"))
    return tuple(out)


def calcsize_line(fmt, abi, host):
    res = outcome(lambda: layout(fmt, abi)[1])
    if abi is host:
        real = outcome(lambda: struct.calcsize(fmt.encode("latin-1")))  # C formats are bytes
        assert res == real, (fmt, res, real)
    return "%s\t%s" % (hexfmt(fmt), res)


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


class Output:
    """Cases by file: struct/<name>.txt when every layout agrees, else struct/<abi>/<name>.txt."""

    def __init__(self):
        self.files = {}

    def add(self, name, lines):
        """lines: {abi name: line or None (no such case there)}."""
        if len(lines) == len(ABIS) and len(set(lines.values())) == 1 and None not in lines.values():
            self.files.setdefault(name, []).append(next(iter(lines.values())))
            return
        for abi, line in lines.items():
            if line is not None:
                self.files.setdefault(os.path.join(abi, name), []).append(line)

    def write(self):
        for abi in ABIS:
            os.makedirs(os.path.join(OUT, abi.name), exist_ok=True)
        with open(os.path.join(OUT, "abis.txt"), "w", newline="\n") as f:
            f.write("".join("%s\t%s\n" % (abi.name, abi.facts()) for abi in ABIS))
        for name, lines in sorted(self.files.items()):
            with open(os.path.join(OUT, name + ".txt"), "w", newline="\n") as f:
                f.write("\n".join(lines) + "\n")
            print("%s: %d cases" % (name, len(lines)))


def main():
    host = host_abi()
    rng = random.Random(20261125)
    out = Output()

    for i in range(3000):
        fmt = random_format(rng, valid=i % 3 != 0)
        out.add("calcsize", {abi.name: calcsize_line(fmt, abi, host) for abi in ABIS})
    for fmt in ["", "@", "<", "0l", "@bi0l", "b0i", "3", "<3", "i 4", "4 i", " i ", "=n", "<P", "!N",
                "9223372036854775807x", "9223372036854775807xx", "4611686018427387904h",
                "99999999999999999999i", "\x80", "i\xff", "<<i", "@@", "ci0q", "?0d", "b0l 0l",
                "2147483647x", "2147483648x", "<2147483647xx", "1073741824h", "@iq", "@id0q", "@b0P"]:
        out.add("calcsize", {abi.name: calcsize_line(fmt, abi, host) for abi in ABIS})

    formats = [random_format(rng) for _ in range(6000)]
    for fmt in single_formats():
        formats += [fmt] * 12
    for fmt in formats:
        if struct.calcsize(fmt) > 4000:
            continue
        args, typed = draw_args(rng, fmt, rng.random() < 0.12, host)
        out.add("pack", {abi.name: pack_line(fmt, args, typed, abi, host) for abi in ABIS})
        data = rng.randbytes(struct.calcsize(fmt))
        out.add("unpack", {abi.name: unpack_line(fmt, data, abi, host) for abi in ABIS})

    # Layouts whose sizes differ from here get native cases drawn in their own ranges.
    for abi in ABIS:
        if abi.native == host.native:
            continue
        own = random.Random("20261125-" + abi.name)
        formats = [random_format(own) for _ in range(6000)] + [f for f in single_formats() for _ in range(12)]
        for fmt in formats:
            if not native(layout(fmt, abi)[0]) or layout(fmt, abi)[1] > 4000:
                continue
            args, typed = draw_args(own, fmt, own.random() < 0.12, abi)
            out.add("pack", {abi.name: pack_line(fmt, args, typed, abi, host)})
            data = own.randbytes(layout(fmt, abi)[1])
            out.add("unpack", {abi.name: unpack_line(fmt, data, abi, host)})

    # Their formats have one size on every layout (checked below): the same case everywhere.
    for _ in range(600):
        case = offsets_case(rng)
        out.add("offsets", {abi.name: case for abi in ABIS})
    for _ in range(200):
        case = iter_case(rng)
        out.add("iter", {abi.name: case for abi in ABIS})
    for fmt in ["i", "<q", "3h", "", "x", "<5s", "@bi", "=d", "<hb", "0i", "<3s", "@ci", ">e"]:
        assert len({layout(fmt, abi)[1] for abi in ABIS}) == 1, fmt
    out.write()


if __name__ == "__main__":
    main()
