"""Transforms composed to any order (against mpmath), the nesting rules
(perturbation confusion, closures, compile, threads), and
backward(create_graph=True): semantics, node lifetimes, gradient entries
that die with their Vars (in C, also under Ctrl-C)."""

import gc
import threading

import mpmath
import numpy as np
import pytest
from hostile import run_threads

import pyad
from pyad import Var
from pyad import var as var_module


def f1(x):
    return pyad.sin(x) * pyad.exp(x / 2) + x**3 / (1 + x * x)


def f1_mp(x):
    return mpmath.sin(x) * mpmath.exp(x / 2) + x**3 / (1 + x * x)


def mp_diff(f, x, n):
    with mpmath.workdps(50):
        return float(mpmath.diff(f, mpmath.mpf(x), n))


@pytest.mark.parametrize("x", [-1.3, 0.4, 2.2])
def test_grad_of_grad_to_fourth_order_against_mpmath(x):
    g = f1
    for order in range(1, 5):
        g = pyad.grad(g)
        assert g(x) == pytest.approx(mp_diff(f1_mp, x, order), rel=1e-12), order


def test_mixed_partials_to_third_order_against_mpmath():
    def f(v):
        return pyad.exp(v[0] * v[1]) * pyad.cos(v[1]) + v[0] ** 3 * v[1]

    def f_mp(a, b):
        return mpmath.exp(a * b) * mpmath.cos(b) + a**3 * b

    x = np.array([0.3, -0.8])
    T = pyad.jacobian(pyad.hessian(f))(x)  # third derivatives, (2, 2, 2)
    with mpmath.workdps(50):
        for i in range(2):
            for j in range(2):
                for k in range(2):
                    orders = tuple(int(i == m) + int(j == m) + int(k == m) for m in range(2))
                    want = float(mpmath.diff(f_mp, (mpmath.mpf(0.3), mpmath.mpf(-0.8)), orders))
                    assert T[i, j, k] == pytest.approx(want, rel=1e-12)
    H = pyad.hessian(f)(x)
    assert np.allclose(pyad.jacobian(pyad.grad(f))(x), H, rtol=1e-14)
    v = np.array([0.7, -1.1])
    assert np.allclose(pyad.jvp(pyad.grad(f), (x,), (v,))[1], H @ v, rtol=1e-14)
    assert np.allclose(pyad.hvp(f, x, v), H @ v, rtol=1e-14)
    assert np.allclose(pyad.vjp(pyad.grad(f), x)[1](v)[0], H @ v, rtol=1e-14)


def test_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = 1, not 2 (Siskind and Pearlmutter)
    assert pyad.grad(lambda x: x * pyad.grad(lambda y: x + y)(1.0))(1.0) == 1.0
    assert pyad.grad(lambda x: pyad.grad(lambda y: x * y)(x))(3.0) == 1.0
    # the inner argument is the outer Var itself
    assert pyad.grad(lambda x: pyad.grad(lambda y: y * y)(x))(3.0) == 2.0


def test_closures_inside_a_transform_are_differentiated():
    assert pyad.grad(lambda y: pyad.grad(lambda x: x * y)(2.0))(3.0) == 1.0
    assert pyad.grad(lambda y: pyad.hessian(lambda x: x * x * y)(2.0))(3.0) == 2.0
    assert pyad.grad(lambda y: pyad.jvp(lambda x: x * y, (2.0,), (1.0,))[1])(3.0) == 1.0


def test_transforms_inside_compile_are_traced():
    f = pyad.compile(lambda x: pyad.grad(lambda y: y**3)(x))
    assert f(2.0) == 12.0 and f.grad(2.0).tolist() == [12.0]
    g = pyad.compile(lambda x: pyad.grad(lambda y: x * y * y)(2.0))  # a closure
    assert g(3.0) == 12.0 and g.grad(3.0).tolist() == [4.0]


def test_nesting_is_per_thread():
    kinds = []
    inside, done = threading.Event(), threading.Event()

    def outer():
        def f(x):
            inside.set()
            done.wait(30)
            return x * x

        pyad.grad(f)(1.0)

    def other():
        inside.wait(30)
        kinds.append(type(pyad.grad(lambda x: x * x)(2.0)))
        done.set()

    run_threads([outer, other])
    assert kinds == [float]


# ---- backward(create_graph=True) ----------------------------------------------------


def test_create_graph_gives_differentiable_grads():
    a, b = Var(3.0), Var(2.0)
    y = a * a * b + pyad.sin(a)
    y.backward(create_graph=True)
    ga, gb = a.grad, b.grad
    assert isinstance(ga, Var) and isinstance(gb, Var)
    assert ga.val == pytest.approx(2 * 3 * 2 + np.cos(3.0), rel=1e-15) and gb.val == 9.0
    a.zero_grad()
    b.zero_grad()
    assert a.grad == 0.0 and type(a.grad) is float
    ga.backward()
    assert a.grad == pytest.approx(2 * 2 - np.sin(3.0), rel=1e-15) and b.grad == 6.0


