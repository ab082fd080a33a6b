"""Batch value + gradient, pyad (1 worker) vs JAX, interleaved (issue 12's
batch target: pyad <= JAX per point). Run from the repository root:

    python bench/issue12_batch.py            # 30 rounds, ~30 s with JAX's compile
    python bench/issue12_batch.py --rounds 60 --softplus

test_bench_batch's function f(a, b, c) = sin(a*b) exp(-c*c) + a/(1 + b*b)
- tanh(a*c) over its 100,000 points: `f.value_and_grad(A, B, C,
workers=1)` of pyad's compiled form, and
`jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(0, 1, 2))))` in float64.
Each round times both in turn, so a load that comes and goes on a shared
machine hits both alike; the figure is the median of the rounds' ratios.
The pytest-benchmark suite times them one after the other, minutes apart,
so its ratio moves more with the machine (bench/RESULTS.md).

--softplus also times a batch of softplus(x) * 1.5 over 100,000 points
(value and gradient): a row whose op definitions must vectorise
(csrc/opdefs_exp.h; gcc kept them scalar until they used masks).
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_bench_batch import columns, f, jax_case  # noqa: E402

import pyad  # noqa: E402


def main(rounds, softplus):
    cols = columns()
    n = len(cols[0])
    cf = pyad.compile(lambda a, b, c: f(a, b, c, pyad.sin, pyad.exp, pyad.tanh))
    cf(*[float(col[0]) for col in cols])
    _, jax_call, _ = jax_case()  # compiled and checked against pyad eager
    ratios, ours, theirs = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        cf.value_and_grad(*cols, workers=1)
        a = time.perf_counter() - t
        t = time.perf_counter()
        jax_call()
        b = time.perf_counter() - t
        ratios.append(a / b)
        ours.append(a)
        theirs.append(b)
    print(f"pyad, 1 worker   {statistics.median(ours) / n * 1e9:6.1f} ns per point")
    print(f"jax jit(vmap)    {statistics.median(theirs) / n * 1e9:6.1f} ns per point")
    print(f"ratio (median of {rounds} rounds): {statistics.median(ratios):.2f}x (goal <= 1x)")
    if softplus:
        x = np.random.default_rng(1).uniform(-5.0, 5.0, n)
        sp = pyad.compile(lambda v: pyad.softplus(v) * 1.5)
        sp(0.3)
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            sp.value_and_grad(x, workers=1)
            times.append(time.perf_counter() - t)
        print(
            f"softplus(x) * 1.5, value + grad: {statistics.median(times) / n * 1e9:.1f} ns per point"
        )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--softplus", action="store_true")
    args = ap.parse_args()
    main(args.rounds, args.softplus)
