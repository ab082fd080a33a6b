"""Every op's value and derivative against independent oracles.

Oracles: closed-form derivatives evaluated with mpmath at 50 digits
(support.MP_UNARY), central differences, Python's own IEEE float
arithmetic, and explicit tables of the documented IEEE results at edge
inputs (0, -0.0, inf, -inf, nan, huge, subnormal).
"""

import math
import operator

import mpmath
import numpy as np
import pytest
from support import (
    DOMAIN,
    MP_DPS,
    MP_UNARY,
    UNARY_OPS,
    mp_value_and_derivative,
    rel_close,
    same_float,
    same_or_kernel,
    ulps_close,
)

import pyad
from pyad import Var

INF = math.inf
NAN = math.nan

# Every unary op of the C table (support.UNARY_OPS), as a function of a Var:
# neg and abs through their operators.
UNARY = {name: getattr(pyad, name) for name in UNARY_OPS}
UNARY["abs"], UNARY["neg"] = abs, operator.neg
MODULE_FUNCS = [n for n in UNARY if n not in ("abs", "neg")]

ORDINARY = [-3.7, -2.0, -1.0, -0.6, -0.25, -1e-8, 1e-8, 0.3, 0.5, 1.0, 1.7, 2.5, 3.0]
EXTREME = [
    1e300,
    -1e300,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    -1e-300,
    1e15,
    -1e15,
    700.0,
    -700.0,
    710.0,
    -745.0,
    1e22,
    2.0**1000,
]


def _in_domain(name, x):
    return DOMAIN.get(name, lambda _: True)(x)


def _cases(inputs):
    return [(n, x) for n in UNARY for x in inputs if _in_domain(n, x)]


def _tail_point(name, x):
    """Where tanh'/sigmoid' is tiny but representable: covered separately by
    test_unary_derivative_relative_accuracy_in_tails, kept out of the main
    oracle test so that each defect fails one test."""
    return (name == "tanh" and 5.0 <= abs(x) < 400.0) or (name == "sigmoid" and 5.0 <= x < 750.0)


def value_and_grad(fn, x):
    v = Var(x)
    y = fn(v)
    y.backward()
    return y.val, v.grad


def _deriv_close(got, want):
    return rel_close(got, want, 1e-12) or ulps_close(got, want, 4)


# ---- ordinary and extreme finite inputs: mpmath oracle ---------------------


@pytest.mark.parametrize("name,x", _cases(ORDINARY + EXTREME))
def test_unary_matches_mpmath(name, x):
    val, grad = value_and_grad(UNARY[name], x)
    want_val, want_grad = mp_value_and_derivative(name, x)
    assert ulps_close(val, want_val, 4), (name, x, val, want_val)
    if not _tail_point(name, x):
        assert _deriv_close(grad, want_grad), (name, x, grad, want_grad)


# Piecewise constant ops, whose ORDINARY points are the integers they jump at.
STEPS = {"floor", "ceil", "trunc"}


@pytest.mark.parametrize(
    "name,x",
    [
        (n, x)
        for n, x in _cases([x for x in ORDINARY if abs(x) >= 0.25])
        if not (n in STEPS and x == int(x))
    ],
)
def test_unary_derivative_matches_central_difference(name, x):
    fn = UNARY[name]
    h = 1e-6 * max(1.0, abs(x))
    # The difference quotient of the exact function, in mpmath at MP_DPS
    # digits (pyad's double-precision values would lose ~10 digits to
    # cancellation): it depends only on the function's values, not on the
    # derivative formulas of the oracle or of ops.c.
    with mpmath.workdps(MP_DPS):
        X, H = mpmath.mpf(x), mpmath.mpf(h)
        numeric = float((MP_UNARY[name](X + H)[0] - MP_UNARY[name](X - H)[0]) / (2 * H))
    _, grad = value_and_grad(fn, x)
    # truncation error h**2 f'''(x) / 6 is below 1e-10 relative here
    assert abs(grad - numeric) <= 1e-9 * abs(numeric) + 1e-12, (name, x, grad, numeric)


