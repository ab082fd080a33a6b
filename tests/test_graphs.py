"""Graph shapes: very deep chains, exponentially many paths, wide fan-in and
fan-out, interleaved independent graphs."""

import math
import time

from support import tape_state

import pyad
from pyad import Var


def test_million_op_chain():
    start = tape_state()[0]
    x = Var(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + x
    assert y.val == 1_000_001.0
    y.backward()  # no recursion: one loop in C
    assert x.grad == 1_000_001.0
    del y  # freeing is iterative too
    assert tape_state()[0] == start + 1
    del x
    assert tape_state()[0] == start


def test_deep_chain_of_functions_gradient():
    """200,000 nested tanh/sin: the gradient is the product of the local
    derivatives, computed alongside in plain floats (forward mode)."""
    x = Var(0.3)
    y, fy, dy = x, 0.3, 1.0
    for _ in range(100_000):
        y = pyad.sin(y) * 0.999 + 0.001 * x
        dy = math.cos(fy) * 0.999 * dy + 0.001
        fy = math.sin(fy) * 0.999 + 0.001 * 0.3
    assert y.val == fy
    y.backward()
    assert math.isclose(x.grad, dy, rel_tol=1e-9)


def _square_plus_self(n, y0):
    y0v = Var(y0)
    y = y0v
    for _ in range(n):
        y = y * y + y  # y used twice: 2^n paths to y0
    return y0v, y


def _forward_mode(n, y0):
    y, d = y0, 1.0
    for _ in range(n):
        y, d = y * y + y, (2 * y + 1) * d
    return y, d


def test_exponentially_many_paths_take_linear_time():
    for n in (100, 200):
        t = time.perf_counter()
        leaf, y = _square_plus_self(n, -0.3)
        y.backward()
        elapsed = time.perf_counter() - t
        want_y, want_d = _forward_mode(n, -0.3)
        assert y.val == want_y
        assert math.isclose(leaf.grad, want_d, rel_tol=1e-12)
        assert elapsed < 1.0  # 2^100 path walks would never end
    # and it stays linear at scale: 2^20000 paths
    t = time.perf_counter()
    leaf, y = _square_plus_self(20_000, -0.3)
    y.backward()
    assert time.perf_counter() - t < 10.0
    want_y, want_d = _forward_mode(20_000, -0.3)
    assert y.val == want_y
    assert math.isclose(leaf.grad, want_d, rel_tol=1e-9)


def test_repeated_backward_from_shared_graph_is_linear():
    leaf, y = _square_plus_self(5_000, -0.3)
    t = time.perf_counter()
    for _ in range(200):
        y.backward()
    assert time.perf_counter() - t < 10.0
    _, d = _forward_mode(5_000, -0.3)
    assert math.isclose(leaf.grad, 200 * d, rel_tol=1e-9)


def test_wide_fan_in_and_fan_out():
    x = Var(2.0)
    terms = [x * float(i) for i in range(10_000)]  # fan-out of x
    s = pyad.sum(terms)  # one 10,000-way node
    assert s.val == 2.0 * sum(range(10_000))
    s.backward()
    assert x.grad == float(sum(range(10_000)))
    assert all(t.grad == 1.0 for t in terms[::997])


def test_backward_from_interior_node_and_multiple_outputs():
    a, b = Var(1.5), Var(-0.5)
    h = a * b  # shared hidden node
    y1 = pyad.exp(h)
    y2 = h * h
    h.backward()
    assert (a.grad, b.grad) == (-0.5, 1.5)
    assert y1.grad == 0.0 and y2.grad == 0.0  # downstream untouched
    h.zero_grad()  # h, a and b
    assert (a.grad, b.grad, h.grad) == (0.0, 0.0, 0.0)
    y1.backward()
    y2.backward()
    dh = math.exp(-0.75) + 2 * -0.75
    assert math.isclose(a.grad, dh * -0.5, rel_tol=1e-15)
    assert math.isclose(b.grad, dh * 1.5, rel_tol=1e-15)
    assert math.isclose(h.grad, dh, rel_tol=1e-15)


def test_interleaved_independent_graphs():
    """Two graphs built alternately: a sweep of one leaves the other alone."""
    p, q = Var(1.1), Var(2.2)
    yp, yq = p, q
    for _ in range(1000):
        yp = yp * 1.001 + p
        yq = yq * 0.999 - q
    yp.backward()
    assert q.grad == 0.0 and yq.grad == 0.0
    gp = p.grad
    yq.backward()
    assert p.grad == gp
    # d yp / dp: y_{k+1} = 1.001 y_k + p, y_0 = p
    d = 1.0
    for _ in range(1000):
        d = d * 1.001 + 1.0
    assert math.isclose(gp, d, rel_tol=1e-12)


def test_graph_of_constants_only_leaves():
    a = Var(3.0)
    y = 2.0 * a + 1.0
    y = y**2 - 4
    y.backward()
    assert y.val == 45.0 and a.grad == 2 * 7.0 * 2.0
