"""The fast batch path (pyad.fastbatch: 1-D float64 arrays of one length
and floats, the most recent trace) must answer bit for bit as the general
path (calls.py, replay.py, columns.py) does, and hand everything unusual
to it: guards that miss (re-tracing), raising error modes, other argument
forms, wrong lengths."""

import contextlib

import numpy as np
import pytest

import pyad
from pyad import fastbatch, pool


@contextlib.contextmanager
def general_only(monkeypatch):
    """Every call inside takes the general path."""
    with monkeypatch.context() as m:
        m.setattr(fastbatch, "batch", lambda *args: None)
        yield


@pytest.fixture
def taken(monkeypatch):
    """Per fastbatch.batch call: whether it answered (False: fell back)."""
    seen = []
    real = fastbatch.batch

    def spy(*args):
        res = real(*args)
        seen.append(res is not None)
        return res

    monkeypatch.setattr(fastbatch, "batch", spy)
    return seen


def same(a, b):
    """Equal bit for bit, with the same types, shapes and strides."""
    assert type(a) is type(b)
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
        return
    if isinstance(a, np.ndarray):
        assert (a.dtype, a.shape, a.strides) == (b.dtype, b.shape, b.strides)
        assert a.tobytes() == b.tobytes()
        return
    assert np.float64(a).tobytes() == np.float64(b).tobytes()


def fn(a, b, c):
    return pyad.sin(a) * pyad.exp(b * 0.5) + pyad.tanh(c) / (1.0 + a * a) + pyad.log(1.0 + c * c)


def both(monkeypatch, f, method, *xs, **kw):
    """(fast, general) results of f.method(*xs, **kw)."""
    call = getattr(f, method) if method != "__call__" else f
    fast = call(*xs, **kw)
    with general_only(monkeypatch):
        general = call(*xs, **kw)
    return fast, general


def columns(N, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=N) for _ in range(3)]


@pytest.mark.parametrize("method", ["__call__", "grad", "value_and_grad"])
@pytest.mark.parametrize("workers", [None, 1, 2])
@pytest.mark.parametrize("form", ["arrays", "floats", "one_array"])
def test_fast_path_is_bit_identical_to_the_general_one(monkeypatch, taken, method, workers, form):
    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    a, b, c = columns(300)
    xs = {"arrays": (a, b, c), "floats": (a, 0.25, c), "one_array": (0.5, -1.5, c)}[form]
    kw = {} if workers is None else {"workers": workers}
    fast, general = both(monkeypatch, f, method, *xs, **kw)
    assert taken == [True]
    same(fast, general)
    # and as a non-contiguous copy of the same numbers gives them
    strided = tuple(np.repeat(x, 2)[::2] if isinstance(x, np.ndarray) else x for x in xs)
    same(fast, getattr(f, method)(*strided, **kw))
    assert taken == [True, False]


@pytest.mark.parametrize("N", [0, 1, 2, 3])
def test_tiny_batches(monkeypatch, taken, N):
    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    a, b, c = columns(N, seed=N)
    for method in ("__call__", "grad", "value_and_grad"):
        fast, general = both(monkeypatch, f, method, a, 0.5, c)
        same(fast, general)
    v, g = f.value_and_grad(a, 0.5, c)
    assert v.shape == (N,) and g.shape == (N, 3)
    assert taken == [True] * 4


def test_floats_broadcast_as_arrays_of_them(taken):
    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    a, b, c = columns(257)
    same(f.value_and_grad(a, 0.75, c), f.value_and_grad(a, np.full(257, 0.75), c))
    assert taken == [True, True]


def test_several_outputs(monkeypatch, taken):
    f = pyad.compile(lambda x, y: (x * y, pyad.sin(x) - y))
    f(1.0, 2.0)
    a, b, _ = columns(100)
    fast, general = both(monkeypatch, f, "__call__", a, b)
    assert fast.shape == (100, 2)
    same(fast, general)
    assert taken == [True]
    with pytest.raises(TypeError, match="one output"):
        f.grad(a, b)  # no fast path: the general one says why
    with pytest.raises(TypeError, match="one output"):
        f.value_and_grad(a, b)


def test_a_guard_that_misses_falls_back_and_retraces(monkeypatch, taken):
    def g(x, y):
        return x * pyad.exp(y) if x > 0 else x - pyad.sin(y)

    f, ref = pyad.compile(g), pyad.compile(g)
    f(1.0, 2.0), ref(1.0, 2.0)
    x = np.linspace(-1.0, 1.0, 301)
    y = np.cos(x)
    with general_only(monkeypatch):
        want = ref.value_and_grad(x, y)
    got = f.value_and_grad(x, y)
    assert taken == [False]  # a guard missed on the first trace
    same(got, want)
    assert f.traces == ref.traces == 2 and f.retraces == ref.retraces == 1
    # pointwise, each point's own branch
    for j in (0, 150, 151, 300):
        assert got[0][j] == f(float(x[j]), float(y[j]))
    taken.clear()  # (a float call that C's own fast path cannot answer asks too)
    # the most recent trace now misses on the other points: again fallback
    same(f(x, y), ref(x, y))
    assert f.traces == 2
    assert taken == [False, False]
    # points that all take the first branch: the other trace is in front,
    # so the general path runs (and brings theirs to the front), then the
    # fast one
    pos = x[x > 0].copy()
    first = f.grad(pos, 0.5)
    again = f.grad(pos, 0.5)
    assert taken == [False, False, False, True]
    same(first, again)
    with general_only(monkeypatch):
        same(again, f.grad(pos, 0.5))


