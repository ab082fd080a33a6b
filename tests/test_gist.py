"""The seed gist: its printed numbers, to 1e-14 relative."""

import math

from pyad import Var, cos, exp, log, relu, sigmoid, sin


def _gist():
    a, b, c = Var(2), Var(5), Var(-3)
    y = relu(log(sin(a * b) - exp(c) + Var(5)) ** a / b * cos(c) + sigmoid(a))
    y.backward()
    return y, a, b, c


def test_gist_numbers():
    y, a, b, c = _gist()
    expected = {
        "y": (y.val, 0.44533482351666853),
        "a": (a.grad, 0.4925564216709931),
        "b": (b.grad, 0.3107593846787471),
        "c": (c.grad, 0.06870937895756869),
    }
    for name, (got, want) in expected.items():
        assert math.isclose(got, want, rel_tol=1e-14, abs_tol=0.0), (name, got, want)


def test_gist_is_repeatable_and_accumulates():
    y1, a1, b1, c1 = _gist()
    y2, a2, b2, c2 = _gist()
    assert (y1.val, a1.grad, b1.grad, c1.grad) == (y2.val, a2.grad, b2.grad, c2.grad)
    # a second backward on the same graph doubles every gradient exactly
    y1.backward()
    assert (a1.grad, b1.grad, c1.grad) == (2 * a2.grad, 2 * b2.grad, 2 * c2.grad)
    assert y1.grad == 2.0


def test_gist_against_closed_form():
    """The same numbers from a hand-derived formula in plain floats."""
    a, b, c = 2.0, 5.0, -3.0
    s = math.sin(a * b) - math.exp(c) + 5.0
    L = math.log(s)
    p = L**a
    sig = 1 / (1 + math.exp(-a))
    inner = p / b * math.cos(c) + sig
    assert inner > 0  # relu is the identity here
    dL_da = math.cos(a * b) * b / s
    dL_db = math.cos(a * b) * a / s
    dL_dc = -math.exp(c) / s
    dp_da = p * math.log(L) + a * L ** (a - 1) * dL_da
    ga = dp_da / b * math.cos(c) + sig * (1 - sig)
    gb = (a * L ** (a - 1) * dL_db / b - p / b**2) * math.cos(c)
    gc = (a * L ** (a - 1) * dL_dc / b) * math.cos(c) - p / b * math.sin(c)
    y, va, vb, vc = _gist()
    assert math.isclose(y.val, inner, rel_tol=1e-13)
    assert math.isclose(va.grad, ga, rel_tol=1e-12)
    assert math.isclose(vb.grad, gb, rel_tol=1e-12)
    assert math.isclose(vc.grad, gc, rel_tol=1e-12)
