"""A pure-Python reference for pyad's ops: values, local partials and a
reverse sweep, for the fuzz tests (tests/test_fuzz_ops.py), and the
meaning of a compiled program's arrays (tests/program_ref.py).

It follows the conventions written in README.md ("Numerical
conventions") and uses Python's own float arithmetic, pyad's own kernels
for exp, expm1, log, log1p, sin, cos, tanh, cosh and sinh (tests/kernels.py:
pyad computes these with them), and Python's math module, with IEEE results
where Python would raise: 1/0 = inf, log(0) = -inf, exp(1000) = inf,
sqrt(-1) = nan, ... The forms of sigmoid/softplus/tanh' are the ones the
README and ops.c document (never-overflowing forms), so results can be
compared bit for bit. The ops of issue 10 take the C library's functions
through ctypes (tests/libm.py), since pyad's values are the C library's."""

import math

import kernels as K  # pyad's own exp, log, sin, ... (tests/kernels.py)
import libm as C  # the C library's functions, by ctypes (tests/libm.py)

from pyad._lib import ffi, lib

INF, NAN = math.inf, math.nan
# op code -> name, from the C table
NAMES = {i: ffi.string(lib.pyad_op_name(i)).decode() for i in range(lib.pyad_op_count())}


def fdiv(a, b):
    """a / b with IEEE results (Python raises ZeroDivisionError)."""
    if b == 0.0:
        if a == 0.0 or math.isnan(a) or math.isnan(b):
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def _is_odd_integer(k):
    return math.isfinite(k) and k == math.floor(k) and math.fmod(k, 2.0) != 0.0


def fpow(a, k):
    """C99 pow (Annex F) for the cases Python's math.pow raises on."""
    try:
        return math.pow(a, k)
    except ValueError:
        if a == 0.0 and k < 0.0:  # pole
            if _is_odd_integer(k):
                return math.copysign(INF, a)
            return INF
        return NAN  # negative ** non-integer
    except OverflowError:
        if a < 0.0 and _is_odd_integer(k):
            return -INF
        return INF


_exp, _expm1, _cosh, _log, _log1p = K.exp, K.expm1, K.cosh, K.log, K.log1p


def _sech2(x):
    """1/cosh(x)^2 as csrc/vmath_hyp.h computes it (pyad_sech2)."""
    a = abs(x)
    if math.isnan(a):
        return x + 0.0
    if a < 2.0**-28:
        return 1.0
    if a >= 20.0:
        e = 2.0 * _exp(-min(a, 400.0))
        return e * e
    r = 1.0 / (_expm1(2.0 * a) + 2.0)
    return 4.0 * r * (1.0 - r)


def _sqrt(x):
    return NAN if x < 0.0 else math.sqrt(x)


_sin, _cos = K.sin, K.cos


def _sigmoid(a):
    if a >= 0.0:
        return 1.0 / (1.0 + _exp(-a))
    return _sig_neg(a)  # a < 0, or nan


def _sig_neg(a):
    e = _exp(a)
    return fdiv(e, 1.0 + e)


def _sigmoid_d(a):
    # s(a) s(-a): the form opdefs.h documents (exact in both tails)
    return _sigmoid(a) * _sigmoid(-a)


def _softplus(a):
    if math.isnan(a):
        return a
    return (a if a > 0.0 else 0.0) + _log1p(_exp(-abs(a)))


def _relu(a):
    return a if a > 0.0 else 0.0 if a <= 0.0 else a


def _sum(xs):
    s = xs[0]
    for x in xs[1:]:
        s += x
    return s


def _pow_d(x, y):
    a, k = x
    normal = 2.2250738585072014e-308 <= abs(y) < INF
    d0 = 0.0 if k == 0.0 else k * (fdiv(y, a if a != 0.0 else 1.0) if normal else fpow(a, k - 1.0))
    if a == 0.0:
        d1 = 0.0
    elif a < 0.0:
        d1 = NAN
    else:
        d1 = y * _log(a)
    return [d0, d1]


def _sign_d(a):
    return 1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0 if a == 0.0 else NAN


_sinh = K.sinh


