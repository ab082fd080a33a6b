"""Accuracy of every smooth op of the registry against mpmath: the largest
error of the value in ulps and of each partial derivative (relative), over
seeded random points drawn from each op's domain (its whole exponent range,
and near its edges).

    python tests/accuracy.py [points per op, default 2000]

tests/test_math_accuracy.py runs the same sampler on fewer points and
asserts the bounds the README states. Partials are compared where they are
normal numbers (a subnormal result has fewer than 53 bits to be right in).
"""

import math
import random
import sys

import mpmath

import pyad
from pyad import Var
from pyad._lib import ffi, lib
from pyad.errors import check

try:
    from support import MP_DPS, MP_OPS
except ImportError:  # run as a script from the repository root
    sys.path.insert(0, "tests")
    from support import MP_DPS, MP_OPS

TINY = 2.2250738585072014e-308
# The n-ary ops add their terms left to right, each sum rounded: not one
# rounding of the exact result (hardening_ref checks them bit for bit).
SEQUENTIAL = {"sum", "dot"}

# Each op as a function of its operands (the n-ary ones take them as
# arguments too).
OP_FUNCTIONS = {op.name: getattr(pyad, op.name) for op in pyad.optable.OPS}
OP_FUNCTIONS["sum"] = lambda *xs: pyad.sum(xs)
OP_FUNCTIONS["logsumexp"] = lambda *xs: pyad.logsumexp(xs)
OP_FUNCTIONS["dot"] = lambda *xs: pyad.dot(
    xs[: len(xs) // 2], xs[len(xs) // 2 : 2 * (len(xs) // 2)], xs[-1] if len(xs) % 2 else None
)


def _logu(rng, lo, hi):
    """|x| log-uniform in [10^lo, 10^hi], random sign."""
    return rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(lo, hi)


def _near(rng, c):
    """c +- a log-uniform small step (an edge of a domain)."""
    return c + rng.choice((-1.0, 1.0)) * 2.0 ** -rng.uniform(1, 52)


def _inside(rng, c):
    """Just inside [-1, 1] at c = 1 or -1: c -+ 2^-k, k = 1..53."""
    return c - math.copysign(2.0 ** -rng.randint(1, 53), c)


def _near_pole(r):
    """Next to a pole of the gamma function: -k +- 2^-t, t in 3..40 (where
    the pole term dominates psi: its negative zeros, where psi's error is
    absolute, are measured in tests/test_special.py)."""
    return -r.randint(1, 50) + r.choice((-1.0, 1.0)) * 2.0 ** -r.uniform(3, 40)


def _gamma_arg(r):
    return r.choice((r.uniform(0, 30), abs(_logu(r, -300, 300)), _near_pole(r)))


def _lse_args(r, n=None):
    """Terms all >= 0, or all <= -10: away from a value that cancels to 0
    (m + log(sum) with m ~ -log n), where the error is absolute."""
    n = n or r.randint(1, 6)
    if r.random() < 0.5:
        return [10.0 ** r.uniform(-3, 2.8) for _ in range(n)]
    return [-10.0 - 10.0 ** r.uniform(-3, 2.8) for _ in range(n)]


def _normal_arg(r):
    return r.choice((r.uniform(-40, 40), -abs(_logu(r, 0, 300)), _logu(r, -300, 0)))


# op -> sampler(rng) -> operands; the smooth ops, on their domains
SAMPLERS = {
    "lgamma": lambda r: [_gamma_arg(r)],
    "digamma": lambda r: [r.choice((_gamma_arg(r), _near(r, 1.4616321449683622)))],
    "polygamma": lambda r: [float(r.randint(0, 4)), _gamma_arg(r)],
    "logsumexp": _lse_args,
    "logaddexp": lambda r: _lse_args(r, 2),
    "xlogy": lambda r: [_logu(r, -3, 3), abs(_logu(r, -300, 300))],
    "xlog1py": lambda r: [_logu(r, -3, 3), r.choice((abs(_logu(r, -300, 300)), -r.random()))],
    "ndtr": lambda r: [r.choice((r.uniform(-38, 9), _logu(r, -300, 0)))],
    "log_ndtr": lambda r: [_normal_arg(r)],
    "dlog_ndtr": lambda r: [_normal_arg(r)],
    "ndtri": lambda r: [
        r.choice((10.0 ** r.uniform(-307, 0), r.random(), 1 - 10 ** r.uniform(-16, -1)))
    ],
    "erfinv": lambda r: [r.choice((r.uniform(-1, 1), _logu(r, -300, -1), _inside(r, 1.0)))],
    "exp": lambda r: [r.uniform(-745, 709)],
    "expm1": lambda r: [r.choice((r.uniform(-40, 709), _logu(r, -300, 0)))],
    "exp2": lambda r: [r.uniform(-1074, 1023)],
    "log": lambda r: [abs(_logu(r, -307, 307))],
    "log2": lambda r: [r.choice((abs(_logu(r, -307, 307)), abs(_near(r, 1.0))))],
    "log10": lambda r: [r.choice((abs(_logu(r, -307, 307)), abs(_near(r, 1.0))))],
    "log1p": lambda r: [r.choice((abs(_logu(r, -300, 300)), -r.random()))],
    "sqrt": lambda r: [abs(_logu(r, -307, 307))],
    "cbrt": lambda r: [_logu(r, -307, 307)],
    "sin": lambda r: [r.choice((r.uniform(-20, 20), _logu(r, -300, 5)))],
    "cos": lambda r: [r.choice((r.uniform(-20, 20), _logu(r, -300, 5)))],
    "tan": lambda r: [r.choice((r.uniform(-20, 20), _logu(r, -300, 5), _near(r, math.pi / 2)))],
    "asin": lambda r: [r.choice((r.uniform(-1, 1), _logu(r, -300, -1), _inside(r, 1.0)))],
    "acos": lambda r: [r.choice((r.uniform(-1, 1), _logu(r, -300, -1), _inside(r, -1.0)))],
    "atan": lambda r: [_logu(r, -300, 300)],
    "sinh": lambda r: [r.choice((r.uniform(-710, 710), _logu(r, -300, 0)))],
    "cosh": lambda r: [r.uniform(-710, 710)],
    "tanh": lambda r: [r.choice((r.uniform(-30, 30), _logu(r, -300, 0)))],
    "sech2": lambda r: [r.choice((r.uniform(-30, 30), r.uniform(-400, 400), _logu(r, -300, 0)))],
    "asinh": lambda r: [_logu(r, -300, 300)],
    "acosh": lambda r: [r.choice((1.0 + abs(_logu(r, -15, 300)), 1.0 + 2.0 ** -r.randint(1, 52)))],
    "atanh": lambda r: [r.choice((r.uniform(-1, 1), _logu(r, -300, -1), _inside(r, 1.0)))],
    "erf": lambda r: [r.choice((r.uniform(-6, 6), _logu(r, -300, 0)))],
    "erfc": lambda r: [r.uniform(-6, 27)],
    "sigmoid": lambda r: [r.uniform(-745, 745)],
    "softplus": lambda r: [r.uniform(-745, 745)],
    "square": lambda r: [_logu(r, -150, 150)],
    "atan2": lambda r: [_logu(r, -150, 150), _logu(r, -150, 150)],
    "hypot": lambda r: [_logu(r, -300, 300), _logu(r, -300, 300)],
    "pow": lambda r: [abs(_logu(r, -3, 3)), r.uniform(-50, 50)],
    "div": lambda r: [_logu(r, -150, 150), _logu(r, -150, 150)],
    "fma": lambda r: [_logu(r, -100, 100), _logu(r, -100, 100), _logu(r, -100, 100)],
    "fmod": lambda r: [_logu(r, -3, 10), _logu(r, -3, 3)],
    "mod": lambda r: [_logu(r, -3, 10), _logu(r, -3, 3)],
}


def _default(arity):
    """Operands in +-[1e-3, 1e3]: for the ops that are exact or piecewise
    (add, maximum, floordiv, ...), whose values hold no surprise there."""

    def sample(r):
        n = arity if arity > 0 else r.randint(1, 6)
        return [_logu(r, -3, 3) for _ in range(n)]

    return sample


def _frac_far(q):
    """q at least 1e-4 |q| (and 1e-4) away from an integer: where floor and
    the remainders jump."""
    margin = 1e-4 * max(1.0, abs(q))
    f = q - math.floor(q)
    return margin < f < 1 - margin


# Where an op is smooth at xs (away from its kinks and jumps by a margin a
# finite difference can cross): the ops not listed are smooth everywhere
# their samplers draw.
SMOOTH = {
    "abs": lambda x: abs(x) > 1e-3,
    "relu": lambda x: abs(x) > 1e-3,
    "sign": lambda x: abs(x) > 1e-3,
    "floor": lambda x: _frac_far(x),
    "ceil": lambda x: _frac_far(x),
    "trunc": lambda x: _frac_far(x),
    "maximum": lambda a, b: abs(a - b) > 1e-3 * abs(a),
    "minimum": lambda a, b: abs(a - b) > 1e-3 * abs(a),
    "copysign": lambda a, b: abs(a) > 1e-3,
    "fmod": lambda a, b: _frac_far(a / b),
    "mod": lambda a, b: _frac_far(a / b),
    "floordiv": lambda a, b: _frac_far(a / b),
    "clip": lambda x, lo, hi: min(abs(x - lo), abs(x - hi)) > 1e-3 * abs(x),
    "lt": lambda a, b: a != b,
    "le": lambda a, b: a != b,
    "gt": lambda a, b: a != b,
    "ge": lambda a, b: a != b,
    "where": lambda c, a, b: abs(c) > 1e-3,
}


# Moderate operands for the ops whose domain _default rarely meets.
MODERATE = {"polygamma": lambda r: [float(r.randint(1, 3)), _logu(r, -1, 2)]}


def smooth_points(name, arity, n, seed=0, moderate=False):
    """n operand lists where op `name` is smooth, from its sampler (with
    moderate=True: operands in +-[1e-3, 1e3] where the op is finite)."""
    rng = random.Random(f"{name}-{seed}")
    sampler = SAMPLERS.get(name) or _default(arity)
    if moderate:
        sampler = MODERATE.get(name) or _default(arity)
        smooth = SMOOTH.get(name, lambda *xs: True)

        def ok(*xs):
            return smooth(*xs) and math.isfinite(OP_FUNCTIONS[name](*xs))

        return _draw(rng, sampler, ok, n)
    return _draw(rng, sampler, SMOOTH.get(name, lambda *xs: True), n)


def _draw(rng, sampler, ok, n):
    out = []
    while len(out) < n:
        xs = sampler(rng)
        if ok(*xs):
            out.append(xs)
    return out


def call(name, xs):
    """pyad's value and gradient of op `name` at the floats xs."""
    vs = [Var(x) for x in xs]
    y = OP_FUNCTIONS[name](*vs)
    y.backward()
    return y.val, [v.grad for v in vs]


def ulp_error(got, exact):
    """|got - exact| in ulps of the double nearest to exact (exact: mpf)."""
    want = float(exact)
    if math.isinf(want) or want == 0.0:
        return 0.0 if got == want else math.inf
    return float(abs(mpmath.mpf(got) - exact) / mpmath.mpf(math.ulp(want)))


def rel_error(got, exact):
    """Relative error of a partial, or None where the exact one is not a
    normal double (0, subnormal or overflowing)."""
    want = float(exact)
    if not TINY <= abs(want) < math.inf:
        return None
    return float(abs(mpmath.mpf(got) - exact) / abs(exact))


def measure(name, n, arity=1, seed=0):
    """(max ulp error of the value, max relative error of a partial, the
    operands where each was reached) over n points."""
    value, partials = MP_OPS[name]
    worst_v, worst_d, at_v, at_d = 0.0, 0.0, None, None
    with mpmath.workdps(MP_DPS):
        for xs in smooth_points(name, arity, n, seed):
            got, grads = call(name, xs)
            exact = [mpmath.mpf(x) for x in xs]
            e = ulp_error(got, value(*exact))
            if e > worst_v:
                worst_v, at_v = e, xs
            for g, d in zip(grads, partials(*exact)):
                r = rel_error(g, mpmath.mpf(d))
                if r is not None and r > worst_d:
                    worst_d, at_d = r, xs
    return worst_v, worst_d, at_v, at_d


# ---- second order: the recorded backward, differentiated again -------------


def _wrap(h):
    v = object.__new__(Var)
    v._h = h
    return v


def grad_graph(out, wrt):
    """d out / d wrt[i] as recorded nodes (pyad_grad_graph), None where out
    does not depend on wrt[i]."""
    handles = ffi.new("int64_t[]", [v._h for v in wrt])
    res = ffi.new("int64_t[]", len(wrt))
    check(lib.pyad_grad_graph(out._h, -1, 1.0, handles, len(wrt), 1, res))
    return [_wrap(h) if h >= 0 else None for h in res]


def second_partials(name, xs):
    """H[i][j] = d2 op / (d x_i d x_j) by the recorded backward, twice."""
    vs = [Var(x) for x in xs]
    y = OP_FUNCTIONS[name](*vs)
    rows = []
    for g in grad_graph(y, vs):
        if g is None:
            rows.append([0.0] * len(vs))
            continue
        rows.append([0.0 if h is None else h.val for h in grad_graph(g, vs)])
    return rows


def mp_second(name, xs):
    """mpmath's numerical derivatives of the closed-form partials, with
    digits to spare (sigmoid'(278) = 1e-121 is 1 - 1e-121 differentiated)."""
    partials = MP_OPS[name][1]
    n = len(xs)
    out = []
    with mpmath.workdps(MP_DPS + 300):
        at = [mpmath.mpf(x) for x in xs]
        for i in range(n):
            row = []
            for j in range(n):
                if n == 1:
                    row.append(mpmath.diff(lambda a: partials(a)[0], at[0]))
                else:
                    order = tuple(1 if k == j else 0 for k in range(n))
                    row.append(mpmath.diff(lambda *a, i=i: partials(*a)[i], at, order))
            out.append(row)
    return out


def second_order_points(name, arity):
    """Six moderate points (the op finite there), and up to four more from
    the op's own sampler with operands in 1e-4 .. 1e4."""
    pts = smooth_points(name, arity, 6, seed=2, moderate=True)
    wide = smooth_points(name, arity, 200, seed=2)
    pts += [xs for xs in wide if all(1e-4 <= abs(x) <= 1e4 for x in xs)][:4]
    return pts


def second_order_error(name, xs):
    """The largest error of a second partial at xs (beyond 1e-300), relative
    to the Hessian's scale there: an entry small through cancellation (d2
    hypot/db2 = a^2/h^3 with a << b, the derivative of b/h) is held to the
    size of the terms that cancel, the first partial over the operand."""
    got = second_partials(name, xs)
    want = mp_second(name, xs)
    with mpmath.workdps(MP_DPS):
        first = [float(d) for d in MP_OPS[name][1](*[mpmath.mpf(x) for x in xs])]
    worst = 0.0
    for i, (grow, wrow) in enumerate(zip(got, want)):
        for j, (g, w) in enumerate(zip(grow, wrow)):
            w = float(w)
            scale = max(abs(w), abs(first[i]) / abs(xs[j]))
            if abs(g - w) > 1e-300:  # below: subnormal results, fewer bits
                worst = max(worst, abs(g - w) / scale) if scale else math.inf
    return worst


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(
        f"{'op':10s} {'value: max ulp':>15s} {'partials: max rel':>18s} "
        f"{'2nd partials':>13s}   ({n} points each; 2nd order: 10)"
    )
    for op in sorted(pyad.optable.OPS, key=lambda op: op.name):
        v, d, _, _ = measure(op.name, n, op.arity)
        shown = "left to right" if op.name in SEQUENTIAL else f"{v:.3f}"
        second = ""
        if op.hess != lib.PYAD_HESS_NONE and op.arity > 0:
            e = max(
                second_order_error(op.name, xs) for xs in second_order_points(op.name, op.arity)
            )
            second = f"{e:.1e}"
        print(f"{op.name:10s} {shown:>15s} {d:18.2e} {second:>13s}")


if __name__ == "__main__":
    main()
