"""+ - * / and unary - as C number slots of VarBase (csrc/pyoper.c): an exact
Var with an exact Var or float records without a Python frame; every other
case goes to record.py's Python methods. Both paths must append the same
record and give the same values and gradients."""

import gc
import operator
import pickle
import sys

import numpy as np
import pytest

import pyad
from pyad import Var, record
from pyad._lib import dead, free, lib, pending, sync
from pyad.optable import CODE

OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
C0, C1 = lib.PYAD_REC_CONST0, lib.PYAD_REC_CONST1


def python_calls(fn):
    """fn()'s result and the names of the Python functions it called. The
    cyclic GC is off meanwhile: a collection that an allocation happens to
    start runs the gc.callbacks other libraries registered (distributed's,
    once the Dask tests have run), which are not fn's calls."""
    names = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name != "<lambda>":
            names.append(frame.f_code.co_name)

    was_enabled = gc.isenabled()
    gc.disable()
    sys.setprofile(profile)
    try:
        r = fn()
    finally:
        sys.setprofile(None)
        if was_enabled:
            gc.enable()
    return r, names


def reserve():
    """Make sure `free` holds handles: the next op takes the fast path."""
    if len(free) < 8:
        pyad.live_nodes()  # syncs and tops the reserve up
    assert len(free) >= 8


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("kinds", ["vv", "vf", "fv"])
def test_the_slot_appends_the_python_paths_record(name, kinds):
    forward, reflected = record.binary(name)  # the Python path, unbound
    a = Var(1.5) if kinds[0] == "v" else 1.5
    b = Var(-2.5) if kinds[1] == "v" else -2.5
    reserve()
    z, calls = python_calls(lambda: OPS[name](a, b))
    assert calls == []  # no Python frame ran
    fast = pending[-1]
    reserve()
    w = forward(a, b) if kinds[0] == "v" else reflected(b, a)
    slow = pending[-1]
    assert type(z) is Var and type(w) is Var
    code = CODE[name] | {"vv": 0, "vf": C1, "fv": C0}[kinds]
    assert fast[0] == slow[0] == code
    h = lambda x: x._h if isinstance(x, Var) else x  # noqa: E731
    assert fast == (code, h(a), h(b), z._h)
    assert slow == (code, h(a), h(b), w._h)
    assert z.val == w.val == OPS[name](1.5, -2.5)
    z.backward()
    g = [x.grad for x in (a, b) if isinstance(x, Var)]
    pyad.zero_grad(*[x for x in (a, b) if isinstance(x, Var)])
    w.backward()
    assert g == [x.grad for x in (a, b) if isinstance(x, Var)]


def test_the_cyclic_gc_does_not_walk_what_the_slots_make():
    a = Var(2.0)
    reserve()
    z = a * 3.0
    assert not gc.is_tracked(z)
    h = z._h
    del z  # its finalizer queues the handle for release, as for any Var
    assert dead[-1] == h


def test_unary_minus_records_neg_without_a_python_frame():
    a = Var(2.0)
    reserve()
    z, calls = python_calls(lambda: -a)
    assert calls == [] and pending[-1] == (CODE["neg"], a._h, 0, z._h)
    z.backward()
    assert (z.val, a.grad) == (-2.0, -1.0)


class Sub(Var):
    __slots__ = ()


@pytest.mark.parametrize(
    "other",
    [2, np.float64(2.0), np.int64(2), np.float32(2.0), True, Var(2.0), Sub(2.0)],
    ids=["int", "f64", "i64", "f32", "bool", "var", "subclass"],
)
@pytest.mark.parametrize("name", list(OPS))
def test_every_other_operand_takes_the_python_path_with_the_same_result(name, other):
    fn = OPS[name]
    a = Var(3.0)
    for left, right in ((a, other), (other, a), (Sub(3.0), other), (other, Sub(3.0))):
        reserve()
        z = fn(left, right)
        assert isinstance(z, Var)
        assert z.val == fn(float(left), float(right))
    # a subclass on either side goes to Python, and the result is a Var
    s = Sub(3.0)
    z, calls = python_calls(lambda: fn(s, 2.0))
    assert type(z) is Var and calls and z.val == fn(3.0, 2.0)
    z, calls = python_calls(lambda: -s)
    assert type(z) is Var and calls and z.val == -3.0


