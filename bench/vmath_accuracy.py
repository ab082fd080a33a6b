"""Accuracy sweep of pyad's elementary-function kernels against mpmath.

Max error in ulps, region by region (tests/vmath_support.py draws the
arguments), as a markdown table for docs/vmath.md. The tests run the same
sweep: small by default, this size with PYAD_VMATH_FULL=1.

    python bench/vmath_accuracy.py                 # 250000 per region, >1e6 per kernel
    python bench/vmath_accuracy.py -n 2000 exp     # quick look at one kernel
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import vmath_support as vs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=vs.NAMES)
    ap.add_argument("-n", type=int, default=250000, help="points per region")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    print("| kernel | region | points | max ulp | at x |")
    print("|---|---|---:|---:|---|")
    for name in args.names:
        t0 = time.perf_counter()
        res = vs.sweep(name, args.n, procs=args.procs)
        total = sum(p for p, _, _ in res.values())
        worst = max(e for _, e, _ in res.values())
        for region, (points, err, x) in res.items():
            print(f"| {name} | {region} | {points} | {err:.4f} | {x!r} |")
        print(f"| **{name}** | **all** | **{total}** | **{worst:.4f}** | |", flush=True)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
