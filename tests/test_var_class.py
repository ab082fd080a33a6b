"""pyad.Var is made in C without GC support (csrc/pyvar.c, @exact_var in
pyad/_lib.py): it reads as its class statement does, its instances carry no
GC header, subclasses still work, and every Var that dies gives its handle
back, whatever its class does in __del__, and drops its create_graph
gradient in C."""

import gc
import inspect
import pickle
import sys

import pytest

import pyad
from pyad import Var
from pyad import var as var_module
from pyad._lib import VarBase, exact_var, set_graph_grads, sync


def live_after_gc():
    gc.collect()
    sync()
    return pyad.live_nodes()


def test_the_class_reads_as_its_class_statement():
    assert Var.__module__ == "pyad.var" and Var.__qualname__ == "Var"
    assert Var is var_module.Var and pyad.Var is Var
    assert Var.__bases__ == (VarBase,)
    assert Var.__doc__.startswith("A scalar that records")
    assert "def backward" in inspect.getsource(Var)
    assert pickle.loads(pickle.dumps(Var)) is Var
    assert Var.val.__doc__.startswith("The value")
    a = Var(3.0)
    assert type(a) is Var and type(a * a) is Var and type(-a) is Var
    assert (a * a + 1.0).val == 10.0


def test_instances_have_no_gc_header_and_are_not_tracked():
    a = Var(2.0)
    for v in (a, a * a, a + 1.0, 2.0 / a, -a, pyad.exp(a), Var(1.0)):
        assert not gc.is_tracked(v)
        # getsizeof adds the GC header of GC objects: none here
        assert sys.getsizeof(v) == VarBase.__basicsize__


def test_ops_of_many_vars_leave_no_nodes():
    base = live_after_gc()
    xs = [Var(float(i)) for i in range(300)]
    y = xs[0]
    for x in xs[1:]:
        y = y * 0.5 + x * x
    y.backward()
    assert xs[3].grad != 0.0
    del xs, y, x
    assert live_after_gc() == base


class Sub(Var):
    pass


class SubWithDel(Var):
    deaths = 0

    def __del__(self):  # replaces the C finalizer: the dealloc still queues the handle
        SubWithDel.deaths += 1


def test_subclasses_record_and_give_their_handles_back():
    base = live_after_gc()
    s, d = Sub(2.0), SubWithDel(3.0)
    assert gc.is_tracked(s)  # a class statement's instances have GC
    y = s * d + s
    y.backward()
    assert (s.grad, d.grad) == (4.0, 2.0)
    deaths = SubWithDel.deaths
    del s, d, y
    assert live_after_gc() == base
    assert SubWithDel.deaths == deaths + 1


def test_a_dying_var_drops_its_gradient_entry_in_c():
    a = Var(1.0)
    b = a * 2.0
    h = b._h
    var_module.graph_grads[h] = Var(7.0)
    other = object()
    var_module.graph_grads[-5] = other  # not a handle: left alone
    try:
        del b
        assert h not in var_module.graph_grads
        assert var_module.graph_grads[-5] is other
    finally:
        var_module.graph_grads.pop(-5, None)
    del a
    assert not var_module.graph_grads


def test_dropping_the_gradient_keeps_a_pending_exception_and_loses_no_handle():
    base = live_after_gc()
    a = Var(1.0)
    with pytest.raises(KeyError):
        try:
            raise KeyError("kept")
        finally:
            v = a * 3.0
            var_module.graph_grads[v._h] = a * 4.0
            del v  # its entry goes while the KeyError is being raised
    assert not var_module.graph_grads
    del a
    assert live_after_gc() == base


def test_set_graph_grads_checks_its_argument():
    with pytest.raises(TypeError):
        set_graph_grads(3)
    with pytest.raises(TypeError):  # a subclass could run Python on deletion
        set_graph_grads(type("D", (dict,), {})())
    old = set_graph_grads(None)
    try:
        assert old is var_module.graph_grads
        assert set_graph_grads(None) is None
    finally:
        set_graph_grads(old)


def test_exact_var_refuses_a_class_with_fields():
    class WithField(VarBase):
        __slots__ = ("extra",)

    with pytest.raises(TypeError):
        exact_var(WithField)
