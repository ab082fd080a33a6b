"""A compiled call at one point vs plain Python, interleaved (issue 12's
per-call target: <= 0.5x). Run from the repository root:

    python bench/issue12_call.py            # 15 rounds, ~20 s

The same small function (~20 ops with sin, exp, tanh: test_bench_overhead's
`small`) on plain Python floats, and `f(x, y, z)` of its compiled form
(csrc/pycall.c: the floats are read and the trace replayed in C, no Python
frame). Each round times both in turn (best of 3 of 20,000 calls); the
figure is the median of the rounds' ratios, so a load that comes and goes
on a shared machine hits both sides alike.
"""

import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_bench_overhead import SMALL_POINT, small_pyad, small_python  # noqa: E402

import pyad  # noqa: E402


def main(rounds=15, number=20_000):
    x, y, z = SMALL_POINT
    f = pyad.compile(small_pyad())
    assert f(x, y, z) == (small_pyad()(*[pyad.Var(v) for v in SMALL_POINT])).val
    ratios, plain, compiled = [], [], []
    for _ in range(rounds):
        a = min(timeit.repeat(lambda: small_python(x, y, z), number=number, repeat=3)) / number
        b = min(timeit.repeat(lambda: f(x, y, z), number=number, repeat=3)) / number
        ratios.append(b / a)
        plain.append(a)
        compiled.append(b)
    print(f"plain Python      {statistics.median(plain) * 1e9:7.0f} ns per call")
    print(f"pyad compiled f() {statistics.median(compiled) * 1e9:7.0f} ns per call")
    print(f"ratio (median of {rounds} rounds): {statistics.median(ratios):.2f}x (goal <= 0.5x)")


if __name__ == "__main__":
    main()
