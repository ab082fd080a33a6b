"""Bad input (issue 5): each kind of bad input gets a clean exception with a
useful message and leaves the tape as it was. docs/bad-input.md is the
table of these; each row names its test here or in test_errors.py /
test_compile.py."""

import math

import numpy as np
import pytest
from support import tape_state

import pyad
from pyad import Var
from pyad._lib import lib


def _ghost(h):
    """A Var whose handle was tampered with."""
    g = object.__new__(Var)
    g._h = h
    return g


# ---- tampered handles --------------------------------------------------------

NEGATIVE_HANDLE_CALLS = {
    "unary": lambda g: pyad.exp(g),
    "neg": lambda g: -g,
    "abs": lambda g: abs(g),
    "add": lambda g: g + 1.0,
    "radd": lambda g: 1.0 + g,
    "mul_vv": lambda g: g * Var(2.0),
    "sum_vars": lambda g: pyad.sum([g, g]),
    "sum_mixed": lambda g: pyad.sum([g, 1.0]),
    "where_mixed": lambda g: pyad.where(g, 1.0, 2.0),
    "lt_mixed": lambda g: pyad.lt(g, 0.0),
    "backward": lambda g: g.backward(),
    "zero_grad": lambda g: g.zero_grad(),
    "is_leaf": lambda g: g.is_leaf,
}


@pytest.mark.parametrize("call", sorted(NEGATIVE_HANDLE_CALLS))
@pytest.mark.parametrize("h", [-1, -2, -(2**63)])
def test_negative_handle_is_invalid_not_a_constant(call, h):
    """A negative handle is not a node: every op refuses it. (pyad_unary,
    and n-ary ops with a constant operand, used to take it for the
    constant 0.0 and record exp(0.0) = 1.0.)"""
    g = _ghost(h)
    before = tape_state()
    with pytest.raises(pyad.InvalidHandleError):
        NEGATIVE_HANDLE_CALLS[call](g)
        pyad.live_nodes()  # ops are buffered: the error may surface at the sync
    assert tape_state() == before
    del g
    assert tape_state() == before


def test_negative_handle_c_entry_points():
    exp = pyad.optable.CODE["exp"]
    for h in (-1, -3, -(2**63)):
        assert lib.pyad_unary(exp, h) == lib.PYAD_ERR_HANDLE
        assert lib.pyad_binary(pyad.optable.CODE["add"], h, h) == lib.PYAD_ERR_HANDLE


@pytest.mark.parametrize("bad", [None, "3", 2**70, -(2**70), 1.5])
def test_non_int_handle_does_not_lose_the_release_batch(bad):
    """A Var whose _h was tampered to something that is not an int64 dies
    in the same release batch as honest Vars: they are still freed (the
    whole batch of up to 256 handles used to be dropped, leaking their
    nodes, and live_nodes() raised TypeError)."""
    start = tape_state()
    g = _ghost(bad)
    with pytest.raises((TypeError, OverflowError, pyad.InvalidHandleError)):
        pyad.exp(g)
        pyad.live_nodes()  # ops are buffered: the error may surface at the sync
    vs = [Var(float(i)) for i in range(300)]
    ys = [v * 2.0 for v in vs[:50]]
    del g, vs, ys
    assert tape_state() == start
    assert (Var(2.0) * 3.0).val == 6.0


# ---- nan operands under errstate ------------------------------------------------

NAN_OPS = {
    "relu": lambda x: pyad.relu(x),
    "sigmoid": lambda x: pyad.sigmoid(x),
    "softplus": lambda x: pyad.softplus(x),
    "lt": lambda x: pyad.lt(x, 1.0),
    "le": lambda x: pyad.le(1.0, x),
    "gt": lambda x: pyad.gt(x, x),
    "ge": lambda x: pyad.ge(x, 0.0),
    "where": lambda x: pyad.where(x, 1.0, x),
    "log": lambda x: pyad.log(x),
    "add": lambda x: x + 1.0,
}


@pytest.mark.parametrize("name", sorted(NAN_OPS))
def test_quiet_nan_operand_is_not_an_error_under_errstate(name):
    """A nan operand propagates without raising, even with
    errstate(invalid='raise'), as log(nan) and nan + 1 always did and as
    numpy's comparisons do: the comparisons inside relu, sigmoid, lt/le/
    gt/ge and where now use the quiet C macros (isgreater, ...), which do
    not raise FE_INVALID on a nan. Eager and compiled alike."""
    fn = NAN_OPS[name]
    f = pyad.compile(fn)
    f(0.5)
    with pyad.errstate(all="raise"):
        y = fn(Var(math.nan))
        v = f(math.nan)
        vb = f(np.array([math.nan, 0.25]))
    want = fn(Var(math.nan)).val
    assert (math.isnan(y.val) and math.isnan(v) and math.isnan(vb[0])) or (
        y.val == v == vb[0] == want
    )
    with pyad.errstate(invalid="raise"):  # a real invalid op still raises
        with pytest.raises(FloatingPointError):
            pyad.sqrt(Var(-1.0))


IEEE = {
    "log(0)": (lambda: pyad.log(Var(0.0)), -math.inf),
    "log(-1)": (lambda: pyad.log(Var(-1.0)), math.nan),
    "1/0": (lambda: 1.0 / Var(0.0), math.inf),
    "-1/0": (lambda: -1.0 / Var(0.0), -math.inf),
    "0/0": (lambda: Var(0.0) / 0.0, math.nan),
    "sqrt(-1)": (lambda: pyad.sqrt(Var(-1.0)), math.nan),
    "exp(1000)": (lambda: pyad.exp(Var(1000.0)), math.inf),
    "inf-inf": (lambda: Var(math.inf) - math.inf, math.nan),
    "nan*0": (lambda: Var(math.nan) * 0.0, math.nan),
    "0**-1": (lambda: Var(0.0) ** -1.0, math.inf),
    "(-8)**(1/3)": (lambda: Var(-8.0) ** (1.0 / 3.0), math.nan),
    "sin(inf)": (lambda: pyad.sin(Var(math.inf)), math.nan),
    "sigmoid(-1000)": (lambda: pyad.sigmoid(Var(-1000.0)), 0.0),
    "softplus(1000)": (lambda: pyad.softplus(Var(1000.0)), 1000.0),
}


@pytest.mark.parametrize("case", sorted(IEEE))
def test_domain_errors_without_errstate_give_ieee_results(case):
    thunk, want = IEEE[case]
    y = thunk()
    assert (math.isnan(y.val) and math.isnan(want)) or y.val == want
    y.backward()  # and backward runs
