"""The plain-C references of the "backward alone" row (sweep_ref.c: read
its header first), compiled here with cffi at benchmark time into
bench/.build/, with the flags pyad itself is built with.

    python bench/sweep_ref.py      # pyad's backward and both C sweeps, in turn
"""

import functools
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SOURCE = BENCH / "sweep_ref.c"
sys.path.insert(0, str(BENCH))
import cbuild  # noqa: E402

CFLAGS = ["-O3", "-std=c11", "-ffp-contract=off"]  # as csrc/ffibuild.py
REACH = "C: pyad's sweep alone (stamps, same graph)"
DENSE = "C: dense sweep, no reach tracking (floor)"


@functools.lru_cache(maxsize=None)
def module():
    """Compile sweep_ref.c (once per source and flags) and import it."""
    return cbuild.module("_sweep_ref", SOURCE.read_text(),
                         "size_t sw_build(const double *, size_t); double sw_value(void);"
                         "double sw_grad(size_t); void sw_zero_grad(void);"
                         "void sw_backward_reach(void); void sw_backward_dense(void);", CFLAGS)


@functools.lru_cache(maxsize=None)
def built(xs):
    """The module's lib with the wide graph of inputs xs built (once; the
    arrays are static in the C file), checked against pyad: same node
    count, same value, and both sweeps give pyad's leaf gradients."""
    import pyad
    sys.path.insert(0, str(BENCH))
    import workloads as W
    lib = module().lib
    n = lib.sw_build(list(xs), len(xs))
    assert n == W.pyad_nodes("wide"), (n, W.pyad_nodes("wide"))
    leaves = [pyad.Var(x) for x in xs]
    y = W.wide(None, leaves)
    y.backward()
    assert lib.sw_value() == y.val
    for sweep in (lib.sw_backward_reach, lib.sw_backward_dense):
        lib.sw_zero_grad()
        sweep()
        assert all(lib.sw_grad(i) == v.grad for i, v in enumerate(leaves)), sweep
    return lib


def main(calls=400):
    sys.path.insert(0, str(BENCH))
    import engines
    import workloads as W
    E = engines.load("pyad")
    xs = tuple(W.wide_inputs())
    lib = built(xs)
    y = W.wide(E, [E.leaf(x) for x in xs])
    n = W.pyad_nodes("wide")
    runs = {"pyad y.backward()": y.backward, REACH: lib.sw_backward_reach,
            DENSE: lib.sw_backward_dense}
    times = {k: [] for k in runs}
    for _ in range(calls):
        for k, call in runs.items():
            t = time.perf_counter()
            call()
            times[k].append(time.perf_counter() - t)
    base = statistics.median(times[DENSE])
    for k, v in times.items():
        m = statistics.median(v)
        print(f"{k:45s} {m / n * 1e9:5.2f} ns/node  {m / base:.2f}x the floor")


if __name__ == "__main__":
    os.chdir(BENCH)
    main()