@pytest.mark.parametrize(
    "name", ["tanh", "sigmoid", "softplus", "exp", "expm1", "sin", "cos", "log1p"]
)
def test_unary_derivative_relative_accuracy_in_tails(name):
    """The derivative keeps its relative accuracy where it is small but
    representable (e.g. tanh'(20) = 1.7e-17, sigmoid'(30) = 9.4e-14)."""
    bad = []
    for x in [-700.0, -30.0, -20.0, -10.0, -5.0, 5.0, 10.0, 20.0, 30.0, 700.0]:
        if not _in_domain(name, x):
            continue
        _, grad = value_and_grad(UNARY[name], x)
        _, want = mp_value_and_derivative(name, x)
        if not _deriv_close(grad, want):
            bad.append((x, grad, want))
    assert not bad, f"{name}'(x): (x, got, exact) {bad}"


# ---- the plain-number path ------------------------------------------------


@pytest.mark.parametrize("name", MODULE_FUNCS)
@pytest.mark.parametrize("x", ORDINARY + EXTREME + [0.0, -0.0, INF, -INF, NAN, -1.0])
def test_plain_number_path_equals_var_path(name, x):
    fn = getattr(pyad, name)
    out = fn(x)
    assert type(out) is float
    assert same_float(out, fn(Var(x)).val), (name, x)


@pytest.mark.parametrize("name", MODULE_FUNCS)
def test_plain_number_path_accepts_ints_and_numpy_scalars(name):
    fn = getattr(pyad, name)
    want = fn(2.0)
    for x in (
        2,
        True + True,
        np.float64(2.0),
        np.float32(2.0),
        np.int64(2),
        np.int8(2),
        np.float16(2.0),
    ):
        out = fn(x)
        assert type(out) is float, (name, type(x))
        assert same_float(out, want), (name, type(x))


@pytest.mark.parametrize("name", MODULE_FUNCS)
def test_functions_are_also_methods(name):
    v = Var(0.75)
    by_method = getattr(v, name)()
    assert isinstance(by_method, Var)
    assert same_float(by_method.val, getattr(pyad, name)(0.75))


# ---- exactly the C library ------------------------------------------------

LIBM = {
    "exp": math.exp,
    "log": math.log,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sqrt": math.sqrt,
    "log1p": math.log1p,
    "expm1": math.expm1,
}


@pytest.mark.parametrize("name", sorted(LIBM))
def test_values_are_the_c_library_results(name):
    xs = [
        x
        for x in ORDINARY + EXTREME + [0.0, -0.0, 0.1, 19.5, -19.5]
        if _in_domain(name, x) or x == 0.0
    ]
    for x in xs:
        try:
            want = LIBM[name](x)
        except OverflowError:
            want = INF
        except ValueError:  # math.log(0.0): C gives -inf
            want = -INF
        assert same_or_kernel(name, getattr(pyad, name)(Var(x)).val, want, x), (name, x)


# ---- edge inputs: the documented IEEE results, exactly --------------------
# (x, value, derivative); derivative None = not specified there.