def _dot(x):
    k = len(x) // 2
    s = x[0] * x[k] if k else x[0]
    for i in range(1, k):
        s = s + x[i] * x[k + i]
    if k and len(x) % 2:
        s = s + x[-1]
    return s


def _dot_d(x, y):
    k = len(x) // 2
    return x[k : 2 * k] + x[:k] + ([1.0] if len(x) % 2 else [])


# name -> (arity, forward(list) -> float, partials(list, y) -> list)
OPS = {
    "add": (2, lambda x: x[0] + x[1], lambda x, y: [1.0, 1.0]),
    "sub": (2, lambda x: x[0] - x[1], lambda x, y: [1.0, -1.0]),
    "mul": (2, lambda x: x[0] * x[1], lambda x, y: [x[1], x[0]]),
    "div": (2, lambda x: fdiv(x[0], x[1]), lambda x, y: [fdiv(1.0, x[1]), fdiv(-y, x[1])]),
    "pow": (2, lambda x: fpow(x[0], x[1]), _pow_d),
    "neg": (1, lambda x: -x[0], lambda x, y: [-1.0]),
    "abs": (1, lambda x: abs(x[0]), lambda x, y: [_sign_d(x[0])]),
    "exp": (1, lambda x: _exp(x[0]), lambda x, y: [y]),
    "log": (1, lambda x: _log(x[0]), lambda x, y: [fdiv(1.0, x[0] + 0.0)]),
    "sin": (1, lambda x: _sin(x[0]), lambda x, y: [_cos(x[0])]),
    "cos": (1, lambda x: _cos(x[0]), lambda x, y: [-_sin(x[0])]),
    "tanh": (1, lambda x: K.tanh(x[0]), lambda x, y: [_sech2(x[0])]),
    "sech2": (1, lambda x: _sech2(x[0]), lambda x, y: [(-2.0 * y) * K.tanh(x[0])]),
    "sigmoid": (1, lambda x: _sigmoid(x[0]), lambda x, y: [_sigmoid_d(x[0])]),
    "relu": (
        1,
        lambda x: _relu(x[0]),
        lambda x, y: [1.0 if x[0] > 0.0 else 0.0 if x[0] <= 0.0 else NAN],
    ),
    "sqrt": (1, lambda x: _sqrt(x[0]), lambda x, y: [fdiv(0.5, y + 0.0)]),
    "log1p": (1, lambda x: _log1p(x[0]), lambda x, y: [fdiv(1.0, 1.0 + x[0])]),
    "expm1": (1, lambda x: _expm1(x[0]), lambda x, y: [_exp(x[0])]),
    "softplus": (1, lambda x: _softplus(x[0]), lambda x, y: [_sigmoid(x[0])]),
    "sum": (-1, _sum, lambda x, y: [1.0] * len(x)),
    "lt": (2, lambda x: 1.0 if x[0] < x[1] else 0.0, lambda x, y: [0.0, 0.0]),
    "le": (2, lambda x: 1.0 if x[0] <= x[1] else 0.0, lambda x, y: [0.0, 0.0]),
    "gt": (2, lambda x: 1.0 if x[0] > x[1] else 0.0, lambda x, y: [0.0, 0.0]),
    "ge": (2, lambda x: 1.0 if x[0] >= x[1] else 0.0, lambda x, y: [0.0, 0.0]),
    "where": (
        3,
        lambda x: x[1] if x[0] > 0.0 else x[2],
        lambda x, y: [0.0, 1.0 if x[0] > 0.0 else 0.0, 0.0 if x[0] > 0.0 else 1.0],
    ),
    "dot": (-1, _dot, _dot_d),
    "pos": (1, lambda x: x[0], lambda x, y: [1.0]),
    "sign": (1, lambda x: _sign_d(x[0]) + 0.0, lambda x, y: [0.0]),
    "cosh": (1, lambda x: _cosh(x[0]), lambda x, y: [_sinh(x[0])]),
    "sinh": (1, lambda x: _sinh(x[0]), lambda x, y: [_cosh(x[0])]),
    "square": (1, lambda x: x[0] * x[0], lambda x, y: [2.0 * x[0]]),
}


# ---- the ops of issue 10: values as opdefs_*.h computes them, partials as
# its formulas write them (same operations, same order) -------------------

