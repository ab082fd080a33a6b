"""Derive the polynomial coefficients of csrc/vmath.h (reproducibly).

Each kernel evaluates, after argument reduction, a polynomial that
approximates the *tail* of a Taylor series on a small interval. This script
fits those polynomials by the Remez exchange algorithm (minimax, absolute
error) in 60-digit arithmetic with mpmath, rounds the coefficients to double
and prints them as C initialisers, with the error of the rounded polynomial.

    python bench/vmath_fit.py            # print every fit
    python bench/vmath_fit.py sin        # one fit
    python bench/vmath_fit.py exp_table  # the table of exp (vmath_exptab.h)

The functions fitted are defined by their Taylor series (no cancellation at
0), so every value is exact to the working precision:

    exp    P(r) = (e^r - 1 - r) / r^2             r in [-0.3466, 0.3466]
    exp_t  the same P                             r in [-ln2/256, ln2/256]
    log    Q(z) = (2 atanh(s) - 2 s) / (s z)      z = s^2 in [0, (3-2 sqrt2)^2]
    sin    S(z) = (sin r - r) / r^3 + 1/8         z = r^2 in [0, (pi/4)^2]
    cos    C(z) = (cos r - 1 + z/2) / z^2         z = r^2 in [0, (pi/4)^2]

The intervals are widened slightly beyond the exact reduction ranges to
cover rounding in the reduction.
"""

from __future__ import annotations

import sys
from typing import Callable

import mpmath
from mpmath import mp, mpf

mp.dps = 60

Series = Callable[[mpf], mpf]


def _series(term: Callable[[int], mpf], x: mpf, start: int) -> mpf:
    total = mpf(0)
    n = start
    while True:
        t = term(n) * x ** (n - start)
        total += t
        if abs(t) < mpf(10) ** (-mp.dps - 5) and n > start + 2:
            return total
        n += 1


def exp_tail(r: mpf) -> mpf:  # sum_{n>=2} r^(n-2)/n!
    return _series(lambda n: 1 / mpmath.factorial(n), r, 2)


def log_tail(z: mpf) -> mpf:  # sum_{n>=1} 2 z^(n-1)/(2n+1)
    return _series(lambda n: mpf(2) / (2 * n + 1), z, 1)


def sin_tail(z: mpf) -> mpf:  # sum_{n>=1} (-1)^n z^(n-1)/(2n+1)!, plus 1/8
    return _series(lambda n: (-1) ** n / mpmath.factorial(2 * n + 1), z, 1) + mpf(1) / 8


def cos_tail(z: mpf) -> mpf:  # sum_{n>=2} (-1)^n z^(n-2)/(2n)!
    return _series(lambda n: (-1) ** n / mpmath.factorial(2 * n), z, 2)


def _poly(c: list[mpf], x: mpf) -> mpf:
    y = mpf(0)
    for a in reversed(c):
        y = y * x + a
    return y


def _extrema(err: Callable[[mpf], mpf], lo: mpf, hi: mpf, grid: int) -> list[mpf]:
    """Alternating local extrema of err on a grid, refined by golden-section
    search (one point per run of equal sign, the largest)."""
    xs = [lo + (hi - lo) * i / grid for i in range(grid + 1)]
    es = [err(x) for x in xs]
    out = []
    for i in range(grid + 1):
        left = abs(es[i - 1]) if i > 0 else mpf(-1)
        right = abs(es[i + 1]) if i < grid else mpf(-1)
        if es[i] == 0 or abs(es[i]) < left or abs(es[i]) < right:
            continue
        a, b = xs[max(i - 1, 0)], xs[min(i + 1, grid)]
        g = (mpmath.sqrt(5) - 1) / 2
        for _ in range(50):
            c, d = b - g * (b - a), a + g * (b - a)
            if abs(err(c)) > abs(err(d)):
                b = d
            else:
                a = c
        x = (a + b) / 2
        out.append(x if abs(err(x)) > abs(es[i]) else xs[i])
    merged: list[mpf] = []
    for x in out:
        if merged and mpmath.sign(err(x)) == mpmath.sign(err(merged[-1])):
            if abs(err(x)) > abs(err(merged[-1])):
                merged[-1] = x
        else:
            merged.append(x)
    return merged


def remez(
    f: Series, lo: float, hi: float, degree: int, wpow: int, fixed: list[float]
) -> tuple[list[mpf], mpf]:
    """Minimax polynomial of `degree` for f on [lo, hi], error weighted by
    |x|^wpow, with the coefficients of x^0 .. x^(len(fixed)-1) fixed."""
    a, b = mpf(lo), mpf(hi)
    nfix = len(fixed)
    nfree = degree + 1 - nfix
    n = nfree + 1

    def weight(x: mpf) -> mpf:
        return abs(x) ** wpow

    # Initial reference: Chebyshev points of the first kind.
    ref = [
        (a + b) / 2 - (b - a) / 2 * mpmath.cos(mpmath.pi * (i + mpf(1) / 2) / n) for i in range(n)
    ]
    # Nudged off 0 (where the weight may vanish) and off symmetry (which
    # makes the system singular for odd powers on a symmetric interval).
    ref = [x + (b - a) * (i + 1) / (97 * n * n) for i, x in enumerate(ref)]
    coeffs: list[mpf] = []
    level = mpf(0)
    for _ in range(40):
        m = mpmath.matrix(n, n)
        rhs = mpmath.matrix(n, 1)
        for i, x in enumerate(ref):
            for j in range(nfree):
                m[i, j] = x ** (nfix + j)
            m[i, nfree] = (-1) ** i / weight(x)
            rhs[i] = f(x) - _poly([mpf(c) for c in fixed], x)
        sol = mpmath.lu_solve(m, rhs)
        coeffs = [mpf(c) for c in fixed] + [sol[j] for j in range(nfree)]
        level = abs(sol[nfree])
        cs = coeffs

        def err(x: mpf, cs: list[mpf] = cs) -> mpf:
            return weight(x) * (f(x) - _poly(cs, x))

        ext = _extrema(err, a, b, 300)
        if len(ext) < n:
            break
        while len(ext) > n:  # keep n alternating points with the global max
            if abs(err(ext[0])) < abs(err(ext[-1])):
                ext.pop(0)
            else:
                ext.pop()
        peak = max(abs(err(x)) for x in ext)
        ref = ext
        if peak - level < level * mpf("1e-4"):
            break
    return coeffs, level