EDGE = {
    "exp": [
        (0.0, 1.0, 1.0),
        (-0.0, 1.0, 1.0),
        (INF, INF, INF),
        (-INF, 0.0, 0.0),
        (NAN, NAN, NAN),
        (1e300, INF, INF),
        (-1e300, 0.0, 0.0),
        (5e-324, 1.0, 1.0),
    ],
    "log": [
        (0.0, -INF, INF),
        (-0.0, -INF, None),
        (-1.0, NAN, None),
        (INF, INF, 0.0),
        (-INF, NAN, None),
        (NAN, NAN, NAN),
        (1.0, 0.0, 1.0),
        (5e-324, math.log(5e-324), INF),
    ],
    "sin": [
        (0.0, 0.0, 1.0),
        (-0.0, -0.0, 1.0),
        (INF, NAN, NAN),
        (-INF, NAN, NAN),
        (NAN, NAN, NAN),
        (5e-324, 5e-324, 1.0),
    ],
    "cos": [(0.0, 1.0, 0.0), (-0.0, 1.0, 0.0), (INF, NAN, NAN), (-INF, NAN, NAN), (NAN, NAN, NAN)],
    "tanh": [
        (0.0, 0.0, 1.0),
        (-0.0, -0.0, 1.0),
        (INF, 1.0, 0.0),
        (-INF, -1.0, 0.0),
        (NAN, NAN, NAN),
        (1e300, 1.0, 0.0),
        (-1e300, -1.0, 0.0),
        (5e-324, 5e-324, 1.0),
    ],
    "sigmoid": [
        (0.0, 0.5, 0.25),
        (-0.0, 0.5, 0.25),
        (INF, 1.0, 0.0),
        (-INF, 0.0, 0.0),
        (NAN, NAN, NAN),
        (1000.0, 1.0, 0.0),
        (-1000.0, 0.0, 0.0),
        (1e300, 1.0, 0.0),
        (-1e300, 0.0, 0.0),
    ],
    "softplus": [
        (0.0, math.log(2.0), 0.5),
        (INF, INF, 1.0),
        (-INF, 0.0, 0.0),
        (NAN, NAN, NAN),
        (1000.0, 1000.0, 1.0),
        (-1000.0, 0.0, 0.0),
        (1e300, 1e300, 1.0),
        (-1e300, 0.0, 0.0),
    ],
    "relu": [
        (0.0, 0.0, 0.0),
        (-0.0, 0.0, 0.0),
        (INF, INF, 1.0),
        (-INF, 0.0, 0.0),
        (NAN, NAN, NAN),
        (-1.0, 0.0, 0.0),
        (5e-324, 5e-324, 1.0),
        (-5e-324, 0.0, 0.0),
    ],
    "sqrt": [
        (0.0, 0.0, INF),
        (-0.0, -0.0, None),
        (INF, INF, 0.0),
        (-1.0, NAN, NAN),
        (-INF, NAN, NAN),
        (NAN, NAN, NAN),
        (4.0, 2.0, 0.25),
    ],
    "log1p": [
        (0.0, 0.0, 1.0),
        (-0.0, -0.0, 1.0),
        (-1.0, -INF, INF),
        (-2.0, NAN, None),
        (INF, INF, 0.0),
        (NAN, NAN, NAN),
    ],
    "expm1": [
        (0.0, 0.0, 1.0),
        (-0.0, -0.0, 1.0),
        (INF, INF, INF),
        (-INF, -1.0, 0.0),
        (NAN, NAN, NAN),
        (1e300, INF, INF),
    ],
    "abs": [
        (0.0, 0.0, 0.0),
        (-0.0, 0.0, 0.0),
        (INF, INF, 1.0),
        (-INF, INF, -1.0),
        (NAN, NAN, NAN),
        (-2.5, 2.5, -1.0),
    ],
    "neg": [(0.0, -0.0, -1.0), (-0.0, 0.0, -1.0), (INF, -INF, -1.0), (NAN, NAN, -1.0)],
}


def _edge_cases():
    return [(name, x, y, d) for name, rows in EDGE.items() for (x, y, d) in rows]


def _same_or_equal_zero(got, want):
    """For derivatives a zero's sign is not part of the convention."""
    if want == 0.0 and got == 0.0:
        return True
    return same_float(got, want)


@pytest.mark.parametrize("name,x,want_val,want_grad", _edge_cases())
def test_edge_inputs_follow_ieee(name, x, want_val, want_grad):
    val, grad = value_and_grad(UNARY[name], x)
    assert same_float(val, want_val), (name, x, val, want_val)
    if want_grad is not None:
        assert _same_or_equal_zero(grad, want_grad), (name, x, grad, want_grad)


@pytest.mark.parametrize("x", [0.0, -0.0])
@pytest.mark.parametrize("name", ["sqrt", "log"])
def test_increasing_functions_have_positive_derivative_at_signed_zero(name, x):
    """sqrt and log are increasing: their derivative at 0 is +inf (the
    limit from the right), whichever zero the operand is."""
    _, grad = value_and_grad(UNARY[name], x)
    assert grad == INF, (name, x, grad)


def test_ieee_by_default_no_exceptions():
    assert pyad.geterr() == {
        "divide": "ignore",
        "over": "ignore",
        "invalid": "ignore",
        "under": "ignore",
    }
    assert pyad.log(Var(0.0)).val == -INF
    assert math.isnan(pyad.log(Var(-1.0)).val)
    assert (1 / Var(0.0)).val == INF
    assert (1 / Var(-0.0)).val == -INF
    assert (Var(1.0) / 0).val == INF
    assert math.isnan((Var(0.0) / Var(0.0)).val)
    assert pyad.exp(Var(1000.0)).val == INF
    assert math.isnan((Var(INF) - Var(INF)).val)
    assert pyad.log(0.0) == -INF
    assert math.isnan(pyad.sqrt(-1.0))


def test_division_by_zero_gradients():
    b = Var(0.0)
    y = 1 / b
    y.backward()
    assert b.grad == -INF  # d(1/b)/db = -1/b^2
    a, b = Var(2.0), Var(0.0)
    y = a / b
    y.backward()
    assert a.grad == INF and b.grad == -INF


