"""The Python API of Var, the numpy integration and the functional layer."""

import math
from fractions import Fraction

import numpy as np
import pytest

import pyad
from pyad import Var

# ---- Var state ------------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [2, 2.5, True, np.float64(2.5), np.float32(0.5), np.int64(-7), np.uint16(9), Fraction(1, 4)],
)
def test_leaf_from_real_numbers(x):
    v = Var(x)
    assert type(v.val) is float and v.val == float(x)
    assert type(v.grad) is float and v.grad == 0.0
    assert v.is_leaf is True


def test_interior_nodes_are_not_leaves():
    a = Var(1.0)
    for y in (a + 1, a * a, -a, abs(a), pyad.exp(a), pyad.sum([a, a]), 2**a):
        assert y.is_leaf is False
    assert (+a).is_leaf is True


def test_val_assignment_on_leaves():
    a = Var(2.0)
    a.val = 3
    assert a.val == 3.0 and type(a.val) is float
    a.val = np.float32(0.5)
    assert a.val == 0.5
    y = a * a  # new ops use the new value
    assert y.val == 0.25
    a.val = 10.0  # ...and recorded nodes keep theirs
    assert y.val == 0.25


def test_val_assignment_on_interior_node_raises():
    a = Var(2.0)
    y = a * 3.0
    with pytest.raises(pyad.NotALeafError):
        y.val = 1.0
    with pytest.raises(AttributeError):
        y.val = 1.0
    assert y.val == 6.0
    assert issubclass(pyad.NotALeafError, AttributeError)
    assert issubclass(pyad.NotALeafError, pyad.PyadError)


def test_grad_is_assignable_everywhere():
    a = Var(2.0)
    y = a * a
    a.grad = 5
    y.grad = np.float64(-1.5)
    assert a.grad == 5.0 and type(a.grad) is float and y.grad == -1.5
    y.backward()
    assert a.grad == 9.0 and y.grad == -0.5


def test_backward_seed_and_accumulation():
    a, b = Var(3.0), Var(4.0)
    y = a * b + a
    y.backward()
    assert (a.grad, b.grad, y.grad) == (5.0, 3.0, 1.0)
    y.backward(2.0)
    assert (a.grad, b.grad, y.grad) == (15.0, 9.0, 3.0)
    y.backward(seed=np.float64(-3))
    assert (a.grad, b.grad) == (0.0, 0.0)
    y.backward(0)
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_backward_on_a_leaf():
    a = Var(3.0)
    a.backward()
    a.backward(2.5)
    assert a.grad == 3.5


def test_backward_only_touches_dependencies():
    a, b, c = Var(1.0), Var(2.0), Var(3.0)
    y = a * b
    z = c * 5.0
    y.backward()
    assert c.grad == 0.0 and z.grad == 0.0
    assert (a.grad, b.grad) == (2.0, 1.0)


def test_zero_grad_method_and_function():
    a, b, c = Var(1.0), Var(2.0), Var(3.0)
    y = a * b
    z = b * c
    y.backward()
    z.backward()
    assert (a.grad, b.grad, c.grad) == (2.0, 4.0, 2.0)
    y.zero_grad()  # y, a, b -- not c, not z
    assert (a.grad, b.grad, c.grad, y.grad, z.grad) == (0.0, 0.0, 2.0, 0.0, 1.0)
    y.backward()
    z.backward()
    pyad.zero_grad(y, z)
    assert (a.grad, b.grad, c.grad, y.grad, z.grad) == (0.0,) * 5
    pyad.zero_grad()  # nothing to do
    with pytest.raises(TypeError):
        pyad.zero_grad(a, 1.0)


def test_detach():
    a = Var(2.0)
    y = a * a
    d = y.detach()
    assert d is not y and d.is_leaf and d.val == 4.0 and d.grad == 0.0
    z = d * a
    z.backward()
    assert a.grad == 4.0 and d.grad == 2.0  # nothing flows through d into a


# ---- conversions, comparisons, identity ------------------------------------


def test_float_and_repr():
    a = Var(0.5)
    a.grad = 1.0
    assert float(a) == 0.5 and type(float(a)) is float
    assert repr(a) == "Var(val=0.5, grad=1.0)"
    assert repr(Var(-math.inf)) == "Var(val=-inf, grad=0.0)"
    assert repr(Var(1e-300) * 1) == "Var(val=1e-300, grad=0.0)"
    assert math.exp(Var(0.0)) == 1.0  # via __float__
    assert bool(Var(0.5)) is True and bool(Var(0.0)) is False
    assert bool(Var(-0.0)) is False and bool(Var(math.nan)) is True


def test_comparisons_return_bool():
    a, b = Var(1.0), Var(2.0)
    cases = [
        (a < b, True),
        (a <= b, True),
        (a > b, False),
        (a >= b, False),
        (a < 1.5, True),
        (a >= 1, True),
        (1.5 < a, False),
        (0 <= a, True),
        (a <= a, True),
        (a < a, False),
        (a < np.float64(1.5), True),
        (a > np.int64(0), True),
    ]
    for i, (got, want) in enumerate(cases):
        assert type(got) is bool, (i, type(got))
        assert got is want, i


