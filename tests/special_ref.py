"""Bit-exact float references of the special-function ops
(csrc/opdefs_special.h), for tests/hardening_ref.py's table (the fuzz and
replay tests).

The values are pyad's own kernels (csrc/special.c), called through ctypes
as tests/kernels.py calls the elementary ones: what is checked here is
that every evaluator gives those bits and the partials formulas, which
are restated in Python below. The kernels' accuracy against mpmath is
tested in tests/test_special.py and tests/test_math_accuracy.py.
"""

import ctypes
import math

import kernels as K
import libm as C
from hardening_ref import _gauss, _sigmoid, fdiv

from pyad import _pyad_cffi

_so = ctypes.CDLL(_pyad_cffi.__file__)


def _kernel(name, nargs):
    fn = getattr(_so, "pyad_sp_" + name)
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double] * nargs
    return fn


lgamma, digamma, ndtr, log_ndtr, dlog_ndtr, ndtri, erfinv = (
    _kernel(n, 1) for n in ("lgamma", "digamma", "ndtr", "log_ndtr", "dlog_ndtr", "ndtri", "erfinv")
)
polygamma, logaddexp, xlogy, xlog1py = (
    _kernel(n, 2) for n in ("polygamma", "logaddexp", "xlogy", "xlog1py")
)

INV_SQRT2PI = 0.3989422804014327


def _maximum(a, b):
    return a if (a > b or a != a) else b


def _minimum(a, b):
    return a if (a < b or a != a) else b


def _where(c, a, b):
    return a if c > 0.0 else b


def _twodiff(a, b):
    """PYAD_TWODIFF_: a - b as hi + lo, lo 0 where hi is not finite."""
    hi = a - b
    bb = hi - a
    lo = (a - (hi - bb)) + (-b - bb)
    return hi, _where(1.0 if abs(hi) < 1e300 else 0.0, lo, 0.0)


def _lse(x):
    """PYAD_VALUE_logsumexp."""
    j, m = 0, x[0]
    for i in range(1, len(x)):
        if x[i] > m or (x[i] != x[i] and m == m):
            j, m = i, x[i]
    if not math.isfinite(m):
        return m
    s = 0.0
    for i, v in enumerate(x):
        if i != j and v >= m - 746.0:
            s += K.exp(v - m)
    return m + K.log1p(s)


def _lse_d(x, y):
    def term(xi, m):
        hi, lo = _twodiff(xi, m)
        return K.exp(hi) * (1.0 + lo)

    m = x[0]
    for v in x[1:]:
        m = _maximum(m, v)
    s = 0.0
    for v in x:
        s = s + term(v, m)
    return [fdiv(term(v, m), s) for v in x]


def _logaddexp_d(x, y):
    hi, lo = _twodiff(x[0], x[1])
    return [
        _sigmoid(hi) * (1.0 + _sigmoid(-hi) * lo),
        _sigmoid(-hi) * (1.0 - _sigmoid(hi) * lo),
    ]


def _xdiv(x, y):
    return _where(1.0 if abs(x) > 0.0 else 0.0, fdiv(x, y), 0.0)


def _normpdf(x):
    ax = _minimum(abs(x), 1e150)
    h = 0.5 * ax
    p = h * ax
    e = C.fma(h, ax, -p)
    return INV_SQRT2PI * (K.exp(-p) * (1.0 - e))


# sqrt(2 pi)|x| e^(x^2/2) Phi(x) = 1 + u T(u), u = 1/x^2 (csrc/special.h)
_TAIL = [(-1.0) ** (k + 1) * math.prod(range(1, 2 * k + 2, 2)) for k in range(25)]
_TAIL = [float(c) for c in _TAIL]
TAIL_FROM = -10.0


def _dlog_ndtr_d(x, y):
    a = x[0]
    xc = _maximum(a, -1e100)
    u = fdiv(1.0, xc * xc)
    t = _TAIL[-1]
    for c in reversed(_TAIL[:-1]):
        t = t * u + c
    q = fdiv(y, a)
    tail = (q * q) * t
    naive = -(y * (a + y))
    return [_where(1.0 if a < TAIL_FROM else 0.0, tail, naive)]


def _ndtri_d(x, y):
    p = x[0]
    phi = _where(1.0 if p < 0.5 else 0.0, p * dlog_ndtr(y), (1.0 - p) * dlog_ndtr(-y))
    return [fdiv(1.0, phi)]


SQRT2 = 1.4142135623730951


def _erfinv_d(x, y):
    c = 1.0 - abs(x[0])
    r = dlog_ndtr(-SQRT2 * abs(y))
    g = _where(1.0 if abs(x[0]) > 0.5 else 0.0, SQRT2 * (c * r), _gauss(y))
    return [fdiv(1.0, g)]


# name -> (arity, forward(list) -> float, partials(list, y) -> list)
SPECIAL_OPS = {
    "lgamma": (1, lambda x: lgamma(x[0]), lambda x, y: [digamma(x[0])]),
    "digamma": (1, lambda x: digamma(x[0]), lambda x, y: [polygamma(1.0, x[0])]),
    "polygamma": (
        2,
        lambda x: polygamma(x[0], x[1]),
        lambda x, y: [0.0, polygamma(x[0] + 1.0, x[1])],
    ),
    "logsumexp": (-1, _lse, _lse_d),
    "logaddexp": (2, lambda x: logaddexp(x[0], x[1]), _logaddexp_d),
    "xlogy": (2, lambda x: xlogy(x[0], x[1]), lambda x, y: [K.log(x[1]), _xdiv(x[0], x[1])]),
    "xlog1py": (
        2,
        lambda x: xlog1py(x[0], x[1]),
        lambda x, y: [K.log1p(x[1]), _xdiv(x[0], 1.0 + x[1])],
    ),
    "ndtr": (1, lambda x: ndtr(x[0]), lambda x, y: [_normpdf(x[0])]),
    "log_ndtr": (1, lambda x: log_ndtr(x[0]), lambda x, y: [dlog_ndtr(x[0])]),
    "dlog_ndtr": (1, lambda x: dlog_ndtr(x[0]), _dlog_ndtr_d),
    "ndtri": (1, lambda x: ndtri(x[0]), _ndtri_d),
    "erfinv": (1, lambda x: erfinv(x[0]), _erfinv_d),
}