def test_a_subclass_operator_overrides_the_slot():
    class Loud(Var):
        __slots__ = ()

        def __mul__(self, other):
            return "loud"

        __rmul__ = __mul__

    x = Loud(1.0)
    assert x * Var(2.0) == "loud" and Var(2.0) * x == "loud" and 2.0 * x == "loud"
    assert (x + 1.0).val == 2.0


def test_numpy_operands():
    a = Var(2.0)
    assert (np.float64(3.0) * a).val == 6.0 and (a * np.float64(3.0)).val == 6.0
    assert (np.float64(3.0) - a).val == 1.0 and (np.int32(4) / a).val == 2.0
    out = a * np.array([1.0, 2.0])
    assert out.dtype == object and [v.val for v in out] == [2.0, 4.0]
    out = np.array([1.0, 2.0]) - a
    assert out.dtype == object and [v.val for v in out] == [-1.0, 0.0]
    objs = np.array([Var(1.0), Var(3.0)], dtype=object)
    y = (objs * a + 1.0).sum() / a
    y.backward()
    assert y.val == 5.0 and objs[1].grad == 1.0  # (3 + 7) / 2, d/dx1 = a / a
    assert [v.val for v in -objs] == [-1.0, -3.0]
    assert np.multiply(a, 2.0).val == 4.0 and np.negative(a).val == -2.0


def test_non_numbers_raise_or_defer_as_before():
    a = Var(1.0)
    for bad in ("x", None, [1.0], (1.0,), 1j):
        with pytest.raises(TypeError):
            a * bad
        with pytest.raises(TypeError):
            bad - a

    class Other:
        def __rtruediv__(self, other):
            return "other"

        def __add__(self, other):
            return "added"

    assert a / Other() == "other" and Other() + a == "added"
    assert a.__mul__(object()) is NotImplemented
    assert Var.__radd__(a, 2.0).val == 3.0 and Var.__rsub__(a, 2.0).val == 1.0


def test_operator_module_sum_and_methods():
    a, b = Var(2.0), Var(5.0)
    assert operator.mul(a, b).val == 10.0 and operator.neg(a).val == -2.0
    assert Var.__mul__(a, b).val == 10.0 and a.__rtruediv__(1.0).val == 0.5
    s = sum([a, b, a * b])
    s.backward()
    assert (s.val, a.grad, b.grad) == (17.0, 6.0, 3.0)


def test_an_uninitialised_var_raises_and_loses_no_handle():
    a = Var(1.0)
    blank = Var.__new__(Var)
    sync()
    base = pyad.live_nodes()
    for op in list(OPS.values()):
        with pytest.raises(AttributeError):
            op(blank, a)
        with pytest.raises(AttributeError):
            op(1.0, blank)
    with pytest.raises(AttributeError):
        operator.neg(blank)
    assert pyad.live_nodes() == base


def test_direct_mode_raises_at_the_op():
    a, zero = Var(1.0), Var(0.0)
    with pyad.errstate(divide="raise"):
        assert not free
        with pytest.raises(FloatingPointError):
            a / zero
        with pytest.raises(FloatingPointError):
            a / 0.0
        assert (a * 2.0 + a).val == 3.0 and (-a).val == -1.0
    assert (a / 0.0).val == float("inf")


def test_second_order_and_pickling_through_the_slots():
    a = Var(3.0)
    y = a * a * a - a / 2.0
    y.backward(create_graph=True)
    g = a.grad
    assert g.val == 27.0 - 0.5
    a.zero_grad()
    g.backward()
    assert a.grad == 18.0
    b = pickle.loads(pickle.dumps(Var(2.5)))
    assert (b * 2.0).val == 5.0


def test_compiled_functions_trace_through_the_slots():
    f = pyad.compile(lambda x, y: -(x * y) + x / 2.0 - 1.0 * y)
    assert f(2.0, 3.0) == -(6.0) + 1.0 - 3.0
    assert pyad.grad(lambda x: x * x - -x)(3.0) == 7.0