def test_sigmoid_softplus_stable_at_1000_without_overflow():
    with pyad.errstate(over="raise", invalid="raise", divide="raise"):
        for x, s, sp, dsp in [(1000.0, 1.0, 1000.0, 1.0), (-1000.0, 0.0, 0.0, 0.0)]:
            v = Var(x)
            y = pyad.sigmoid(v)
            y.backward()
            assert y.val == s and v.grad == 0.0
            v = Var(x)
            y = pyad.softplus(v)
            y.backward()
            assert y.val == sp and v.grad == dsp
            assert pyad.sigmoid(x) == s and pyad.softplus(x) == sp
    # and they are accurate in the tails, where naive formulas lose it
    assert pyad.softplus(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-14)
    assert pyad.sigmoid(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-14)
    assert pyad.softplus(40.0) == pytest.approx(40.0 + math.exp(-40.0), rel=1e-15)


def test_kink_conventions():
    for fn in (pyad.relu, abs):
        for z in (0.0, -0.0):
            v = Var(z)
            fn(v).backward()
            assert v.grad == 0.0, (fn, z)
    v = Var(0.0)
    pyad.sqrt(v).backward()
    assert v.grad == INF


# ---- binary arithmetic ----------------------------------------------------

ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}
PAIRS = [
    (2.0, 5.0),
    (-3.25, 0.1),
    (1e-300, 1e300),
    (7.0, -7.0),
    (0.1, 0.2),
    (1e308, 10.0),
    (-0.0, 2.0),
    (5e-324, 0.5),
    (3.0, 1e-320),
    (1e-100, 1e-200),
    (-1e200, 1e-200),
]


def _exact_partials(name, a, b):
    with mpmath.workdps(MP_DPS):
        A, B = mpmath.mpf(a), mpmath.mpf(b)
        return {
            "add": (1, 1),
            "sub": (1, -1),
            "mul": (B, A),
            "truediv": (1 / B, -A / B**2),
        }[name]


@pytest.mark.parametrize("name", sorted(ARITH))
@pytest.mark.parametrize("a,b", PAIRS)
def test_binary_arithmetic_var_var(name, a, b):
    op = ARITH[name]
    va, vb = Var(a), Var(b)
    y = op(va, vb)
    assert isinstance(y, Var) and not y.is_leaf
    assert same_float(y.val, op(a, b))  # IEEE, exactly
    y.backward()
    da, db = (float(p) for p in _exact_partials(name, a, b))
    assert _deriv_close(va.grad, da), (name, a, b, va.grad, da)
    assert _deriv_close(vb.grad, db), (name, a, b, vb.grad, db)


@pytest.mark.parametrize("name", sorted(ARITH))
@pytest.mark.parametrize("a,b", PAIRS)
def test_binary_arithmetic_with_constants(name, a, b):
    op = ARITH[name]
    da, db = (float(p) for p in _exact_partials(name, a, b))
    with np.errstate(over="ignore"):
        f32 = np.float32(b)
    for const in (b, np.float64(b), f32 if float(f32) == b else b):
        va = Var(a)
        y = op(va, const)
        assert type(y) is Var
        assert same_float(y.val, op(a, b))
        y.backward()
        assert _deriv_close(va.grad, da)
    for const in (a, np.float64(a)):
        vb = Var(b)
        y = op(const, vb)
        assert type(y) is Var, type(y)
        assert same_float(y.val, op(a, b))
        y.backward()
        assert _deriv_close(vb.grad, db)


@pytest.mark.parametrize("name", sorted(ARITH))
def test_binary_with_int_and_numpy_int_constants(name):
    op = ARITH[name]
    for k in (3, np.int64(3), np.int32(3), np.uint8(3), True + 2):
        assert op(Var(1.5), k).val == op(1.5, 3.0)
        assert op(k, Var(1.5)).val == op(3.0, 1.5)


