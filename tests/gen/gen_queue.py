#!/usr/bin/env python3
"""Writes tests/vectors/queue/transcripts.txt: what CPython 3.13's queue module answers to the
calls tests/test_ipc_queue.c makes, so the test compares where no CPython runs (under emulation),
and with --print writes the same lines to stdout, which the test compares with live.

Lines (tab-separated):
  classes <transcript>      Queue(2), LifoQueue(2), PriorityQueue(2), SimpleQueue(): puts,
                            Full, qsize/full/empty, gets, Empty, task_done, join; then a
                            PriorityQueue of mixed tuples drained in order
  heapq <ops> <transcript>  a deterministic random mix of puts (a digit: vals[digit]) and
                            gets ('g') on heapq, values equal under `<` (1, 1.0, True), so the
                            order out is heapq's exact one
  numbers <literals> <out>  a PriorityQueue of big ints and floats near them, drained
Run from the source tree root: python3 tests/gen/gen_queue.py
"""
import heapq
import os
import queue
import random
import sys

import cpython

cpython.require()

OUT = os.path.join(os.path.dirname(__file__), "..", "vectors", "queue", "transcripts.txt")


def name(e):
    t = type(e)
    if t in (queue.Empty, queue.Full, queue.ShutDown):
        return "queue." + t.__name__
    return t.__name__


def classes():
    out = []

    def note(f):
        try:
            out.append(repr(f()))
        except Exception as e:  # noqa: BLE001 - the transcript records any exception
            out.append(name(e))

    for cls in (queue.Queue, queue.LifoQueue, queue.PriorityQueue, queue.SimpleQueue):
        q = cls() if cls is queue.SimpleQueue else cls(2)
        out.append(str(int(q.empty())))
        note(lambda: q.put_nowait(3))
        note(lambda: q.put(1))
        note(lambda: q.put_nowait(2))
        note(lambda: q.put(4, timeout=0.01))
        out.append(str(q.qsize()))
        out.append(str(int(q.full())) if hasattr(q, "full") else "0")
        note(lambda: q.get_nowait())
        note(lambda: q.put(0))
        note(lambda: q.get())
        note(lambda: q.get(timeout=0.01))
        note(lambda: q.get(timeout=0.01))
        note(lambda: q.get_nowait())
        for _ in range(5):
            note(lambda: q.task_done())
        note(lambda: q.join())
        out.append(str(int(q.empty())))
    q = queue.PriorityQueue()
    for it in [(2, "b"), (1, "z"), (1, "a"), (1.5, ""), (True, "é"), (-1e300, "x"),
               (2**80, "big"), (2**80, "bi"), (float("inf"), 0)]:
        note(lambda: q.put(it))
    while q.qsize():
        note(lambda: q.get_nowait())
    return " ".join(out)


VALS = [0, 1, 1.0, True, 2, 2.0, False, 0.0, 3]


def heapq_order():
    rng = random.Random(25)
    ops = "".join("g" if rng.random() < 4 / 13 else str(rng.randrange(9)) for _ in range(600))
    h, out = [], []
    for c in ops:
        if c == "g":
            out.append(repr(heapq.heappop(h)) if h else "queue.Empty")
        else:
            heapq.heappush(h, VALS[int(c)])
    while h:
        out.append(repr(heapq.heappop(h)))
    return ops, " ".join(out)


# Numbers that are hard to order: ints beyond int64 and beyond a double's 53 bits against
# floats equal or next to them, signed, infinite.
NUMBERS = ["2**80+1", "1.2089258196146292e+24", "2**80", "-2**80", "-1.2089258196146292e+24",
           "2**63", "9.223372036854776e+18", "2**63-1", "-2**63", "-9.223372036854776e+18",
           "2**53+1", "9007199254740992.0", "0.5", "-0.5", "0", "False", "-1e999", "3e30",
           "10**30", "1e999", "-10**30-1", "-1e30"]


def numbers():
    """The literals (as st_value_parse reads them: ints written out) and the drain order."""
    lits = [repr(eval(x)) if "**" in x else x for x in NUMBERS]  # noqa: S307 - our literals
    q = queue.PriorityQueue()
    for x in lits:
        q.put(eval(x))  # noqa: S307
    out = []
    while q.qsize():
        out.append(repr(q.get_nowait()))
    return " ".join(lits), " ".join(out)


def lines():
    ops, order = heapq_order()
    lits, nums = numbers()
    return ["classes\t" + classes(), "heapq\t%s\t%s" % (ops, order),
            "numbers\t%s\t%s" % (lits, nums)]


if __name__ == "__main__":
    if "--print" in sys.argv:
        print("\n".join(lines()))
    else:
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines()) + "\n")
