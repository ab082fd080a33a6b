"""Compiled.__call__'s fast path (one C call for 1-4 float arguments and
one output, pyad_program_value*): whatever the arguments, it must answer as
the general path does."""

import math

import numpy as np
import pytest

import pyad
from pyad import Var


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_fast_and_general_paths_agree(n):
    def fn(*xs):
        s = xs[0]
        for x in xs[1:]:
            s = s * pyad.sin(x) + x
        return pyad.exp(s * 0.1)

    f = pyad.compile(fn)
    pts = [[0.1 * (i + 1) * (k + 1) for i in range(n)] for k in range(5)]
    for p in pts:
        v = f(*p)
        assert type(v) is float
        assert v == f.value_and_grad(*p)[0]
        assert v == f(*[np.array([x]) for x in p])[0]  # the batch path
        assert v == f(*[int(x) if x == int(x) else x for x in p])


def test_guards_are_checked_on_the_fast_path():
    f = pyad.compile(lambda x, y: x * y if x > 0 else x - y)
    assert f(2.0, 3.0) == 6.0
    assert f(-2.0, 3.0) == -5.0  # the guard of the first trace misses
    assert f(2.5, 2.0) == 5.0 and f(-1.0, 1.0) == -2.0
    assert f.traces == 2


def test_nan_values_and_errstate_go_the_general_way():
    f = pyad.compile(lambda x: pyad.log(x))
    assert f(1.0) == 0.0
    assert math.isnan(f(-1.0))
    with pyad.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError, match="log"):
            f(-1.0)
    with pyad.errstate(divide="raise"):
        with pytest.raises(FloatingPointError, match="divide"):
            f(0.0)
    assert f(0.0) == -math.inf


def test_vars_and_other_arguments_are_not_taken_as_floats():
    f = pyad.compile(lambda x, y: x * y)
    f(1.0, 2.0)
    a = Var(3.0)
    y = f(a, 2.0)  # eager: a Var, differentiable
    assert isinstance(y, Var) and y.val == 6.0
    y.backward()
    assert a.grad == 2.0
    assert f(np.float64(2.0), 3.0) == 6.0
    assert f(True, 3.0) == 3.0
    with pytest.raises(TypeError):
        f("1", 2.0)
    with pytest.raises(TypeError):
        f(1.0)


@pytest.mark.parametrize("n", [1, 3, 7])
def test_value_and_grad_fast_path_agrees_with_batches_and_eager(n):
    """value_and_grad of float arguments goes straight to the most recent
    trace; a guard that misses there re-traces, errstate still raises."""

    def fn(*xs):
        s = xs[0]
        for x in xs[1:]:
            s = s * pyad.sin(x) + x
        return s * s if s > 0 else -s

    f = pyad.compile(fn)
    for sign in (1.0, -1.0, 1.0):
        p = [sign * 0.3 * (i + 1) for i in range(n)]
        v, g = f.value_and_grad(*p)
        vb, gb = f.value_and_grad(*[np.array([x]) for x in p])
        assert type(v) is float and v == vb[0] and g.shape == (n,)
        assert np.array_equal(g, gb[0])
        ev, eg = pyad.value_and_grad(fn, argnums=tuple(range(n)))(*p)
        assert v == ev and np.array_equal(g, np.array(eg))
    assert f.traces == 2
    h = pyad.compile(lambda x: pyad.log(x))
    h.value_and_grad(1.0)
    with pyad.errstate(divide="raise"), pytest.raises(FloatingPointError):
        h.value_and_grad(0.0)
