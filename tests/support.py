"""Shared helpers for the pyad test suite: graph-state snapshots, float
comparisons in ulps, and an mpmath oracle for every unary op. (Threads and
subprocesses of the hostile-user tests: hostile.py.)"""

import gc
import math

import mpmath

import pyad
from pyad._lib import ffi, lib

MP_DPS = 50


def tape_state():
    """(live nodes, tape length): what a failed op must leave unchanged.

    Collects garbage first (an earlier test's traceback may hold Vars in a
    cycle), then live_nodes() flushes the batch of dead Vars; so call this
    before arming anything that counts C allocations."""
    gc.collect()
    return pyad.live_nodes(), lib.pyad_tape_length()


def same_float(a, b):
    """Bitwise-equal floats, treating every nan as equal to every nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def same_or_equal_zero(got, want):
    """For derivatives a zero's sign is not part of the convention."""
    if want == 0.0 and got == 0.0:
        return True
    return same_float(got, want)


def ulps_close(got, want, n):
    """|got - want| <= n ulp(want); exact match required for inf/nan/0."""
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want) or want == 0.0:
        return got == want
    return abs(got - want) <= n * math.ulp(want)


def rel_close(got, want, rel, abs_tol=0.0):
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return abs(got - want) <= rel * abs(want) + abs_tol


# ---- mpmath oracle: value and closed-form derivative of each unary op ----
# Each entry maps an mpf x (exact copy of a float) to (f(x), f'(x)), both
# mpf, evaluated with MP_DPS digits. The formulas are the textbook ones,
# written independently of pyad's C code.


def _mp_sigmoid(x):
    if x >= 0:
        e = mpmath.exp(-x)
        return 1 / (1 + e), e / (1 + e) ** 2
    e = mpmath.exp(x)
    return e / (1 + e), e / (1 + e) ** 2


def _mp_softplus(x):
    return mpmath.log1p(mpmath.exp(x)), _mp_sigmoid(x)[0]


def _mp_cbrt(x):
    return mpmath.sign(x) * mpmath.cbrt(abs(x))  # the real root (mpmath's is complex)


def _mp_erfc(x):
    # mpmath's erfc fails far out (x = 1e300); there exp(-x^2) / (x sqrt(pi))
    # is right to 1/(2 x^2), far below double precision
    if x > 1e6:
        return mpmath.exp(-x * x) / (x * mpmath.sqrt(mpmath.pi))
    return mpmath.erfc(x)


def _mp_lgamma(x):
    if x <= 0 and x == mpmath.floor(x):
        return mpmath.inf
    return mpmath.log(abs(mpmath.gamma(x))) if x < 0 else mpmath.loggamma(x)


def _mp_tail_m1(x):
    """sqrt(2 pi) |x| exp(x^2/2) Phi(x) - 1 for x < -1000 (mpmath's erfc
    fails far out), by its asymptotic series: the next term is below 1e-22
    of it."""
    u = 1 / (x * x)
    return -u + 3 * u**2 - 15 * u**3 + 105 * u**4 - 945 * u**5


def _mp_tail(x):
    return 1 + _mp_tail_m1(x)


def _mp_dlog_ndtr_d(x):
    """-r (x + r), r = phi/Phi; below -1000 x + r = -r (S - 1), which the
    series gives without cancellation."""
    r = _mp_dlog_ndtr(x)
    if x < -1000:
        return r * r * _mp_tail_m1(x)
    return -r * (x + r)


def _mp_ndtr(x):
    if x < -1000:
        return mpmath.npdf(x) / -x * _mp_tail(x)
    if x > 1000:
        return 1 - _mp_ndtr(-x)
    return mpmath.ncdf(x)


def _mp_log_ndtr(x):
    # log1p(-Phi(-x)) above 0: Phi(x) itself rounds to 1 at 50 digits
    if x < -1000:
        return -x * x / 2 - mpmath.log(-x) - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(_mp_tail(x))
    return mpmath.log1p(-_mp_ndtr(-x)) if x > 0 else mpmath.log(_mp_ndtr(x))


def _mp_dlog_ndtr(x):
    if x < -1000:
        return -x / _mp_tail(x)
    return mpmath.npdf(x) / _mp_ndtr(x)


