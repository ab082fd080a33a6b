"""The special functions (issue 14, docs/special-functions.md): their
accuracy against mpmath on grids through the hard regions (tails, poles,
digamma's root, huge and tiny arguments), with the bounds the docs state;
the conventions at the domain edges (IEEE by default, raising under
errstate); logsumexp as one node; log_ndtr's gradient far in the tail;
and the same bits eagerly, compiled, in a batch and in second order.

`python tests/test_special.py` prints the measured figures (the docs'
table); tests/test_math_accuracy.py also checks every op on random points.
"""

import math
import random
import sys

import mpmath
import numpy as np
import pytest
from support import _mp_dlog_ndtr, _mp_log_ndtr, same_float

import pyad
from pyad import Var
from pyad._lib import lib

R = random.Random(14)
ROOT = 1.4616321449683622  # digamma's positive zero


def _logu(lo, hi):
    return 10.0 ** R.uniform(lo, hi)


def _pole(lo=1, hi=60, t=(3, 45)):
    return -R.randint(lo, hi) + R.choice((-1.0, 1.0)) * 2.0 ** -R.uniform(*t)


def _mp_ndtri(p):
    with mpmath.workdps(80):
        if p > 0.5:
            return -_mp_ndtri(1 - p)
        if p > 1e-30:
            return mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
        y0 = -mpmath.sqrt(-2 * mpmath.log(p))
        return mpmath.findroot(lambda y: mpmath.log(mpmath.ncdf(y)) - mpmath.log(p), y0 + 0.5)


# name -> (pyad function of floats, mpmath reference, points, stated ulp bound)
GAMMA_X = [R.uniform(0, 30) for _ in range(150)] + [_logu(-300, 300) for _ in range(100)]
GAMMA_X += [_pole() for _ in range(100)] + [
    ROOT + R.choice((-1, 1)) * 2.0 ** -R.uniform(1, 52) for _ in range(60)
]
NORMAL_X = [R.uniform(-38.4, 9) for _ in range(150)] + [
    R.choice((-1, 1)) * _logu(-300, 0) for _ in range(60)
]
TAIL_X = [-_logu(0, 300) for _ in range(100)] + [R.uniform(0, 40) for _ in range(40)]
PROBS = [_logu(-307, 0) for _ in range(120)] + [R.random() for _ in range(60)]
PROBS += [1 - _logu(-16, -1) for _ in range(60)]
UNIT = [R.uniform(-1, 1) for _ in range(80)] + [
    R.choice((-1, 1)) * (1 - 2.0 ** -R.uniform(1, 53)) for _ in range(80)
]
UNIT += [R.choice((-1, 1)) * _logu(-300, -1) for _ in range(40)]

CASES = {
    "lgamma": (
        pyad.lgamma,
        lambda x: mpmath.log(abs(mpmath.gamma(x))) if x < 0 else mpmath.loggamma(x),
        GAMMA_X,
        3.0,
    ),
    "digamma": (pyad.digamma, mpmath.digamma, GAMMA_X, 3.0),
    "trigamma": (pyad.trigamma, lambda x: mpmath.polygamma(1, x), GAMMA_X, 3.0),
    "polygamma(2, x)": (
        lambda x: pyad.polygamma(2, x),
        lambda x: mpmath.polygamma(2, x),
        [x for x in GAMMA_X if abs(x) < 1e100],
        4.0,
    ),
    "ndtr": (pyad.ndtr, mpmath.ncdf, NORMAL_X, 2.0),
    "log_ndtr": (pyad.log_ndtr, _mp_log_ndtr, NORMAL_X + TAIL_X, 3.0),
    "ndtri": (pyad.ndtri, _mp_ndtri, [p for p in PROBS if 0 < p < 1], 3.0),
    "erfinv": (pyad.erfinv, mpmath.erfinv, [x for x in UNIT if abs(x) < 1], 4.0),
}


@pytest.fixture(autouse=True)
def _digits():
    """mpmath at 60 digits for this module's references (restored after)."""
    with mpmath.workdps(60):
        yield


