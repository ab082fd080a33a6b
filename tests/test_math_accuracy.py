"""Every op of the registry against mpmath, to first and second order.

  * values within 4 ulp and partials within 1e-14 (relative) of mpmath's
    closed forms at 50 digits (support.MP_OPS), on seeded random points
    over each op's whole domain (tests/accuracy.py, which also prints the
    measured figures);
  * every partial against a central finite difference of pyad's own
    values (a check that needs no formula at all);
  * every partials formula differentiated again: the backward pass
    recorded as ops (pyad_grad_graph), differentiated once more, against
    mpmath's numerical second derivatives of the closed-form partials; and
    zero second partials for the ops whose partials are piecewise constant
    (hess NONE).

The op list comes from the C table: a new op is checked here as soon as it
has its references.
"""

import math

import mpmath
import pytest
from accuracy import (
    OP_FUNCTIONS,
    SEQUENTIAL,
    call,
    grad_graph,
    measure,
    mp_second,
    second_order_error,
    second_order_points,
    second_partials,
    smooth_points,
    ulp_error,
)
from support import MP_DPS, MP_OPS

import pyad
from pyad import Var
from pyad._lib import lib
from pyad.optable import OPS

N_POINTS = 150
ARITY = {op.name: op.arity for op in OPS}
HESS = {op.name: op.hess for op in OPS}


# dlog_ndtr' = -r (x + r) cancels to about 1/|x| between -10 and -3 (the
# series takes over below): x^2 ulps there (docs/special-functions.md).
PARTIAL_BOUND = {"dlog_ndtr": 1e-13}


@pytest.mark.parametrize("name", sorted(ARITY))
def test_values_within_4_ulp_and_partials_within_1e14(name):
    worst_v, worst_d, at_v, at_d = measure(name, N_POINTS, ARITY[name])
    if name not in SEQUENTIAL:
        assert worst_v <= 4.0, f"{name}: value off by {worst_v} ulp at {at_v}"
    bound = PARTIAL_BOUND.get(name, 1e-14)
    assert worst_d <= bound, f"{name}: partial off by {worst_d:.3g} (relative) at {at_d}"


# ---- finite differences ----------------------------------------------------


# Ops whose domain edge a step of 1e-5 |x| can reach from the moderate
# points: kept a little inside (the edges are mpmath's to check).
FD_INSIDE = {
    "asin": lambda x: abs(x) < 0.99,
    "acos": lambda x: abs(x) < 0.99,
    "atanh": lambda x: abs(x) < 0.99,
    "acosh": lambda x: x > 1.01,
    "tan": lambda x: abs(math.cos(x)) > 0.01,
}


def _fd_points(name):
    """Smooth points of moderate size, inside the domain."""
    inside = FD_INSIDE.get(name, lambda *xs: True)
    pts = [xs for xs in smooth_points(name, ARITY[name], 40, seed=1, moderate=True) if inside(*xs)]
    return pts[:12]


def _value(name, xs):
    return OP_FUNCTIONS[name](*xs)


def _central(name, xs, i, h):
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    fu, fd = _value(name, up), _value(name, down)
    return (fu - fd) / (up[i] - down[i])


@pytest.mark.parametrize("name", sorted(ARITY))
def test_partials_match_central_differences(name):
    """Richardson-extrapolated central differences (error O(h^4)) of the
    op's own values: no formula involved."""
    pts = _fd_points(name)
    assert pts, name
    for xs in pts:
        _, grads = call(name, xs)
        for i, g in enumerate(grads):
            h = 1e-5 * abs(xs[i])
            d1, d2 = _central(name, xs, i, h), _central(name, xs, i, h / 2)
            if not (math.isfinite(d1) and math.isfinite(d2)):
                continue  # the step left the domain
            numeric = (4 * d2 - d1) / 3
            # truncation O(h^4), and the rounding of the values over h
            tol = 1e-7 * abs(numeric) + 100 * 2.0**-52 * (1 + abs(_value(name, xs))) / h
            assert abs(g - numeric) <= tol, (name, xs, i, g, numeric)


# ---- second order: the partials formulas differentiated --------------------


SECOND_ORDER = sorted(n for n, h in HESS.items() if h != lib.PYAD_HESS_NONE and ARITY[n] > 0)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_partials_match_mpmath(name):
    """Within 1e-12 of the Hessian's scale (accuracy.second_order_error)."""
    pts = second_order_points(name, ARITY[name])
    assert len(pts) >= 6, name
    for xs in pts:
        err = second_order_error(name, xs)
        assert err <= 1e-12, (name, xs, err, second_partials(name, xs), mp_second(name, xs))


@pytest.mark.parametrize("name", ["tan", "erf", "atan2", "pow", "hypot", "acosh", "cbrt"])
def test_third_order_by_recording_the_backward_again(name):
    """pyad_grad_graph applied three times: the partials' formulas are
    smooth where the op is, so every order is right (x: the first operand)."""
    for xs in second_order_points(name, ARITY[name])[:3]:
        vs = [Var(x) for x in xs]
        y = OP_FUNCTIONS[name](*vs)
        g1 = grad_graph(y, vs[:1])[0]
        g2 = grad_graph(g1, vs[:1])[0]
        g3 = grad_graph(g2, vs[:1])[0]
        with mpmath.workdps(MP_DPS + 300):
            at = [mpmath.mpf(x) for x in xs]
            f = MP_OPS[name][0]

            def of_x(a, f=f, rest=at[1:]):
                return f(a, *rest)

            want = float(mpmath.diff(of_x, at[0], 3))
            second = float(mpmath.diff(of_x, at[0], 2))
        # as for second order: held to the scale of the terms that cancel
        scale = max(abs(want), abs(second) / abs(xs[0]))
        assert abs(g3.val - want) <= 1e-10 * scale + 1e-300, (name, xs, g3.val, want)


@pytest.mark.parametrize(
    "name", sorted(n for n, h in HESS.items() if h == lib.PYAD_HESS_NONE and ARITY[n] > 0)
)
def test_piecewise_linear_ops_have_zero_second_partials(name):
    """hess NONE promises zero second partials: the recorded backward of
    their partials does not depend on the operands, or only through a
    piecewise constant (a comparison, floor)."""
    for xs in smooth_points(name, ARITY[name], 5, seed=3):
        for row in second_partials(name, xs):
            assert all(h == 0.0 for h in row), (name, xs, row)


def test_second_order_at_kinks_follows_the_conventions():
    # hypot: a cone at the origin, nan second partials there (documented)
    assert all(math.isnan(h) for row in second_partials("hypot", [0.0, 0.0]) for h in row)
    # erf'' = -2x erf' is 0 at 0 (the |x| in the tail guard is harmless)
    assert second_partials("erf", [0.0]) == [[0.0]]
    # square, pow at 0: x**2'' = 2 (the branch not taken stays finite)
    assert second_partials("pow", [0.0, 2.0])[0][0] == 2.0
    assert second_partials("square", [0.0]) == [[2.0]]
    # maximum at a tie: its partials are piecewise constant
    assert second_partials("maximum", [1.0, 1.0]) == [[0.0, 0.0], [0.0, 0.0]]


def test_accuracy_script_runs():
    """tests/accuracy.py is the command behind the README's figures."""
    v, d, _, _ = measure("erf", 20)
    assert v <= 4.0 and d <= 1e-14
    assert ulp_error(1.0, mpmath.mpf(1)) == 0.0
    assert pyad.erf(0.0) == 0.0
