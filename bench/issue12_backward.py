"""Backward alone on the wide graph, ns per node (issue 12: <= 3 ns/node).
Run from the repository root:

    python bench/issue12_backward.py [calls]     # 400 calls, ~1 min with the build

The bench's wide graph (workloads.wide: 25,000 leaves, 99,999 nodes) is
recorded once; then `y.backward()` is timed `calls` times. Prints the best
and the median per node: the median moves with the machine's load and with
where the tape's arrays sit in the caches (the sweep streams ~4.8 MB per
call: stamps, adjoints, grads, edge ranges, edge nodes and partials), the
best much less.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import engines  # noqa: E402
import workloads as W  # noqa: E402


def main(calls=400):
    E = engines.load("pyad")
    leaves = [E.leaf(x) for x in W.wide_inputs()]
    y = W.wide(E, leaves)
    n = W.pyad_nodes("wide")
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        y.backward()
        times.append(time.perf_counter() - t0)
    best, median = min(times) / n * 1e9, statistics.median(times) / n * 1e9
    print(f"backward, {n} nodes, {calls} calls: best {best:.2f} ns/node, "
          f"median {median:.2f} ns/node (goal <= 3)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
