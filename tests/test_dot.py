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


class _Sub(Var):
    __slots__ = ()


@pytest.mark.parametrize(
    "other",
    [2, 2.0, _Sub(2.0), True],
    ids=["int", "float", "subclass", "bool"],
)
def test_c_read_operands_and_the_general_path_record_the_same_node(other):
    """Lists of exact Vars and floats are read by C (pyad_py_nary); any other
    item sends the whole call to the Python path. Both give the same node."""
    ws = [Var(0.5), Var(-1.5), 3.0]
    xs = [Var(2.0), 0.25, Var(-4.0)]
    fast = pyad.dot(ws, xs, 1.0)  # every item an exact Var or a float
    mixed = pyad.dot(ws, xs, other)  # the bias decides the path
    assert mixed.val == fast.val + (float(other) - 1.0)
    for y in (fast, mixed):
        pyad.zero_grad(*ws[:2], *xs[::2])
        y.backward()
        assert [w.grad for w in ws[:2]] == [2.0, 0.25]
        assert [x.grad for x in xs[::2]] == [0.5, 3.0]
    assert pyad.sum((xs[0], 1.0, xs[0])).val == pyad.sum([xs[0], 1.0, xs[0]]).val == 5.0
    assert pyad.dot([1.0, 2.0], [3.0, 4.0], 0.5) == 11.5  # no Var: a float


def test_a_tampered_handle_in_a_c_read_list_raises_as_before():
    ghost = object.__new__(Var)
    ghost._h = -5
    with pytest.raises(pyad.InvalidHandleError):
        pyad.dot([Var(1.0), ghost], [2.0, 3.0])
    ghost._h = 10**12
    with pytest.raises(pyad.InvalidHandleError):
        pyad.sum([Var(1.0), ghost])
    del ghost._h  # no node: nothing to release
