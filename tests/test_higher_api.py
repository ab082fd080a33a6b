"""The transforms' API: pytrees in and out, argnums, has_aux, shapes and
structures as JAX gives them, types (floats for numbers), errors."""

import collections

import numpy as np
import pytest

import pyad
from pyad import pytree

Point = collections.namedtuple("Point", "x y")

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # CI installs only the test extras
    jax = None


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


# ---- pytrees ----------------------------------------------------------------------


def test_pytree_round_trip_and_order():
    tree = {"b": [1.0, (2, None)], "a": Point(np.zeros(2), 3.0)}
    leaves, t = pytree.flatten(tree)
    assert [type(x) for x in leaves] == [np.ndarray, float, float, int]
    back = pytree.unflatten(t, leaves)
    assert back["b"] == [1.0, (2, None)] and isinstance(back["a"], Point)
    assert t.num_leaves == 4 and pytree.leaves(tree)[1:] == [3.0, 1.0, 2]
    with pytest.raises(ValueError, match="holds 4 leaves"):
        pytree.unflatten(t, [1, 2])
    assert pytree.tree_map(lambda v: 0, (1, [2])) == (0, [0])


def test_grad_of_pytrees_keeps_structure_and_types():
    def loss(p, data):
        return ((p["w"] * data).sum() + p["b"]) ** 2 + (p["extra"][0] * p["extra"][1]) ** 2

    p = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": 0.5, "extra": (2.0, np.array(3.0))}
    data = np.array([[0.1, 0.2], [0.3, 0.4]])
    g = pyad.grad(loss)(p, data)
    assert set(g) == {"w", "b", "extra"}
    assert g["w"].shape == (2, 2) and g["w"].dtype == np.float64
    assert type(g["b"]) is float and isinstance(g["extra"], tuple)
    assert (
        type(g["extra"][0]) is float and g["extra"][1].shape == () and g["extra"][1].dtype == float
    )
    s = 1 * 0.1 + 2 * 0.2 + 3 * 0.3 + 4 * 0.4 + 0.5
    np.testing.assert_allclose(g["w"], 2 * s * data, rtol=1e-15)
    assert g["b"] == pytest.approx(2 * s, rel=1e-15)
    assert g["extra"][0] == pytest.approx(2 * 6.0 * 3.0) and float(g["extra"][1]) == pytest.approx(
        24.0
    )
    if jax is not None:
        jg = jax.grad(loss)(jax.tree_util.tree_map(jnp.asarray, p), data)
        np.testing.assert_allclose(g["w"], jg["w"], rtol=1e-14)


def test_the_function_sees_object_arrays_of_vars():
    seen = []

    def f(x):
        seen.append((isinstance(x, np.ndarray), x.dtype, x.shape, type(x.flat[0])))
        return (x * x).sum()

    pyad.grad(f)(np.ones((2, 3)))
    assert seen == [(True, np.dtype(object), (2, 3), pyad.Var)]


def test_int_arrays_and_numbers_are_accepted_as_floats():
    assert pyad.grad(lambda x: (x * x).sum())(np.array([1, 2])).tolist() == [2.0, 4.0]
    assert pyad.grad(lambda x: x * x)(3) == 6.0


def test_argnums_and_has_aux():
    f = lambda x, y: ((x * y).sum(), {"n": x.shape})  # noqa: E731
    (v, aux), (gx, gy) = pyad.value_and_grad(f, argnums=(0, 1), has_aux=True)(
        np.array([1.0, 2.0]), np.array([3.0, 4.0])
    )
    assert (
        v == 11.0 and aux == {"n": (2,)} and gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    )
    g, aux = pyad.grad(lambda x: (x * x, x * 3), has_aux=True)(2.0)
    assert (g, aux) == (4.0, 6.0) and type(aux) is float  # aux Vars come back as floats
    with pytest.raises(TypeError, match="pair"):
        pyad.grad(lambda x: x, has_aux=True)(1.0)


def test_grad_requires_a_scalar_output():
    with pytest.raises(TypeError, match="scalar output"):
        pyad.grad(lambda x: x * 2)(np.ones(3))
    assert pyad.grad(lambda x: (x * 2).sum())(np.ones(3)).tolist() == [2.0, 2.0, 2.0]