def test_numpy_scalar_on_the_left_gives_var():
    v = Var(3.0)
    for out, want in (
        (np.float64(2) * v, 6.0),
        (np.float64(2) + v, 5.0),
        (np.float64(2) - v, -1.0),
        (np.float64(3) / v, 1.0),
        (np.float64(2) ** v, 8.0),
        (np.float32(2) * v, 6.0),
        (np.int64(2) * v, 6.0),
        (np.float64(2) * (v * v), 18.0),
        (np.array(2.0) * v, 6.0),
    ):
        assert type(out) is Var
        assert out.val == want
    y = np.float64(2) ** v - np.float64(4) * v
    y.backward()
    assert v.grad == pytest.approx(8.0 * math.log(2.0) - 4.0, rel=1e-15)
    arr = np.array([1.0, 2.0]) * v
    assert arr.dtype == object and [a.val for a in arr] == [3.0, 6.0]


def test_same_operand_twice():
    x = Var(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    x = Var(3.0)
    (x / x).backward()
    assert x.grad == 0.0
    x = Var(3.0)
    (x - x).backward()
    assert x.grad == 0.0
    x = Var(3.0)
    (x + x + x).backward()
    assert x.grad == 3.0
    x = Var(3.0)
    (x**x).backward()
    assert x.grad == pytest.approx(27.0 * (1.0 + math.log(3.0)), rel=1e-15)


def test_unary_operators():
    v = Var(-2.5)
    assert (+v) is v
    n = -v
    assert type(n) is Var and n.val == 2.5
    a = abs(v)
    assert type(a) is Var and a.val == 2.5
    a.backward()
    assert v.grad == -1.0
    assert same_float((-Var(0.0)).val, -0.0)


# ---- pow ------------------------------------------------------------------

POW_CONST_K = [
    (2.0, 3.0),
    (3.0, 0.5),
    (0.7, -1.5),
    (-2.0, 3.0),
    (-2.0, 2.0),
    (2.5, 1.0),
    (10.0, 300.0),
    (1e-3, 2.25),
    (9.0, -0.5),
]


@pytest.mark.parametrize("a,k", POW_CONST_K)
def test_pow_constant_exponent(a, k):
    x = Var(a)
    y = x**k
    assert same_float(y.val, math.pow(a, k))
    y.backward()
    with mpmath.workdps(MP_DPS):
        want = float(mpmath.mpf(k) * mpmath.power(mpmath.mpf(a), mpmath.mpf(k) - 1))
    assert _deriv_close(x.grad, want), (a, k, x.grad, want)
    # the same through numpy and int exponents
    assert same_float((Var(a) ** np.float64(k)).val, y.val)
    if k == int(k):
        assert same_float((Var(a) ** int(k)).val, y.val)


@pytest.mark.parametrize(
    "a,k",
    [(2.0, 3.0), (3.0, 0.5), (0.7, -1.5), (10.0, 2.2), (1e-3, 2.25), (7.5, -0.25), (1.0, 40.0)],
)
def test_pow_var_exponent(a, k):
    va, vk = Var(a), Var(k)
    y = va**vk
    assert same_float(y.val, math.pow(a, k))
    y.backward()
    with mpmath.workdps(MP_DPS):
        A, K = mpmath.mpf(a), mpmath.mpf(k)
        da = float(K * mpmath.power(A, K - 1))
        dk = float(mpmath.power(A, K) * mpmath.log(A))
    assert _deriv_close(va.grad, da), (va.grad, da)
    assert _deriv_close(vk.grad, dk), (vk.grad, dk)
    # constant base: c ** Var
    vk = Var(k)
    y = a**vk
    assert type(y) is Var and same_float(y.val, math.pow(a, k))
    y.backward()
    assert _deriv_close(vk.grad, dk)


def _pow_grads(a, k):
    va, vk = Var(a), Var(k)
    y = va**vk
    y.backward()
    return y.val, va.grad, vk.grad


@pytest.mark.parametrize(
    "a,k,val,da,dk",
    [
        (0.0, 0.0, 1.0, 0.0, 0.0),  # d/dx x**0 = 0 even at x = 0
        (2.0, 0.0, 1.0, 0.0, math.log(2.0)),
        (-3.0, 0.0, 1.0, 0.0, NAN),  # d/dk at a < 0 is nan
        (0.0, 2.0, 0.0, 0.0, 0.0),  # d/dk at a == 0 is 0
        (0.0, 0.5, 0.0, INF, 0.0),
        (0.0, -1.0, INF, -INF, 0.0),
        (-2.0, 2.0, 4.0, -4.0, NAN),
        (-2.0, 3.0, -8.0, 12.0, NAN),
        (-2.0, 0.5, NAN, NAN, NAN),
        (1.0, INF, 1.0, None, 0.0),
        (INF, 2.0, INF, INF, INF),
        (NAN, 2.0, NAN, NAN, NAN),
    ],
)
def test_pow_conventions(a, k, val, da, dk):
    y, ga, gk = _pow_grads(a, k)
    assert same_float(y, val), (a, k, y)
    if da is not None:
        assert _same_or_equal_zero(ga, da), (a, k, ga, da)
    assert _same_or_equal_zero(gk, dk), (a, k, gk, dk)


def test_pow_constant_base_conventions():
    for base, val, grad in [
        (0.0, 0.0, 0.0),
        (-2.0, 4.0, NAN),
        (1.0, 1.0, 0.0),
        (math.e, math.e**2, math.e**2),
    ]:
        k = Var(2.0)
        y = base**k
        assert same_float(y.val, val)
        y.backward()
        assert same_float(k.grad, grad) or math.isclose(k.grad, grad, rel_tol=1e-15), (base, k.grad)


BINARY_EDGE = [INF, -INF, NAN, 0.0, -0.0, 1.0, -2.0, 1e308, 5e-324]


@pytest.mark.parametrize("name", ["add", "sub", "mul", "truediv", "pow"])
def test_binary_values_at_edge_inputs_follow_ieee(name):
    op = {"pow": operator.pow, **ARITH}[name]
    npop = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "truediv": np.true_divide,
        "pow": np.power,
    }[name]
    with np.errstate(all="ignore"):
        for a in BINARY_EDGE:
            for b in BINARY_EDGE:
                want = float(npop(np.float64(a), np.float64(b)))  # C's pow
                for got in (op(Var(a), Var(b)).val, op(Var(a), b).val, op(a, Var(b)).val):
                    assert same_float(got, want), (name, a, b, got, want)