def test_errstate_raising_inside_a_batch(monkeypatch, taken):
    f = pyad.compile(lambda x, y: pyad.log(x) * y)
    f(1.0, 2.0)
    x = np.array([1.0, 2.0, 3.0, 0.0, 5.0, 0.0])
    messages = []
    for force in (False, True):
        with contextlib.ExitStack() as stack:
            if force:
                stack.enter_context(general_only(monkeypatch))
            for method in ("__call__", "grad", "value_and_grad"):
                with pyad.errstate(divide="raise"), pytest.raises(FloatingPointError) as e:
                    getattr(f, method)(x, 2.0) if method != "__call__" else f(x, 2.0)
                messages.append((method, type(e.value), str(e.value)))
    assert messages[:3] == messages[3:]
    assert "batch point 3" in messages[0][2]
    assert taken == [False, False, False]
    # outside the errstate: IEEE results, the fast way
    fast, general = both(monkeypatch, f, "value_and_grad", x, 2.0)
    same(fast, general)
    assert np.isneginf(fast[0][3])
    assert taken[-1] is True


def test_workers_share_a_large_batch(monkeypatch, taken):
    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    a, b, c = columns(100_000, seed=3)
    assert pool.participants(100_000, 2, f._traces[0].n_ops) == 2  # really shared
    one = f.value_and_grad(a, b, c)
    for w in (2, 3):
        fast, general = both(monkeypatch, f, "value_and_grad", a, b, c, workers=w)
        same(fast, general)
        same(fast, one)
    assert taken == [True, True, True]


def test_participants_is_one_only_for_a_single_chunk():
    for cost in (1, 13, 500, 1 << 20):
        for N in (2, 255, 256, 257, 5000, 70_000, 10**6):
            for k in (2, 3, 8):
                share = pool._Share(type("J", (), {"N": N, "cost": cost})(), k)
                whole = share.take(0) == (0, N)
                assert (pool.participants(N, k, cost) == 1) == whole
    assert pool.participants(10**6, 1, 1) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda a: np.repeat(a, 2)[::2],  # strided
        lambda a: np.frombuffer(b"\0" + a.tobytes(), np.float64, offset=1),  # unaligned
        lambda a: np.asfortranarray(np.stack([a, a]))[0],  # another layout
        lambda a: a.astype(np.float32).astype(np.float64),  # a converted copy
    ],
)
def test_other_layouts_fall_back_with_the_same_numbers(monkeypatch, taken, make):
    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    a, b, c = columns(64)
    a = a.astype(np.float32).astype(np.float64)
    odd = make(a)
    assert odd.tolist() == a.tolist()
    same(f.value_and_grad(odd, b, c), f.value_and_grad(a, b, c))
    contiguous = odd.flags.c_contiguous and odd.flags.aligned
    assert taken == [contiguous, True]


@pytest.mark.parametrize(
    "xs, workers",
    [
        ((np.zeros(3), np.zeros(4), 1.0), None),  # lengths differ
        ((np.zeros(3), 1.0, np.zeros(2)), 2),
        ((np.zeros(3, np.float32), 1.0, 1.0), None),  # dtype
        ((np.zeros((3, 1)), 1.0, 1.0), None),  # 2-D
        ((np.zeros(3), 1.0), None),  # arity
        ((np.zeros(3), 1.0, "x"), None),  # not a number
        ((np.zeros(3), 1.0, 1.0), 0),  # workers
        ((np.zeros(3), 1.0, 1.0), True),
        ((np.zeros(3), 1.0, 1.0), 1.5),
        ((np.ma.masked_array(np.zeros(3)), 1.0, 1.0), None),
    ],
)
def test_errors_are_the_general_paths(monkeypatch, xs, workers):
    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    for method in ("__call__", "grad", "value_and_grad"):
        call = f if method == "__call__" else getattr(f, method)
        seen = []
        for force in (False, True):
            with contextlib.ExitStack() as stack:
                if force:
                    stack.enter_context(general_only(monkeypatch))
                with pytest.raises((TypeError, ValueError)) as e:
                    call(*xs, workers=workers)
                seen.append((type(e.value), str(e.value)))
        assert seen[0] == seen[1]


@pytest.mark.parametrize("workers", [None, 2])
def test_out_of_memory_in_c_raises_as_the_general_path_does(monkeypatch, taken, workers):
    from pyad._lib import lib

    f = pyad.compile(fn)
    f(0.1, 0.2, 0.3)
    a, b, c = columns(300)
    seen = []
    for force in (False, True):
        with contextlib.ExitStack() as stack:
            if force:
                stack.enter_context(general_only(monkeypatch))
            lib.pyad_debug_fail_alloc_after(0)  # the C replay's first allocation fails
            try:
                with pytest.raises(MemoryError) as e:
                    f.value_and_grad(a, b, c, workers=workers)
            finally:
                lib.pyad_debug_fail_alloc_after(-1)
            seen.append((type(e.value), str(e.value)))
    assert seen[0] == seen[1]
    assert issubclass(seen[0][0], pyad.PyadMemoryError) and "batch replay" in seen[0][1]
    assert taken == []  # raised from the fast path, before it could answer
    same(f.value_and_grad(a, b, c, workers=workers), f.value_and_grad(a, b, c))


def test_the_modules_examples():
    import doctest

    assert doctest.testmod(fastbatch).failed == 0
    assert doctest.testmod(pool).failed == 0
