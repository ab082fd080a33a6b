"""Per-call cost of a compiled batch call (value and gradient) at a few
batch sizes, workers=1 and 2: at a few hundred points most of a call is
the Python layer, not the C replay (pyad/fastbatch.py). Run from the
repository root:

    python bench/batch_call_overhead.py        # ~15 s

Prints the median of 50 calls per row, in µs. test_bench_batch's function
f(a, b, c) = sin(a*b) exp(-c*c) + a/(1 + b*b) - tanh(a*c).
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_bench_batch import columns, f  # noqa: E402

import pyad  # noqa: E402


def main():
    cols = columns()
    cf = pyad.compile(lambda a, b, c: f(a, b, c, pyad.sin, pyad.exp, pyad.tanh))
    cf(*[float(col[0]) for col in cols])
    for n in (256, 4096, 100_000):
        part = [c[:n].copy() for c in cols]
        for workers in (1, 2):
            times = []
            for _ in range(50):
                t = time.perf_counter()
                cf.value_and_grad(*part, workers=workers)
                times.append(time.perf_counter() - t)
            print(f"N={n:>7,} workers={workers}: {statistics.median(times) * 1e6:8.1f} us per call")


if __name__ == "__main__":
    main()
