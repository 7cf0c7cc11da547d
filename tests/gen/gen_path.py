#!/usr/bin/env python3
"""Generates tests/vectors/path/{posix,nt}.txt from CPython 3.13's posixpath and ntpath.

Run from the source tree's root (it runs itself under CPython 3.13, found as cpython.py says):
    python3 tests/gen/gen_path.py

Each line is tab-separated: function, argument count, the arguments, then the results (one
field per returned string; "1"/"0" for booleans), or "!" + exception type and its message when
Python raises. Paths are random concatenations of tokens chosen to hit the edge cases
(separators, dots, drives, UNC shares, device prefixes, a non-ASCII letter); the same seed
always gives the same files.
"""
import ntpath
import os
import posixpath
import random

import cpython

cpython.require()

PER_FUNCTION = 5000
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "vectors", "path")

POSIX_TOKENS = ["", ".", "..", "/", "//", "///", "a", ".a", "a.b.c", "b", "..a", "a.", "...",
                "\u00e9", "\\", "x/", "~"]
NT_TOKENS = ["", ".", "..", "/", "\\", "//", "\\\\", "a", ".a", "a.b.c", "B", "C:", "c:", "D:",
             "\\\\srv\\share", "//srv/share", "\\\\?\\", "\\\\?\\UNC\\", "\\\\?\\unc/",
             "\\\\.\\", "UNC", "?", ":", "\u00e9", "\u00e9:", "x.y", "srv"]
VAR_TOKENS = ["$", "$A", "${A}", "${", "}", "{", "$B_1", "$UNDEF", "${UNDEF}", "${}", "$$", "x",
              "/", "$1a", "${A B}", "$A.b", "$EMPTY", "${EMPTY}", "\u00e9", "$\u00e9", "%A%", "'"]
# The whole environment the expandvars() vectors assume; the test sets exactly this.
ENV = {"A": "va", "B_1": "/b/", "EMPTY": "", "1a": "no", "A B": "spaced"}


def rand_path(rng, tokens, max_tokens=6):
    return "".join(rng.choice(tokens) for _ in range(rng.randint(0, max_tokens)))


def fmt(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return "\t".join(value)
    return value


def run(fn, args):
    try:
        return fmt(fn(*args))
    except (ValueError, TypeError) as e:
        return "!%s\t%s" % (type(e).__name__, e)


def cases(rng, fn, arity, tokens):
    """PER_FUNCTION distinct argument tuples (fewer only if the token space runs out)."""
    seen = set()
    tries = 0
    while len(seen) < PER_FUNCTION and tries < PER_FUNCTION * 50:
        tries += 1
        n = arity if isinstance(arity, int) else rng.randint(*arity)
        args = tuple(rand_path(rng, tokens) for _ in range(n))
        if args in seen:
            continue
        seen.add(args)
        yield args


def emit(out, name, fn, arity, tokens, rng, wrap_list=False):
    for args in cases(rng, fn, arity, tokens):
        call = (lambda *a: fn(list(a))) if wrap_list else fn
        out.write("%s\t%d\t%s%s%s\n" % (name, len(args), "\t".join(args), "\t" if args else "",
                                        run(call, args)))


def generate(path, module, tokens, extra):
    rng = random.Random(20261125)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        emit(out, "join", module.join, (1, 4), tokens, rng)
        for name in ["split", "splitext", "splitdrive", "splitroot", "dirname", "basename",
                     "normpath", "isabs", "normcase"]:
            emit(out, name, getattr(module, name), 1, tokens, rng)
        emit(out, "commonprefix", module.commonprefix, (0, 4), tokens, rng, wrap_list=True)
        extra(out, rng)


def posix_extra(out, rng):
    emit(out, "commonpath", posixpath.commonpath, (0, 4), POSIX_TOKENS, rng, wrap_list=True)
    os.environ.clear()  # only ENV exists, so no variable of the host leaks into the vectors
    os.environ.update(ENV)
    emit(out, "expandvars", posixpath.expandvars, 1, VAR_TOKENS, rng)


def nt_extra(out, rng):
    emit(out, "commonpath", ntpath.commonpath, (0, 4), NT_TOKENS, rng, wrap_list=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    generate(os.path.join(OUT, "posix.txt"), posixpath, POSIX_TOKENS, posix_extra)
    generate(os.path.join(OUT, "nt.txt"), ntpath, NT_TOKENS, nt_extra)


if __name__ == "__main__":
    main()