def fit_rounded(f: Series, lo: float, hi: float, degree: int, wpow: int) -> list[float]:
    """Round the coefficients to double one at a time, lowest first, each
    time refitting the higher ones to absorb the rounding error."""
    if wpow == 0:
        # Fixing low coefficients on an interval around 0 leaves a basis
        # (x^i .. x^n) that is not a Haar system there: plain rounding.
        coeffs, _level = remez(f, lo, hi, degree, wpow, [])
        return [float(c) for c in coeffs]
    fixed: list[float] = []
    for _ in range(degree + 1):
        coeffs, _level = remez(f, lo, hi, degree, wpow, fixed)
        fixed.append(float(coeffs[len(fixed)]))
    return fixed


def weighted_error(f: Series, coeffs: list[float], lo: float, hi: float, wpow: int) -> mpf:
    """Max |x|^wpow |f - p| with the double coefficients (exact arithmetic)."""
    cs = [mpf(c) for c in coeffs]
    return max(
        abs(x) ** wpow * abs(f(x) - _poly(cs, x)) for x in mpmath.linspace(mpf(lo), mpf(hi), 3001)
    )


# name: (function, lo, hi, degree, weight power, C array name). The weight
# is how the polynomial's error reaches the kernel's result, relative to it:
# sin r = r - r^3/8 + r z S(z) gives z dS; cos r = 1 - z/2 + z^2 C(z) gives z^2 dC;
# log(1+f) = 2s + s z Q(z) gives z dQ / 2; exp's P enters as r^2 dP but P
# is accurate enough unweighted.
FITS = {
    "exp": (exp_tail, -0.34658, 0.34658, 10, 0, "EXP_P"),
    "exp_t": (exp_tail, -0.0027077, 0.0027077, 3, 0, "EXP_T"),
    "log": (log_tail, 0.0, 0.029445, 7, 1, "LOG_Q"),
    "sin": (sin_tail, 0.0, 0.6169, 6, 1, "SIN_S"),
    "cos": (cos_tail, 0.0, 0.6169, 5, 2, "COS_C"),
}


def exp_table(n: int = 128) -> None:
    """The table of exp's common path: for j < n, 2^(j/n) = hi (1 + tail),
    two words per j: the bits of tail, and the bits of hi less j << 45 (so
    that adding k << 45, k = n m + j, cancels j and adds m to the exponent);
    and ln2/n in two parts, the high part with 36 significant bits (its
    product with any integer |k| < 2^17 is exact)."""
    import struct

    def bits(x: float) -> int:
        return int(struct.unpack("<Q", struct.pack("<d", x))[0])

    words = []
    for j in range(n):
        e = mpmath.power(2, mpf(j) / n)
        hi = float(e)
        tail = float((e - mpf(hi)) / mpf(hi))
        words += [bits(tail), bits(hi) - (j << 45)]
    print(f"static const uint64_t PYAD_VM_EXP_TAB[{2 * n}] = {{")
    for i in range(0, len(words), 4):
        print("    " + ", ".join(f"0x{w:016x}ull" for w in words[i : i + 4]) + ",")
    print("};")
    step = mpmath.log(2) / n
    top = int(mpmath.floor(mpmath.log(step, 2)))
    hi = float(mpmath.nint(step * mpf(2) ** (35 - top)) * mpf(2) ** (top - 35))
    lo = float(step - mpf(hi))
    print(f"#define PYAD_VM_LN2_{n}_HI {hi.hex()}")
    print(f"#define PYAD_VM_LN2_{n}_LO {lo.hex()}")


def main(names: list[str]) -> None:
    if names == ["exp_table"]:
        exp_table()
        return
    for name in names or list(FITS):
        f, lo, hi, deg, wpow, cname = FITS[name]
        dbl = fit_rounded(f, lo, hi, deg, wpow)
        err = weighted_error(f, dbl, lo, hi, wpow)
        print(
            f"/* {name}: degree {deg} on [{lo}, {hi}], error weighted by "
            f"|x|^{wpow}: {mpmath.nstr(err, 3)} = 2^{mpmath.nstr(mpmath.log(err, 2), 4)} */"
        )
        body = ",\n    ".join(f"{c.hex()}" for c in dbl)
        print(f"static const double {cname}[{deg + 1}] = {{\n    {body}\n}};")


if __name__ == "__main__":
    main(sys.argv[1:])
