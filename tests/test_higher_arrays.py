"""The object arrays of Vars the transforms pass (pyad._arrays.VarArray):
ufuncs of the registry recorded in bulk give the same nodes, values and
gradients, bit for bit, as numpy's element-by-element object loops."""

import warnings

import numpy as np
import pytest

import pyad
from pyad._arrays import VarArray, var_array
from pyad.optable import OPS


def both(values):
    """The same leaves as a VarArray and as a plain object array."""
    vs = [pyad.Var(float(v)) for v in np.ravel(values)]
    plain = np.empty(len(vs), object)
    plain[:] = vs
    shape = np.shape(values)
    return var_array(vs, shape), plain.reshape(shape), vs


def grads(y, leaves):
    out = []
    for v in leaves:
        v.grad = 0.0
    y.backward()
    out = [v.grad for v in leaves]
    return out


UNARY = [o for o in OPS if o.arity == 1 and o.ufunc and isinstance(getattr(np, o.ufunc), np.ufunc)]
BINARY = [o for o in OPS if o.arity == 2 and o.ufunc and isinstance(getattr(np, o.ufunc), np.ufunc)]


@pytest.mark.parametrize("op", UNARY + BINARY, ids=lambda o: o.name)
def test_bulk_equals_the_object_loop_bit_for_bit(op):
    """Against the op's own pyad function applied element by element (what
    numpy's object loop does through Var's methods and operators)."""
    uf = getattr(np, op.ufunc)
    loop = np.frompyfunc(getattr(pyad, op.name), op.arity, 1)
    rng = np.random.default_rng(1)
    x = np.round(rng.uniform(0.2, 1.8, (2, 3)), 3)
    va, plain, leaves = both(x)
    with np.errstate(all="ignore"):
        if op.arity == 1:
            a, b = uf(va), loop(plain)
        else:  # with a float array, a number and each other
            a = uf(va, x[::-1]) * uf(2.0, va) + uf(va, va)
            b = loop(plain, x[::-1]) * loop(2.0, plain) + loop(plain, plain)
    assert isinstance(a, VarArray) and a.shape == b.shape == (2, 3)
    for u, w in zip(a.flat, b.flat):
        assert np.array_equal(u.val, w.val, equal_nan=True)
    sa, sb = pyad.sum(list(a.flat)), pyad.sum(list(b.flat))
    assert np.array_equal(grads(sa, leaves), grads(sb, leaves), equal_nan=True)


def test_broadcasting_mixed_elements_and_sum():
    va, plain, leaves = both([1.0, 2.0, 3.0])
    mixed = var_array([leaves[0], 5.0, leaves[2]], (3,))
    y = (va[:, None] * mixed[None, :] + 1.0).sum()
    z = (plain[:, None] * np.array([leaves[0], 5.0, leaves[2]], object)[None, :] + 1.0).sum()
    assert y.val == z.val
    assert grads(y, leaves) == grads(z, leaves)
    assert va.sum(axis=0).val == 6.0 and va.reshape(3, 1).sum(axis=1).shape == (3,)
    assert np.sum(va).val == 6.0


def test_positive_keeps_the_vars_and_comparisons_fall_back():
    va, _, leaves = both([1.0, -2.0])
    assert all(u is v for u, v in zip(np.positive(va), leaves))
    assert (va > 0).tolist() == [True, False]
    assert np.where(va > 0, va, 0.0)[0] is leaves[0]


def test_errstate_names_the_failing_element():
    va, _, _ = both([4.0, -1.0, 9.0])
    n = pyad.live_nodes()
    with pyad.errstate(invalid="raise"):
        with pytest.raises(pyad.PyadFloatingPointError, match=r"sqrt\(-1\.0\)"):
            np.sqrt(va)
    assert pyad.live_nodes() == n  # all or nothing
    assert np.isnan(np.sqrt(va)[1].val)


def test_no_numpy_warning_from_partials():
    """pow's partial at a zero base computes log(0): its divide flag is not
    the value's, and no numpy warning comes out of a transform."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = pyad.grad(lambda x: ((1 - x) ** 2).sum())(np.ones(3))
    assert g.tolist() == [0.0, 0.0, 0.0]


def test_rosenbrock_records_fewer_nodes_with_the_same_gradient():
    x = np.linspace(-1.0, 1.0, 20)

    def rosen(v):
        return (100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2).sum()

    va, plain, leaves = both(x)
    n0 = pyad.live_nodes()
    ya = rosen(va)
    na = pyad.live_nodes() - n0
    with np.errstate(all="ignore"):
        yb = rosen(plain)
    nb = pyad.live_nodes() - n0 - na
    assert na == nb - 17  # one sum node instead of 18 adds
    assert ya.val == yb.val and grads(ya, leaves) == grads(yb, leaves)
