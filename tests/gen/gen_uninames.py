#!/usr/bin/env python3
"""Generates the Unicode character name table behind \\N{name} escapes. Run with CPython 3.13
from the source root:

import cpython

cpython.require()

    python3 tests/gen/gen_uninames.py    (runs itself under CPython 3.13: cpython.py)

Writes lib/value/uninames.h (the table lib/value/uninames.c searches) and
tests/vectors/value/uninames.txt (checksums of every name, and sample lookups and literals
with what CPython's ast.literal_eval makes of them). Everything comes from the running
CPython: names from unicodedata.name(), aliases through unicodedata's C API capsule (the
same lookup CPython's \\N{} decoder calls), so the table is exactly what 3.13 accepts.

Table format: the names and aliases, uppercase, sorted, in blocks of BLOCK entries. Each
entry is one prefix character (how many leading characters it shares with the previous entry,
at most 53; 0 for a block's first entry), the code point as base-54 digits (absolute for a
block's first entry, else the zigzag-coded difference from the previous entry's), then the
rest of the name. Prefix and digit characters are the 54 printable ASCII characters that no
name uses (except " \\ ?), so the text is one plain C string.
"""
import ast
import ctypes
import os
import random
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VEC = os.path.join(ROOT, "tests", "vectors", "value")
BLOCK = 32
NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -"
DIGITS = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in NAME_CHARS + '"\\?')
BASE = len(DIGITS)
assert BASE == 54
HANGUL = "HANGUL SYLLABLE "
CJK = "CJK UNIFIED IDEOGRAPH-"


def capi():
    """getname(code, buf, buflen, with_alias_and_seq) and getcode(name, len, &code,
    with_named_seq) from unicodedata._ucnhash_CAPI, the functions the \\N decoder uses."""
    api = ctypes.pythonapi
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    p = api.PyCapsule_GetPointer(unicodedata._ucnhash_CAPI, b"unicodedata._ucnhash_CAPI")
    fns = (ctypes.c_void_p * 2).from_address(p)
    getname = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_int,
                               ctypes.c_int)(fns[0])
    getcode = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                               ctypes.POINTER(ctypes.c_uint32), ctypes.c_int)(fns[1])
    return getname, getcode


GETNAME, GETCODE = capi()


def getcode(name):
    code = ctypes.c_uint32()
    b = name.encode()
    return code.value if GETCODE(b, len(b), ctypes.byref(code), 0) else None


def collect():
    """(table entries {name: cp}, algorithmic names [(name, cp)] in code point order)."""
    names, algo = {}, []
    for c in range(0x110000):
        n = unicodedata.name(chr(c), None)
        if n is None:
            continue
        if n.startswith(HANGUL) or n.startswith(CJK):
            algo.append((n, c))
        else:
            names[n] = c
    # Aliases and named sequences live in plane 15's private use area of CPython's table;
    # getcode() without named sequences accepts exactly the aliases.
    buf = ctypes.create_string_buffer(256)
    aliases = set()
    for pua in range(0xF0000, 0xF1000):
        if GETNAME(pua, buf, 256, 1):
            n = buf.value.decode()
            cp = getcode(n)
            if cp is None:
                continue  # a named sequence
            assert n not in names and cp < 0xF0000, n
            names[n] = cp
            aliases.add(n)
    assert len(aliases) > 400
    for n in names:
        assert set(n) <= set(NAME_CHARS) and not n.upper().startswith((HANGUL, CJK)), n
        assert getcode(n) == names[n] and getcode(n.lower()) == names[n], n
    return names, algo, aliases


def digits(v):
    out = DIGITS[v % BASE]
    while v >= BASE:
        v //= BASE
        out = DIGITS[v % BASE] + out
    return out


