"""pyad.dot: one n-ary node for sum(w * x) (+ bias)."""

import math

import pytest

import pyad
from pyad import Var


def test_value_and_gradient_match_the_scalar_expression():
    ws = [Var(0.5), Var(-1.25), Var(2.0)]
    xs = [Var(3.0), 4.0, Var(-0.75)]
    b = Var(0.125)
    y = pyad.dot(ws, xs, b)
    y.backward()
    w2 = [Var(w.val) for w in ws]
    x2 = [Var(x.val) if isinstance(x, Var) else x for x in xs]
    b2 = Var(b.val)
    z = w2[0] * x2[0] + w2[1] * x2[1] + w2[2] * x2[2] + b2
    z.backward()
    assert y.val == z.val
    assert [w.grad for w in ws] == [w.grad for w in w2]
    assert xs[0].grad == x2[0].grad and xs[2].grad == x2[2].grad
    assert b.grad == b2.grad == 1.0


def test_one_node_whatever_the_length():
    ws = [Var(float(i)) for i in range(50)]
    before = pyad.live_nodes()
    y = pyad.dot(ws, [Var(1.0)] * 50)
    assert pyad.live_nodes() - before == 2  # the shared Var(1.0) and the dot
    del y


def test_without_bias_and_with_numbers_only():
    assert pyad.dot([1, 2], [3, 4]) == 11.0
    assert pyad.dot([1.5], [2.0], 1.0) == 4.0
    assert pyad.dot([], []) == 0.0
    y = pyad.dot([], [], Var(2.0))
    assert isinstance(y, Var) and y.val == 2.0


def test_mismatched_lengths_and_bad_operands():
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        pyad.dot([Var(1.0), Var(2.0)], [1.0])
    with pytest.raises(TypeError, match="str"):
        pyad.dot([Var(1.0)], ["a"])


def test_ieee_and_errstate():
    assert math.isnan(pyad.dot([Var(math.inf)], [0.0]).val)
    before = pyad.live_nodes()
    with pyad.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="dot"):
        pyad.dot([Var(math.inf)], [0.0])
    assert pyad.live_nodes() == before


def test_compiled_replay_equals_eager():
    def f(a, b, c):
        return pyad.dot([a, b, c], [c, a, 2.0], b)

    g = pyad.compile(f)
    for point in [(1.0, 2.0, 3.0), (-0.5, 0.25, 7.0)]:
        leaves = [Var(p) for p in point]
        y = f(*leaves)
        y.backward()
        v, grads = g.value_and_grad(*point)
        assert v == y.val
        assert grads.tolist() == [x.grad for x in leaves]


def test_gradcheck():
    assert pyad.gradcheck(lambda a, b, c: pyad.dot([a, b], [c, a], b), 0.3, 0.7, -1.1)
