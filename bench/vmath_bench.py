"""Speed of pyad's elementary-function kernels (csrc/vmath.h), per element.

For each kernel: the vector helper (pyad_vexp...) built for baseline x86-64
(SSE2) and for AVX2; the point kernel (pyad_exp_point..., for one argument
at a time) and the branch-free scalar kernel (pyad_exp...), each called
once per element in a loop the compiler keeps scalar, as a scalar
evaluator would call them; and glibc's function the same way. Each
figure is the median over several repeats of a timed C loop over an
L1-resident block of arguments (pyad_vmath_repeat), so the cffi call is
negligible; the ways take turns within each repeat, so the ratios are
measured side by side.

    python bench/vmath_bench.py              # table, ~20 s
    python bench/vmath_bench.py --repeats 9 --block 2048
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from pyad._lib import ffi, lib

# Kernel, how arguments are drawn (typical ranges for an autodiff user).
KERNELS = [
    ("exp", lib.PYAD_VMATH_EXP, lambda r, n: r.uniform(-20.0, 20.0, n)),
    ("expm1", lib.PYAD_VMATH_EXPM1, lambda r, n: r.uniform(-2.0, 2.0, n)),
    ("log", lib.PYAD_VMATH_LOG, lambda r, n: np.exp(r.uniform(-20.0, 20.0, n))),
    ("log1p", lib.PYAD_VMATH_LOG1P, lambda r, n: r.uniform(-0.5, 10.0, n)),
    ("sin", lib.PYAD_VMATH_SIN, lambda r, n: r.uniform(-10.0, 10.0, n)),
    ("cos", lib.PYAD_VMATH_COS, lambda r, n: r.uniform(-10.0, 10.0, n)),
    ("sincos", lib.PYAD_VMATH_SINCOS, lambda r, n: r.uniform(-10.0, 10.0, n)),
    ("tanh", lib.PYAD_VMATH_TANH, lambda r, n: r.uniform(-5.0, 5.0, n)),
    ("cosh", lib.PYAD_VMATH_COSH, lambda r, n: r.uniform(-5.0, 5.0, n)),
    ("sinh", lib.PYAD_VMATH_SINH, lambda r, n: r.uniform(-5.0, 5.0, n)),
]
WAYS = [
    ("vector", lib.PYAD_VMATH_VECTOR),
    ("avx2", lib.PYAD_VMATH_VECTOR_AVX2),
    ("point", lib.PYAD_VMATH_POINT),
    ("scalar", lib.PYAD_VMATH_SCALAR),
    ("glibc", lib.PYAD_VMATH_LIBM),
]


def _passes(kernel: int, how: int, px: object, py: object, n: int, seconds: float) -> int:
    """Passes over the block that take about `seconds`."""
    reps = 1
    while True:
        t0 = time.perf_counter()
        lib.pyad_vmath_repeat(kernel, how, px, py, n, reps)
        dt = time.perf_counter() - t0
        if dt > seconds / 4:
            return max(1, int(reps * seconds / dt))
        reps *= 2


def ns_per_element(kernel: int, x: np.ndarray, seconds: float, repeats: int) -> list[float]:
    """Median ns per element for each of WAYS; the ways take turns within
    each repeat, so that a noisy neighbour slows them alike."""
    y = np.empty(2 * len(x))  # sincos writes 2n
    px, py = ffi.from_buffer("double[]", x), ffi.from_buffer("double[]", y)
    n = len(x)
    reps = [_passes(kernel, how, px, py, n, seconds) for _, how in WAYS]
    times: list[list[float]] = [[] for _ in WAYS]
    for _ in range(repeats):
        for i, (_, how) in enumerate(WAYS):
            t0 = time.perf_counter()
            lib.pyad_vmath_repeat(kernel, how, px, py, n, reps[i])
            times[i].append((time.perf_counter() - t0) / (reps[i] * n) * 1e9)
    return [statistics.median(t) for t in times]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--block", type=int, default=1024, help="elements per pass")
    ap.add_argument("--seconds", type=float, default=0.03, help="per way and repeat")
    args = ap.parse_args()
    rng = np.random.default_rng(12)
    print(f"ns per element, median of {args.repeats}; block of {args.block} doubles")
    print()
    print(
        "| kernel | SSE2 vector | AVX2 vector | point | scalar | glibc | glibc/SSE2 | glibc/AVX2 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, kernel, draw in KERNELS:
        x = np.ascontiguousarray(draw(rng, args.block), dtype=np.float64)
        ns = ns_per_element(kernel, x, args.seconds, args.repeats)
        cells = " | ".join(f"{v:.2f}" for v in ns)
        print(f"| {name} | {cells} | {ns[4] / ns[0]:.2f}x | {ns[4] / ns[1]:.2f}x |")


if __name__ == "__main__":
    main()
