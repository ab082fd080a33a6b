"""Allocation failure at every public C entry point that allocates (issue 5).

pyad_debug_fail_alloc_after(n) makes the n-th C allocation from now fail
(tape.c's arrays, scratch of n-ary ops, zero_grad and export, and every
allocation of program.c: pyad_program_new, batch replay). For each entry
point the tests arm n = 0, 1, 2, ... until the call succeeds: every armed
call before that must raise PyadMemoryError (a MemoryError) and leave the
tape exactly as it was (live nodes and tape length); then the library must
keep working: the successful call's results are right, later ops and
backward passes are right, and everything is freed at the end (the
sanitizer run, .ci/sanitize, checks for leaks)."""

import math
import pickle

import numpy as np
import pytest
from support import tape_state

import pyad
from pyad import Var
from pyad._lib import lib
from pyad.program import export as _export

LIMIT = 64  # more allocations than any one call makes


def _raw():
    return lib.pyad_live_nodes(), lib.pyad_tape_length()


def fail_each(call, limit=LIMIT):
    """Arm n = 0, 1, ... until call() succeeds; check each failure. Returns
    (result of the successful call, number of failing n)."""
    tape_state()  # flush dead Vars before counting
    for n in range(limit):
        before = _raw()
        lib.pyad_debug_fail_alloc_after(n)
        try:
            result = call()
        except MemoryError as e:
            assert isinstance(e, pyad.PyadMemoryError), repr(e)
            assert "out of memory" in str(e)
            failed = True
        else:
            failed = False
        finally:
            lib.pyad_debug_fail_alloc_after(-1)
        if not failed:
            return result, n
        # (out of the except block: its traceback held the trace's Vars)
        assert tape_state() == before, n
    pytest.fail(f"still failing after {limit} allocations")


def at_growth_boundary(op):
    """Record op() (keeping results) until the next call would need the
    tape to grow (an armed first allocation fails). Returns the kept."""
    kept = []
    tape_state()
    for _ in range(1 << 21):
        lib.pyad_debug_fail_alloc_after(0)
        try:
            kept.append(op())
        except MemoryError:
            return kept
        finally:
            lib.pyad_debug_fail_alloc_after(-1)
    pytest.fail("the tape never needed to grow")


# ---- eager entry points, at the moment the tape must grow ------------------

X = 0.75
EAGER = {
    "pyad_leaf": (lambda x: Var(X), X, None),
    "pyad_unary": (lambda x: pyad.sin(x), math.sin(X), math.cos(X)),
    "pyad_binary": (lambda x: x * x, X * X, 2 * X),
    "pyad_binary_vc": (lambda x: x - 2.0, X - 2.0, 1.0),
    "pyad_binary_cv": (lambda x: 2.0 / x, 2.0 / X, -2.0 / X / X),
    "pyad_nary": (lambda x: pyad.sum([x, 1.0, x]), 2 * X + 1.0, 2.0),
    "pyad_nary_wide": (lambda x: pyad.sum([x] * 12 + [1.0]), 12 * X + 1.0, 12.0),
    "where": (lambda x: pyad.where(x, x, 3.0), X, 1.0),
}


@pytest.mark.parametrize("name", sorted(EAGER))
def test_eager_entry_point_fails_cleanly_at_every_allocation(name):
    op, value, deriv = EAGER[name]
    start = tape_state()
    x = Var(X)
    kept = at_growth_boundary(lambda: op(x))  # noqa: F821 (pyflakes misreads a later del)
    y, failures = fail_each(lambda: op(x))  # noqa: F821
    assert failures >= 1
    assert y.val == value
    if deriv is not None:
        y.backward()
        assert x.grad == deriv
    # later ops and a backward through everything kept
    total = pyad.sum(kept + [y]) * 1.0
    assert total.val == pytest.approx(value * (len(kept) + 1))
    del kept, y, total, x
    assert tape_state()[0] == start[0]


def test_zero_grad_fails_cleanly():
    a, b = Var(1.0), Var(2.0)
    y = a * b + pyad.sin(a)
    y.backward()
    grads = (a.grad, b.grad)
    before = tape_state()

    def call():
        pyad.zero_grad(y, a)
        return True

    ok, failures = fail_each(call)
    assert ok and failures >= 1
    assert tape_state() == before
    assert (a.grad, b.grad) == (0.0, 0.0)
    y.backward()
    assert (a.grad, b.grad) == grads


def test_export_fails_cleanly():
    x, z = Var(1.5), Var(-0.5)
    y = pyad.exp(x * z) + x
    arrays, failures = fail_each(lambda: _export([x, z], [y]))
    assert failures >= 1
    assert list(arrays["node_op"][:2]) == [lib.PYAD_NODE_INPUT] * 2


# ---- compiled: pyad_program_new, tracing, replay ------------------------------


def fn(x, y):
    return pyad.tanh(x * y) + pyad.sum([x, y, 2.0]) if x > 0 else x - pyad.exp(y)


def eager(x, y):
    vx, vy = Var(x), Var(y)
    out = fn(vx, vy)
    out.backward()
    return out.val, [vx.grad, vy.grad]


