"""Soak for the compiled path (issue 5): each step makes a fresh compiled
function with a guard (two traces), replays it for a point and a 256-point
batch with workers, freezes an eager graph with pyad.Function, pickles and
unpickles both, and drops everything. Prints RSS and live C nodes every
--every steps; exits 1 if RSS grew by more than --max-growth after warm-up
or a node is left alive.

    python bench/hardening/soak_compiled.py --steps 10000 --every 1000
"""
import argparse
import pickle
import sys
import time

import numpy as np

import pyad
from pyad import Var


def fn(x, y):
    z = pyad.tanh(x * y) + pyad.sum([x, y, 1.0])
    return z * x if z > 0 else pyad.exp(z) - y


def step(xs):
    f = pyad.compile(fn)
    v1 = f.value_and_grad(0.5, 1.5)
    v2 = f.value_and_grad(xs, -1.0, workers=2)
    a, b = Var(0.25), Var(-2.0)
    F = pyad.Function([a, b], pyad.sin(a * b) + a / b)
    v3 = F.value_and_grad(1.0, 3.0)
    g, G = pickle.loads(pickle.dumps((f, F)))
    assert g.value_and_grad(0.5, 1.5)[0] == v1[0]
    assert G.value_and_grad(1.0, 3.0)[0] == v3[0]
    return float(v2[0][0])


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--max-growth", type=float, default=0.05)
    args = ap.parse_args()
    xs = np.linspace(-2, 2, 256)
    live0 = pyad.live_nodes()
    base = None
    t0 = time.perf_counter()
    for i in range(1, args.steps + 1):
        step(xs)
        if i == args.warmup:
            base = rss()
        if i % args.every == 0:
            print(f"step {i:6d}  RSS {rss() / 2**20:7.1f} MiB  live nodes "
                  f"{pyad.live_nodes() - live0:3d}  {time.perf_counter() - t0:6.1f} s",
                  flush=True)
    growth = (rss() - base) / base
    left = pyad.live_nodes() - live0
    print(f"RSS growth after warm-up (step {args.warmup}): {growth * 100:+.2f}%; "
          f"nodes left: {left}")
    return 0 if growth <= args.max_growth and left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
