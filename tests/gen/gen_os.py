#!/usr/bin/env python3
"""Expected os.walk listings for test_os (the fallback when no live CPython 3.13 is around).

Builds the tree described by tests/vectors/os/tree.txt in a temporary directory, walks it with
CPython's os.walk and writes one canonical listing per mode: each step as
"dirpath<TAB>dirnames<TAB>filenames" with the names sorted and joined by '/', lines sorted
(directory order depends on the filesystem, the sets do not). Deterministic; no randomness.

    python3 tests/gen/gen_os.py    (runs itself under CPython 3.13, found as cpython.py says)
"""
import os
import tempfile

import cpython

cpython.require()

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "vectors", "os")


def build(root):
    with open(os.path.join(VEC, "tree.txt")) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            path = os.path.join(root, parts[1])
            if parts[0] == "d":
                os.mkdir(path)
            elif parts[0] == "f":
                with open(path, "w") as out:
                    out.write(parts[1])
            else:
                os.symlink(parts[2], path)


def canonical(steps):
    return "".join(sorted("%s\t%s\t%s\n" % (d, "/".join(sorted(dn)), "/".join(sorted(fn)))
                          for d, dn, fn in steps))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "tree")
        os.mkdir(root)
        build(root)
        os.chdir(tmp)
        for name, follow in (("walk.txt", False), ("walk_follow.txt", True)):
            with open(os.path.join(VEC, name), "w") as out:
                out.write(canonical(os.walk("tree", followlinks=follow)))


if __name__ == "__main__":
    main()
