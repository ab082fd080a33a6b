"""Compiled batches on Dask (issue 13). Run from the repository root:

    python bench/dask_scaling.py              # 7 repeats
    python bench/dask_scaling.py --repeats 3

1. Scaling: value and gradient of a ~30-op function with a branch over a
   batch of 4,000,000 points (16 chunks of 250,000), on a LocalCluster of
   2 single-threaded worker processes and on one of 1 worker, both up at
   once and timed in turns. Timed: f.value_and_grad(x, a, b) persisted on
   the workers (computed and kept there, as results on a cluster are
   used), from submit to done; the inputs are drawn on the workers
   (da.random), so no batch crosses the network. Target: 2 workers >= 1.6x
   faster than 1. Then the results are gathered and compared with the
   numpy call of the whole batch (same draws): bit for bit.
2. Per-chunk overhead: a batch of 512,000 points on the 1-worker cluster
   in 4, 16, 64 and 256 chunks; the slope of time against the number of chunks is
   what Dask adds per task (scheduling, the task's pickle, the blocks'
   bookkeeping); next to it the numpy call of the whole batch in this
   process (no Dask).
3. Threads: the same batch on the threaded scheduler with 1 and with 2
   threads (the replay holds no GIL).

Wall times (the work is on other processes), medians of interleaved
repeats; the machine's load average is printed with them. On a shared
2-core machine the ratios of one run are the figures to quote.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dask  # noqa: E402
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster, wait  # noqa: E402

import pyad  # noqa: E402  (this worktree's pyad, not an installed one)

N = 4_000_000
CHUNK = 250_000
SMALL = 512_000  # the batch of the per-chunk overhead runs
A, B = 1.3, -0.4


def model(x, a, b):
    """About 30 ops, one branch on the point's value."""
    u = a * x + b
    s = pyad.sin(u) * pyad.exp(-0.1 * x * x) + pyad.cos(b * x) * a
    if u > 0:
        t = pyad.log1p(u * u) + pyad.tanh(b * x) * s
    else:
        t = pyad.sqrt(1.0 + u * u) - pyad.sigmoid(a * x) * s
    r = t * t + s / (1.0 + x * x) - pyad.exp(-u * u) * a * b
    return r * pyad.cos(x) + t * 0.5 + pyad.softplus(s - t)


def draws(chunk, n=N):
    return da.random.default_rng(7).normal(size=n, chunks=chunk)


def timed_persist(client, f, x):
    """Seconds to compute value and gradient and keep them on the workers."""
    start = time.perf_counter()
    v, g = client.persist(list(f.value_and_grad(x, A, B)))
    wait([v, g], timeout=600)
    took = time.perf_counter() - start
    del v, g
    return took


def median(xs):
    return statistics.median(xs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    reps = parser.parse_args().repeats
    print(f"load average before: {os.getloadavg()}")
    f = pyad.compile(model)
    f(0.5, A, B)
    print(f"model: {f._traces[0].n_ops} ops on the first branch")
    kw = dict(threads_per_worker=1, processes=True, dashboard_address=None)
    with LocalCluster(n_workers=2, **kw) as c2, LocalCluster(n_workers=1, **kw) as c1:
        with Client(c2) as two, Client(c1, set_as_default=False) as one:
            x2 = two.persist(draws(CHUNK))  # the draws live on the workers
            x1 = one.persist(draws(CHUNK))
            wait(x2, timeout=600)
            wait(x1, timeout=600)
            # warm up: ship f, let each worker trace both branches
            timed_persist(two, f, x2), timed_persist(one, f, x1)
            t1, t2 = [], []
            for _ in range(reps):
                t1.append(timed_persist(one, f, x1))
                t2.append(timed_persist(two, f, x2))
            # bit for bit against the numpy call on the same draws
            x = two.compute(x2).result(timeout=600)
            v, g = [fu.result(timeout=600) for fu in two.compute(list(f.value_and_grad(x2, A, B)))]
            local_t, local = [], None
            for _ in range(max(3, reps // 2)):
                start = time.perf_counter()
                local = pyad.compile(model).value_and_grad(x, A, B)
                local_t.append(time.perf_counter() - start)
            same = np.array_equal(v, local[0]) and np.array_equal(g, local[1])
            # per-chunk overhead on the 1-worker cluster
            by_chunks = {}
            for n_chunks in (4, 16, 64, 256):
                xs = one.persist(draws(SMALL // n_chunks, SMALL))
                wait(xs, timeout=600)
                timed_persist(one, f, xs)
                by_chunks[n_chunks] = median([timed_persist(one, f, xs) for _ in range(reps)])
                del xs
    slope, _ = np.polyfit(list(by_chunks), list(by_chunks.values()), 1)
    # threads: the same batch on the threaded scheduler, 1 and 2 threads
    xt = draws(CHUNK).persist(scheduler="threads")
    th = {1: [], 2: []}
    for _ in range(reps):
        for k in (1, 2):
            start = time.perf_counter()
            dask.persist(*f.value_and_grad(xt, A, B), scheduler="threads", num_workers=k)
            th[k].append(time.perf_counter() - start)
    m1, m2, ml = median(t1), median(t2), median(local_t)
    print(f"load average after: {os.getloadavg()}")
    print(f"\n{N:,} points, {N // CHUNK} chunks of {CHUNK:,}; medians of {reps} repeats\n")
    print("| run | median (s) | ns / point |")
    print("|---|---:|---:|")
    rows = [
        ("numpy call in this process, 1 thread (no Dask)", ml),
        ("LocalCluster, 1 worker process", m1),
        ("LocalCluster, 2 worker processes", m2),
        ("threaded scheduler, 1 thread", median(th[1])),
        ("threaded scheduler, 2 threads", median(th[2])),
    ]
    for name, t in rows:
        print(f"| {name} | {t:.3f} | {t / N * 1e9:.0f} |")
    print(f"\n2 workers vs 1: {m1 / m2:.2f}x faster (target >= 1.6x: "
          f"{'MET' if m1 / m2 >= 1.6 else 'MISSED'}); bit-identical to numpy: {same}")
    print(f"threads, 2 vs 1: {median(th[1]) / median(th[2]):.2f}x")
    print(f"\n| chunks of {SMALL:,} points (1 worker) | median (s) |")
    print("|---:|---:|")
    for k, t in by_chunks.items():
        print(f"| {k} | {t:.3f} |")
    print(f"\nper-chunk overhead (slope): {slope * 1e3:.2f} ms per chunk")
    print(f"1 worker, 16 chunks, over the numpy call: {(m1 - ml) * 1e3:.0f} ms in all")


if __name__ == "__main__":
    main()
