"""Batch workers, interleaved: f.value_and_grad over 100,000 points with
workers=1 and workers=2 called alternately (issue 12's worker target:
2 workers <= 0.6x one). Run from the repository root:

    python bench/issue12_workers.py         # 40 rounds, ~1 s

Also timed in turn: two independent workers=1 calls on half the points
each, side by side on two threads (test_bench_batch.halves_case): the
2-thread floor of this work on this machine, with no shared job.

Alternating is the hard case: the second core idles during a workers=1
call, and waking it costs from ~0.1 to a few ms (pyad/pool.py shares the
points so that a late thread takes fewer). Medians of the rounds.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_bench_batch import columns, f, halves_case  # noqa: E402

import pyad  # noqa: E402


def main(rounds=40):
    cols = columns()
    cf = pyad.compile(lambda a, b, c: f(a, b, c, pyad.sin, pyad.exp, pyad.tanh))
    cf(*[float(col[0]) for col in cols])
    halves = halves_case()
    times = {1: [], 2: [], "halves": []}
    for _ in range(rounds):
        for w in (1, 2, "halves"):
            t = time.perf_counter()
            if w == "halves":
                halves()
            else:
                cf.value_and_grad(*cols, workers=w)
            times[w].append(time.perf_counter() - t)
    n = len(cols[0])
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"workers=1 {one / n * 1e9:6.1f} ns per point")
    print(f"workers=2 {two / n * 1e9:6.1f} ns per point")
    print(f"ratio {two / one:.2f}x (goal <= 0.6x)")
    halves = statistics.median(times["halves"])
    print(f"two independent halves side by side: {halves / one:.2f}x of workers=1 "
          "(the 2-thread floor here)")


if __name__ == "__main__":
    main()