def test_first_call_trace_and_program_new_fail_cleanly():
    start = tape_state()
    f = pyad.compile(fn)

    def call():
        return f.value_and_grad(0.5, 2.0)  # noqa: F821 (pyflakes misreads a later del)

    (v, g), failures = fail_each(call)
    # tracing itself needs no new tape memory here; export's scratch and
    # the ~16 allocations of pyad_program_new each fail once
    assert failures >= 15, failures
    ev, eg = eager(0.5, 2.0)
    assert v == ev and list(g) == eg
    assert f.traces == 1
    del f
    assert tape_state()[0] == start[0]


def test_retrace_fails_cleanly_and_keeps_the_cache():
    f = pyad.compile(fn)
    f(0.5, 2.0)
    (v, g), failures = fail_each(lambda: f.value_and_grad(-0.5, 2.0))
    assert failures >= 15
    assert f.traces == 2
    for x in (0.5, -0.5, 3.0, -3.0):
        v, g = f.value_and_grad(x, 2.0)
        ev, eg = eager(x, 2.0)
        assert v == ev and list(g) == eg


@pytest.mark.parametrize("workers", [None, 2])
def test_batch_replay_fails_cleanly(workers):
    f = pyad.compile(fn)
    f(0.5, 2.0)
    f(-0.5, 2.0)
    xs = np.linspace(-2, 2, 301)
    (v, g), failures = fail_each(lambda: f.value_and_grad(xs, 2.0, workers=workers))
    assert failures >= 2
    for i in (0, 100, 150, 151, 300):
        ev, eg = eager(float(xs[i]), 2.0)
        assert v[i] == ev and list(g[i]) == eg
    assert f.traces == 2


def test_batch_first_call_traces_then_replays():
    f = pyad.compile(fn)
    xs = np.array([0.5, -1.0, 2.0])
    vals, failures = fail_each(lambda: f(xs, 1.0))
    assert failures >= 17
    for i, x in enumerate(xs):
        assert vals[i] == eager(float(x), 1.0)[0]


def test_function_fails_cleanly():
    x, z = Var(1.5), Var(-0.5)
    y = (pyad.exp(x * z) + x, x / z)
    F, failures = fail_each(lambda: pyad.Function([x, z], y))
    assert failures >= 15
    v, j = F.value_and_jacobian(2.0, 4.0)
    assert list(v) == [math.exp(8.0) + 2.0, 0.5]


def test_unpickling_fails_cleanly():
    f = pyad.compile(fn)
    f(0.5, 2.0)
    f(-0.5, 2.0)
    data = pickle.dumps(f)
    g, failures = fail_each(lambda: pickle.loads(data))
    assert failures >= 30  # two programs
    assert g.traces == 2
    for x in (0.5, -0.5):
        assert g.value_and_grad(x, 2.0)[0] == eager(x, 2.0)[0]


def test_c_program_new_directly():
    """pyad_program_new with NULL out, then every allocation failing: a
    status, *out left NULL, nothing leaked (LSan in .ci/sanitize)."""
    from pyad._lib import ffi

    assert (
        lib.pyad_program_new(
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            0,
            ffi.NULL,
            0,
            ffi.NULL,
            0,
            ffi.NULL,
            0,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            0,
            ffi.NULL,
        )
        == lib.PYAD_ERR_ARGS
    )
    op = ffi.new("int32_t[]", [lib.PYAD_NODE_INPUT, pyad.optable.CODE["sin"]])
    val = ffi.new("double[]", [0.0, 0.0])
    starts = ffi.new("uint32_t[]", [0, 0, 1])
    args = ffi.new("uint32_t[]", [0])
    ins = ffi.new("uint32_t[]", [0])
    outs = ffi.new("uint32_t[]", [1])
    out = ffi.new("pyad_program **")
    statuses = []
    for n in range(LIMIT):
        lib.pyad_debug_fail_alloc_after(n)
        out[0] = ffi.cast("pyad_program *", 1)
        st = lib.pyad_program_new(
            op,
            val,
            starts,
            2,
            args,
            1,
            ins,
            1,
            outs,
            1,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            0,
            out,
        )
        lib.pyad_debug_fail_alloc_after(-1)
        statuses.append(st)
        if st == lib.PYAD_OK:
            break
        assert st == lib.PYAD_ERR_NOMEM and out[0] == ffi.NULL
    assert statuses[-1] == lib.PYAD_OK and len(statuses) > 10
    p = out[0]
    work = ffi.new("double[]", lib.pyad_program_work_size(p))
    x, v, g = ffi.new("double[]", [0.5]), ffi.new("double[1]"), ffi.new("double[1]")
    info = ffi.new("pyad_fail_info *")
    lib.pyad_debug_fail_alloc_after(0)  # scalar replay does not allocate
    try:
        assert lib.pyad_program_eval(p, x, 1, v, 1, g, 1, work, len(work), info) == 0
    finally:
        lib.pyad_debug_fail_alloc_after(-1)
    assert (v[0], g[0]) == (math.sin(0.5), math.cos(0.5))
    lib.pyad_program_free(p)