def ulp_error(got, exact):
    want = float(exact)
    if math.isinf(want) or want == 0.0:
        return 0.0 if got == want else math.inf
    return float(abs(mpmath.mpf(got) - exact) / mpmath.mpf(math.ulp(want)))


def measure(name):
    fn, ref, xs, _ = CASES[name]
    worst, at = 0.0, None
    for x in xs:
        e = ulp_error(fn(x), ref(mpmath.mpf(x)))
        if e > worst:
            worst, at = e, x
    return worst, at


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_within_the_stated_ulps(name):
    worst, at = measure(name)
    assert worst <= CASES[name][3], f"{name}: {worst:.2f} ulp at {at!r}"


def test_digamma_at_its_negative_zeros_is_absolutely_accurate():
    """Next to a negative zero psi's value is a difference of two terms of
    size ~log|x| (the reflection): the error is absolute, a few ulp of 1."""
    for k in range(0, 40):
        root = mpmath.findroot(mpmath.digamma, -k - 0.5 + 0.5 / math.log(k + 2.5))
        for step in (0.0, 1e-12, -1e-7, 1e-3):
            x = float(root) + step
            err = abs(mpmath.mpf(pyad.digamma(x)) - mpmath.digamma(x))
            assert err <= 8 * 2.0**-52 * max(1.0, math.log(k + 2)), (x, float(err))


def test_derivatives_within_1e13_against_mpmath():
    checks = [
        (pyad.lgamma, mpmath.digamma, GAMMA_X[::3]),
        (pyad.digamma, lambda x: mpmath.polygamma(1, x), GAMMA_X[::3]),
        (pyad.ndtr, mpmath.npdf, NORMAL_X[::3]),
        (pyad.log_ndtr, _mp_dlog_ndtr, (NORMAL_X + TAIL_X)[::3]),
        (pyad.ndtri, lambda p: 1 / mpmath.npdf(_mp_ndtri(p)), PROBS[::3]),
        (
            pyad.erfinv,
            lambda x: mpmath.sqrt(mpmath.pi) / 2 * mpmath.exp(mpmath.erfinv(x) ** 2),
            UNIT[::3],
        ),
    ]
    for fn, d, xs in checks:
        for x in xs:
            v = Var(x)
            fn(v).backward()
            want = d(mpmath.mpf(x))
            if 2.3e-308 < abs(want) < 1e308:
                assert abs(v.grad - want) <= 1e-13 * abs(want), (
                    fn.__name__,
                    x,
                    v.grad,
                    float(want),
                )


def test_second_derivatives_of_lgamma_and_log_ndtr():
    """Through the recorded backward (any order): lgamma'' = trigamma,
    log_ndtr'' = -r (x + r), r = phi/Phi; to ~1e-13 also in the far tail."""
    for x in [0.1, 1.5, 7.0, 1e3, -2.5]:
        g = pyad.hessian(lambda v: pyad.lgamma(v[0]))(np.array([x]))[0, 0]
        assert g == pytest.approx(float(mpmath.polygamma(1, x)), rel=1e-13)
    for x in [2.0, -1.0, -9.0, -11.0, -30.0, -1e5]:
        r = _mp_dlog_ndtr(mpmath.mpf(x))
        g = pyad.hessian(lambda v: pyad.log_ndtr(v[0]))(np.array([x]))[0, 0]
        assert g == pytest.approx(float(-r * (x + r)), rel=2e-13), x


def test_log_ndtr_gradient_in_the_far_tail():
    for x in [-40.0, -1e3, -1e5, -1e150, -1e300]:
        v = Var(x)
        y = pyad.log_ndtr(v)
        y.backward()
        assert math.isfinite(v.grad), x  # the value overflows from -1.9e154 (-x^2/2)
        assert math.isfinite(y.val) or x < -1.8e154, x
        assert v.grad == pytest.approx(float(_mp_dlog_ndtr(mpmath.mpf(x))), rel=1e-14), x
    assert pyad.log_ndtr(-1e5) == pytest.approx(
        -5e9 - math.log(1e5) - 0.5 * math.log(2 * math.pi), rel=1e-15
    )
    assert pyad.log_ndtr(-math.inf) == -math.inf and pyad.log_ndtr(math.inf) == 0.0


