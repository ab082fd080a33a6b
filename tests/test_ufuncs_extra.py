"""numpy ufuncs on Vars beyond the registry's own rows (pyad/ufuncs.py):
exact compositions (fabs, reciprocal, deg2rad & co., fmax/fmin), the
predicates (isnan, isinf, isfinite) as guarded comparisons, and ufuncs
without an object loop applied element by element when a Var meets an
array. Values are numpy's own, bit for bit."""

import itertools
import math

import numpy as np
import pytest
from support import same_float

import pyad
from pyad import Var

INF, NAN = math.inf, math.nan
SPECIAL = [0.0, -0.0, 1.5, -2.25, 1e-310, -7e300, INF, -INF, NAN, 123.456, 5e-324]


def _grad(fn, *xs):
    vs = [Var(x) for x in xs]
    y = fn(*vs)
    y.backward()
    return y, [v.grad for v in vs]


@pytest.mark.parametrize(
    "uf,slope",
    [
        (np.fabs, lambda x: math.copysign(1.0, x) if x == x else NAN),
        (np.reciprocal, lambda x: -1.0 / x / x),
        (np.deg2rad, lambda x: math.pi / 180.0),
        (np.radians, lambda x: math.pi / 180.0),
        (np.rad2deg, lambda x: 180.0 / math.pi),
        (np.degrees, lambda x: 180.0 / math.pi),
    ],
    ids=lambda u: getattr(u, "__name__", ""),
)
def test_unary_compositions_are_numpys_values_with_their_derivative(uf, slope):
    for x in SPECIAL:
        with np.errstate(all="ignore"):
            y, (g,) = _grad(uf, x)
            want = float(uf(np.float64(x)))
        assert type(y) is Var and same_float(y.val, want), (uf.__name__, x, y.val, want)
        if math.isfinite(x) and x != 0.0 and abs(x) > 1e-300 and uf is not np.fabs:
            assert g == pytest.approx(slope(x), rel=1e-15), (uf.__name__, x)
    # the derivative of fabs away from 0 (at 0, abs's own convention)
    assert _grad(np.fabs, -3.0)[1] == [-1.0] and _grad(np.fabs, 2.0)[1] == [1.0]


@pytest.mark.parametrize("uf,pick", [(np.fmax, max), (np.fmin, min)], ids=["fmax", "fmin"])
def test_fmax_fmin_ignore_a_nan_and_send_the_gradient_to_the_number(uf, pick):
    values = [1.0, 2.0, -INF, INF, 0.0, -0.0, NAN]
    for a, b in itertools.product(values, values):
        y, (ga, gb) = _grad(uf, a, b)
        # numpy's array loop (on a tie of 0.0 and -0.0 its scalar path
        # returns a, its array loop b; maximum returns b in both)
        want = float(uf(np.full(16, a), np.full(16, b))[0])
        assert same_float(y.val, want), (a, b, y.val)
        if a != a and b != b:
            continue  # both nan: nan, as numpy
        if a != a or b != b:  # one nan: the other operand, with gradient 1
            assert (ga, gb) == ((0.0, 1.0) if a != a else (1.0, 0.0)), (a, b, ga, gb)
        elif a != b:
            assert (ga, gb) == ((1.0, 0.0) if pick(a, b) == a else (0.0, 1.0)), (a, b)
        else:  # a tie: maximum's / minimum's convention
            assert ga + gb == 1.0, (a, b, ga, gb)
    # the same with a float on either side
    assert same_float(uf(Var(NAN), 3.0).val, 3.0) and same_float(uf(3.0, Var(NAN)).val, 3.0)


def test_predicates_answer_from_the_value():
    for x in SPECIAL:
        for uf in (np.isnan, np.isinf, np.isfinite):
            got = uf(Var(x))
            assert type(got) is np.bool_ and got == uf(x), (uf.__name__, x)


