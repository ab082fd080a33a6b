"""Is point replay's reverse sweep bound by its chain of dependences, or by
its memory traffic? Fastest autograd's edges (pyad's 12-node cycle, 57,500
edges) swept in plain C three ways, interleaved, medians of the rounds:

    canonical   csrc/replay.c's dense loop: adj[arg[j]] += adj[owner[j]] * dp[j]
                over the edges in sweep order (op nodes descending)
    levels      the same edges sorted by dependence level (an edge comes
                after every edge into its owner and after the previous edge
                into its target), so that independent edges sit side by
                side for the out-of-order core; the same sums, bit for bit
    no chain    the canonical loop reading the owners' adjoints from a
                second array: no edge waits for another (a wrong answer,
                only a bound: what the loads and stores alone cost)

The partials are drawn so that no adjoint is subnormal (the benchmark's own
graph has ~700, which cost microcode assists in every implementation).
Also printed: the chain's critical path under a simple latency model
(13 cycles through an owner, 9 between two adds into one adjoint).

    python bench/issue12_sweep_order.py       # ~10 s with the first build
"""

import collections
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cbuild  # noqa: E402

SRC = r"""
#include <stddef.h>
#include <stdint.h>
void sweep(size_t nn, size_t ne, const uint32_t *restrict arg,
           const uint32_t *restrict owner, const double *restrict dp,
           double *restrict adj, const double *adj_in, uint32_t out)
{
    if (!adj_in)
        adj_in = adj;
    for (size_t k = 0; k < nn; k++)
        adj[k] = -0.0;
    adj[out] += 1.0;
    for (size_t j = 0; j < ne; j++)
        adj[arg[j]] += adj_in[owner[j]] * dp[j];
}
"""
CDEF = """void sweep(size_t, size_t, const uint32_t *, const uint32_t *, const double *,
                   double *, const double *, uint32_t);"""


def fa_edges(n_leaves=100, n_ops=10_000):
    """(owner, operand) per edge in sweep order, the node count, the output."""
    args, n = {}, list(range(n_leaves))

    def new(a):
        k = n_leaves + len(args)
        args[k] = a
        return k

    for i in range(n_ops):
        w = i % 4
        if w == 0:
            n.append(new([n[-10]]))
        elif w == 1:
            n.append(new([n[-30], n[-25], n[-20], n[-15]]))
        elif w == 2:
            n.append(new([n[-20], n[-10]]))
        else:
            es = [new([n[-4 + k]]) for k in range(4)]
            s = new(es)
            n.extend(new([e, s]) for e in es)
    edges = [(k, a) for k in sorted(args, reverse=True) for a in args[k]]
    return edges, n_leaves + len(args), n[-1]


def levels_and_path(edges):
    level, done = [], collections.defaultdict(int)
    t_done = collections.defaultdict(float)
    for o, t in edges:
        lv = max(done[o], done[t]) + 1
        level.append(lv)
        done[t] = lv
        t_done[t] = max(t_done[o] + 13, t_done[t] + 9)
    return np.array(level), max(t_done.values())


def main(rounds=15, calls=20):
    lib = cbuild.module("sweep_order", SRC, CDEF, ["-O3", "-std=c11", "-ffp-contract=off"]).lib
    from cffi import FFI

    ffi = FFI()
    edges, n_nodes, out = fa_edges()
    owner = np.array([o for o, _ in edges], np.uint32)
    arg = np.array([t for _, t in edges], np.uint32)
    dp = np.random.default_rng(1).uniform(0.45, 0.6, len(edges))
    level, path = levels_and_path(edges)
    order = np.lexsort((np.arange(len(edges)), level))
    lv = [a[order].copy() for a in (arg, owner, dp)]
    adj, adj2, ones = np.empty(n_nodes), np.empty(n_nodes), np.ones(n_nodes)

    def ptr(a):
        return ffi.cast("void *", a.ctypes.data)

    def call(a, o, d, dst, src):
        return lambda: lib.sweep(n_nodes, len(edges), ptr(a), ptr(o), ptr(d), ptr(dst),
                                 ptr(src) if src is not None else ffi.NULL, out)

    ways = {"canonical": call(arg, owner, dp, adj, None),
            "levels": call(*lv, adj2, None),
            "no chain": call(arg, owner, dp, np.empty(n_nodes), ones)}
    ways["canonical"](), ways["levels"]()
    assert np.array_equal(adj, adj2) and not np.any((adj != 0) & (np.abs(adj) < 2.3e-308))
    times = collections.defaultdict(list)
    for _ in range(rounds):
        for name, fn in ways.items():
            t = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - t) / calls)
    base = statistics.median(times["canonical"])
    print(f"{len(edges)} edges, {level.max()} dependence levels; modelled critical path "
          f"{path / len(edges):.2f} cycles per edge")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:10s} {m * 1e9 / len(edges):5.2f} ns per edge  {m / base:.2f}x canonical")


if __name__ == "__main__":
    main()
