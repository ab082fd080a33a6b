"""Real numbers as pyad reads them: which Python objects count as real
numbers (int, float, numpy scalars, Fractions; not bool-less complex, not
Vars), and their exact values, so that a Var compares with an int or a
Fraction as a float does (exactly), and the intervals of values that
int(), floor() and round() map to one integer (the guards of traces).
"""

from __future__ import annotations

import fractions
import numbers
from typing import Any

import numpy as np

from ._lib import VarBase

__all__ = ["as_float", "exact_real", "integral_interval"]


def as_float(x: Any) -> float | None:  # Any: `t is float` does not narrow x
    """x as a float if it is a real number (int, float, numpy real scalar),
    else None. bool counts as int, as in Python; complex does not."""
    t = type(x)
    if t is float or t is int:
        return float(x)
    if isinstance(x, (numbers.Real, np.integer, np.floating)) and not isinstance(x, VarBase):
        return float(x)
    return None


def exact_real(x: Any) -> float | int | fractions.Fraction | None:  # Any: as as_float
    """x as a number Python compares with a float exactly (a float, an int
    or a Fraction), or None if x is not a real number (as as_float). The
    guards of compiled functions turn it back into a float threshold."""
    t = type(x)
    if t is float or t is int:
        return x  # type: ignore[no-any-return]  # `t is` does not narrow
    if isinstance(x, VarBase) or as_float(x) is None:
        return None
    if isinstance(x, (int, np.integer)):  # bool, numpy ints: exact as int
        return int(x)
    if isinstance(x, np.floating) and x.dtype.itemsize > 8 and np.isfinite(x):
        return fractions.Fraction(*x.as_integer_ratio())  # long double
    if isinstance(x, numbers.Rational):
        return fractions.Fraction(int(x.numerator), int(x.denominator))
    return float(x)  # float32, float16, other reals: as float


def integral_interval(kind: str, k: int, x: float) -> list[tuple[str, float]]:
    """Comparisons (test, bound) that hold exactly for the values whose
    floor / ceil / trunc / round (half to even) is k, x being one of them."""
    if not abs(x) < 2.0**52:  # already an integer: k pins the value
        return [("ge", float(k)), ("le", float(k))]
    if kind == "floor":
        return [("ge", float(k)), ("lt", float(k + 1))]
    if kind == "ceil":
        return [("gt", float(k - 1)), ("le", float(k))]
    if kind == "trunc":
        lower = ("ge", float(k)) if k > 0 else ("gt", float(k - 1))
        upper = ("lt", float(k + 1)) if k >= 0 else ("le", float(k))
        return [lower, upper]
    # round: ties go to the even integer, so its interval is closed
    if k % 2 == 0:
        return [("ge", k - 0.5), ("le", k + 0.5)]
    return [("gt", k - 0.5), ("lt", k + 0.5)]