LN2 = 0.6931471805599453094
LOG2E = 1.4426950408889634074
LOG10E = 0.43429448190325182765
TWO_SQRTPI = 1.1283791670955125739


def _gt(a, b):
    return 1.0 if a > b else 0.0


def _ge(a, b):
    return 1.0 if a >= b else 0.0


def _where(c, a, b):
    return a if c > 0.0 else b


def _sign(a):
    return _sign_d(a) + 0.0


def _maximum(a, b):
    return a if (a > b or a != a) else b


def _minimum(a, b):
    return a if (a < b or a != a) else b


def _pick(strictly, or_equal, y):
    return 0.5 * (strictly + or_equal) + 0.0 * _sign(y)


def _square(t):
    return t * t


def _asin_d(x):
    return fdiv(1.0, _sqrt((1.0 - x) * (1.0 + x)))


def _atanh_d(x):
    q = (1.0 - x) * (1.0 + x)
    return _where(_ge(q, 0.0), fdiv(1.0, q), NAN)


def _gauss(x):
    ax = _minimum(abs(x), 1e150)
    p = ax * ax
    e = C.fma(ax, ax, -p)
    return TWO_SQRTPI * (_exp(-p) * (1.0 - e))


def _atan2_d(x, y):
    b, a = x  # atan2(b, a): the point (a, b)
    r = C.hypot(b, a)
    z = r * 0.0
    return [
        _where(r, fdiv(fdiv(a, r), r), z),
        _where(r, fdiv(fdiv(-b, r), r), z),
    ]


def _hypot_d(x, y):
    z = y * 0.0
    return [_where(y, fdiv(x[0], y), z), _where(y, fdiv(x[1], y), z)]


def _copysign(a, b):
    return b if b != b else C.copysign(a, b)  # nan for a nan b


def _mod(a, b):
    r = C.fmod(a, b)
    if r == 0.0:
        return math.copysign(0.0, b)
    if (r < 0.0) != (b < 0.0):
        r += b
    return r


def _floordiv(a, b):
    if b == 0.0 or a != a or b != b:
        return fdiv(a, b)
    r = C.fmod(a, b)
    q = fdiv(a - r, b)
    if r != 0.0 and (r < 0.0) != (b < 0.0):
        q -= 1.0
    if q == 0.0:
        return -0.0 if (math.copysign(1.0, a) < 0) != (math.copysign(1.0, b) < 0) else 0.0
    f = C.floor(q)
    return f + 1.0 if q - f > 0.5 else f


def _remainder_d(x, y):
    # d/da = 1, d/db = -(the quotient, to the nearest integer)
    return [1.0, -C.floor(fdiv(x[0] - y, x[1]) + 0.5)]


def _clip(x, lo, hi):
    m = x if (x >= lo or x != x) else lo
    return m if (m <= hi or m != m) else hi


def _clip_d(x, y):
    v, lo, hi = x
    inside = 1.0 if _maximum(v, lo) <= hi else 0.0
    nan = 0.0 * _sign(y)
    return [
        _ge(v, lo) * inside + nan,
        (1.0 if v < lo else 0.0) * inside + nan,
        (1.0 - inside) + nan,
    ]


def _zeros(x, y):
    return [0.0] * len(x)