def _mp_ndtri(p):
    """Phi^-1(p): through erfinv, or (tiny p, where 2p - 1 needs more digits
    than the working precision) a root of log Phi(y) = log p."""
    if not 0 < p < 1:
        return mpmath.nan
    if p > mpmath.mpf(10) ** (-mpmath.mp.dps // 2):
        return mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)
    y0 = -mpmath.sqrt(-2 * mpmath.log(p))
    return mpmath.findroot(lambda y: mpmath.log(mpmath.ncdf(y)) - mpmath.log(p), y0 + 0.5)


def _mp_trunc(x):
    return mpmath.sign(x) * mpmath.floor(abs(x))


MP_UNARY = {
    "exp": lambda x: (mpmath.exp(x), mpmath.exp(x)),
    "log": lambda x: (mpmath.log(x), 1 / x),
    "sin": lambda x: (mpmath.sin(x), mpmath.cos(x)),
    "cos": lambda x: (mpmath.cos(x), -mpmath.sin(x)),
    "tanh": lambda x: (mpmath.tanh(x), mpmath.sech(x) ** 2),
    "sech2": lambda x: (mpmath.sech(x) ** 2, -2 * mpmath.sech(x) ** 2 * mpmath.tanh(x)),
    "sigmoid": _mp_sigmoid,
    "relu": lambda x: (x if x > 0 else mpmath.mpf(0), mpmath.mpf(1 if x > 0 else 0)),
    "sqrt": lambda x: (mpmath.sqrt(x), 1 / (2 * mpmath.sqrt(x))),
    "log1p": lambda x: (mpmath.log1p(x), 1 / (1 + x)),
    "expm1": lambda x: (mpmath.expm1(x), mpmath.exp(x)),
    "softplus": _mp_softplus,
    "abs": lambda x: (abs(x), mpmath.mpf(mpmath.sign(x))),
    "neg": lambda x: (-x, mpmath.mpf(-1)),
    "pos": lambda x: (x, mpmath.mpf(1)),
    "sign": lambda x: (mpmath.mpf(mpmath.sign(x)), mpmath.mpf(0)),
    "square": lambda x: (x * x, 2 * x),
    "cosh": lambda x: (mpmath.cosh(x), mpmath.sinh(x)),
    "sinh": lambda x: (mpmath.sinh(x), mpmath.cosh(x)),
    "tan": lambda x: (mpmath.tan(x), mpmath.sec(x) ** 2),
    "asin": lambda x: (mpmath.asin(x), 1 / mpmath.sqrt(1 - x * x)),
    "acos": lambda x: (mpmath.acos(x), -1 / mpmath.sqrt(1 - x * x)),
    "atan": lambda x: (mpmath.atan(x), 1 / (1 + x * x)),
    "asinh": lambda x: (mpmath.asinh(x), 1 / mpmath.sqrt(1 + x * x)),
    "acosh": lambda x: (mpmath.acosh(x), 1 / mpmath.sqrt(x * x - 1)),
    "atanh": lambda x: (mpmath.atanh(x), 1 / (1 - x * x)),
    "log2": lambda x: (mpmath.log(x, 2), 1 / (x * mpmath.log(2))),
    "log10": lambda x: (mpmath.log10(x), 1 / (x * mpmath.log(10))),
    "exp2": lambda x: (mpmath.power(2, x), mpmath.power(2, x) * mpmath.log(2)),
    "cbrt": lambda x: (_mp_cbrt(x), 1 / (3 * _mp_cbrt(x) ** 2)),
    "erf": lambda x: (mpmath.erf(x), 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)),
    "erfc": lambda x: (_mp_erfc(x), -2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)),
    "floor": lambda x: (mpmath.floor(x), mpmath.mpf(0)),
    "ceil": lambda x: (mpmath.ceil(x), mpmath.mpf(0)),
    "trunc": lambda x: (_mp_trunc(x), mpmath.mpf(0)),
    "lgamma": lambda x: (_mp_lgamma(x), mpmath.digamma(x)),
    "digamma": lambda x: (mpmath.digamma(x), mpmath.polygamma(1, x)),
    "ndtr": lambda x: (_mp_ndtr(x), mpmath.npdf(x)),
    "log_ndtr": lambda x: (_mp_log_ndtr(x), _mp_dlog_ndtr(x)),
    "dlog_ndtr": lambda x: (_mp_dlog_ndtr(x), _mp_dlog_ndtr_d(x)),
    "ndtri": lambda p: (_mp_ndtri(p), 1 / mpmath.npdf(_mp_ndtri(p))),
    "erfinv": lambda x: (
        (mpmath.erfinv(x), mpmath.sqrt(mpmath.pi) / 2 * mpmath.exp(mpmath.erfinv(x) ** 2))
        if -1 < x < 1
        else (mpmath.nan, mpmath.nan)
    ),
}