def encode(names):
    """(text, block offsets)"""
    order = sorted(names)
    parts, blocks, size = [], [], 0
    prev, prev_cp = "", 0
    for i, n in enumerate(order):
        cp = names[n]
        if i % BLOCK == 0:
            blocks.append(size)
            p, delta = 0, cp
        else:
            p = 0
            while p < min(len(n), len(prev), BASE - 1) and n[p] == prev[p]:
                p += 1
            d = cp - prev_cp
            delta = 2 * d if d >= 0 else -2 * d - 1
        assert p < len(n)  # the rest is never empty
        e = DIGITS[p] + digits(delta) + n[p:]
        parts.append(e)
        size += len(e)
        prev, prev_cp = n, cp
    parts.append(DIGITS[0])  # ends the last name
    return "".join(parts), blocks, order


def jamo():
    """The short names of the leading consonants, vowels and trailing consonants, as
    unicodedata.name() spells syllables: LV syllables and the syllables of ieung (11, no
    letters) show each part alone."""
    def part(cp, prefix=""):
        n = unicodedata.name(chr(cp))
        assert n.startswith(HANGUL + prefix)
        return n[len(HANGUL + prefix):]
    lead = [part(0xAC00 + l * 588)[:-1] for l in range(19)]  # each ends in vowel A
    assert all(part(0xAC00 + l * 588).endswith("A") for l in range(19)) and lead[11] == ""
    vowel = [part(0xAC00 + 11 * 588 + v * 28) for v in range(21)]
    trail = [part(0xAC00 + 11 * 588 + t, "A") for t in range(28)]
    return lead, vowel, trail


def cjk_ranges(algo):
    cps = [c for n, c in algo if n.startswith(CJK)]
    ranges = []
    for c in cps:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return ranges


def c_string(text, width=100):
    return "\n".join('    "%s"' % text[i:i + width] for i in range(0, len(text), width))


def write_table(names, naliases, lead, vowel, trail, ranges):
    text, blocks, order = encode(names)
    # Base-54 digit value of each character, or -1 for name characters and NUL.
    val = [-1] * 128
    for i, c in enumerate(DIGITS):
        val[ord(c)] = i
    out = []
    w = out.append
    w("/* Generated by tests/gen/gen_uninames.py from CPython %s (Unicode %s): do not edit.\n"
      " * The %d character names and %d name aliases \\N{} accepts, in the format the\n"
      " * generator describes; the jamo and CJK tables name the algorithmic characters. */\n"
      % (sys.version.split()[0], unicodedata.unidata_version, len(names) - naliases, naliases))
    w("#define UN_COUNT %d\n#define UN_BLOCK %d\n#define UN_MAXLEN %d\n#define UN_BASE %d\n\n"
      % (len(order), BLOCK, max(map(len, order)), BASE))
    w("static const signed char un_digit[128] = {\n")
    for i in range(0, 128, 16):
        w("    " + ", ".join("%d" % v for v in val[i:i + 16]) + ",\n")
    w("};\n\n")
    w("/* Offset in un_text of each block's first entry. */\n")
    w("static const uint32_t un_block[%d] = {\n" % len(blocks))
    for i in range(0, len(blocks), 10):
        w("    " + ", ".join("%d" % b for b in blocks[i:i + 10]) + ",\n")
    w("};\n\n")
    w("static const char un_text[] =\n%s;\n\n" % c_string(text))
    for name, tab in (("un_lead", lead), ("un_vowel", vowel), ("un_trail", trail)):
        assert max(map(len, tab)) < 4
        w("static const char %s[%d][4] = {%s};\n"
          % (name, len(tab), ", ".join('"%s"' % j for j in tab)))
    w("\n/* Code point ranges of the CJK unified ideographs. */\n")
    w("static const uint32_t un_cjk[%d][2] = {\n" % len(ranges))
    for a, b in ranges:
        w("    {0x%X, 0x%X},\n" % (a, b))
    w("};\n")
    with open(os.path.join(ROOT, "lib", "value", "uninames.h"), "w") as f:
        f.write("".join(out))
    return order


def fnv(lines):
    h = 0xCBF29CE484222325
    for line in lines:
        for b in line.encode():
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def literal(text):
    """'= ' + repr of what ast.literal_eval makes of text, or '! ' + its SyntaxError message in
    our form (CPython's "(<unknown>, line L)" becomes "(line L, column C)")."""
    try:
        return "= " + repr(ast.literal_eval(text))
    except SyntaxError as e:
        return "! %s (line %d, column %d)" % (e.msg, e.lineno, e.offset)