def test_create_graph_accumulates_as_pytorch():
    x = Var(2.0)
    y = x**3
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert x.grad.val == 24.0
    y.backward()  # a numeric backward adds to a Var gradient
    assert isinstance(x.grad, Var) and x.grad.val == 36.0
    x.grad = 0.0
    assert x.grad == 0.0 and type(x.grad) is float
    z = Var(1.0)
    (z * 5).backward()
    (z * z).backward(create_graph=True)  # onto a numeric gradient
    assert isinstance(z.grad, Var) and z.grad.val == 7.0


def test_create_graph_with_a_var_seed_and_third_order():
    x = Var(0.7)
    y = pyad.sin(x)
    s = Var(2.0)
    y.backward(s, create_graph=True)
    g = x.grad
    assert g.val == pytest.approx(2 * np.cos(0.7), rel=1e-15)
    x.zero_grad()
    g.backward(create_graph=True)
    h = x.grad  # d/dx (s cos x) = -s sin x
    assert h.val == pytest.approx(-2 * np.sin(0.7), rel=1e-15)
    assert s.grad.val == pytest.approx(np.cos(0.7), rel=1e-15)
    x.zero_grad()
    h.backward()
    assert x.grad == pytest.approx(-2 * np.cos(0.7), rel=1e-15)


def test_create_graph_leaves_no_nodes_and_no_entries():
    gc.collect()
    base = pyad.live_nodes()
    for _ in range(3):
        xs = [Var(float(i)) for i in range(5)]
        y = pyad.sum([x * x * x for x in xs]) * xs[0]
        y.backward(create_graph=True)
        grads = [x.grad for x in xs]
        assert all(isinstance(g, Var) for g in grads)
        assert len(var_module.graph_grads) >= 5  # and y's own
        del xs, y, grads
        gc.collect()
        assert pyad.live_nodes() == base
        assert not var_module.graph_grads


def test_create_graph_entry_dies_with_its_var_and_its_handle_is_reused_clean():
    a = Var(2.0)
    (a * a).backward(create_graph=True)
    h = a._h
    del a
    var_module.release_dead()
    b = Var(5.0)  # may reuse the handle
    assert b.grad == 0.0 and type(b.grad) is float
    assert h not in var_module.graph_grads


def test_ctrl_c_at_any_moment_leaves_no_stale_gradient_entry(tmp_path):
    """SIGALRM every ~50 us raises KeyboardInterrupt anywhere in a loop that
    makes create_graph gradients and lets their Vars die. A gradient entry
    left behind would be read as the gradient of the next Var given its
    handle (a wrong answer, silently), so every Var made afterwards must
    read a numeric 0.0, and once every Var is gone, so is every entry."""
    from hostile import run_interrupted

    run_interrupted(
        tmp_path,
        """
        import pyad
        from pyad import var

        def rep():
            try:
                xs = [pyad.Var(0.1 * i) for i in range(4)]
                y = pyad.sum([pyad.sin(x) * x for x in xs])
                y.backward(create_graph=True)
                xs[1].grad * xs[2]
            finally:  # an interrupt here is caught by the harness
                fresh = [pyad.Var(1.0) for _ in range(8)]
                assert all(type(v.grad) is float and v.grad == 0.0 for v in fresh)
        """,
        "rep",
        """
        _gc.collect()
        var.release_dead()
        assert not var.graph_grads, len(var.graph_grads)
        """,
    )


def test_ctrl_c_at_any_moment_of_transforms_loses_no_node(tmp_path):
    """The calls that make many nodes at once (the leaves of a transform,
    an array ufunc recorded in one call, a nested gradient) give them to
    Vars made before the C call, so an interrupt as it returns loses none;
    and the transforms' per-thread state (nesting depth, watched inputs)
    cannot be left behind. Afterwards the transforms give exact floats and
    every node is freed."""
    from hostile import run_interrupted

    run_interrupted(
        tmp_path,
        """
        import math
        import numpy as np
        import pyad

        x = np.array([0.1, 0.2, 0.3])
        f = lambda v: (np.sin(v * v) * v).sum()
        third = pyad.grad(pyad.grad(pyad.grad(lambda t: t * t * t * t)))

        def rep():
            return pyad.grad(f)(x), third(0.5), pyad.hessian(f)(x)
        """,
        "rep",
        """
        g, t3, H = rep()
        want = [math.sin(a * a) + 2 * a * a * math.cos(a * a) for a in x]
        assert np.allclose(g, want, rtol=1e-14, atol=0) and t3 == 24 * 0.5, (g, t3)
        assert type(t3) is float  # not nested: no transform's depth left behind
        assert H.shape == (3, 3)
        del g, t3, H
        """,
    )


def test_transforms_do_not_leak_nodes():
    gc.collect()
    base = pyad.live_nodes()
    x = np.linspace(0.1, 1.0, 6)
    f = lambda v: (np.exp(v[1:] * v[:-1]) / (1 + v[:-1] ** 2)).sum()  # noqa: E731
    for _ in range(2):
        pyad.hessian(f)(x)
        pyad.hvp(f, x, x)
        pyad.jvp(f, (x,), (x,))
        pyad.vjp(f, x)[1](1.0)
        pyad.jacobian(pyad.grad(f))(x)
        pyad.grad(pyad.grad(lambda t: t**4))(0.5)
    gc.collect()
    assert pyad.live_nodes() == base
