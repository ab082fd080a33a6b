"""Helpers for tests/test_vmath.py and bench/vmath_accuracy.py: run pyad's
elementary-function kernels (csrc/vmath.h) through the test entry points,
draw arguments region by region, and measure errors in ulps against mpmath
(50 digits)."""

from __future__ import annotations

import math
import multiprocessing
from typing import Callable

import mpmath
import numpy as np

from pyad._lib import ffi, lib

NAMES = ["exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "cosh", "sinh"]
KERNEL = {name: getattr(lib, "PYAD_VMATH_" + name.upper()) for name in NAMES + ["sincos"]}
REFERENCE: dict[str, Callable] = {
    "exp": mpmath.exp,
    "expm1": mpmath.expm1,
    "log": mpmath.log,
    "log1p": mpmath.log1p,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "tanh": mpmath.tanh,
    "cosh": mpmath.cosh,
    "sinh": mpmath.sinh,
}
VECTOR, SCALAR, LIBM, AVX2, POINT = (
    lib.PYAD_VMATH_VECTOR,
    lib.PYAD_VMATH_SCALAR,
    lib.PYAD_VMATH_LIBM,
    lib.PYAD_VMATH_VECTOR_AVX2,
    lib.PYAD_VMATH_POINT,
)


def _out_len(name: str, n: int) -> int:
    return 2 * n if name == "sincos" else n


def run(name: str, x: np.ndarray, how: int) -> tuple[np.ndarray, int]:
    """(y, PYAD_RAISE_* bits raised by the whole call)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.empty(_out_len(name, len(x)))
    flags = lib.pyad_vmath(
        KERNEL[name], how, ffi.from_buffer("double[]", x), ffi.from_buffer("double[]", y), len(x)
    )
    assert flags >= 0, flags
    return y, flags


def run_each(name: str, x: np.ndarray, how: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, PYAD_RAISE_* bits raised by each element on its own)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.empty(_out_len(name, len(x)))
    flags = np.zeros(len(x), np.uint8)
    status = lib.pyad_vmath_flags(
        KERNEL[name],
        how,
        ffi.from_buffer("double[]", x),
        ffi.from_buffer("double[]", y),
        ffi.from_buffer("uint8_t[]", flags),
        len(x),
    )
    assert status == 0, status
    return y, flags


def have_avx2() -> bool:
    x = np.zeros(1)
    y = np.zeros(1)
    px, py = ffi.from_buffer("double[]", x), ffi.from_buffer("double[]", y)
    return bool(lib.pyad_vmath(KERNEL["exp"], AVX2, px, py, 1) >= 0)


def bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)


def from_bits(u: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(u, dtype=np.uint64).view(np.float64)


def nudged(centres: np.ndarray, rng: np.random.Generator, spread: int) -> np.ndarray:
    """Doubles within `spread` ulps of each (nonzero) centre, of its sign."""
    c = np.asarray(centres, dtype=np.float64)
    c = np.where(c == 0.0, 1.0, c)
    step = rng.integers(-spread, spread + 1, len(c))
    mag = np.maximum(bits(np.abs(c)).astype(np.int64) + step, 1).astype(np.uint64)
    return np.copysign(from_bits(mag), c)


def log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """+-2^U(lo, hi), random signs."""
    return np.ldexp(1.0, 0) * np.exp2(rng.uniform(lo, hi, n)) * rng.choice([-1.0, 1.0], n)


def positive_bits(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Uniform over the bit patterns of the positive doubles in [lo, hi)."""
    b = rng.integers(int(bits(np.array([lo]))[0]), int(bits(np.array([hi]))[0]), n)
    return from_bits(b.astype(np.uint64))


def _multiples(step: float, ks: np.ndarray, offset: float) -> np.ndarray:
    """The doubles nearest (k + offset) * step, k in ks, step given exactly by
    mpmath (pi/2 or ln 2 to 50 digits)."""
    mpmath.mp.dps = 50
    s = mpmath.pi / 2 if step == math.pi / 2 else mpmath.log(2)
    return np.array([float((int(k) + offset) * s) for k in ks])


def regions(name: str, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Arguments by region: n each (fewer for the expensive constructions)."""
    u, lu = rng.uniform, log_uniform
    m = max(n // 4, 8)
    ln2, pio2 = math.log(2), math.pi / 2
    if name == "exp":
        return {
            "[-745.2, 709.8]": u(-745.2, 709.8, n),
            "[-1, 1]": u(-1, 1, n),
            "|x| in [2^-80, 0.5]": lu(rng, -80, -1, n),
            "subnormal results": u(-745.14, -708.39, n),
            "near overflow": u(700, 709.7827, n),
            "k ln2 +- ulps": nudged(_multiples(ln2, rng.integers(-1074, 1024, m), 0.0), rng, 40),
            "(k+1/2) ln2": nudged(_multiples(ln2, rng.integers(-1074, 1023, m), 0.5), rng, 40),
        }
    if name == "expm1":
        return {
            "[-40, 709.78]": u(-40, 709.78, n),
            "[-1, 1]": u(-1, 1, n),
            "|x| in [2^-60, 0.5]": lu(rng, -60, -1, n),
            "|x| < 2^-60": lu(rng, -1074, -60, n),
            "[-800, -1]": u(-800, -1, n),
            "(k+1/2) ln2": nudged(_multiples(ln2, rng.integers(-60, 60, m), 0.5), rng, 40),
        }
    if name == "log":
        return {
            "all positive doubles": positive_bits(rng, 5e-324, math.inf, n),
            "subnormals": positive_bits(rng, 5e-324, 2.2250738585072014e-308, n),
            "[0.5, 2]": u(0.5, 2, n),
            "1 +- 2^[-53, -1]": 1.0 + lu(rng, -53, -1, n),
            "sqrt2 2^e": nudged(np.sqrt(2) * np.exp2(rng.integers(-1074, 1023, m)), rng, 40),
        }
    if name == "log1p":
        return {
            "-1 + 2^[-53, -1]": -1.0 + np.exp2(u(-53, -1, n)),
            "[-0.5, 1]": u(-0.5, 1, n),
            "|x| in [2^-60, 2^-10]": lu(rng, -60, -10, n),
            "|x| < 2^-60": lu(rng, -1074, -60, n),
            "[1, max]": positive_bits(rng, 1.0, 1.7976931348623157e308, n),
            "+-2^-20 (series switch)": nudged(rng.choice([-1.0, 1.0], m) * 2.0**-20, rng, 2000),
            "sqrt2 2^e - 1": nudged(np.sqrt(2) * np.exp2(rng.integers(-1, 60, m)) - 1, rng, 40),
        }
    if name in ("sin", "cos"):
        ks = rng.integers(-667000, 667000, m)
        return {
            "[-2pi, 2pi]": u(-2 * math.pi, 2 * math.pi, n),
            "|x| < 2^20": u(-(2.0**20), 2.0**20, n),
            "|x| in [2^-40, 1]": lu(rng, -40, 0, n),
            "|x| < 2^-27": lu(rng, -1074, -27, n),
            "k pi/2 +- ulps": nudged(_multiples(pio2, ks, 0.0), rng, 20),
            "(k+1/2) pi/2": nudged(_multiples(pio2, ks, 0.5), rng, 20),
            "|x| in [2^20, 2^70] (libm)": lu(rng, 20, 70, m),
        }
    if name == "tanh":
        return {
            "[-1, 1]": u(-1, 1, n),
            "[-25, 25]": u(-25, 25, n),
            "|x| in [2^-40, 1]": lu(rng, -40, 0, n),
            "|x| < 2^-28": lu(rng, -1074, -28, n),
            "+-2^-28": nudged(rng.choice([-1.0, 1.0], m) * 2.0**-28, rng, 2000),
        }
    if name in ("cosh", "sinh"):
        return {
            "[-1, 1]": u(-1, 1, n),
            "[-30, 30]": u(-30, 30, n),
            "|x| in [2^-40, 1]": lu(rng, -40, 0, n),
            "|x| < 2^-26": lu(rng, -1074, -26, n),
            "|x| in [30, 710.47]": u(30, 710.4758, n) * rng.choice([-1.0, 1.0], n),
            "(k+1/2) ln2": nudged(_multiples(ln2, rng.integers(-60, 60, m), 0.5), rng, 40),
            "+-22, +-2^-26 (switches)": nudged(
                rng.choice([-22.0, 22.0, -(2.0**-26), 2.0**-26, 2.0**-27], m), rng, 2000
            ),
        }
    raise KeyError(name)


def _ulp(h: float) -> float:
    a = abs(h)
    if a == 0.0 or not math.isfinite(a):
        return 2.0**-1074
    return math.ldexp(1.0, max(math.frexp(a)[1] - 1, -1022) - 52)


def _reference_chunk(args: tuple[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    name, xs = args
    mpmath.mp.dps = 50
    f = REFERENCE[name]
    hi, d = np.empty(len(xs)), np.empty(len(xs))
    for i, x in enumerate(xs):
        r = f(mpmath.mpf(float(x)))
        h = float(r)
        hi[i] = h
        # The exact value in ulps of h, computed in mpmath (a subnormal
        # difference would not survive a conversion to double).
        d[i] = float((r - mpmath.mpf(h)) / _ulp(h)) if math.isfinite(h) else 0.0
    return hi, d


def reference(name: str, xs: np.ndarray, procs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(h, d): the exact value is h + d ulp(h), h a double."""
    if procs <= 1 or len(xs) < 10000:
        return _reference_chunk((name, xs))
    chunks = np.array_split(xs, procs * 8)
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        parts = pool.map(_reference_chunk, [(name, c) for c in chunks])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def ulp_errors(y: np.ndarray, h: np.ndarray, d: np.ndarray) -> np.ndarray:
    """|y - exact| in ulps of the exact value's binade; 0 where both are the
    same infinity (an overflowed reference must give inf exactly)."""
    e = np.frexp(np.abs(h))[1] - 1
    ulp = np.ldexp(1.0, np.maximum(e, -1022) - 52)
    with np.errstate(invalid="ignore"):
        err = np.abs((y - h) / ulp - d)
    return np.where(np.isinf(h) & (y == h), 0.0, err)


def sweep(
    name: str, n: int, seed: int = 2024, procs: int = 1
) -> dict[str, tuple[int, float, float]]:
    """Region -> (points, max ulp error, its argument)."""
    out = {}
    for region, xs in regions(name, np.random.default_rng(seed), n).items():
        y, _ = run(name, xs, VECTOR)
        h, d = reference(name, xs, procs)
        err = ulp_errors(y, h, d)
        i = int(np.argmax(err))
        out[region] = (len(xs), float(err[i]), float(xs[i]))
    return out
