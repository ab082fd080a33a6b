"""A compiled call at one point vs plain Python, interleaved (issue 12's
per-call target: <= 0.5x). Run from the repository root:

    python bench/issue12_call.py            # 15 rounds, ~20 s

The same small function (~20 ops with sin, exp, tanh: test_bench_overhead's
`small`) on plain Python floats (`small_python`: one frame, math's
functions as locals), and `f(x, y, z)` of its compiled form (csrc/pycall.c:
the floats are read and the trace replayed in C, no Python frame).

Each side is timed as timeit's statement `fn(x, y, z)` with fn, x, y, z
local to timeit's loop, so the figure is the call and nothing else: no
lambda frame around it (that frame, ~40-90 ns here, is the same on both
sides and only pulls the ratio towards 1; it is printed too, for
comparison). Each round times both sides in turn (best of 3 of 20,000
calls); the figure is the median of the rounds' ratios, so a load that
comes and goes on a shared machine hits both sides alike.
"""

import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_bench_overhead import SMALL_POINT, small_pyad, small_python  # noqa: E402

import pyad  # noqa: E402


def per_call(fn, number, wrapped=False):
    """Best of 3 of `number` calls of fn(x, y, z), in seconds per call."""
    stmt = "call()" if wrapped else "fn(x, y, z)"
    setup = "fn, x, y, z = args\ncall = lambda: fn(x, y, z)"
    timer = timeit.Timer(stmt, setup=setup, globals={"args": (fn, *SMALL_POINT)})
    return min(timer.repeat(repeat=3, number=number)) / number


def main(rounds=15, number=20_000):
    x, y, z = SMALL_POINT
    f = pyad.compile(small_pyad())
    assert f(x, y, z) == (small_pyad()(*[pyad.Var(v) for v in SMALL_POINT])).val
    rows = {False: ([], [], []), True: ([], [], [])}
    for _ in range(rounds):
        for wrapped, (ratios, plain, compiled) in rows.items():
            a = per_call(small_python, number, wrapped)
            b = per_call(f, number, wrapped)
            ratios.append(b / a)
            plain.append(a)
            compiled.append(b)
    for wrapped, (ratios, plain, compiled) in rows.items():
        how = "inside a lambda, as timeit.repeat(lambda: ...)" if wrapped else "the call alone"
        print(f"{how}:")
        print(f"  plain Python      {statistics.median(plain) * 1e9:7.0f} ns per call")
        print(f"  pyad compiled f() {statistics.median(compiled) * 1e9:7.0f} ns per call")
        print(f"  ratio (median of {rounds} rounds): {statistics.median(ratios):.2f}x"
              + ("" if wrapped else " (goal <= 0.5x)"))


if __name__ == "__main__":
    main()
