"""Compiled functions over dask arrays, on the local schedulers (issue 13):
every entry point returns lazy dask arrays whose computed values are bit
for bit those of the numpy call of the whole batch, whatever the chunking;
numbers and numpy arrays broadcast against dask arrays; pyad stays free of
dask until a dask array is passed. The cluster tests are in
test_dask_cluster.py."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pyad

dask = pytest.importorskip("dask")  # the test extra installs it (pyad[dask])
da = pytest.importorskip("dask.array")
from dask.callbacks import Callback  # noqa: E402


def branchy(x, y):
    if x > 0:
        return x * pyad.sin(y) + pyad.exp(-x * y)
    return pyad.log1p(x * x) * y - x


def as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def assert_bits(lazy, eager):
    """lazy holds dask arrays only; computed, they equal eager bit for bit."""
    lazy, eager = as_tuple(lazy), as_tuple(eager)
    assert len(lazy) == len(eager)
    assert all(isinstance(a, da.Array) for a in lazy)
    got = dask.compute(*lazy, scheduler="threads")
    for a, b in zip(got, eager):
        assert a.shape == b.shape and a.dtype == np.float64
        assert np.array_equal(a, b)


X = np.linspace(-2.0, 2.0, 101)
Y = np.cos(np.arange(101.0))


@pytest.mark.parametrize("chunks", [(101, 101), (10, 10), (7, 13), (1, 50)])
def test_every_entry_point_without_a_signature_is_bit_identical(chunks):
    f = pyad.compile(branchy)
    dx, dy = da.from_array(X, chunks=chunks[0]), da.from_array(Y, chunks=chunks[1])
    v = np.array([0.5, -2.0])
    for name in ["__call__", "grad", "value_and_grad", "jacobian", "value_and_jacobian",
                 "hessian"]:  # fmt: skip
        assert_bits(getattr(f, name)(dx, dy), getattr(f, name)(X, Y))
    for name in ["hvp", "jvp"]:
        assert_bits(getattr(f, name)(dx, dy, v), getattr(f, name)(X, Y, v))
    w = np.array([3.0])
    assert_bits(f.vjp(dx, dy, w), f.vjp(X, Y, w))
    # per point directions, as a dask array chunked differently again
    V = np.stack([Y, X], axis=1)
    assert_bits(f.hvp(dx, dy, da.from_array(V, chunks=(9, 1))), f.hvp(X, Y, V))
    assert f.traces == 2  # both branches, traced once each


def test_numbers_and_numpy_arrays_broadcast_against_dask_arrays():
    f = pyad.compile(branchy)
    dx = da.from_array(X, chunks=17)
    assert_bits(f(dx, 0.25), f(X, 0.25))
    assert_bits(f.value_and_grad(dx, Y), f.value_and_grad(X, Y))  # numpy batch + dask
    assert_bits(f.grad(1.5, da.from_array(Y, chunks=30)), f.grad(1.5, Y))
    assert f.grad(dx, Y).chunks == ((17,) * 5 + (16,), (2,))


def test_several_outputs():
    g = pyad.compile(lambda x, y: (x * y, x + y, pyad.exp(x) / y))
    dx, dy = da.from_array(X, chunks=20), da.from_array(Y, chunks=25)
    for name in ["__call__", "jacobian", "value_and_jacobian"]:
        assert_bits(getattr(g, name)(dx, dy), getattr(g, name)(X, Y))
    t, w = np.array([1.0, 2.0]), np.array([1.0, -1.0, 0.5])
    assert_bits(g.jvp(dx, dy, t), g.jvp(X, Y, t))
    assert_bits(g.vjp(dx, dy, w), g.vjp(X, Y, w))


def test_signatures_with_several_loop_dimensions_and_chunked_cores():
    def chain(a):
        if a[0] > 0:
            return (a[1:] * a[:-1] ** 2).sum()
        return (pyad.sin(a) * a).sum()

    h = pyad.compile(chain, signature="(n)->()")
    A = np.random.default_rng(0).normal(size=(6, 5, 4))
    dA = da.from_array(A, chunks=(4, 2, 3))  # the core axis in two chunks: made one
    for name in ["__call__", "grad", "value_and_grad", "hessian"]:
        assert_bits(getattr(h, name)(dA), getattr(h, name)(A))
    W = np.random.default_rng(1).normal(size=(5, 4))  # broadcast over the first loop axis
    assert_bits(h.hvp(dA, W), h.hvp(A, W))
    assert h.grad(dA).chunks == ((4, 2), (2, 2, 1), (4,))

    k = pyad.compile(lambda a, b: a * b.sum(), signature="(n),(k)->(n)")
    B = np.arange(10.0).reshape(5, 2)
    assert_bits(k(dA, da.from_array(B, chunks=(3, 1))), k(A, B))
    assert_bits(k.jacobian(dA, B), k.jacobian(A, B))  # a tuple of blocks per argument


def test_results_are_lazy_and_dask_never_calls_pyad_on_a_probe():
    f = pyad.compile(branchy)
    f(1.0, 2.0)  # traced: no point needs computing to shape the results
    computed = []

    def source(block):
        computed.append(block.shape)
        return block

    dx = da.from_array(X, chunks=50).map_blocks(source, meta=np.empty(0))
    v, g = f.value_and_grad(dx, 0.5)
    w = (g[:, 0] * 2 + v).sum()  # further dask work on the lazy results
    assert computed == [] and w.dtype == np.float64
    got = dask.compute(v, g, w, scheduler="sync")
    assert np.array_equal(got[0], f(X, 0.5)) and np.array_equal(got[1], f.grad(X, 0.5))
    assert sorted(computed) == [(1,), (50,), (50,)]  # each chunk once, nothing else


def test_the_first_call_traces_at_the_first_point():
    f = pyad.compile(lambda x: pyad.sqrt(x) * 2)
    r = f.grad(da.from_array(X[X > 0], chunks=10))
    assert f.traces == 1
    assert np.array_equal(r.compute(), f.grad(X[X > 0]))


def test_errors_of_the_numpy_call_are_raised_when_building():
    f = pyad.compile(branchy)
    with pytest.raises(TypeError, match="dtype float64"):
        f(da.ones(4, dtype=np.float32, chunks=2), 1.0)
    with pytest.raises(ValueError, match="same length"):
        f(da.ones(4, chunks=2), np.ones(3))
    with pytest.raises(ValueError, match="1-D"):
        f(da.ones((4, 2), chunks=2), 1.0)
    with pytest.raises(TypeError, match="sparse=True"):
        f.hessian(da.ones(4, chunks=2), 1.0, sparse=True)


def test_errstate_and_the_global_batch_point():
    f = pyad.compile(lambda x: pyad.log(x) * x)
    x = np.linspace(1.0, 2.0, 60)
    x[37] = 0.0
    with pyad.errstate(divide="raise"):
        lazy = f(da.from_array(x, chunks=8))  # the errstate of the call travels
        with pytest.raises(FloatingPointError) as local:
            f(x)
    with pytest.raises(FloatingPointError, match="at batch point 37$") as remote:
        lazy.compute(scheduler="threads")  # computed outside the with: still raises
    assert str(remote.value) == str(local.value)
    assert np.isnan(f(da.from_array(x, chunks=8)).compute()[37])  # -inf * 0: not raised outside


class _Spans(Callback):
    """The (start, end) of every pyad task, from dask's own hooks."""

    def __init__(self):
        super().__init__()
        self.spans, self._began, self._lock = [], {}, threading.Lock()

    def _pretask(self, key, dsk, state):
        with self._lock:
            self._began[key] = time.perf_counter()

    def _posttask(self, key, result, dsk, state, worker_id):
        with self._lock:
            if "pyad" in str(key):
                self.spans.append((self._began.pop(key), time.perf_counter()))


