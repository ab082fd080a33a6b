"""Compiled functions with Python control flow: guards, re-tracing at a
missed guard (point and batch), the trace cache's bound, threads sharing a
compiled function, and where() selecting without guards. (pyad.compile
itself: test_compile.py.)"""

import math

import numpy as np
import pytest
from hostile import run_threads
from program_ref import assert_bits, branchy, eager

import pyad
from pyad import Var

# ---- guards ---------------------------------------------------------------------


def test_guard_retrace_scalar_both_sides():
    f = pyad.compile(branchy)
    for x in [3.0, -2.0, 0.0, -0.0, 5.0, -7.5, math.nan, math.inf]:
        ev, ej = eager(branchy, [x])
        assert_bits(f(x), ev[0], f"at {x}")
        assert_bits(f.grad(x), ej[0], f"grad at {x}")
    assert f.traces == 2  # one per outcome pattern, reused after


def test_guard_retrace_batch():
    f = pyad.compile(branchy)
    f(1.0)  # trace the x > 0 branch only
    xs = np.array([-3.0, 2.0, -0.5, 0.0, 4.0, -1.0, math.nan])
    v, g = f.value_and_grad(xs)
    for i, x in enumerate(xs):
        ev, ej = eager(branchy, [x])
        assert_bits(v[i], ev[0])
        assert_bits(g[i], ej[0])
    assert f.traces == 2
    # both traces cached: a second batch needs no re-trace
    r = f.retraces
    f.value_and_grad(-xs)
    assert f.retraces == r


def test_guard_between_two_vars_and_bool():
    def fn(x, y):
        if x < y:
            z = y - x
        else:
            z = x * y
        if z:  # bool(v): v != 0
            return z * 2.0
        return z + x

    f = pyad.compile(fn)
    pts = [(1.0, 2.0), (2.0, 1.0), (1.0, 1.0), (0.0, 5.0), (3.0, 0.0), (2.0, 2.0)]
    for p in pts:
        ev, ej = eager(fn, p)
        assert_bits(f(*p), ev[0])
        assert_bits(f.grad(*p), ej[0])
    a = np.array([p[0] for p in pts])
    b = np.array([p[1] for p in pts])
    v, g = pyad.compile(fn).value_and_grad(a, b)
    for i, p in enumerate(pts):
        ev, ej = eager(fn, p)
        assert_bits(v[i], ev[0])
        assert_bits(g[i], ej[0])


def test_guard_on_a_var_the_output_does_not_use():
    def fn(x):
        t = x * 3.0 - 1.0  # only decides the branch
        return x if t > 0 else x * x

    f = pyad.compile(fn)
    for x in [1.0, 0.0, -1.0, 0.5, 0.25]:
        ev, ej = eager(fn, [x])
        assert_bits(f.value_and_grad(x)[0], ev[0])
        assert_bits(f.grad(x), ej[0])


def test_float_guard_pins_the_value():
    def fn(x):
        k = math.floor(float(x))  # Python uses the float arbitrarily
        return x * k + k

    f = pyad.compile(fn, cache_size=4)
    pts = [1.5, 1.5, 1.7, 2.5, -0.5, 3.25, 4.0, 1.5, 5.5]
    for x in pts:
        ev, ej = eager(fn, [x])
        assert_bits(f(x), ev[0])
        assert_bits(f.grad(x), ej[0])
    assert f.traces <= 4  # bounded LRU
    xs = np.array(pts)
    v = f(xs)
    assert_bits(v, [eager(fn, [x])[0][0] for x in xs])


def test_lru_bound():
    f = pyad.compile(lambda x: x * float(x))
    for i in range(50):
        f(float(i))
    assert f.traces == 32


def test_threads_share_a_compiled_function():
    f = pyad.compile(branchy)
    xs = [(-1.0) ** i * (i * 0.25) for i in range(200)]
    results = {}

    def work(t):
        def run():
            results[t] = [(x, f(x), f.grad(x)[0]) for x in xs[t::4]]

        return run

    run_threads([work(t) for t in range(4)])  # fails on any error in a thread
    assert sorted(x for out in results.values() for x, _, _ in out) == sorted(xs)
    for out in results.values():
        for x, v, g in out:
            ev, ej = eager(branchy, [x])
            assert_bits(v, ev[0])
            assert_bits(g, ej[0][0])


# ---- where -----------------------------------------------------------------------


def test_where_selects_without_guards():
    def fn(x):
        return pyad.where(pyad.gt(x, 0.0), x * x, -x)

    f = pyad.compile(fn)
    xs = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    v, g = f.value_and_grad(xs)
    assert_bits(v, [4.0 if False else (x * x if x > 0 else -x) for x in xs])
    assert_bits(g[:, 0], [2 * x if x > 0 else -1.0 for x in xs])
    for x in xs:
        ev, ej = eager(fn, [x])
        assert_bits(f(x), ev[0])
        assert_bits(f.grad(x), ej[0])
    assert f.traces == 1 and f.retraces == 0


def test_where_and_comparisons_on_numbers_and_nan():
    assert pyad.where(1.0, 2.0, 3.0) == 2.0
    assert pyad.where(0.0, 2.0, 3.0) == 3.0
    assert pyad.where(math.nan, 2.0, 3.0) == 3.0
    assert pyad.where(-1, 2, 3) == 3.0
    assert pyad.lt(1, 2) == 1.0 and pyad.ge(1, 2) == 0.0
    assert pyad.le(2.0, 2.0) == 1.0 and pyad.gt(math.nan, 0.0) == 0.0
    x = Var(2.0)
    c = pyad.lt(x, 3.0)
    assert isinstance(c, Var) and c.val == 1.0
    y = pyad.where(c, x * 5.0, 7.0)
    y.backward()
    assert y.val == 10.0 and x.grad == 5.0
    assert pyad.gt(1.0, x).val == 0.0
    with pytest.raises(TypeError):
        pyad.where("a", x, 1.0)
    with pytest.raises(TypeError):
        pyad.lt(x, "b")
