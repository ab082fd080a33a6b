"""The C entry points of the higher-order section of pyad.h as a hostile
caller sees them: bad buffers and patterns give statuses, guards and the
error mode behave as for replay, allocation failures are clean, weights
leave outputs out, colourings are valid, threads agree bit for bit."""

import math

import numpy as np
import pytest
from hostile import run_threads
from support import tape_state

import pyad
from pyad._lib import ffi, lib
from pyad.frozen import Frozen, freeze
from pyad.sparsity import Pattern


def program(fn, n, at=0.5):
    xs = [pyad.Var(at) for _ in range(n)]
    out = fn(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    return freeze(xs, outs), xs, outs


def dbl(a):
    return ffi.from_buffer("double[]", a)


def i64(a):
    return ffi.from_buffer("int64_t[]", np.ascontiguousarray(a, dtype=np.int64))


def i32(a):
    return ffi.from_buffer("int32_t[]", np.ascontiguousarray(a, dtype=np.int32))


def test_bad_buffers_give_statuses():
    f, _, _ = program(lambda a, b: a * b + pyad.sin(a), 2)
    p, info = f.ptr, ffi.new("pyad_fail_info *")
    x, v, out = np.ones(2), np.ones(2), np.empty(2)
    W = f.work_size
    work = ffi.new("double[]", W)
    args = lib.PYAD_ERR_ARGS
    assert lib.pyad_program_hvp(ffi.NULL, dbl(x), ffi.NULL, dbl(v), ffi.NULL, ffi.NULL, dbl(out),
                                work, W, info) == args  # fmt: skip
    assert lib.pyad_program_hvp(p, ffi.NULL, ffi.NULL, dbl(v), ffi.NULL, ffi.NULL, dbl(out),
                                work, W, info) == args  # fmt: skip
    assert lib.pyad_program_hvp(p, dbl(x), ffi.NULL, dbl(v), ffi.NULL, ffi.NULL, dbl(out),
                                work, W - 1, info) == args  # fmt: skip
    assert lib.pyad_program_jvp(p, dbl(x), ffi.NULL, ffi.NULL, dbl(out), work, W, info) == args
    assert lib.pyad_program_vjp(p, dbl(x), ffi.NULL, ffi.NULL, ffi.NULL, work, W, info) == args
    assert lib.pyad_program_hessian(p, dbl(x), ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL, info) == args
    nf = ffi.new("size_t *")
    fail = ffi.new("uint8_t[4]")
    assert lib.pyad_program_jvp_batch(p, ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL, 0, 1, ffi.NULL,
                                      dbl(out), fail, nf, info) == args  # fmt: skip
    cols = ffi.new("double *[]", [dbl(x), dbl(x)])
    st = ffi.new("size_t[]", [0, 0])
    assert lib.pyad_program_vjp_batch(p, cols, st, ffi.NULL, ffi.NULL, 2, 1, ffi.NULL,
                                      dbl(out), fail, nf, info) == args  # fmt: skip
    assert lib.pyad_program_so_work_size(ffi.NULL) == 0


def test_bad_patterns_and_colourings_are_refused():
    f, _, _ = program(lambda a, b, c: a * b + b * c, 3)
    p = f.hessian_pattern()
    assert p.to_dense().tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    info = ffi.new("pyad_fail_info *")
    x, out = np.ones(3), np.empty(16)

    def call(row_ptr, col, color, n_colors, nnz=None):
        nnz = len(col) if nnz is None else nnz
        return lib.pyad_program_hessian_sparse(f.ptr, dbl(x), ffi.NULL, i64(row_ptr), i64(col),
                                               nnz, i32(color), n_colors, ffi.NULL, ffi.NULL,
                                               dbl(out), info)  # fmt: skip

    good = (p.row_ptr, p.col, p.color, p.n_colors)
    assert call(*good) == 0 and out[:4].tolist() == [1.0, 1.0, 1.0, 1.0]
    bad = [
        ([0, 1, 3, 5], [1, 0, 2, 1], [0, 1, 0], 2),  # row_ptr[-1] != nnz
        ([0, 1, 3, 4], [1, 2, 0, 1], [0, 1, 0], 2),  # columns not increasing
        ([0, 1, 3, 4], [1, 0, 3, 1], [0, 1, 0], 2),  # a column out of range
        ([0, 1, 3, 4], [1, 0, 2, 1], [0, 0, 0], 1),  # two columns of one colour in a row
        ([0, 1, 3, 4], [1, 0, 2, 1], [0, 1, 2], 2),  # a colour out of range
        ([0, 1, 2, 3], [1, 0, 1], [0, 1, 0], 2),  # not symmetric
        ([1, 1, 3, 4], [1, 0, 2, 1], [0, 1, 0], 2),  # row_ptr[0] != 0
    ]
    for b in bad:
        assert call(*b) == lib.PYAD_ERR_ARGS, b
    n = ffi.new("size_t *")
    assert lib.pyad_sparsity_color(3, 3, i64([0, 2, 1, 3]), i64([0, 1, 2]), 3, i32([0, 0, 0]),
                                   n) == lib.PYAD_ERR_ARGS  # fmt: skip


def test_patterns_count_then_fill():
    f, _, _ = program(lambda a, b: (a * b, pyad.exp(a)), 2)
    nnz = ffi.new("size_t *")
    assert lib.pyad_program_jacobian_sparsity(f.ptr, ffi.NULL, ffi.NULL, 0, nnz) == 0
    assert nnz[0] == 3
    row_ptr, col = np.empty(3, np.int64), np.empty(3, np.int64)
    assert lib.pyad_program_jacobian_sparsity(f.ptr, i64(row_ptr), i64(col), 2, nnz) == (
        lib.PYAD_ERR_ARGS
    )
    rp = ffi.new("int64_t[3]")
    cp = ffi.new("int64_t[3]")
    assert lib.pyad_program_jacobian_sparsity(f.ptr, rp, cp, 3, nnz) == 0
    assert list(rp) == [0, 2, 3] and list(cp) == [0, 1, 0]
    # the Hessian of output 0 alone, of output 1 alone
    w = ffi.new("double[]", [1.0, 0.0])
    assert lib.pyad_program_hessian_sparsity(f.ptr, w, rp, cp, 3, nnz) == 0 and nnz[0] == 2
    w = ffi.new("double[]", [0.0, 1.0])
    assert lib.pyad_program_hessian_sparsity(f.ptr, w, rp, cp, 3, nnz) == 0 and nnz[0] == 1


def test_guards_of_compiled_traces():
    c = pyad.compile(lambda x, y: x * x * y if x > 0 else -x * y)
    c(1.0, 2.0)
    f = Frozen(c._traces[0])
    assert f.hvp(np.array([2.0, 1.0]), np.array([1.0, 0.0]))[2].tolist() == [2.0, 4.0]
    with pytest.raises(pyad.GuardMissError):
        f.hvp(np.array([-2.0, 1.0]), np.array([1.0, 0.0]))
    with pytest.raises(pyad.GuardMissError):
        f.hessian(np.array([-2.0, 1.0]))
    X = np.array([[1.0, 1.0], [-1.0, 1.0], [3.0, 2.0]])
    for kind in ("hvp", "jvp", "vjp", "hessian", "hessian_sparse", "jacobian_fwd"):
        st, info, fail, out = f.batch(kind, X, v=np.ones(2))
        assert st == 0 and fail.tolist() == [0, 1, 0], kind
    st, info, fail, out = f.batch("hessian", X)
    assert out["hessians"][2].tolist() == [[4.0, 6.0], [6.0, 0.0]]


def test_error_mode_reports_the_op_and_the_first_point():
    f, _, _ = program(lambda a, b: pyad.sqrt(a) * b, 2, at=1.0)
    with pyad.errstate(invalid="raise"):
        with pytest.raises(pyad.PyadFloatingPointError, match="sqrt"):
            f.hvp(np.array([-1.0, 1.0]), np.ones(2))
        with pytest.raises(FloatingPointError):
            f.hessian(np.array([-1.0, 1.0]), method="dense")
        X = np.array([[1.0, 1.0], [4.0, 1.0], [-1.0, 1.0], [-2.0, 1.0]])
        st, info, _, _ = f.batch("hvp", X, v=np.ones(2), workers=2)
        assert st == lib.PYAD_ERR_INVALID and info[0] == 2
        st, info, _, _ = f.batch("hessian", X)
        assert st == lib.PYAD_ERR_INVALID and info[0] == 2
    # without the error mode: nan, no error; the sqrt(0) partial is +inf
    assert math.isnan(f.hvp(np.array([-1.0, 1.0]), np.ones(2))[0][0])


def test_zero_weights_leave_outputs_out():
    f, _, _ = program(lambda a, b: (a * a * b, pyad.sqrt(a) * b), 2, at=1.0)
    x = np.array([0.0, 2.0])  # output 1 has an infinite partial at a = 0
    H = f.hessian(x, w=np.array([1.0, 0.0]), method="dense")[2]
    assert H.tolist() == [[4.0, 0.0], [0.0, 0.0]]
    assert f.hvp(x, np.ones(2), w=np.array([1.0, 0.0]))[2].tolist() == [4.0, 0.0]
    assert np.isnan(f.hessian(x, method="dense")[2]).any()  # both outputs: nan
    st, _, _, out = f.batch("hessian", np.array([x, x]), w=np.array([1.0, 0.0]))
    assert st == 0 and out["hessians"][0].tolist() == [[4.0, 0.0], [0.0, 0.0]]


def test_allocation_failures_are_clean():
    f, _, _ = program(lambda a, b, c: pyad.exp(a * b) * c + b * c, 3)
    x = np.array([0.1, 0.2, 0.3])
    want = f.hessian(x, method="sparse")[2]
    ok = 0
    for k in range(40):
        f2 = freeze(*program(lambda a, b, c: pyad.exp(a * b) * c + b * c, 3)[1:])
        lib.pyad_debug_fail_alloc_after(k)
        try:
            got = f2.hessian(x, method="sparse")[2]
            st, _, _, out = f2.batch("hvp", np.array([x, x]), v=np.ones(3))
        except MemoryError:
            continue
        finally:
            lib.pyad_debug_fail_alloc_after(-1)
        if st == 0:
            assert np.array_equal(got, want)
            ok += 1
    assert ok > 0


def test_leaves_all_or_nothing():
    before = tape_state()
    buf = ffi.new("int64_t[]", 3)
    lib.pyad_debug_fail_alloc_after(0)
    try:
        st = lib.pyad_leaves(ffi.new("double[]", [1.0, 2.0, 3.0]), 3, buf)
    finally:
        lib.pyad_debug_fail_alloc_after(-1)
    assert st in (0, lib.PYAD_ERR_NOMEM)
    if st == 0:
        lib.pyad_release_many(buf, 3)
    assert tape_state()[0] == before[0]
    out = ffi.new("double[1]")
    assert lib.pyad_gradient(ffi.new("int64_t[]", [10**9]), ffi.NULL, 1, ffi.NULL, 0, out) == (
        lib.PYAD_ERR_HANDLE
    )
    n = ffi.new("size_t *")
    assert lib.pyad_ancestor_handles(10**9, ffi.NULL, 0, n) == lib.PYAD_ERR_HANDLE


def test_colourings_are_valid_on_random_patterns():
    rng = np.random.default_rng(3)
    for _ in range(30):
        m, n = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        dense = rng.random((m, n)) < rng.uniform(0.02, 0.4)
        row_ptr = np.concatenate([[0], np.cumsum(dense.sum(axis=1))])
        p = Pattern((m, n), row_ptr, np.nonzero(dense)[1])
        for r in range(m):
            cols = p.col[p.row_ptr[r] : p.row_ptr[r + 1]]
            assert len(set(p.color[cols].tolist())) == len(cols)
        assert p.n_colors <= n and (p.n_colors >= dense.sum(axis=1).max(initial=0))


def test_banded_patterns_take_bandwidth_colours():
    for half in (1, 2, 4):
        n = 60
        dense = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= half
        row_ptr = np.concatenate([[0], np.cumsum(dense.sum(axis=1))])
        p = Pattern((n, n), row_ptr, np.nonzero(dense)[1])
        assert p.n_colors == 2 * half + 1


def test_threads_agree_bit_for_bit():
    f, _, _ = program(lambda a, b, c: pyad.tanh(a * b) * pyad.exp(c) / (1 + b * b), 3)
    rng = np.random.default_rng(5)
    X, V = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    want = [f.hvp(X[j], V[j])[2] for j in range(50)]
    results = {}

    def worker(k):
        def run():
            results[k] = [f.hvp(X[j], V[j])[2] for j in range(50)]
            results[k, "b"] = f.batch("hvp", X, v=V, workers=2)[3]["hvs"]

        return run

    run_threads([worker(k) for k in range(4)])
    for k in range(4):
        assert all(np.array_equal(a, b) for a, b in zip(results[k], want))
        assert np.array_equal(results[k, "b"], np.array(want))
