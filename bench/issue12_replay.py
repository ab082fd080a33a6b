"""Fastest autograd, interleaved: pyad compiled, the fused C reference and
the fused C with pyad's exp and log1p, timed in turn (5 calls each) over
21 rounds; prints the medians of the rounds' ratios. Run from the
repository root:

    python bench/issue12_replay.py        # ~15 s with the first build

The suite's rows time each implementation in its own test, seconds apart,
and the machine's speed moves between tests; here both sides of each
ratio see the same moment.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fastest_autograd as FA  # noqa: E402


def main(rounds=21, calls=5):
    xs = FA.leaves()
    compiled, fused = FA.pyad_compiled(xs), FA.fused(xs)
    fused_pk = FA.fused(xs, kernels="pyad")
    for call in (compiled, fused, fused_pk):
        call()

    def per_call(call):
        t = time.perf_counter()
        for _ in range(calls):
            call()
        return (time.perf_counter() - t) / calls

    total, kernels = [], []
    for _ in range(rounds):
        a, b, k = per_call(compiled), per_call(fused), per_call(fused_pk)
        total.append(a / b)
        kernels.append(k / b)
    print(f"pyad compiled / fused C: {statistics.median(total):.2f}x (goal <= 1.2x)")
    print(f"fused C with pyad's exp and log1p / with glibc's: {statistics.median(kernels):.2f}x")


if __name__ == "__main__":
    main()