def test_add_sub_partials_at_non_finite_values():
    for a, b in [(INF, 1.0), (-INF, INF), (NAN, 2.0), (1e308, 1e308)]:
        va, vb = Var(a), Var(b)
        (va + vb).backward()
        assert (va.grad, vb.grad) == (1.0, 1.0)
        va, vb = Var(a), Var(b)
        (va - vb).backward()
        assert (va.grad, vb.grad) == (1.0, -1.0)


def test_pow_constant_zero_exponent_gradient_is_zero():
    for a in (0.0, -0.0, 2.0, -2.0, INF):
        x = Var(a)
        y = x**0
        assert y.val == 1.0
        y.backward()
        assert x.grad == 0.0, a


# ---- n-ary sum ------------------------------------------------------------


def test_pyad_sum_values_and_gradients():
    xs = [0.1, 0.2, -0.3, 1e16, 1.0, -1e16]
    vs = [Var(x) for x in xs]
    s = pyad.sum(vs)
    acc = xs[0]
    for x in xs[1:]:
        acc += x
    assert s.val == acc  # left-to-right, like a loop
    s.backward()
    assert all(v.grad == 1.0 for v in vs)


def test_pyad_sum_mixed_numbers_and_duplicates():
    a, b = Var(1.5), Var(-2.0)
    s = pyad.sum([a, 2, a, np.float64(0.25), b, b, b])
    assert s.val == 1.5 + 2 + 1.5 + 0.25 - 6.0
    s.backward()
    assert a.grad == 2.0 and b.grad == 3.0


def test_pyad_sum_of_numbers_only_and_empty():
    out = pyad.sum([1, 2.5, np.float64(3)])
    assert type(out) is float and out == 6.5
    assert pyad.sum([]) == 0.0 and type(pyad.sum([])) is float
    assert pyad.sum(()) == 0.0


def test_pyad_sum_signed_zero_and_generators():
    s = pyad.sum([Var(-0.0)])
    assert same_float(s.val, -0.0)
    s = pyad.sum(Var(float(i)) for i in range(10))
    assert s.val == 45.0
    many = [Var(float(i)) for i in range(1000)]
    s = pyad.sum(many)
    assert s.val == 499500.0
    s.backward(2.0)
    assert {v.grad for v in many} == {2.0}


def test_builtin_sum_of_vars():
    vs = [Var(float(i)) for i in range(1, 6)]
    s = sum(vs)
    assert type(s) is Var and s.val == 15.0
    s.backward()
    assert [v.grad for v in vs] == [1.0] * 5
    s2 = sum(vs, Var(0.5))
    assert s2.val == 15.5
