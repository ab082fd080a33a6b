"""The C math library's functions through ctypes, for the references
(tests/hardening_ref.py): pyad's values are the C library's where it has
the function, and Python's math module lacks some of them before 3.11/3.13
and raises where C returns inf or nan."""

import ctypes
import ctypes.util
import sys


def _c_library():
    """The C math library pyad links (libm; ucrtbase on Windows)."""
    if sys.platform == "win32":
        return ctypes.CDLL("ucrtbase")
    return ctypes.CDLL(ctypes.util.find_library("m") or ctypes.util.find_library("c"))


_libm = _c_library()


def _c(name, nargs):
    fn = getattr(_libm, name)
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double] * nargs
    return fn


(tan, asin, acos, atan, asinh, acosh, atanh) = (
    _c(n, 1) for n in ("tan", "asin", "acos", "atan", "asinh", "acosh", "atanh")
)
(log2, log10, exp2, cbrt, erf, erfc, floor, ceil, trunc) = (
    _c(n, 1) for n in ("log2", "log10", "exp2", "cbrt", "erf", "erfc", "floor", "ceil", "trunc")
)
atan2, hypot, copysign, fmod = (_c(n, 2) for n in ("atan2", "hypot", "copysign", "fmod"))
fma = _c("fma", 3)