def test_bad_leaves_are_refused_by_name():
    with pytest.raises(TypeError, match="str"):
        pyad.grad(lambda x: 1.0)({"a": "text"})
    with pytest.raises(TypeError, match="complex"):
        pyad.grad(lambda x: 1.0)(np.ones(2, complex))
    with pytest.raises(TypeError, match="set"):
        pyad.jacobian(lambda x: {1, 2})(1.0)


# ---- jacobian, hessian: shapes and structures (as JAX's) -----------------------------


def test_jacobian_shapes_follow_out_shape_plus_in_shape():
    f = lambda x, y: {"a": x[:, None] * y[None, :], "s": (x * x).sum()}  # noqa: E731
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    J = pyad.jacobian(f, argnums=(0, 1))(x, y)
    assert J["a"][0].shape == (2, 3, 2) and J["a"][1].shape == (2, 3, 3)
    assert J["s"][0].shape == (2,) and J["s"][1].shape == (3,)
    assert J["s"][0].tolist() == [2.0, 4.0] and J["s"][1].tolist() == [0.0, 0.0, 0.0]
    if jax is not None:
        JJ = jax.jacobian(f, argnums=(0, 1))(jnp.array(x), jnp.array(y))
        for k in ("a", "s"):
            for i in (0, 1):
                np.testing.assert_array_equal(J[k][i], np.asarray(JJ[k][i]))


def test_jacobian_forward_and_reverse_agree():
    f = lambda x: np.array([pyad.sin(x[0] * x[1]), x[0] ** 3, pyad.exp(x[1]), x[0] - x[1]])  # noqa: E731
    x = np.array([0.3, 0.7])
    J = pyad.jacobian(f)(x)  # 2 inputs < 4 outputs: forward mode
    Jt = pyad.jacobian(lambda y: f(y).sum())(x)  # 1 output: reverse
    np.testing.assert_allclose(J.sum(axis=0), Jt, rtol=1e-15)
    assert J.shape == (4, 2) and J[1].tolist() == [3 * 0.3**2, 0.0]


def test_hessian_structures():
    H = pyad.hessian(lambda p: (p["a"] ** 2).sum() * p["b"])({"a": np.array([1.0, 2.0]), "b": 3.0})
    assert H["a"]["a"].tolist() == [[6.0, 0.0], [0.0, 6.0]]
    assert H["a"]["b"].tolist() == [2.0, 4.0] and H["b"]["a"].tolist() == [2.0, 4.0]
    assert H["b"]["b"] == 0.0 and type(H["b"]["b"]) is float
    Hs = pyad.hessian(lambda x, y: x * x * y, argnums=(0, 1))(1.0, 2.0)
    assert Hs == ((4.0, 2.0), (2.0, 0.0))
    H2 = pyad.hessian(lambda m: (m**3).sum())(np.ones((2, 2)))
    assert H2.shape == (2, 2, 2, 2) and H2[1, 0, 1, 0] == 6.0 and H2[1, 0, 0, 1] == 0.0


def test_hessian_of_rosenbrock_is_the_dense_of_the_coloured_one():
    x = np.linspace(-1.0, 1.5, 40)
    with np.errstate(all="ignore"):
        H = pyad.hessian(rosen)(x)
        Hd = pyad.jacobian(pyad.grad(rosen))(x)
    np.testing.assert_allclose(H, Hd, rtol=1e-14, atol=1e-12)
    assert np.array_equal(H, H.T)


# ---- hvp, jvp, vjp ------------------------------------------------------------------


def test_hvp_with_pytrees():
    f = lambda p: (p["a"] ** 3).sum() * p["b"]  # noqa: E731
    hv = pyad.hvp(f, {"a": np.array([1.0, 2.0]), "b": 2.0}, {"a": np.array([1.0, 0.0]), "b": 1.0})
    # H = [[6ab, 0, 3a0^2], [0, 6a1 b, 3a1^2], [3a0^2, 3a1^2, 0]] at a=(1,2), b=2
    assert hv["a"].tolist() == [12.0 + 3.0, 12.0] and hv["b"] == 3.0
    with pytest.raises(ValueError, match="structure"):
        pyad.hvp(f, {"a": np.ones(2), "b": 1.0}, (np.ones(2), 1.0))
    with pytest.raises(ValueError, match="shape"):
        pyad.hvp(f, {"a": np.ones(2), "b": 1.0}, {"a": np.ones(3), "b": 1.0})


