"""Every higher-order transform on random graphs of every op of the C
registry, against mpmath (derivatives by mpmath.diff at 50 digits) and
JAX float64 (when jax is importable; CI installs only the test extras).

A random program mixes all the ops of pyad.optable.OPS with shared
subexpressions and constants. An example is assumed away when the
reference is not a finite real (outside an op's domain), when the
function is not smooth there (a kink or a comparison tie near the point:
two finite-difference steps disagree), when the reference derivatives
are themselves ill-conditioned (they move by more than 1e-13 when the
inputs move by an ulp), or when an intermediate value is exactly 0: only
there can an op's partial be infinite (sqrt, log, a power below 1, a
division), and an infinite partial that meets a cancellation (sqrt(x - x)
* x) gives inf - inf = nan in reverse mode, in pyad as in JAX and
PyTorch, where the function is locally constant. On the rest every transform must match to 1e-12
relative (normwise for vectors and matrices).

More examples: PYAD_HIGHER_EXAMPLES=2000 python -m pytest tests/test_higher_graphs.py
"""

import math
import os

import mpmath
import numpy as np
import pytest
from higher_ref import (
    MP,
    MP_DPS,
    OutOfDomain,
    arity_of,
    as_jax,
    as_mp,
    as_pyad,
    mp_real,
    mp_steps,
    random_program,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import pyad
from pyad.frozen import freeze
from pyad.optable import OPS

EXAMPLES = int(os.environ.get("PYAD_HIGHER_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("PYAD_HIGHER_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
REL = 1e-12

try:
    import jax

    jax.config.update("jax_enable_x64", True)
    HAVE_JAX = not os.environ.get("NOJAX")
except ImportError:  # CI installs only the test extras
    HAVE_JAX = False


def test_every_op_has_a_reference():
    missing = [o.name for o in OPS if o.name not in MP]
    assert not missing, f"ops of the C registry without an mpmath reference: {missing}"
    if HAVE_JAX:
        from higher_ref import jax_table

        missing = [o.name for o in OPS if o.name not in jax_table()]
        assert not missing, f"ops without a JAX reference: {missing}"


# ---- mpmath reference -----------------------------------------------------------


def mp_derivatives(f, xs, order, h):
    """Value, gradient and (order 2) Hessian of f at xs by mpmath.diff with
    step h; None if anything is not a finite real."""
    n = len(xs)
    with mpmath.workdps(MP_DPS):
        X = [mpmath.mpf(x) for x in xs]

        def d(orders):
            return mp_real(mpmath.diff(lambda *a: f(*a), X, orders, h=h))

        value = mp_real(f(*X))
        grad = [d(tuple(int(i == k) for i in range(n))) for k in range(n)]
        hess = None
        if order >= 2:
            hess = np.zeros((n, n))
            for i in range(n):
                for j in range(i, n):
                    e = tuple(int(i == k) + int(j == k) for k in range(n))
                    hij = d(e)
                    if hij is None:
                        return None
                    hess[i, j] = hess[j, i] = hij
    if value is None or any(g is None for g in grad):
        return None
    return value, np.array(grad), hess


def close(got, want, rel=REL, scale=1e-300):
    """|got - want| <= rel * max(|want|), normwise (or rel * scale when
    that is larger: for a float64 reference, whose rounding is relative to
    the problem's magnitudes, not to an entry that cancels to 0)."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    scale = max(np.max(np.abs(want), initial=0.0), scale)
    return bool(np.all(np.abs(got - want) <= rel * scale))


def reference(f_mp, xs, order=2, steps=None):
    """The mpmath derivatives, or None (assumed away) when they cannot be
    trusted as a reference at 1e-12 (see the module's docstring)."""
    try:
        if steps is not None and any(v == 0 for v in mp_steps(steps, xs)):
            return None  # a singular partial may meet a cancellation
        a = mp_derivatives(f_mp, xs, order, mpmath.mpf("1e-20"))
        b = mp_derivatives(f_mp, xs, order, mpmath.mpf("1e-28"))
    except (OutOfDomain, ZeroDivisionError, ValueError):
        return None
    if a is None or b is None:
        return None
    for u, v in zip(a[1:], b[1:]):
        if u is not None and not close(u, v, 1e-15):
            return None  # not smooth near the point
    if max(np.max(np.abs(a[1])), np.max(np.abs(a[2])) if a[2] is not None else 0) > 1e12:
        return None  # near a singularity
    moved = [x * (1 + 2.0**-50) for x in xs]
    try:
        c = mp_derivatives(f_mp, moved, order, mpmath.mpf("1e-20"))
    except (OutOfDomain, ZeroDivisionError, ValueError):
        return None
    if c is None:
        return None
    for u, v in zip(a[1:], c[1:]):
        if u is not None and not close(u, v, 1e-13):
            return None  # ill-conditioned: an ulp of input moves it
    return a


# ---- the property ----------------------------------------------------------------


@st.composite
def programs(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_in = draw(st.integers(1, 3))
    steps, _ = random_program(rng, n_in, draw(st.integers(1, 7)))
    xs = [float(np.round(rng.uniform(-2, 2), 6)) for _ in range(n_in)]
    v = rng.normal(size=n_in)
    return steps, np.array(xs), v


@SETTINGS
@given(programs())
def test_transforms_match_mpmath_on_random_graphs(case):
    steps, x, v = case
    ref = reference(as_mp(steps), list(x), steps=steps)
    assume(ref is not None)
    value, grad, hess = ref
    f = as_pyad(steps)
    got_v, got_g = pyad.value_and_grad(f)(x)
    H = pyad.hessian(f)(x)
    assert close(got_v, value) and close(got_g, grad), (got_g, grad)
    assert close(H, hess), (H, hess)
    assert np.array_equal(H, H.T)  # exactly symmetric
    hv = pyad.hvp(f, x, v)
    assert close(hv, H @ v, 1e-11) and close(hv, hess @ v, 1e-11)
    out, tangent = pyad.jvp(f, (x,), (v,))
    assert close(out, value) and close(tangent, grad @ v, 1e-11)
    out, f_vjp = pyad.vjp(f, x)
    assert close(f_vjp(2.5)[0], 2.5 * grad)
    assert close(pyad.jacobian(f)(x), grad)
    # compositions: the Hessian as the Jacobian of the gradient, and the
    # gradient of the gradient's sum, recorded as graphs (nested)
    assert close(pyad.jacobian(pyad.grad(f))(x), hess)
    assert close(pyad.grad(lambda y: pyad.grad(f)(y).sum())(x), hess.sum(axis=0))


# JAX compiles every new graph, so it sees fewer examples than mpmath.
JAX_SETTINGS = settings(SETTINGS, max_examples=max(1, EXAMPLES // 4))


@pytest.mark.skipif(not HAVE_JAX, reason="jax is not installed (CI installs the test extras)")
@JAX_SETTINGS
@given(programs())
def test_transforms_match_jax_on_random_graphs(case):
    steps, x, v = case
    ref = reference(as_mp(steps), list(x), steps=steps)
    assume(ref is not None)
    f, jf = as_pyad(steps), as_jax(steps)
    xj = jax.numpy.array(x)
    # JAX rounds differently: compare on the scale of the value and gradient
    scale = max(1.0, abs(ref[0]), np.max(np.abs(ref[1])))
    assert close(pyad.grad(f)(x), np.asarray(jax.grad(jf)(xj)), scale=scale)
    H = pyad.hessian(f)(x)
    assert close(H, np.asarray(jax.hessian(jf)(xj)), scale=scale), (steps, x)
    _, tangent = jax.jvp(jf, (xj,), (jax.numpy.array(v),))
    assert close(pyad.jvp(f, (x,), (v,))[1], np.asarray(tangent), 1e-11, scale=scale)


@SETTINGS
@given(programs())
def test_batch_equals_each_point_bit_for_bit(case):
    steps, x, v = case
    f = as_pyad(steps)
    leaves = [pyad.Var(float(t)) for t in x]
    arr = np.empty(len(leaves), object)
    arr[:] = leaves
    out = f(arr)
    assume(isinstance(out, pyad.Var))
    prog = freeze(leaves, [out])
    rng = np.random.default_rng(len(steps))
    X = x + rng.normal(scale=0.3, size=(9, len(x)))
    V = rng.normal(size=(9, len(x)))
    with np.errstate(all="ignore"):
        for workers in (None, 2):
            _, _, fail, hv = prog.batch("hvp", X, v=V, workers=workers)
            _, _, _, hs = prog.batch("hessian", X, workers=workers)
            _, _, _, jv = prog.batch("jvp", X, v=V, workers=workers)
            for j in range(len(X)):
                assert not fail[j]
                _, g, h = prog.hvp(X[j], V[j])
                assert np.array_equal(g, hv["grads"][j], equal_nan=True)
                assert np.array_equal(h, hv["hvs"][j], equal_nan=True)
                assert np.array_equal(prog.hessian(X[j], method="dense")[2], hs["hessians"][j],
                                      equal_nan=True)  # fmt: skip
                assert np.array_equal(prog.jvp(X[j], V[j])[1], jv["tangents"][j], equal_nan=True)


@st.composite
def wide_programs(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_in = draw(st.integers(9, 14))
    steps, _ = random_program(rng, n_in, draw(st.integers(5, 20)), n_out=1)
    xs = rng.uniform(0.5, 1.5, n_in)
    return steps, xs


@SETTINGS
@given(wide_programs())
def test_sparse_hessian_equals_dense_and_fits_its_pattern(case):
    steps, x = case
    f = as_pyad(steps)
    leaves = [pyad.Var(float(t)) for t in x]
    arr = np.empty(len(leaves), object)
    arr[:] = leaves
    out = f(arr)
    assume(isinstance(out, pyad.Var))
    prog = freeze(leaves, [out])
    with np.errstate(all="ignore"):
        _, _, dense = prog.hessian(x, method="dense")
        _, _, sparse = prog.hessian(x, method="sparse")
    pattern = prog.hessian_pattern()
    assert np.array_equal(pattern.to_dense(), pattern.to_dense().T)
    finite = np.isfinite(dense)
    assert not np.any(finite & (dense != 0) & ~pattern.to_dense())  # pattern is a superset
    assert np.array_equal(sparse[finite], dense[finite])
    assert pattern.n_colors <= len(x)


# ---- each op on its own ------------------------------------------------------------


def op_function(name, n_in):
    """A function of an n_in array that applies op `name` to inputs and
    makes its result matter to second order."""
    fn = as_pyad([(name, [("x", k % n_in) for k in range(arity_of(name))])])
    return lambda x: fn(x) * (1.0 + 0.25 * x[0]) + 0.5 * x[-1]


@pytest.mark.parametrize("name", [o.name for o in OPS])
def test_each_op_second_order_against_mpmath(name):
    """Each op of the registry, whatever else it is mixed with: gradient,
    Hessian, hvp and jvp at points of its domain against mpmath."""
    rng = np.random.default_rng(sum(map(ord, name)))
    n_in = 3
    steps = [(name, [("x", k % n_in) for k in range(arity_of(name))])]
    mp_op = as_mp(steps)

    def f_mp(*x):
        return mp_op(*x) * (1 + mpmath.mpf(0.25) * x[0]) + mpmath.mpf(0.5) * x[-1]

    f = op_function(name, n_in)
    checked = 0
    for _ in range(60):
        x = np.round(rng.uniform(-2.5, 2.5, n_in), 4)
        if name == "polygamma":  # its order: an integer
            x[0] = float(rng.integers(0, 4))
        ref = reference(f_mp, list(x))
        if ref is None:
            continue
        value, grad, hess = ref
        got_v, got_g = pyad.value_and_grad(f)(x)
        H = pyad.hessian(f)(x)
        assert close(got_v, value) and close(got_g, grad), (name, x, got_g, grad)
        assert close(H, hess), (name, x, H, hess)
        v = rng.normal(size=n_in)
        assert close(pyad.hvp(f, x, v), hess @ v, 1e-11)
        assert close(pyad.jvp(f, (x,), (v,))[1], grad @ v, 1e-11)
        checked += 1
        if checked == 3:
            break
    assert checked == 3, f"no 3 points in the domain of {name} where the reference holds"


@pytest.mark.parametrize("name", [o.name for o in OPS])
def test_hess_class_of_each_op_matches_its_second_partials(name):
    """The registry's hess class (Hessian sparsity) against the op's own
    numbers: every non-zero second partial is allowed by the class, and
    the structural pattern is what the class says."""
    op = next(o for o in OPS if o.name == name)
    n = arity_of(name) if op.arity > 0 else (5 if name == "dot" else 3)
    fn = as_pyad([(name, [("x", k) for k in range(n)])])
    rng = np.random.default_rng(7)
    leaves = [pyad.Var(0.5) for _ in range(n)]
    arr = np.empty(n, object)
    arr[:] = leaves
    prog = freeze(leaves, [fn(arr)])
    pattern = prog.hessian_pattern().to_dense()
    seen = np.zeros((n, n), bool)
    for _ in range(20):
        x = rng.uniform(0.3, 1.8, n)
        if name == "polygamma":  # its order: an integer
            x[0] = float(rng.integers(0, 4))
        with np.errstate(all="ignore"):
            H = prog.hessian(x, method="dense")[2]
        seen |= np.isfinite(H) & (H != 0)
    assert not np.any(seen & ~pattern), (name, seen, pattern)
    if op.hess == 0:  # NONE
        assert not pattern.any()
    elif op.hess == 2:  # CROSS: no diagonal
        assert not np.diag(pattern).any() and seen.any()
    elif op.hess == 3:  # DOT: w_i with x_i only
        k = n // 2
        allowed = np.zeros((n, n), bool)
        for i in range(k):
            allowed[i, k + i] = allowed[k + i, i] = True
        assert np.array_equal(pattern, allowed)
    else:  # FULL
        assert seen.any()


def test_rosenbrock_hessian_matches_jax_and_costs_three_colours():
    rosen = lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()  # noqa: E731
    x = np.linspace(-1.2, 1.3, 50)
    with np.errstate(all="ignore"):
        H = pyad.hessian(rosen)(x)
        p = pyad.sparsity.hessian_pattern(rosen, x)
    assert p.n_colors == 3 and p.nnz == 3 * 50 - 2
    d = np.diag(H)
    want_d = np.concatenate([[1200 * x[0] ** 2 - 400 * x[1] + 2],
                             200 + 1200 * x[1:-1] ** 2 - 400 * x[2:] + 2, [200]])  # fmt: skip
    assert close(d, want_d) and close(np.diag(H, 1), -400 * x[:-1]) and np.array_equal(H, H.T)
    if HAVE_JAX:
        assert close(np.asarray(jax.hessian(rosen)(jax.numpy.array(x))), H)


def test_relative_tolerance_is_meaningful():
    """The comparison itself: a wrong answer by 1e-10 relative fails."""
    assert not close([1.0 + 1e-10], [1.0]) and close([1.0 + 1e-13], [1.0])
    assert math.isclose(REL, 1e-12)