# ---- logsumexp and friends ---------------------------------------------------


def test_logsumexp_is_one_shifted_node_with_the_softmax_gradient():
    a, b = Var(1000.0), Var(1000.0)
    y = pyad.logsumexp([a, b])
    assert y.val == 1000.0 + math.log(2.0)
    y.backward()
    assert (a.grad, b.grad) == (0.5, 0.5)
    xs = [Var(x) for x in (-3.0, 0.5, 2.0, 700.0, -1e4)]
    n = lib.pyad_tape_length()
    y = pyad.logsumexp(xs)
    assert y.val > 0 and lib.pyad_tape_length() - n == 1  # one node, whatever the count
    y.backward()
    with mpmath.workdps(50):
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v.val) for v in xs))
        for v in xs:
            want = mpmath.exp(v.val - lse)
            assert abs(v.grad - want) <= 1e-15 * want or (want < 1e-300 and v.grad == 0.0)
    assert pyad.logsumexp([]) == -math.inf and pyad.logsumexp([2.0]) == 2.0
    assert pyad.logsumexp(np.array([[0.0, 1.0], [2.0, 3.0]])) == pytest.approx(
        3.4401896985611953, rel=1e-15
    )
    assert pyad.logsumexp([-math.inf, -math.inf]) == -math.inf
    assert pyad.logsumexp([math.inf, 1.0]) == math.inf
    assert math.isnan(pyad.logsumexp([math.nan, 1.0]))
    assert pyad.logaddexp(-math.inf, -math.inf) == -math.inf
    assert pyad.logaddexp(Var(1.0), 2.0).val == np.logaddexp(1.0, 2.0)


def test_xlogy_is_zero_where_x_is():
    assert pyad.xlogy(0.0, 0.0) == 0.0 and pyad.xlogy(0.0, math.inf) == 0.0
    assert math.isnan(pyad.xlogy(0.0, math.nan)) and math.isnan(pyad.xlogy(1.0, -1.0))
    assert pyad.xlog1py(0.0, -1.0) == 0.0 and pyad.xlog1py(2.0, -1.0) == -math.inf
    x, y = Var(0.0), Var(0.0)
    pyad.xlogy(x, y).backward()
    assert x.grad == -math.inf and y.grad == 0.0  # log(y); x/y is 0 where x == 0
    x, y = Var(0.0), Var(3.0)
    pyad.xlogy(x, y).backward()
    assert x.grad == math.log(3.0) and y.grad == 0.0


# ---- domain edges: IEEE by default, errors under errstate -------------------


EDGES = [  # (call, value, the errstate category that raises)
    (lambda: pyad.lgamma(0.0), math.inf, "divide"),
    (lambda: pyad.lgamma(-3.0), math.inf, "divide"),
    (lambda: pyad.digamma(0.0), -math.inf, "divide"),
    (lambda: pyad.digamma(-0.0), math.inf, "divide"),
    (lambda: pyad.digamma(-2.0), math.nan, "invalid"),
    (lambda: pyad.polygamma(1, -2.0), math.inf, "divide"),
    (lambda: pyad.polygamma(0.5, 2.0), math.nan, "invalid"),
    (lambda: pyad.ndtri(0.0), -math.inf, "divide"),
    (lambda: pyad.ndtri(1.0), math.inf, "divide"),
    (lambda: pyad.ndtri(1.5), math.nan, "invalid"),
    (lambda: pyad.erfinv(1.0), math.inf, "divide"),
    (lambda: pyad.erfinv(-1.0), -math.inf, "divide"),
    (lambda: pyad.erfinv(-1.5), math.nan, "invalid"),
    (lambda: pyad.xlogy(2.0, 0.0), -math.inf, "divide"),
]


