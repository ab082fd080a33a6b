"""References for the higher-order tests: every op of the C registry in
mpmath (values only: derivatives come from mpmath.diff at 50 digits) and
in JAX float64, and random programs over all of them.

The op list is the C table's (pyad.optable.OPS): an op added there without
a reference fails test_every_op_has_a_reference. The mpmath values come
from tests/support.py's table of every op (MP_OPS) where it has one, so a
new op's one reference serves these tests too; MP below fills in.
"""

import math

import mpmath
import numpy as np

import pyad
from pyad.optable import OPS

MP_DPS = 50


def _cmp(test):
    return lambda a, b: mpmath.mpf(1 if test(a, b) else 0)


def _mp_dot(*x):
    k = len(x) // 2
    s = mpmath.mpf(0)
    for i in range(k):
        s += x[i] * x[k + i]
    return s + (x[-1] if len(x) % 2 else 0)


def _mp_pow(a, b):
    return mpmath.power(a, b)


# name -> mpmath function of mpf operands (n-ary: of all of them)
MP = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": _mp_pow,
    "neg": lambda a: -a,
    "abs": lambda a: abs(a),
    "exp": mpmath.exp,
    "log": mpmath.log,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "tanh": mpmath.tanh,
    "sech2": lambda a: mpmath.sech(a) ** 2,
    "sigmoid": lambda a: 1 / (1 + mpmath.exp(-a)),
    "relu": lambda a: a if a > 0 else mpmath.mpf(0),
    "sqrt": mpmath.sqrt,
    "log1p": mpmath.log1p,
    "expm1": mpmath.expm1,
    "softplus": lambda a: mpmath.log1p(mpmath.exp(a)),
    "sum": lambda *x: mpmath.fsum(x),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "where": lambda c, a, b: a if c > 0 else b,
    "dot": _mp_dot,
    "pos": lambda a: +a,
    "sign": lambda a: mpmath.mpf(mpmath.sign(a)),
    "cosh": mpmath.cosh,
    "sinh": mpmath.sinh,
    "square": lambda a: a * a,
}


try:  # the registry-wide table, where the suite has one: its values
    from support import MP_OPS

    MP.update({name: fns[0] for name, fns in MP_OPS.items()})
except ImportError:
    pass


def jax_table():
    """name -> JAX function of float64 operands (n-ary: of all of them)."""
    import jax
    import jax.numpy as jnp
    import jax.scipy.special
    import jax.scipy.stats

    sp = jax.scipy.special

    def cmp(test):
        return lambda a, b: jnp.where(test(a, b), 1.0, 0.0)

    def dot(*x):
        k = len(x) // 2
        s = sum(x[i] * x[k + i] for i in range(k))
        return s + x[-1] if len(x) % 2 else s

    return {
        "add": jnp.add,
        "sub": jnp.subtract,
        "mul": jnp.multiply,
        "div": jnp.divide,
        "pow": jnp.power,
        "neg": jnp.negative,
        "abs": jnp.abs,
        "exp": jnp.exp,
        "log": jnp.log,
        "sin": jnp.sin,
        "cos": jnp.cos,
        "tanh": jnp.tanh,
        "sech2": lambda a: 1.0 / jnp.cosh(a) ** 2,
        "sigmoid": jax.nn.sigmoid,
        "relu": jax.nn.relu,
        "sqrt": jnp.sqrt,
        "log1p": jnp.log1p,
        "expm1": jnp.expm1,
        "softplus": jax.nn.softplus,
        "sum": lambda *x: sum(x[1:], x[0]),
        "lt": cmp(jnp.less),
        "le": cmp(jnp.less_equal),
        "gt": cmp(jnp.greater),
        "ge": cmp(jnp.greater_equal),
        "where": lambda c, a, b: jnp.where(c > 0, a, b),
        "dot": dot,
        "pos": jnp.positive,
        "sign": jnp.sign,
        "cosh": jnp.cosh,
        "sinh": jnp.sinh,
        "square": jnp.square,
        "tan": jnp.tan,
        "asin": jnp.arcsin,
        "acos": jnp.arccos,
        "atan": jnp.arctan,
        "asinh": jnp.arcsinh,
        "acosh": jnp.arccosh,
        "atanh": jnp.arctanh,
        "log2": jnp.log2,
        "log10": jnp.log10,
        "exp2": jnp.exp2,
        "cbrt": jnp.cbrt,
        "erf": jax.scipy.special.erf,
        "erfc": jax.scipy.special.erfc,
        "floor": jnp.floor,
        "ceil": jnp.ceil,
        "trunc": jnp.trunc,
        "atan2": jnp.arctan2,
        "hypot": jnp.hypot,
        "maximum": jnp.maximum,
        "minimum": jnp.minimum,
        "copysign": jnp.copysign,
        "fmod": jnp.fmod,
        "mod": jnp.remainder,
        "floordiv": jnp.floor_divide,
        "clip": jnp.clip,
        "fma": lambda a, b, c: a * b + c,
        "lgamma": sp.gammaln,
        "digamma": sp.digamma,
        "polygamma": lambda n, x: sp.polygamma(jnp.round(n).astype(int), x),
        "logsumexp": lambda *x: sp.logsumexp(jnp.stack(x)),
        "logaddexp": jnp.logaddexp,
        "xlogy": sp.xlogy,
        "xlog1py": sp.xlog1py,
        "ndtr": sp.ndtr,
        "log_ndtr": sp.log_ndtr,
        "dlog_ndtr": lambda x: jnp.exp(jax.scipy.stats.norm.logpdf(x) - sp.log_ndtr(x)),
        "ndtri": sp.ndtri,
        "erfinv": sp.erfinv,
    }