def test_predicates_are_guards_of_a_compiled_function():
    """A branch on np.isnan(x) in a compiled function follows the point:
    the comparisons record guards, so a point on the other side retraces."""
    f = pyad.compile(lambda x, y: y * 2.0 if np.isnan(x) else y * 3.0)
    g = pyad.compile(lambda x, y: y * 2.0 if np.isfinite(x) else y * 3.0)
    h = pyad.compile(lambda x, y: y * 2.0 if np.isinf(x) else y * 3.0)
    assert f(1.0, 1.0) == 3.0 and f(NAN, 1.0) == 2.0 and f(0.5, 1.0) == 3.0
    assert g(1.0, 1.0) == 2.0 and g(INF, 1.0) == 3.0 and g(NAN, 1.0) == 3.0
    assert h(1.0, 1.0) == 3.0 and h(-INF, 1.0) == 2.0 and h(NAN, 1.0) == 3.0
    assert list(f.value_and_grad(NAN, 1.0)[1]) == [0.0, 2.0]


def test_logaddexp_is_the_registry_op():
    a, b = Var(1000.0), Var(999.0)
    y = np.logaddexp(a, b)
    assert type(y) is Var and same_float(y.val, float(np.logaddexp(1000.0, 999.0)))
    want = pyad.logaddexp(1000.0, 999.0)
    assert same_float(y.val, want)
    assert type(np.logaddexp(2.0, b)) is Var


@pytest.mark.parametrize(
    "uf", [np.logaddexp, np.copysign, np.fmod, np.hypot], ids=lambda u: u.__name__
)
def test_a_var_meets_an_array(uf):
    """With or without a numpy object loop, a Var and an array give an
    object array of Vars: the op element by element."""
    v, xs = Var(0.75), np.array([-1.5, 0.25, 3.0])
    for got, pairs in ((uf(v, xs), [(v, x) for x in xs]), (uf(xs, v), [(x, v) for x in xs])):
        assert got.dtype == object and got.shape == (3,)
        for g, (p, q) in zip(got, pairs):
            want = float(uf(float(p), float(q)))
            assert type(g) is Var and same_float(g.val, want), (uf.__name__, p, q)
    y = pyad.sum(list(uf(v, xs)))
    y.backward()
    assert math.isfinite(v.grad)


def test_a_var_meets_a_2d_array_of_vars():
    vs = np.empty((2, 2), dtype=object)
    vs[:] = [[Var(1.0), Var(2.0)], [Var(-1.0), Var(0.5)]]
    got = np.logaddexp(Var(0.0), vs)
    assert got.shape == (2, 2)
    assert same_float(got[1, 0].val, float(np.logaddexp(0.0, -1.0)))


def test_a_batch_takes_each_points_branch_and_fmax():
    """Batches replay the guards point by point: each point gets the
    branch its own value picks, and fmax's nan handling is per point."""
    f = pyad.compile(lambda x, y: y * 2.0 if np.isnan(x) else y * 3.0)
    f(1.0, 1.0)
    values, grads = f.value_and_grad(np.array([1.0, NAN, 2.0]), np.ones(3))
    assert values.tolist() == [3.0, 2.0, 3.0]
    assert grads[:, 1].tolist() == [3.0, 2.0, 3.0]
    g = pyad.compile(lambda a, b: np.fmax(a, b) * 2.0)
    a, b = np.array([1.0, NAN, 3.0, NAN]), np.array([NAN, 2.0, 1.0, NAN])
    values, grads = g.value_and_grad(a, b)
    assert np.array_equal(values, 2.0 * np.fmax(a, b), equal_nan=True)
    assert grads[:3].tolist() == [[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]]


def test_an_element_of_its_own_type_gets_numpys_loop_never_notimplemented():
    class Odd:
        def __radd__(self, other):
            return "odd"

    v = Var(2.0)
    got = np.add(v, np.array([Odd(), 1.0], dtype=object))
    assert got[0] == "odd" and type(got[1]) is Var and got[1].val == 3.0
    with pytest.raises(TypeError):
        np.add(v, np.array([object()], dtype=object))
    with pytest.raises(TypeError):
        np.logaddexp(v, np.array([object()], dtype=object))
