"""Compiled's C call (csrc/pycall.c: float arguments, at most 16 of them,
one output, the most recent trace replayed with no Python frame): whatever
the arguments, it must answer as the general path (Compiled._call) does."""

import math

import numpy as np
import pytest

import pyad
from pyad import Var


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 16, 17])
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


@pytest.mark.parametrize("n_in", [3, 20])
def test_points_past_the_c_calls_limits_replay_once_in_c(n_in, monkeypatch):
    """More than 1,024 nodes or 16 arguments: the C call declines and
    Compiled._call replays the point with one C call (Program.eval, values
    only), with the bits, guards and errstate of the general path."""
    from pyad.program import Program

    def fn(*xs):
        s = xs[0]
        for i in range(400):
            s = pyad.tanh(s) * xs[i % len(xs)] + 0.5
        return pyad.exp(s + xs[0] * 1000.0) if xs[0] > 0 else -s

    f = pyad.compile(fn)
    pt = [0.1 * (i + 1) for i in range(n_in)]
    evals = []
    real_eval = Program.eval
    monkeypatch.setattr(
        Program, "eval", lambda self, xs, g: evals.append(g) or real_eval(self, xs, g)
    )
    v = f(*pt)
    assert type(v) is float and v == fn(*[Var(x) for x in pt]).val
    assert f(*pt) == v and evals[-1] is False  # the value only
    assert f(*[1] + pt[1:]) == fn(*[Var(x) for x in [1.0] + pt[1:]]).val
    neg = [-x for x in pt]
    assert f(*neg) == fn(*[Var(x) for x in neg]).val and f.traces == 2  # a guard missed
    with pyad.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="overflow"):
            f(*[800.0] + pt[1:])
    assert f(*[800.0] + pt[1:]) == math.inf


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


def test_the_c_call_is_the_class_call_and_defers_everything_else():
    from pyad._lib import CallBase

    f = pyad.compile(lambda x, y: x * y + 1.0)
    for cls in type(f).__mro__:  # no Python __call__ shadows the C one
        assert cls is CallBase or not callable(getattr(vars(cls).get("__call__"), "__code__", None))
    assert f(2.0, 3.0) == 7.0
    assert f(np.float64(2.0), 3.0) == 7.0  # a float subclass: read as a float
    assert f(2, 3) == 7.0
    assert f(True, 3.0) == 4.0  # a bool: the general path
    assert f(2.0, 3.0, workers=1) == 7.0  # a keyword: the general path
    with pytest.raises(TypeError):
        f(2.0)
    with pytest.raises(TypeError):
        f(2.0, 3.0, bogus=1)
    assert f(np.array([1.0, 2.0]), 3.0).tolist() == [4.0, 7.0]


def test_numpy_floats_and_ints_take_the_fast_paths(monkeypatch):
    """numpy.float64 (a float subclass) and ints (not bool) are read as the
    general path reads them, without going through it (~20 us a call);
    bools, ints beyond the doubles and other types still go through it."""
    from pyad.compiled import Compiled

    f = pyad.compile(lambda x, y: pyad.sin(x) * y + x)
    want = {p: (f(*p), f.value_and_grad(*p)) for p in [(0.5, 2.0), (3.0, -2.0)]}

    def general(*args, **kwargs):
        raise AssertionError("the general path was taken")

    monkeypatch.setattr(Compiled, "_call", general)  # f(...) defers to it
    monkeypatch.setattr(Compiled, "_operands", general)  # value_and_grad's
    for (x, y), (v, (vg_v, vg_g)) in want.items():
        for args in [(np.float64(x), np.float64(y)), (np.float64(x), y)]:
            assert f(*args) == v and type(f(*args)) is float
            gv, gg = f.value_and_grad(*args)
            assert gv == vg_v and np.array_equal(gg, vg_g)
    assert f(3, -2) == want[3.0, -2.0][0]
    gv, gg = f.value_and_grad(3, -2)
    assert gv == want[3.0, -2.0][1][0] and np.array_equal(gg, want[3.0, -2.0][1][1])
    for args in [(True, 2.0), (2**1100, 2.0), (np.float32(0.5), 2.0), ("0.5", 2.0)]:
        with pytest.raises(AssertionError, match="general path"):
            f(*args)
        with pytest.raises(AssertionError, match="general path"):
            f.value_and_grad(*args)