def test_jvp_of_pytrees_and_several_primals():
    f = lambda x, y: {"p": x * y, "q": (x**2).sum()}  # noqa: E731
    out, t = pyad.jvp(f, (np.array([1.0, 2.0]), 3.0), (np.array([1.0, 1.0]), 0.5))
    assert out["p"].tolist() == [3.0, 6.0] and out["q"] == 5.0
    assert t["p"].tolist() == [3.0 + 0.5, 3.0 + 1.0] and t["q"] == 6.0
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        pyad.jvp(f, (1.0, 2.0), (1.0,))


def test_vjp_returns_a_tuple_per_primal_and_checks_the_cotangent():
    out, fn = pyad.vjp(lambda x, y: (x * y, x + y), 2.0, 3.0)
    assert out == (6.0, 5.0)
    assert fn((1.0, 0.0)) == (3.0, 2.0) and fn((0.0, 1.0)) == (1.0, 1.0)
    with pytest.raises(ValueError, match="structure"):
        fn(1.0)
    out, fn, aux = pyad.vjp(lambda x: (x * x, "aux"), np.array([1.0, 2.0]), has_aux=True)
    assert aux == "aux" and fn(np.ones(2))[0].tolist() == [2.0, 4.0]


def test_vjp_and_jvp_with_var_cotangents_and_tangents_are_linear_graphs():
    """Float primals, Var cotangent (inside another transform): the result
    is differentiable in the cotangent."""
    _, fn = pyad.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    g = pyad.grad(lambda c: fn(c)[0].sum())(np.array([1.0, 1.0]))
    assert g.tolist() == [2.0, 4.0]
    g = pyad.grad(lambda t: pyad.jvp(lambda x: (x**3).sum(), (np.array([1.0, 2.0]),), (t,))[1])(
        np.zeros(2)
    )
    assert g.tolist() == [3.0, 12.0]


def test_results_are_floats_at_top_level_and_vars_inside():
    kinds = []

    def inner(x):
        g = pyad.grad(lambda y: y**3)(x)
        kinds.append(type(g))
        return g

    assert pyad.grad(inner)(2.0) == 12.0 and kinds == [pyad.Var]
    assert type(pyad.hessian(lambda x: x**3)(2.0)) is float


def test_functions_that_ignore_their_input():
    assert pyad.hessian(lambda x: 3.0)(np.ones(2)).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert pyad.jacobian(lambda x: np.array([1.0, 2.0]))(1.0).tolist() == [0.0, 0.0]
    assert pyad.hvp(lambda x: 1.0, np.ones(2), np.ones(2)).tolist() == [0.0, 0.0]
    assert pyad.jvp(lambda x: 2.0, (1.0,), (1.0,)) == (2.0, 0.0)
    assert pyad.vjp(lambda x: 2.0, 1.0)[1](1.0) == (0.0,)
    assert pyad.grad(lambda x: 0.0)(np.zeros(0)).shape == (0,)


def test_no_side_effect_on_closure_vars():
    """A transform is a function: the .grad of Vars it closes over stays."""
    w = pyad.Var(2.0)
    assert pyad.grad(lambda x: w * x)(3.0) == 2.0
    assert w.grad == 0.0


def test_scipy_minimize_with_grad_hessian_and_hvp():
    optimize = pytest.importorskip("scipy.optimize")
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # scipy's example: its minimum is all ones
    with np.errstate(all="ignore"):
        r = optimize.minimize(rosen, x0, jac=pyad.grad(rosen), hess=pyad.hessian(rosen),
                              method="trust-exact")  # fmt: skip
        assert r.success and np.allclose(r.x, 1.0, atol=1e-6)
        r = optimize.minimize(rosen, x0, jac=pyad.grad(rosen), method="Newton-CG",
                              hessp=lambda x, p: pyad.hvp(rosen, x, p),
                              options={"xtol": 1e-10})  # fmt: skip
    assert r.success and np.allclose(r.x, 1.0, atol=1e-5)