def pyad_fn(name):
    """The pyad function of an op, called with its operands."""
    op = next(o for o in OPS if o.name == name)
    fn = getattr(pyad, name)
    if name in ("sum", "logsumexp"):
        return lambda *x: fn(list(x))
    if name == "dot":
        return lambda *x: fn(list(x[: len(x) // 2]), list(x[len(x) // 2 : 2 * (len(x) // 2)]),
                             x[-1] if len(x) % 2 else None)  # fmt: skip
    assert op.arity in (1, 2, 3), name
    return fn


def arity_of(name, rng=None):
    """An operand count for op name (n-ary ops: 1 to 5)."""
    op = next(o for o in OPS if o.name == name)
    if op.arity > 0:
        return op.arity
    if rng is None:
        return 3
    lo = 2 if name == "dot" else 1
    return int(rng.integers(lo, 6))


# ---- random programs ---------------------------------------------------------
#
# A program over n inputs is a list of steps (op name, operand refs); a ref
# is ("x", i) an input, ("n", k) the k-th step's node, or ("c", value) a
# constant. The outputs are the last n_out steps.


def random_program(rng, n_in, n_steps, ops=None, n_out=1):
    names = ops or [o.name for o in OPS]
    steps = []
    for _ in range(n_steps):
        name = names[int(rng.integers(len(names)))]
        refs = []
        for _ in range(arity_of(name, rng)):
            r = rng.random()
            if r < 0.15:
                refs.append(("c", float(np.round(rng.uniform(-2, 2), 3))))
            elif steps and r < 0.65:
                refs.append(("n", int(rng.integers(len(steps)))))
            else:
                refs.append(("x", int(rng.integers(n_in))))
        steps.append((name, refs))
    # make sure every input is used and the outputs depend on something
    for i in range(n_in):
        name = "mul" if rng.random() < 0.5 else "add"
        steps.append((name, [("n", len(steps) - 1), ("x", i)]))
    return steps, n_out


def run(steps, xs, fns, n_out=1):
    """Evaluate a program with operand functions fns[name] over xs."""
    vals = []
    for name, refs in steps:
        args = [xs[r] if k == "x" else vals[r] if k == "n" else c(r) for k, r in refs
                for c in [fns["__const__"]]]  # fmt: skip
        vals.append(fns[name](*args))
    return vals[-n_out:] if n_out > 1 else vals[-1]


def as_pyad(steps, n_out=1):
    """The program as a function of one array argument, for pyad."""
    fns = {o.name: pyad_fn(o.name) for o in OPS}
    fns["__const__"] = float

    def f(x):
        out = run(steps, list(x), fns, n_out)
        return tuple(out) if n_out > 1 else out

    return f


class OutOfDomain(ArithmeticError):
    """An intermediate value of the mpmath reference is not real."""


def _real_only(fn):
    def g(*a):
        y = fn(*a)
        if isinstance(y, mpmath.mpc):
            if y.imag != 0:
                raise OutOfDomain
            y = y.real
        return y

    return g


def as_mp(steps, n_out=1):
    """The program as a function of mpf arguments (mpmath); OutOfDomain
    when an intermediate value is not real."""
    fns = {name: _real_only(fn) for name, fn in MP.items()}
    fns["__const__"] = mpmath.mpf

    def f(*x):
        return run(steps, list(x), fns, n_out)

    return f


def mp_steps(steps, xs):
    """Every step's value in mpmath at xs (OutOfDomain past a domain)."""
    fns = {name: _real_only(fn) for name, fn in MP.items()}
    with mpmath.workdps(MP_DPS):
        X = [mpmath.mpf(x) for x in xs]
        vals = []
        for name, refs in steps:
            args = [X[r] if k == "x" else vals[r] if k == "n" else mpmath.mpf(r) for k, r in refs]
            vals.append(fns[name](*args))
    return vals


def as_jax(steps, n_out=1):
    import jax.numpy as jnp

    fns = jax_table()
    fns["__const__"] = lambda c: jnp.float64(c)

    def f(x):
        out = run(steps, [x[i] for i in range(x.shape[0])], fns, n_out)
        return jnp.stack(out) if n_out > 1 else out

    return f


def mp_real(v):
    """v as a finite float, or None (complex, infinite or nan)."""
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            return None
        v = v.real
    f = float(v)
    return f if math.isfinite(f) else None
