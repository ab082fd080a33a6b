"""The arithmetic ops (binary operators, pow, the n-ary sum): values and
derivatives against Python's own IEEE float arithmetic, mpmath and the
documented results at edge inputs. (The unary ops: test_ops.py.)"""

import math
import operator

import mpmath
import numpy as np
import pytest
from support import MP_DPS, rel_close, same_float, same_or_equal_zero, ulps_close

import pyad
from pyad import Var

INF = math.inf
NAN = math.nan


def _deriv_close(got, want):
    return rel_close(got, want, 1e-12) or ulps_close(got, want, 4)


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
        assert same_or_equal_zero(ga, da), (a, k, ga, da)
    assert same_or_equal_zero(gk, dk), (a, k, gk, dk)


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