# Which real inputs lie inside each op's domain (for the oracle).
DOMAIN = {
    "log": lambda x: x > 0,
    "sqrt": lambda x: x > 0,
    "log1p": lambda x: x > -1,
    "asin": lambda x: -1 < x < 1,
    "acos": lambda x: -1 < x < 1,
    "acosh": lambda x: x > 1,
    "atanh": lambda x: -1 < x < 1,
    "log2": lambda x: x > 0,
    "log10": lambda x: x > 0,
    "ndtri": lambda x: 0 < x < 1,
    "lgamma": lambda x: x > 0 or x != math.floor(x),
    "digamma": lambda x: x > 0 or x != math.floor(x),
    "erfinv": lambda x: -1 < x < 1,
}


def _where_d(c, a, b):
    return [0, 1 if c > 0 else 0, 0 if c > 0 else 1]


def _tie(a, b):
    """d max(a, b) / d a: 1, 0.5 on a tie (the documented split), 0."""
    return mpmath.mpf(1 if a > b else 0.5 if a == b else 0)


def _clip_d(x, lo, hi):
    m = max(x, lo)
    inside = 1 if m <= hi else 0
    return [(1 if x >= lo else 0) * inside, (1 if x < lo else 0) * inside, 1 - inside]


def _dot(*xs):
    k = len(xs) // 2
    return mpmath.fsum(xs[i] * xs[k + i] for i in range(k)) + (xs[-1] if len(xs) % 2 else 0)


def _dot_d(*xs):
    k = len(xs) // 2
    return list(xs[k : 2 * k]) + list(xs[:k]) + ([1] if len(xs) % 2 else [])


def _lse(*xs):
    return mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs))


def _polygamma(n, x):
    """nan unless n is an integer >= 0, as pyad's; but n within 1e-10 of one
    counts as it, so that mpmath.diff (whose steps are far smaller) sees the
    derivative in n that pyad gives: 0."""
    k = mpmath.nint(n)
    if abs(n - k) > 1e-10 or k < 0:
        return mpmath.nan
    return mpmath.polygamma(int(k), x)


def _xlogy(f):
    return (
        lambda x, y: mpmath.mpf(0) if x == 0 else x * f(y),
        lambda x, y: [f(y), 0 if x == 0 else x / (y if f is mpmath.log else 1 + y)],
    )


def _cmp(test):
    return (lambda a, b: mpmath.mpf(1 if test(a, b) else 0), lambda a, b: [0, 0])


# Every op of the registry: (value(*xs), partials(*xs) -> list), both on
# mpf operands, independent textbook formulas (not pyad's forms). The unary
# ops come from MP_UNARY; tests/test_registry.py fails for an op that is
# missing here.
def _from_unary(f):
    return (lambda x: f(x)[0], lambda x: [f(x)[1]])