def test_the_threaded_scheduler_runs_chunks_at_once():
    # 4 chunks of a long function on 2 threads: the replay of one chunk
    # holds no GIL, so two chunks' tasks overlap in time
    def long(x):
        for _ in range(40):
            x = pyad.sin(x) + 0.5 * x
        return x

    f = pyad.compile(long)
    x = np.linspace(0.0, 1.0, 400_000)
    expected = f(x)
    with _Spans() as spans:
        got = f(da.from_array(x, chunks=100_000)).compute(scheduler="threads", num_workers=2)
    assert np.array_equal(got, expected)
    s = sorted(spans.spans)
    assert len(s) >= 4
    assert any(b[0] < a[1] for a, b in zip(s, s[1:]))  # some task began before another ended


def test_importing_pyad_does_not_import_dask():
    code = (
        "import sys, numpy as np, pyad\n"
        "f = pyad.compile(lambda x: x * 2)\n"
        "f(np.ones(3)); f.grad(1.0); f.hvp(np.ones(2), np.ones(1))\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_half_imported_dask_is_no_dask_array():
    # a worker thread may call pyad while another thread imports dask.array:
    # its module is in sys.modules before it defines Array
    code = (
        "import sys, types, numpy as np, pyad\n"
        "sys.modules['dask.array'] = types.ModuleType('dask.array')\n"
        "sys.modules['dask.array.core'] = types.ModuleType('dask.array.core')\n"
        "f = pyad.compile(lambda x: x * 2)\n"
        "assert f(np.ones(3)).tolist() == [2.0, 2.0, 2.0]\n"
        "assert f.value_and_grad(np.ones(2))[1].tolist() == [[2.0], [2.0]]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_blocks_that_are_not_aligned_are_copied_before_c_reads_them():
    # a block unpickled from a network frame may start at an odd byte; C
    # reads doubles at 8-byte boundaries (UBSan, under .ci/sanitize, checks)
    raw = np.zeros(8 * X.size + 1, np.uint8)
    odd = np.frombuffer(raw[1:].data, np.float64)
    odd[:] = X
    assert not odd.flags.aligned
    f = pyad.compile(branchy)
    dx = da.from_array(odd, chunks=30)
    t = np.array([1.0, 0.5])
    assert_bits(f.jvp(dx, Y, t), f.jvp(X, Y, t))
    assert_bits(f.value_and_grad(dx, 0.5), f.value_and_grad(X, 0.5))
