"""Per-op costs for before/after comparisons of two builds (issue 10: the
old ops must not get slower). Prints one JSON line of medians (thread CPU
time, ns): eager recording of a few ops, the seed gist eager and compiled
(one point, and a 100k-point batch per point), and batch replay per node of
a pow-only and a dot-only program.

    python bench/ops_ab.py                            # this checkout
    PYTHONPATH=/path/to/other/checkout python bench/ops_ab.py

On a shared machine, run the two builds at the same time (one in the
background) several times and compare the medians of the paired ratios:
sequential runs drift with the load.
"""

import json
import statistics
import time

import numpy as np

import pyad
from pyad import Var
from pyad.__main__ import example


def per_call(fn, n, reps=15):
    """Median over reps of the thread CPU time of fn(n), per iteration, ns."""
    out = []
    for _ in range(reps):
        t = time.thread_time()
        fn(n)
        out.append((time.thread_time() - t) / n * 1e9)
    return statistics.median(out)


def loop(body):
    def run(n):
        for _ in range(n):
            body()

    return run


def gist_eager():
    a, b, c = Var(2.0), Var(5.0), Var(-3.0)
    example(a, b, c).backward()


def batch_per_node(fn, n_nodes, n_in, grads):
    """Batch replay of fn over 20k points, per node and point."""
    f = pyad.compile(fn)
    cols = [np.linspace(0.5, 2.0 + k, 20_000) for k in range(n_in)]
    f(*[c[0] for c in cols])
    call = f.value_and_grad if grads else f
    return per_call(lambda n: [call(*cols) for _ in range(n)], 1, 11) / 20_000 / n_nodes


def main():
    a, b = Var(1.5), Var(2.5)
    ws, xs = [Var(0.1 * i) for i in range(16)], [0.3 * i for i in range(16)]
    res = {
        "a*b": per_call(loop(lambda: a * b), 2000),
        "pyad.exp(v)": per_call(loop(lambda: pyad.exp(a)), 2000),
        "v**2.0": per_call(loop(lambda: a**2.0), 2000),
        "dot(16)": per_call(loop(lambda: pyad.dot(ws, xs, 0.5)), 500),
        "gist eager v+g": per_call(loop(gist_eager), 300),
    }
    f = pyad.compile(example)
    f.value_and_grad(2.0, 5.0, -3.0)
    res["gist compiled point v+g"] = per_call(loop(lambda: f.value_and_grad(2.0, 5.0, -3.0)), 2000)
    N = 100_000
    cols = [np.linspace(1.5, 2.5, N), np.full(N, 5.0), np.full(N, -3.0)]
    res["gist batch v+g per point"] = per_call(lambda n: f.value_and_grad(*cols), 1, 9) / N
    res["gist batch v per point"] = per_call(lambda n: f(*cols), 1, 9) / N

    def pows(x, y):
        return pyad.sum([(x + 0.01 * k) ** y for k in range(50)])

    W = [[0.01 * (i - j) for j in range(16)] for i in range(16)]

    def dots(*xs):
        return pyad.sum([pyad.dot(W[j], xs, 0.1) for j in range(16)])

    res["pow node batch v+g"] = batch_per_node(pows, 50, 2, True)
    res["dot node batch v"] = batch_per_node(dots, 16, 16, False)
    res["dot node batch v+g"] = batch_per_node(dots, 16, 16, True)
    print(json.dumps({k: round(v, 1) for k, v in res.items()}))


if __name__ == "__main__":
    main()
