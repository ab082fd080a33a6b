"""Memory soak: micrograd's demo training loop on pyad, RSS sampled as it runs.

MLP 2-16-16-1 (relu), 100 two-moons points, max-margin loss + 1e-4 L2,
parameters kept as leaf Vars and updated through .val, the graph rebuilt
every step. Prints RSS and live C nodes every --every steps and the growth
after warm-up; exits 1 if RSS grew by more than --max-growth.

    python bench/soak.py --steps 10000 --every 500
"""
import argparse
import random
import sys
import time

import numpy as np

import pyad
from pyad import Var


def two_moons(n=100, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    pts = np.stack([x, y], 1) + rng.normal(0, noise, (n, 2))
    return pts.tolist(), [1.0 if u else -1.0 for u in upper]


class MLP:
    def __init__(self, sizes=(2, 16, 16, 1), seed=1):
        r = random.Random(seed)
        self.layers = [[([Var(r.uniform(-1, 1)) for _ in range(n_in)], Var(0.0))
                        for _ in range(n_out)]
                       for n_in, n_out in zip(sizes, sizes[1:])]
        self.params = [p for layer in self.layers for w, b in layer for p in w + [b]]

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            out = [pyad.sum([wi * xi for wi, xi in zip(w, x)] + [b]) for w, b in layer]
            x = out if i == len(self.layers) - 1 else [pyad.relu(v) for v in out]
        return x[0]


def train_step(model, X, Y, lr=0.05):
    scores = [model(x) for x in X]
    data_loss = pyad.sum([pyad.relu(1 - y * s) for y, s in zip(Y, scores)]) / len(X)
    loss = data_loss + 1e-4 * pyad.sum([p * p for p in model.params])
    for p in model.params:
        p.grad = 0.0
    loss.backward()
    for p in model.params:
        p.val -= lr * p.grad
    return loss.val


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--max-growth", type=float, default=0.05)
    args = ap.parse_args(argv)
    X, Y = two_moons()
    model = MLP()
    base = None
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        loss = train_step(model, X, Y)
        if step == args.warmup:
            base = rss_bytes()
        if step % args.every == 0:
            print(f"step {step:6d}  loss {loss:.4f}  RSS {rss_bytes() / 2**20:8.1f} MiB  "
                  f"live nodes {pyad.live_nodes():7d}  {time.perf_counter() - t0:7.1f} s",
                  flush=True)
    growth = (rss_bytes() - base) / base if base else 0.0
    print(f"RSS growth after warm-up (step {args.warmup}): {growth * 100:+.2f}%")
    return 0 if growth <= args.max_growth else 1


if __name__ == "__main__":
    sys.exit(main())
