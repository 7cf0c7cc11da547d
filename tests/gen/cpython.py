"""The reference CPython 3.13 for the generators, found the one way the project finds it
(tests/support/pyref.c for test programs and benches, cmake/TestSupport.cmake for ctest): the
first that runs and says it is 3.13 of $ST_PYTHON3, the newest versions/3.13.N/bin/python3.13
under `pyenv root`, and python3.13 on PATH.

A generator calls require() before anything else: under another interpreter it runs itself
again under that one, so any `python3 tests/gen/gen_<name>.py` will do.
"""
import glob
import os
import re
import shutil
import subprocess
import sys


def _output(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _natural(path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def find():
    """The interpreter's path, or None when there is none."""
    candidates = [os.environ.get("ST_PYTHON3", "")]
    root = _output(["pyenv", "root"])
    if root:
        found = glob.glob(os.path.join(root, "versions", "3.13.*", "bin", "python3.13"))
        candidates.append(max(found, key=_natural, default=""))
    candidates.append(shutil.which("python3.13") or "")
    for python in candidates:
        version = python and _output([python, "-c", "import sys; print(sys.version.split()[0])"])
        if version and version.startswith("3.13."):
            return python
    return None


def require(hashseed_zero=False):
    """Returns when this is CPython 3.13 (with PYTHONHASHSEED=0, when asked); otherwise runs the
    script again under the reference CPython (with PYTHONHASHSEED=0, when asked)."""
    is_313 = sys.version_info[:2] == (3, 13)
    if is_313 and (not hashseed_zero or os.environ.get("PYTHONHASHSEED") == "0"):
        return
    python = sys.executable if is_313 else find()
    if not python:
        sys.exit("no CPython 3.13 ($ST_PYTHON3, `pyenv root`/versions/3.13.N, python3.13 on PATH)")
    env = dict(os.environ, PYTHONHASHSEED="0") if hashseed_zero else dict(os.environ)
    os.execve(python, [python] + sys.argv, env)