def test_no_argument_and_tuple_output_functions():
    f = pyad.compile(lambda: pyad.Var(2.0) * 3.0)
    assert f() == 6.0
    g = pyad.compile(lambda x: (x * 2.0, x + 1.0))
    assert g(3.0) == (6.0, 4.0)


def test_the_c_call_follows_retracing_and_cache_eviction():
    # a new trace becomes the most recent one: the C call must use it, and
    # the evicted program must not be used (its memory is freed)
    f = pyad.compile(lambda x: x * 2.0 if x > 0 else x * 3.0 if x > -1 else x * 4.0, cache_size=1)
    for _ in range(3):
        assert f(1.0) == 2.0
        assert f(-0.5) == -1.5
        assert f(-2.0) == -8.0
    assert f.traces == 1
    import gc

    gc.collect()
    assert f(5.0) == 10.0 and f(-5.0) == -20.0


def test_copies_pickles_and_threads():
    import copy
    import pickle
    import threading

    f = pyad.compile(lambda x, y: pyad.sin(x) * y)
    assert f(1.0, 2.0) == (pyad.sin(Var(1.0)) * 2.0).val
    for g in (copy.copy(f), copy.deepcopy(f), pickle.loads(pickle.dumps(f))):
        assert g(1.0, 2.0) == f(1.0, 2.0)
    del g
    want = [f.value_and_grad(0.1 * i, 2.0)[0] for i in range(2000)]
    out = []

    def work():
        out.append([f(0.1 * i, 2.0) for i in range(2000)] == want)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert out == [True] * 4


VECTORCALL = 1 << 11  # Py_TPFLAGS_HAVE_VECTORCALL (the stable ABI's value since 3.12)


def test_compiled_and_function_are_called_by_vectorcall():
    """pyad.Compiled and pyad.Function are made in C from their Python
    classes (pyad/_lib.py fast_call) so that CPython calls them with no
    argument tuple; every way of calling them answers the same."""
    import functools

    from pyad.compiled import Compiled, Function

    for cls in (Compiled, Function):
        assert cls.__flags__ & VECTORCALL
        assert cls.__name__ == cls.__qualname__ and cls.__module__ == "pyad.compiled"
        assert cls.__doc__ and ">>>" in cls.__doc__  # its doctest is found on it
        assert "value_and_grad" in dir(cls)
    x, y = Var(1.5), Var(-2.0)
    fn = pyad.Function(inputs=[x, y], outputs=pyad.sin(x) * y + x)
    cf = pyad.compile(lambda x, y: pyad.sin(x) * y + x)
    assert isinstance(fn, Function) and isinstance(fn, Compiled) and isinstance(cf, Compiled)
    for f in (fn, cf):
        want = f._call(0.25, 3.0)  # the general path
        assert f(0.25, 3.0) == want
        assert f(*[0.25, 3.0]) == want
        assert f(0.25, 3.0, workers=1) == want  # a keyword: the general path
        assert f.__call__(0.25, 3.0) == want  # tp_call (the slot wrapper)
        assert functools.partial(f, 0.25)(3.0) == want
        assert list(map(f, [0.25, 0.25], [3.0, 3.0])) == [want, want]
        with pytest.raises(TypeError):
            f(0.25, 3.0, 4.0)
        with pytest.raises(TypeError):
            f(0.25, 3.0, bogus=1)


def test_user_subclasses_of_compiled_keep_their_call():
    from pyad.compiled import Compiled

    class Loud(Compiled):
        def __call__(self, *xs):
            return ("loud", super().__call__(*xs))

    class Quiet(Compiled):
        pass

    assert Loud(lambda x: x * 2.0)(3.0) == ("loud", 6.0)
    assert Quiet(lambda x: x * 2.0)(3.0) == 6.0


def test_fast_call_takes_only_callbase_classes_without_a_call():
    from pyad._lib import _fast_call_class, fast_call
    from pyad.compiled import Compiled

    with pytest.raises(TypeError):
        _fast_call_class(int, "x.int")

    class WithCall(Compiled):
        def __call__(self, *xs):
            return None

    with pytest.raises(TypeError, match="defines __call__"):
        fast_call(WithCall)