def test_comparisons_with_numpy_scalar_on_the_left_return_bool():
    a = Var(1.0)
    cases = [
        (np.float64(1.5) < a, False),
        (np.float64(0.5) <= a, True),
        (np.int64(2) > a, True),
        (np.float32(0.5) >= a, False),
    ]
    for i, (got, want) in enumerate(cases):
        assert bool(got) is want, i
        assert type(got) is bool, (i, type(got))


def test_comparison_with_nan_is_false():
    n = Var(math.nan)
    assert not (n < 1.0) and not (n >= 1.0) and not (n > n)


def test_equality_compares_values_and_hash_is_identity():
    """As PyTorch: == and != compare values (a bool); the hash stays
    identity-based, so equal Vars are still distinct dict keys."""
    a, b = Var(1.0), Var(1.0)
    assert a == a and a == b and not (a != b)
    assert a != Var(2.0) and not (a == Var(2.0))
    assert hash(a) == hash(a)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    s = {a, b, a}
    assert len(s) == 2
    y = a + 0.0
    assert y == a and y not in {a, b}


# ---- numpy ----------------------------------------------------------------


def test_numpy_ufunc_on_single_var_gives_var():
    v = Var(0.5)
    for uf, fn in [
        (np.exp, pyad.exp),
        (np.log, pyad.log),
        (np.sin, pyad.sin),
        (np.cos, pyad.cos),
        (np.tanh, pyad.tanh),
        (np.sqrt, pyad.sqrt),
        (np.log1p, pyad.log1p),
        (np.expm1, pyad.expm1),
    ]:
        out = uf(v)
        assert type(out) is Var, uf
        assert out.val == fn(0.5)


def test_numpy_object_arrays_of_vars():
    xs = [Var(x) for x in (0.1, 0.5, 2.0)]
    arr = np.array(xs, dtype=object)
    for uf, name in [
        (np.exp, "exp"),
        (np.sin, "sin"),
        (np.cos, "cos"),
        (np.tanh, "tanh"),
        (np.sqrt, "sqrt"),
        (np.log, "log"),
        (np.log1p, "log1p"),
        (np.expm1, "expm1"),
    ]:
        out = uf(arr)
        assert out.dtype == object and out.shape == (3,)
        assert all(type(o) is Var for o in out)
        assert [o.val for o in out] == [getattr(pyad, name)(x.val) for x in xs]
    w = np.array([Var(1.0), Var(-2.0), Var(3.0)], dtype=object)
    y = np.dot(w, arr) + np.sum(np.abs(w) ** 2) * np.float64(0.5)
    assert type(y) is Var
    y.backward()
    assert [v.grad for v in xs] == [1.0, -2.0, 3.0]
    assert [v.grad for v in w] == [0.1 + 1.0, 0.5 - 2.0, 2.0 + 3.0]


def test_numpy_arrays_with_vars_are_elementwise():
    v = Var(2.0)
    for out, want in (
        (v * np.array([1.0, 3.0]), [2.0, 6.0]),
        (np.array([1.0, 3.0]) * v, [2.0, 6.0]),
        (np.array([1, 4]) - v, [-1.0, 2.0]),
        (v ** np.array([2.0, 3.0]), [4.0, 8.0]),
    ):
        assert out.dtype == object and all(type(o) is Var for o in out)
        assert [o.val for o in out] == want
    pyad.sum(np.array([1.0, 3.0]) * v).backward()
    assert v.grad == 4.0


def test_np_array_of_vars_infers_object_dtype():
    arr = np.array([Var(1.0), Var(2.0)])
    assert arr.dtype == object
    assert type((arr * 2)[0]) is Var


# ---- grad / value_and_grad -------------------------------------------------


def test_grad_single_argnum():
    g = pyad.grad(lambda x: x**3)
    out = g(2.0)
    assert out == 12.0 and type(out) is float
    assert pyad.grad(lambda x: x**3)(2) == 12.0
    assert pyad.grad(lambda x, y: x * y, argnums=1)(3.0, 4.0) == 3.0


def test_grad_tuple_argnums():
    f = lambda x, y, z: x * y + pyad.sin(z)  # noqa: E731
    out = pyad.grad(f, argnums=(0, 2))(3.0, 4.0, 0.0)
    assert out == (4.0, 1.0) and type(out) is tuple
    assert pyad.grad(f, argnums=(2, 0, 1))(3.0, 4.0, 0.0) == (1.0, 4.0, 3.0)
    assert pyad.grad(f, argnums=(1,))(3.0, 4.0, 0.0) == (3.0,)
    assert pyad.grad(f, argnums=[0, 1])(3.0, 4.0, 0.0) == (4.0, 3.0)


def test_grad_negative_argnums():
    f = lambda x, y: x * x * y  # noqa: E731
    assert pyad.grad(f, argnums=-1)(3.0, 4.0) == 9.0
    assert pyad.grad(f, argnums=-2)(3.0, 4.0) == 24.0
    assert pyad.grad(f, argnums=(-1, 0))(3.0, 4.0) == (9.0, 24.0)


