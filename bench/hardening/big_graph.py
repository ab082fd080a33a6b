"""A 10,000,000-node graph built, differentiated and freed (issue 5).

Alternates y = y * x and y = y + z starting from two leaves x = 1, z = 0,
so every op node has two edges, y stays 1.0 and the gradients are exact
integers: dy/dx = multiplications + 1 (y starts as x), dy/dz = additions.
Reports bytes per node: reserved by the tape (pyad_bytes_reserved: the
capacity of its arrays, which grow by doubling), in use (the same arrays
at their current length), and RSS growth; then the backward time and the
time to free the whole graph by dropping the last Var.

    python bench/hardening/big_graph.py [--nodes 10000000]
"""
import argparse
import gc
import time

import pyad
from pyad import Var
from pyad._lib import lib


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10_000_000)
    n = ap.parse_args().nodes
    gc.collect()
    live0, rss0, res0 = pyad.live_nodes(), rss(), lib.pyad_bytes_reserved()
    x, z = Var(1.0), Var(0.0)
    y = x
    steps = n - 2
    t0 = time.perf_counter()
    for i in range(steps):
        y = y * x if i % 2 == 0 else y + z
    t_build = time.perf_counter() - t0
    nodes = pyad.live_nodes() - live0
    edges = 2 * steps
    reserved = lib.pyad_bytes_reserved() - res0
    in_use = nodes * (3 * 8 + 3 * 4 + 1) + edges * (4 + 8)
    grown = rss() - rss0
    t0 = time.perf_counter()
    y.backward()
    t_back = time.perf_counter() - t0
    n_mul, n_add = (steps + 1) // 2, steps // 2
    assert y.val == 1.0, y.val
    assert x.grad == float(n_mul + 1), x.grad       # y starts as x
    assert z.grad == float(n_add), z.grad
    print(f"nodes {nodes:,}  edges {edges:,}  build {t_build:.1f} s "
          f"({t_build / steps * 1e9:.0f} ns/op)")
    print(f"bytes/node: reserved {reserved / nodes:.1f}  in use {in_use / nodes:.1f}  "
          f"RSS growth {grown / nodes:.1f}  (reserved {reserved / 2**20:.0f} MiB, "
          f"RSS +{grown / 2**20:.0f} MiB)")
    print(f"backward {t_back:.2f} s ({t_back / nodes * 1e9:.1f} ns/node); "
          f"dy/dx = {x.grad:.0f}, dy/dz = {z.grad:.0f} (exact)")
    t0 = time.perf_counter()
    del y
    left = pyad.live_nodes() - live0
    t_free = time.perf_counter() - t0
    print(f"free the graph: {t_free:.2f} s; live nodes left {left} (x and z); "
          f"reserved now {lib.pyad_bytes_reserved() / 2**20:.2f} MiB")
    assert left == 2


if __name__ == "__main__":
    main()
