"""Runs examples/lines and CPython 3.13 on the same files and arguments and compares their
output byte for byte (ctest's example_lines_python; run by the reference CPython).

usage: lines_compare.py LINES_PROGRAM WORKDIR

Each case is a file (CRLF, CR, mixed newlines, invalid UTF-8, no final newline, empty, a \\r at
CPython's 8 KiB chunk boundary) read with the arguments b'\\xff', 'caf\\xe9' and 'two words'.
Both run under LC_ALL=C.UTF-8 and under LC_ALL=C: there sys.stdout's errors is
'surrogateescape' (CPython's choice for these locales), so the surrogates that undecodable
bytes become are written back as the same bytes.
"""
import os
import subprocess
import sys

PORT = """import sys
for line in open(sys.argv[1], errors="surrogateescape"): sys.stdout.write(line)
print(*sys.argv[2:])
"""

CASES = {
    "crlf": b"one\r\ntwo\r\nthree\r\n",
    "cr": b"one\rtwo\rthree\r",
    "mixed": b"a\r\nb\rc\nd\r\r\n\n\re",
    "invalid": b"\xff\xfe ok \xe2\x82 bad \xed\xa0\x80 surrogate \xc3\xa9 fine\n\x80\r\n",
    "no_final_newline": b"first\nlast without newline",
    "empty": b"",
    "chunk_boundary": b"x" * 8191 + b"\r\n" + b"y" * 65534 + b"\r\n\xff" + b"z" * 10,
}
ARGS = [b"\xff", "caf\u00e9".encode(), b"two words"]


def main():
    program, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    failed = 0
    for name, data in CASES.items():
        path = os.path.join(workdir, "lines_" + name + ".txt")
        with open(path, "wb") as f:
            f.write(data)
        for loc in ("C.UTF-8", "C"):
            env = dict(os.environ, LC_ALL=loc)
            env.pop("PYTHONIOENCODING", None)
            env.pop("PYTHONUTF8", None)
            ours = subprocess.run([program, path] + ARGS, capture_output=True, env=env)
            theirs = subprocess.run([sys.executable, "-c", PORT, path] + ARGS,
                                    capture_output=True, env=env)
            same = ours.stdout == theirs.stdout and ours.returncode == theirs.returncode
            print("%-18s LC_ALL=%-8s %s (%d bytes)" % (name, loc, "same" if same else "DIFFERENT",
                                                      len(ours.stdout)))
            if not same:
                failed += 1
                print("  ours:   rc=%d %r %s" % (ours.returncode, ours.stdout[:200], ours.stderr[-300:]))
                print("  python: rc=%d %r %s" % (theirs.returncode, theirs.stdout[:200], theirs.stderr[-300:]))
    sys.exit(1 if failed else 0)


main()
