"""Figures for docs/hardening.md, "Reliability" (issue 9). Run from the
repository root:

    python bench/hardening/reliability.py

1. Ctrl-C latency: a batch of value and gradient over 1M points of a
   ~300-op function is interrupted (SIGINT) after 0.3 s; the time from the
   signal to KeyboardInterrupt, on the calling thread and with workers=2
   (median of 5).
2. The cost of replaying on the calling thread in ~20 ms chunks (so that
   Ctrl-C is seen) against one C call for the whole batch, same run
   (median of 5 each).
3. Program construction and pickle loading against the number of outputs
   (a chain whose every node is an output, the worst case of the old
   quadratic mark_dense).
"""

import os
import pickle
import signal
import statistics
import threading
import time

import numpy as np

import pyad
from pyad import pool, replay
from pyad._lib import lib
from pyad.program import FIELDS, Program


def heavy(x, y):
    z = x
    for i in range(60):
        z = pyad.sin(z * y + 0.1 * i) + pyad.tanh(z)
    return z


def latency(f, xs, workers):
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.perf_counter()
    try:
        f.value_and_grad(xs, 0.25, workers=workers)
    except KeyboardInterrupt:
        return time.perf_counter() - t0 - 0.3
    finally:
        timer.join()
    raise RuntimeError("the batch ended before the interrupt")


def chunk_cost(f, xs):
    prog = f._traces[0]
    mode = lib.pyad_get_errmode()
    chunked, whole = [], []
    for _ in range(5):
        batch = replay._Batch(prog, [xs, 0.25], xs.size, True)
        t0 = time.perf_counter()
        assert pool.run_job(batch, 1)[0] == 0
        chunked.append(time.perf_counter() - t0)
        batch = replay._Batch(prog, [xs, 0.25], xs.size, True)
        t0 = time.perf_counter()
        assert batch.run(0, xs.size, mode)[0] == 0
        whole.append(time.perf_counter() - t0)
    return statistics.median(chunked), statistics.median(whole)


def chain(n):
    neg = pyad.optable.CODE["neg"]
    arrays = {
        "node_op": np.array([-1] + [neg] * (n - 1), np.int32),
        "node_value": np.zeros(n),
        "arg_start": np.concatenate([[0], np.arange(n)]).astype(np.uint32),
        "args": np.arange(n - 1, dtype=np.uint32),
        "input_slot": np.array([0], np.uint32),
        "output_slot": np.arange(n, dtype=np.uint32),
    }
    for name, dtype in FIELDS:
        arrays.setdefault(name, np.empty(0, dtype))
    return arrays


def main():
    f = pyad.compile(heavy)
    f(0.5, 0.25)
    xs = np.linspace(-1.0, 1.0, 1_000_000)
    print("1. Ctrl-C latency (signal -> KeyboardInterrupt), median of 5")
    for workers in (None, 2):
        lat = [latency(f, xs, workers) for _ in range(5)]
        print(
            f"   workers={workers}: {statistics.median(lat) * 1e3:.1f} ms "
            f"(min {min(lat) * 1e3:.1f}, max {max(lat) * 1e3:.1f})"
        )
    small = xs[:100_000]
    chunked, whole = chunk_cost(f, small)
    print("2. 100k points, value and gradient, calling thread, median of 5:")
    print(
        f"   in ~20 ms chunks {chunked:.3f} s, one C call {whole:.3f} s, "
        f"ratio {chunked / whole:.3f}"
    )
    print("3. construction and pickle loading, n outputs (chain)")
    for n in (16_384, 65_536, 262_144, 1_048_576):
        arrays = chain(n)
        t0 = time.perf_counter()
        p = Program(arrays, n)
        built = time.perf_counter() - t0
        fn = pyad.Function([pyad.Var(1.0)], pyad.Var(0.0))
        fn._traces, fn.n_out, fn.tuple_out = [p], n, True
        data = pickle.dumps(fn)
        t0 = time.perf_counter()
        pickle.loads(data)
        loaded = time.perf_counter() - t0
        print(
            f"   n={n:>9,}: construct {built * 1e3:7.1f} ms, "
            f"load a {len(data) / 2**20:5.1f} MiB pickle {loaded * 1e3:7.1f} ms"
        )


if __name__ == "__main__":
    main()