def test_grad_repeated_argnum_gives_the_same_gradient_twice():
    """argnums=(0, -2) names argument 0 twice: each entry is df/dx."""
    f = lambda x, y: x * y  # noqa: E731
    try:
        out = pyad.grad(f, argnums=(0, -2))(3.0, 4.0)
    except ValueError:
        return  # refusing duplicates clearly is fine too
    assert out == (4.0, 4.0)


def test_value_and_grad():
    vg = pyad.value_and_grad(lambda x, y: x * y, argnums=(0, 1))
    assert vg(3.0, 4.0) == (12.0, (4.0, 3.0))
    v, g = pyad.value_and_grad(lambda x: pyad.exp(x))(0.0)
    assert (v, g) == (1.0, 1.0) and type(v) is float and type(g) is float
    v, g = pyad.value_and_grad(lambda x, y: x / y, argnums=-1)(1.0, 2.0)
    assert (v, g) == (0.5, -0.25)


def test_functions_returning_plain_numbers():
    assert pyad.grad(lambda x: 7)(3.0) == 0.0
    assert pyad.value_and_grad(lambda x: 7)(3.0) == (7.0, 0.0)
    assert pyad.value_and_grad(lambda x, y: 2.5, argnums=(0, 1))(1.0, 2.0) == (2.5, (0.0, 0.0))
    assert pyad.value_and_grad(lambda x: np.float64(1.5))(0.0) == (1.5, 0.0)
    v, g = pyad.value_and_grad(lambda x: float(x) ** 2)(3.0)
    assert (v, g) == (9.0, 0.0)


def test_grad_non_differentiated_args_pass_through():
    seen = []

    def f(x, tag, k):
        seen.append((type(x), tag, k))
        return x * k

    assert pyad.grad(f)(2.0, "tag", 3) == 3.0
    assert seen == [(Var, "tag", 3)]


def test_grad_of_identity_and_of_constant_var():
    assert pyad.grad(lambda x: x)(5.0) == 1.0
    assert pyad.grad(lambda x: Var(2.0))(5.0) == 0.0


def test_grad_argument_errors():
    f = lambda x, y: x * y  # noqa: E731
    with pytest.raises(ValueError):
        pyad.grad(f, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError):
        pyad.grad(f, argnums=-3)(1.0, 2.0)
    with pytest.raises(TypeError):
        pyad.grad(f, argnums=0.0)(1.0, 2.0)
    with pytest.raises(TypeError):
        pyad.grad(f, argnums=("0",))(1.0, 2.0)
    with pytest.raises(TypeError, match="str"):
        pyad.grad(f)("1.0", 2.0)
    with pytest.raises(TypeError, match="complex"):
        pyad.grad(f)(1j, 2.0)
    with pytest.raises(TypeError, match="str"):
        pyad.grad(lambda x: "nope")(1.0)


# ---- gradcheck --------------------------------------------------------------


def test_gradcheck_accepts_right_gradients():
    assert pyad.gradcheck(lambda x, y: pyad.sin(x) * y, 0.3, 2.0) is True
    assert pyad.gradcheck(lambda x: pyad.softplus(x) / (1 + x * x), -1.2) is True
    assert pyad.gradcheck(lambda x: pyad.relu(x), 0.5) is True
    assert pyad.gradcheck(lambda a, k: a**k, 1.7, 2.3) is True
    assert pyad.gradcheck(lambda x: 3.0, 1.0) is True


def test_gradcheck_rejects_wrong_gradients():
    with pytest.raises(pyad.GradcheckError):
        pyad.gradcheck(lambda x: pyad.relu(x), 0.0)  # kink: 0 vs 0.5
    with pytest.raises(pyad.GradcheckError) as info:
        pyad.gradcheck(lambda x, y: x * x.detach() + y, 3.0, 1.0)  # 3 vs 6
    assert "argument 0" in str(info.value)
    with pytest.raises(RuntimeError):
        pyad.gradcheck(lambda x: x * float(x), 2.0)
    with pytest.raises(pyad.GradcheckError):  # nan gradient
        pyad.gradcheck(lambda x: pyad.sqrt(x), 0.0)
    assert issubclass(pyad.GradcheckError, pyad.PyadError)


def test_gradcheck_argument_types():
    with pytest.raises(TypeError):
        pyad.gradcheck(lambda x: x, "1.0")


def test_exception_hierarchy():
    assert issubclass(pyad.PyadMemoryError, MemoryError)
    assert issubclass(pyad.PyadFloatingPointError, FloatingPointError)
    assert issubclass(pyad.NotALeafError, AttributeError)
    assert issubclass(pyad.GradcheckError, RuntimeError)
    assert issubclass(pyad.InvalidHandleError, ValueError)
    for e in (
        pyad.PyadMemoryError,
        pyad.PyadFloatingPointError,
        pyad.NotALeafError,
        pyad.GradcheckError,
        pyad.InvalidHandleError,
    ):
        assert issubclass(e, pyad.PyadError)