MP_OPS = {name: _from_unary(f) for name, f in MP_UNARY.items()}
MP_OPS.update(
    {
        "add": (lambda a, b: a + b, lambda a, b: [1, 1]),
        "sub": (lambda a, b: a - b, lambda a, b: [1, -1]),
        "mul": (lambda a, b: a * b, lambda a, b: [b, a]),
        "div": (lambda a, b: a / b, lambda a, b: [1 / b, -a / b**2]),
        "pow": (
            lambda a, b: mpmath.power(a, b),
            lambda a, b: [b * mpmath.power(a, b - 1), mpmath.power(a, b) * mpmath.log(a)],
        ),
        "lt": _cmp(lambda a, b: a < b),
        "le": _cmp(lambda a, b: a <= b),
        "gt": _cmp(lambda a, b: a > b),
        "ge": _cmp(lambda a, b: a >= b),
        "where": (lambda c, a, b: a if c > 0 else b, _where_d),
        "sum": (lambda *xs: mpmath.fsum(xs), lambda *xs: [1] * len(xs)),
        "dot": (_dot, _dot_d),
        "atan2": (
            lambda y, x: mpmath.atan2(y, x),
            lambda y, x: [x / (x * x + y * y), -y / (x * x + y * y)],
        ),
        "hypot": (
            lambda a, b: mpmath.hypot(a, b),
            lambda a, b: [a / mpmath.hypot(a, b), b / mpmath.hypot(a, b)],
        ),
        "maximum": (lambda a, b: max(a, b), lambda a, b: [_tie(a, b), _tie(b, a)]),
        "minimum": (lambda a, b: min(a, b), lambda a, b: [_tie(b, a), _tie(a, b)]),
        "copysign": (
            lambda a, b: abs(a) * mpmath.sign(b),
            lambda a, b: [mpmath.sign(a) * mpmath.sign(b), 0],
        ),
        "fmod": (
            lambda a, b: a - _mp_trunc(a / b) * b,
            lambda a, b: [1, -_mp_trunc(a / b)],
        ),
        "mod": (
            lambda a, b: a - mpmath.floor(a / b) * b,
            lambda a, b: [1, -mpmath.floor(a / b)],
        ),
        "floordiv": (lambda a, b: mpmath.floor(a / b), lambda a, b: [0, 0]),
        "clip": (lambda x, lo, hi: min(max(x, lo), hi), _clip_d),
        "fma": (lambda a, b, c: a * b + c, lambda a, b, c: [b, a, 1]),
        "polygamma": (_polygamma, lambda n, x: [0, _polygamma(n + 1, x)]),
        "logsumexp": (_lse, lambda *xs: [mpmath.exp(x - _lse(*xs)) for x in xs]),
        "logaddexp": (_lse, lambda a, b: [mpmath.exp(a - _lse(a, b)), mpmath.exp(b - _lse(a, b))]),
        "xlogy": _xlogy(mpmath.log),
        "xlog1py": _xlogy(mpmath.log1p),
    }
)


def to_float(y):
    """An mpf as the nearest float; overflow -> inf, and 0 for numbers too
    small for float() to take (erfc(1e300) = 10**-(4e599))."""
    try:
        return float(y)
    except OverflowError:
        if abs(y) < 1:
            return math.copysign(0.0, float(mpmath.sign(y)))
        return math.copysign(math.inf, float(mpmath.sign(y)))


def mp_value_and_derivative(name, x):
    """(f(x), f'(x)) as correctly rounded floats (overflow -> inf)."""
    with mpmath.workdps(MP_DPS):
        y, d = MP_UNARY[name](mpmath.mpf(x))
        return to_float(y), to_float(d)


# The unary ops of the C op table (csrc/ops.c), the one list of ops: a new
# row there is picked up by every test that uses these names.
UNARY_OPS = [
    ffi.string(lib.pyad_op_name(i)).decode()
    for i in range(lib.pyad_op_count())
    if lib.pyad_op_arity(i) == 1
]
# ... of which these are module functions (neg and abs are operators).
UNARY_FUNCTIONS = [n for n in UNARY_OPS if n not in ("neg", "abs")]


# Ops whose values are pyad's own kernels (csrc/kernels.h), not the C
# library's: bit-exact against tests/kernels.py, within one ulp of libm.
KERNEL_OPS = ("exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "cosh", "sinh")


def same_or_kernel(name, got, libm_value, x):
    """got is what pyad computes for op `name` at x: bit-exact to the C
    library's libm_value, or for the kernel ops, bit-exact to pyad's kernel
    and within one ulp of the C library."""
    if name not in KERNEL_OPS:
        return same_float(got, libm_value)
    import kernels

    return same_float(got, getattr(kernels, name)(x)) and (
        same_float(got, libm_value) or ulps_close(got, libm_value, 1)
    )