@pytest.mark.parametrize("i", range(len(EDGES)))
def test_domain_edges_are_ieee_and_raise_under_errstate(i):
    call, value, category = EDGES[i]
    assert same_float(call(), value)
    with pyad.errstate(**{category: "raise"}):
        with pytest.raises(FloatingPointError):
            call()


def test_errstate_ignores_the_intermediates():
    with pyad.errstate(all="raise"):
        assert pyad.ndtr(Var(30.0)).val == 1.0  # exp(-450) inside
        assert pyad.logsumexp([Var(1.0), -720.0]).val == 1.0
        assert pyad.trigamma(Var(1e200)).val == pytest.approx(1e-200, rel=1e-15)
        assert pyad.log_ndtr(Var(-1e150)).val == pytest.approx(-5e299, rel=1e-15)
        with pytest.raises(FloatingPointError):
            pyad.log_ndtr(Var(-1e200))  # -x^2/2 overflows: the value's own


# ---- every evaluator gives the same bits ------------------------------------


def _model(x):
    return (
        pyad.lgamma(x[0] * x[0] + 0.5)
        + pyad.digamma(x[1] + 3.0)
        + pyad.polygamma(2, x[0] + 4.0)
        + pyad.logsumexp([x[0], x[1], 2.0 * x[0]])
        + pyad.logaddexp(x[0], -x[1])
        + pyad.xlogy(x[1], x[0] * x[0] + 1.0)
        + pyad.xlog1py(x[0], x[1] * x[1])
        + pyad.ndtr(x[0])
        + pyad.log_ndtr(x[1] - 12.0)
        + pyad.ndtri(pyad.sigmoid(x[0]))
        + pyad.erfinv(pyad.tanh(x[1]))
    )


def test_eager_compiled_and_batch_agree_bit_for_bit():
    f = pyad.compile(_model, signature="(n)->()")
    pts = np.array([[0.3, -0.7], [1.2, 0.4], [-0.9, 2.5], [0.0, 0.0]])
    vals, grads = f.value_and_grad(pts)
    H = f.hessian(pts)
    for k, p in enumerate(pts):
        xs = [Var(float(t)) for t in p]
        y = _model(xs)
        y.backward()
        v1, g1 = f.value_and_grad(p)
        assert same_float(y.val, v1) and same_float(y.val, vals[k])
        for j in range(2):
            assert same_float(xs[j].grad, g1[j]) and same_float(xs[j].grad, grads[k, j])
        He = pyad.hessian(_model)(p)
        assert np.array_equal(H[k], f.hessian(p)) and np.allclose(He, H[k], rtol=1e-12, atol=1e-12)
        fd = np.array([(f.grad(p + h) - f.grad(p - h)) / 2e-6 for h in np.eye(2) * 1e-6])
        assert np.allclose(H[k], fd, rtol=1e-6, atol=1e-6)
    # backward(create_graph=True): the gradient as a graph, differentiated again
    x = [Var(0.3), Var(-0.7)]
    y = _model(x)
    y.backward(create_graph=True)
    g0 = x[0].grad
    assert g0.val == pytest.approx(grads[0, 0], rel=1e-15)


def test_compiled_pickle_names_the_new_ops(tmp_path):
    import pickle

    f = pyad.compile(_model, signature="(n)->()")
    p = np.array([0.3, -0.7])
    v, g = f.value_and_grad(p)
    f2 = pickle.loads(pickle.dumps(f))
    v2, g2 = f2.value_and_grad(p)
    assert same_float(v, v2) and np.array_equal(g, g2)
    assert b"log_ndtr" in pickle.dumps(f)


def main():
    mpmath.mp.dps = 60
    print(f"{'function':16s} {'max ulp':>8s} {'stated':>7s}  at")
    for name in sorted(CASES):
        worst, at = measure(name)
        print(f"{name:16s} {worst:8.3f} {CASES[name][3]:7.1f}  {at!r}")


if __name__ == "__main__":
    sys.path.insert(0, "tests")
    main()