ISSUE10_OPS = {
    "tan": (1, lambda x: C.tan(x[0]), lambda x, y: [1.0 + y * y]),
    "asin": (1, lambda x: C.asin(x[0]), lambda x, y: [_asin_d(x[0])]),
    "acos": (1, lambda x: C.acos(x[0]), lambda x, y: [-_asin_d(x[0])]),
    "atan": (1, lambda x: C.atan(x[0]), lambda x, y: [_square(fdiv(1.0, C.hypot(1.0, x[0])))]),
    "asinh": (1, lambda x: C.asinh(x[0]), lambda x, y: [fdiv(1.0, C.hypot(1.0, x[0]))]),
    "acosh": (
        1,
        lambda x: C.acosh(x[0]),
        lambda x, y: [fdiv(1.0, _sqrt(x[0] - 1.0) * _sqrt(x[0] + 1.0))],
    ),
    "atanh": (1, lambda x: C.atanh(x[0]), lambda x, y: [_atanh_d(x[0])]),
    "log2": (1, lambda x: C.log2(x[0]), lambda x, y: [fdiv(LOG2E, x[0] + 0.0)]),
    "log10": (1, lambda x: C.log10(x[0]), lambda x, y: [fdiv(LOG10E, x[0] + 0.0)]),
    "exp2": (1, lambda x: C.exp2(x[0]), lambda x, y: [y * LN2]),
    "cbrt": (1, lambda x: C.cbrt(x[0]), lambda x, y: [fdiv(1.0, 3.0 * (y * y))]),
    "erf": (1, lambda x: C.erf(x[0]), lambda x, y: [_gauss(x[0])]),
    "erfc": (1, lambda x: C.erfc(x[0]), lambda x, y: [-_gauss(x[0])]),
    "floor": (1, lambda x: C.floor(x[0]), _zeros),
    "ceil": (1, lambda x: C.ceil(x[0]), _zeros),
    "trunc": (1, lambda x: C.trunc(x[0]), _zeros),
    "atan2": (2, lambda x: C.atan2(x[0], x[1]), _atan2_d),
    "hypot": (2, lambda x: C.hypot(x[0], x[1]), _hypot_d),
    "maximum": (
        2,
        lambda x: _maximum(x[0], x[1]),
        lambda x, y: [
            _pick(_gt(x[0], x[1]), _ge(x[0], x[1]), y),
            _pick(_gt(x[1], x[0]), _ge(x[1], x[0]), y),
        ],
    ),
    "minimum": (
        2,
        lambda x: _minimum(x[0], x[1]),
        lambda x, y: [
            _pick(_gt(x[1], x[0]), _ge(x[1], x[0]), y),
            _pick(_gt(x[0], x[1]), _ge(x[0], x[1]), y),
        ],
    ),
    "copysign": (
        2,
        lambda x: _copysign(x[0], x[1]),
        lambda x, y: [_sign(x[0]) * _copysign(1.0, x[1]), 0.0],
    ),
    "fmod": (2, lambda x: C.fmod(x[0], x[1]), _remainder_d),
    "mod": (2, lambda x: _mod(x[0], x[1]), _remainder_d),
    "floordiv": (2, lambda x: _floordiv(x[0], x[1]), _zeros),
    "clip": (3, lambda x: _clip(*x), _clip_d),
    "fma": (3, lambda x: C.fma(x[0], x[1], x[2]), lambda x, y: [x[1], x[0], 1.0]),
}
OPS.update(ISSUE10_OPS)

from special_ref import SPECIAL_OPS  # noqa: E402  (it uses the helpers above)

OPS.update(SPECIAL_OPS)


def evaluate(n_in, steps, xs):
    """Run a program (see test_fuzz_ops.programs) on the inputs xs.

    steps: (op name, refs); a ref is ("n", k), the k-th named node (the
    inputs, then one per step), or ("c", value), a constant. Returns (value
    of the last step, gradient w.r.t. the inputs), computed as the tape
    does: nodes in creation order (constants become leaves just before
    their op, in operand order), then one reverse sweep that sets an
    adjoint on first contact and adds later contributions in edge order."""
    vals = [float(x) for x in xs]
    edges = [[] for _ in xs]  # per node: [(operand node, partial)]
    named = list(range(len(xs)))
    for op, refs in steps:
        arity, fwd, partial = OPS[op]
        operands = []
        for kind, r in refs:
            if kind == "n":
                operands.append(named[r])
            else:  # a constant leaf
                vals.append(float(r))
                edges.append([])
                operands.append(len(vals) - 1)
        x = [vals[i] for i in operands]
        y = fwd(x)
        d = partial(x, y)
        vals.append(y)
        edges.append(list(zip(operands, d)))
        named.append(len(vals) - 1)
    out = named[-1]
    adj = {out: 1.0}
    grad = [0.0] * len(vals)
    for i in range(out, -1, -1):
        if i not in adj:
            continue
        a = adj[i]
        grad[i] += a
        for p, d in edges[i]:
            if p in adj:
                adj[p] += a * d
            else:
                adj[p] = a * d
    return vals[out], grad[:n_in]
