"""pyad.Var is made in C without GC support (csrc/pyvar.c, @exact_var in
pyad/_lib.py): it reads as its class statement does, its instances carry no
GC header, subclasses still work, and every Var that dies gives its handle
back, whatever its class does in __del__ and whatever the death hook does."""

import gc
import inspect
import pickle
import sys

import pytest

import pyad
from pyad import Var
from pyad import var as var_module
from pyad._lib import VarBase, exact_var, set_death_hook, sync


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


def test_a_failing_death_hook_loses_no_handle(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))
    base = live_after_gc()
    calls = []

    def hook(h):
        calls.append(h)
        raise RuntimeError("hook")

    old = set_death_hook(hook)
    try:
        a = Var(1.0)
        b = a * 2.0
        h = b._h
        del b
    finally:
        set_death_hook(old)
    assert calls == [h] and seen == [RuntimeError]
    del a
    assert live_after_gc() == base


def test_the_death_hook_keeps_a_pending_exception():
    old = set_death_hook(lambda h: None)
    try:
        with pytest.raises(KeyError):
            try:
                raise KeyError("kept")
            finally:
                v = Var(1.0) * 3.0
                del v  # the hook runs while the KeyError is being raised
    finally:
        set_death_hook(old)


def test_set_death_hook_checks_its_argument():
    with pytest.raises(TypeError):
        set_death_hook(3)
    assert set_death_hook(None) is None


def test_exact_var_refuses_a_class_with_fields():
    class WithField(VarBase):
        __slots__ = ("extra",)

    with pytest.raises(TypeError):
        exact_var(WithField)