def esc(text):
    """One vector field per line: backslash-escape \\, newline and carriage return."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def vary_case(r, n):
    return "".join(c.lower() if r.random() < 0.5 else c for c in n)


def samples(names, aliases, algo, lead, vowel, trail, ranges):
    """Names to look up: every alias, random table names and algorithmic names, each in random
    case, and near misses. Returns [(name, cp or None)] checked against CPython."""
    r = random.Random(3)
    order = sorted(names)
    out = [(v, names[n]) for n in sorted(aliases) for v in (n, vary_case(r, n))]
    out += [(n, None) for n in [" ", "-", "A", "LATIN", "LATIN SMALL LETTER", "NULLX",
                                "LATIN SMALL LETTER A ", " LATIN SMALL LETTER A",
                                "LATIN  SMALL LETTER A", "LATIN_SMALL_LETTER_A", "ZZZZ",
                                "AAAA", "0", "X" * 300, "HANGUL SYLLABLE", HANGUL, CJK,
                                "HANGUL SYLLABLE GAX", "HANGUL SYLLABLE KIYEOK", HANGUL + "GGG",
                                CJK + "4E0", CJK + "004E00", CJK + "4E00 ", CJK + "4e00",
                                CJK + "F900", "TANGUT IDEOGRAPH-17000", "hangul syllable GA",
                                "cjk unified ideograph-4E00", "HANGUL SYLLABLE ga",
                                "LATIN CAPITAL LETTER A WITH MACRON AND GRAVE"]]
    for n in r.sample(order, 1500):
        out.append((vary_case(r, n), names[n]))
        # near misses: a character dropped, changed or added
        i = r.randrange(len(n))
        for bad in (n[:i] + n[i + 1:], n[:i] + r.choice(NAME_CHARS) + n[i + 1:],
                    n[:i] + r.choice(NAME_CHARS) + n[i:]):
            out.append((bad, None))
    for n, c in r.sample(algo, 400):
        out.append((n, c))
    for a, b in ranges:
        for c in (a - 1, a, b, b + 1):
            out.append((CJK + "%04X" % c, None))
            out.append((CJK + "%05X" % c, None))
    for _ in range(300):  # random jamo strings, mostly invalid syllables
        out.append((HANGUL + "".join(r.choice(r.choice((lead, vowel, trail)))
                                     for _ in range(r.randrange(1, 5))), None))
    checked, seen = [], set()
    for n, _ in out:
        if n in seen:
            continue
        seen.add(n)
        try:
            s = unicodedata.lookup(n)
        except KeyError:
            s = ""
        cp = ord(s) if len(s) == 1 else None  # lookup() takes named sequences, \N{} not
        assert getcode(n) == cp, n
        want = literal("'\\N{%s}'" % n)
        assert want == ("= " + repr(chr(cp)) if cp is not None else
                        "! (unicode error) 'unicodeescape' codec can't decode bytes in position "
                        "0-%d: unknown Unicode character name (line 1, column 1)" % (3 + len(n))), n
        checked.append((n, cp))
    return checked


LITERALS = [
    "'\\N{LATIN SMALL LETTER A}'", "'\\N{latin small letter a}b\\N{DIGIT ONE}'",
    "'\\N{EM DASH}\\N{BYTE ORDER MARK}\\N{LF}\\N{nul}'", "'\\N{CJK UNIFIED IDEOGRAPH-2A6DF}'",
    "'\\N{HANGUL SYLLABLE GGAGG}'", "'\\N{KANNADA LETTER LLLA}'", "\"\\N{GRINNING FACE}\"",
    "'''\\N{SPACE}\n\\N{SPACE}'''", "'a' '\\N{SPACE}'", "u'\\N{SPACE}'",
    # \N is no escape in bytes (kept as is, with a warning) and raw strings
    "b'\\N{SPACE}'", "b'\\N'", "rb'\\N{x}'", "r'\\N{x}'", "R'\\N{SPACE}'", "b'\\N{x}\\x41'",
    # errors: unknown names, malformed escapes, positions after non-ASCII text
    "'\\N{xyz}'", "'ab\\N{xyz}'", "'\\N{}'", "'\\N'", "'\\N{abc'", "'\\Nx'", "'\\N{a' 'b}'",
    "'x' '\\N{bad}'", "'x'\n'\\N{bad}'", "'''a\nb\\N{bad}'''", "[1,\n 'a\\N{bad}']",
    "'é\\N{bad}'", "'日本\\N{bad}'", "'\\N{LATIN SMALL LETTER Aé}'", "'\\N{é}'", "'\\Né'",
    "'\\N{a\\}'", "'\\N{a\\'b}'", "'\\N{a\\\\}'", "'\\N{a\\\nb}'", "'''\\N{a\nb}'''",
    "'\\N{SPACE}\\N{bad}'", "'\\N{ SPACE}'", "'\\N{SPACE }'", "'\\N{SPA\tCE}'",
    "'\\N{KATAKANA LETTER AINU P}'", "'\\N{LATIN CAPITAL LETTER A WITH MACRON AND GRAVE}'",
    "'\\\\N{SPACE}'", "'\\N{SPACE}' '\\N{bad}'", "'é\\é\\N{bad}'", "'\\N{\\é}'",
    "'\\N{LATIN SMALL LETTER A}", "'\\N{abc", "'''\\N{abc'''", "'''\\N{abc", "'\\N", "'\\N\n'",
    "'''\\N\n'''", "'''\\N{a\nb\\\nc", "'\\N}'",
    # the other escapes count positions the same way
    "'é\\x4'", "'é\\u12'", "'é\\U00110000'", "'é\\\\é\\x4'", "'\\xé'",
]


def write_vectors(names, algo, naliases, lead, vowel, trail, ranges, order, checked):
    lines = []
    w = lines.append
    w("# Generated by tests/gen/gen_uninames.py from CPython %s (Unicode %s): do not edit."
      % (sys.version.split()[0], unicodedata.unidata_version))
    w("# table <entries> <aliases> <fnv-1a 64 of 'NAME\\tHEX\\n' for each, sorted by name>")
    w("table %d %d %016x" % (len(order), naliases,
                             fnv("%s\t%X\n" % (n, names[n]) for n in order)))
    w("# algo <count> <fnv-1a 64 of 'NAME\\tHEX\\n' for each, in code point order>")
    w("algo %d %016x" % (len(algo), fnv("%s\t%X\n" % (n, c) for n, c in algo)))
    w("lead " + "|".join(lead))
    w("vowel " + "|".join(vowel))
    w("trail " + "|".join(trail))
    for a, b in ranges:
        w("cjk %X %X" % (a, b))
    w("# N <name> then the code point \\N{} gives, or - (unknown name)")
    for n, cp in checked:
        w("N " + esc(n))
        w("%X" % cp if cp is not None else "-")
    w("# L <literal> then ast.literal_eval's result or error")
    for t in LITERALS:
        w("L " + esc(t))
        w(esc(literal(t)))
    with open(os.path.join(VEC, "uninames.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    import warnings
    warnings.simplefilter("ignore", SyntaxWarning)  # b'\N' warns; the value is what counts
    names, algo, aliases = collect()
    lead, vowel, trail = jamo()
    ranges = cjk_ranges(algo)
    for n, c in algo:  # the composition the C code does must give CPython's names
        if n.startswith(HANGUL):
            s = c - 0xAC00
            assert n == HANGUL + lead[s // 588] + vowel[s // 28 % 21] + trail[s % 28]
        else:
            assert n == CJK + "%04X" % c
    order = write_table(names, len(aliases), lead, vowel, trail, ranges)
    checked = samples(names, aliases, algo, lead, vowel, trail, ranges)
    write_vectors(names, algo, len(aliases), lead, vowel, trail, ranges, order, checked)


if __name__ == "__main__":
    main()
