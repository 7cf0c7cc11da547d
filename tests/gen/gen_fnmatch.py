#!/usr/bin/env python3
"""Writes tests/vectors/fnmatch/cases.txt: random (pattern, name) pairs and whether CPython's
fnmatch.fnmatchcase() matches them, as bytes (Latin-1, like st_fnmatchcase). Deterministic.

Each line: <pattern hex> <name hex> <0|1>. Run from the source tree root (it runs itself
under CPython 3.13, found as cpython.py says):
    python3 tests/gen/gen_fnmatch.py
"""
import fnmatch
import os
import random

import cpython

cpython.require()

OUT = os.path.join(os.path.dirname(__file__), "..", "vectors", "fnmatch", "cases.txt")
PAT_ALPHABET = b"*?[]!-./abAB" * 3 + b"z^\\&~|\n\xe9"
NAME_ALPHABET = b"abAB./-]![z^\\&\n\xe9*?"


def instantiate(rng, pat):
    """A name likely to match pat: wildcards replaced by plausible bytes, a bracket expression
    by one of its characters."""
    out = bytearray()
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        i += 1
        if c == ord("*"):
            out += bytes(rng.choice(NAME_ALPHABET) for _ in range(rng.randrange(4)))
        elif c == ord("?"):
            out.append(rng.choice(NAME_ALPHABET))
        elif c == ord("["):
            j = i + (i < n and pat[i] == ord("!"))
            j += j < n and pat[j] == ord("]")
            while j < n and pat[j] != ord("]"):
                j += 1
            if j >= n:
                out.append(c)
                continue
            body = pat[i:j]
            i = j + 1
            if body[:1] == b"!" or rng.random() < 0.2:
                out.append(rng.choice(NAME_ALPHABET))
            else:
                out.append(rng.choice(body))
        else:
            out.append(c)
    return bytes(out)


def main():
    rng = random.Random(20261125)
    seen = set()
    lines = []
    while len(lines) < 12000:
        pat = bytes(rng.choice(PAT_ALPHABET) for _ in range(rng.randrange(1, 12)))
        for _ in range(3):
            if rng.random() < 0.5:
                name = instantiate(rng, pat)
            else:
                name = bytes(rng.choice(NAME_ALPHABET) for _ in range(rng.randrange(0, 10)))
            if (pat, name) in seen:
                continue
            seen.add((pat, name))
            ok = fnmatch.fnmatchcase(name, pat)
            lines.append(f"{pat.hex()} {name.hex()} {int(ok)}\n")
    with open(OUT, "w") as f:
        f.writelines(lines)
    matching = sum(line.endswith(" 1\n") for line in lines)
    print(f"{len(lines)} cases, {matching} matching")


if __name__ == "__main__":
    main()
