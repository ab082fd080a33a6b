"""Hostile but legitimate tracing (issue 9, items 2, 5, 10 and 11): traces
that disagree on their signature (re-entrant and concurrent first calls),
impure functions that would re-trace forever, comparisons made by helper
threads, comparisons with big ints, masked arrays. Each class runs in a
subprocess with a timeout (hostile.run_script): a crash, a hang or a
wrong answer fails the test. Plus the C replay entry points' own size
checks (defence in depth)."""

import numpy as np
import pytest
from hostile import run_script

import pyad
from pyad import Var
from pyad._lib import ffi, lib


def test_re_entrant_and_concurrent_traces_of_other_shapes(tmp_path):
    """Before: the arity and output kind were checked outside the lock and
    len(xs) never against n_in, so a re-entrant trace with another arity,
    or two first calls at once, cached traces of different shapes; a batch
    then read past the input pointers (heap-buffer-overflow) or broadcast
    one output into two columns. Now the first trace fixes the signature
    under the lock and every other is a TypeError naming both."""
    out = run_script(
        tmp_path,
        """
import threading
import numpy as np
import pyad

# 1. re-entrant: fn calls the compiled function itself with another arity
f = None
def fn(*xs):
    if len(xs) == 2:
        f(0.5)  # traces f with one argument, inside the trace of two
    return pyad.sum([x * x for x in xs])
f = pyad.compile(fn)
try:
    f(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
except TypeError as e:
    msg = str(e)
    assert "2 arguments -> one value" in msg and "1 argument -> one value" in msg, msg
else:
    raise SystemExit("re-entrant trace of another arity was accepted")
assert f.n_in == 1 and all(t.n_in == 1 for t in f._traces)
assert f(np.array([1.0, 2.0])).tolist() == [1.0, 4.0]

# 2. concurrent first calls: both threads are inside fn at once
for kind in ("arity", "outputs"):
    barrier, entries = threading.Barrier(2, timeout=30), []
    def gn(*xs):
        entries.append(1)
        if len(entries) <= 2:  # the two first calls meet here
            barrier.wait()
        if kind == "arity" or len(xs) == 1 and xs[0].val > 0:
            return pyad.sum(list(xs))
        return (xs[0] * 2.0, xs[0] * 3.0)
    g = pyad.compile(gn)
    calls = [(1.0,), (2.0, 3.0)] if kind == "arity" else [(1.0,), (-1.0,)]
    outcome = {}
    def call(args):
        try:
            outcome[args] = g(*args)
        except TypeError as e:
            outcome[args] = e
    ts = [threading.Thread(target=call, args=(a,)) for a in calls]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    errors = [v for v in outcome.values() if isinstance(v, TypeError)]
    assert len(errors) == 1, (kind, outcome)
    assert "than when first traced" in str(errors[0]) or "takes" in str(errors[0]), errors
    shapes = {(t.n_in, t.n_out) for t in g._traces}
    assert shapes == {(g.n_in, g.n_out)}, (kind, shapes)
    # a batch of the shape that lost is refused, the winner's is right
    for args, v in outcome.items():
        cols = [np.array([a, a]) for a in args]
        if isinstance(v, TypeError):
            try:
                g(*cols)
            except TypeError:
                pass
            else:
                raise SystemExit(f"{kind}: the losing shape was replayed")
        else:
            got = g(*cols)
            assert np.asarray(got).tolist() == [np.asarray(v).tolist()] * 2, (kind, got, v)
print("ok")
""",
    )
    assert out.strip() == "ok"


def test_c_replay_refuses_buffers_of_the_wrong_size():
    """Defence in depth: the C entry points get every buffer's length and
    the number of inputs, and refuse a mismatch before touching memory."""
    f = pyad.compile(lambda x, y: (x * y, x + y))
    f(1.0, 2.0)
    p = f._traces[0].ptr
    x = ffi.new("double[]", [1.0, 2.0])
    v, g = ffi.new("double[2]"), ffi.new("double[4]")
    work = ffi.new("double[]", lib.pyad_program_work_size(p))
    info = ffi.new("pyad_fail_info *")
    ok = lib.PYAD_OK
    assert lib.pyad_program_eval(p, x, 2, v, 2, g, 4, work, len(work), info) == ok
    assert (v[0], v[1]) == (2.0, 3.0)
    for args in ((1, 2, 4), (3, 2, 4), (2, 1, 4), (2, 2, 3)):
        n_x, n_v, n_g = args
        st = lib.pyad_program_eval(p, x, n_x, v, n_v, g, n_g, work, len(work), info)
        assert st == lib.PYAD_ERR_ARGS, args
    cols = [np.linspace(0.0, 1.0, 10), np.linspace(1.0, 2.0, 10)]
    ptrs = ffi.new("double *[]", [ffi.from_buffer("double[]", c) for c in cols])
    stride = ffi.new("size_t[]", [1, 1])
    vals, grads = np.empty(20), np.empty(40)
    fail = np.empty(10, np.uint8)
    vp, gp = ffi.from_buffer("double[]", vals), ffi.from_buffer("double[]", grads)
    fp = ffi.from_buffer("uint8_t[]", fail)
    nf, flag = ffi.new("size_t *"), ffi.new("int *")

    def batch(n_x=2, n_points=10, end=10, n_v=20, n_g=40, n_fail=10):
        return lib.pyad_program_eval_batch(
            p, ptrs, stride, n_x, n_points, 0, end, vp, n_v, gp, n_g, fp, n_fail, nf, info, flag
        )

    assert batch() == ok and vals[18] == 2.0 * 1.0
    for bad in (
        {"n_x": 1},
        {"n_x": 3},
        {"end": 11},
        {"n_v": 19},
        {"n_g": 39},
        {"n_fail": 9},
        {"n_points": 9},
    ):
        assert batch(**bad) == lib.PYAD_ERR_ARGS, bad
    lib.pyad_cancel(flag)  # a raised flag stops the batch at once
    assert batch() == lib.PYAD_ERR_CANCELLED


def test_impure_functions_never_re_trace_forever(tmp_path):
    """Before: a trace that misses its own guards (the function changed a
    Var's .val after comparing it) made a batch call trace forever, and a
    point call raise an "internal error". Now both raise
    ImpureFunctionError, which says why."""
    out = run_script(
        tmp_path,
        """
import numpy as np
import pyad

w = pyad.Var(0.0)
def fn(x):
    y = x * 2.0 if x > w else -x
    w.val = w.val + 10.0  # what the comparison used is not what the trace holds
    return y

for args in ((np.linspace(1.0, 2.0, 50),), (1.0,)):
    w.val = 0.0
    f = pyad.compile(fn)
    try:
        f(*args)
    except pyad.ImpureFunctionError as e:
        assert "not pure in its Var values" in str(e), e
    else:
        raise SystemExit(f"no error for {args!r}")
    assert f.traces == 0  # the bad trace is not kept
print("ok")
""",
        timeout=60,
    )
    assert out.strip() == "ok"


def test_comparisons_in_helper_threads_are_guards(tmp_path):
    """A comparison on a traced Var made by a helper thread (a pool the
    traced function uses) is a guard like any other: before, it was not
    recorded and the replay took the wrong branch silently. Comparisons
    other threads make on their own, unrelated Vars are not guards."""
    out = run_script(
        tmp_path,
        """
import concurrent.futures, threading
import numpy as np
import pyad

pool = concurrent.futures.ThreadPoolExecutor(2)
def fn(x):
    positive = pool.submit(lambda: x > 0).result()
    return x * 2.0 if positive else -x

f = pyad.compile(fn)
assert f(1.0) == 2.0
assert f(-3.0) == 3.0, f(-3.0)
assert f(np.array([-1.0, 4.0])).tolist() == [1.0, 8.0]
assert f.traces == 2

# unrelated comparisons in another thread while tracing: not guards
stop = threading.Event()
def busy():
    mine = pyad.Var(1.0)
    while not stop.is_set():
        mine.val = mine.val + 1.0  # compared, then changed: not f's business
        mine > 5.0
t = threading.Thread(target=busy)
t.start()
g = pyad.compile(lambda x: pyad.sum([x * float(i) for i in range(2000)]))
for i in range(5):
    g(float(i))
stop.set()
t.join()
assert g.traces == 1 and g._traces[0].n_guards == 0
print("ok")
""",
    )
    assert out.strip() == "ok"


def test_big_int_comparisons_are_exact_and_masked_arrays_refused(tmp_path):
    """Var comparisons with ints (and Fractions) are exact, as Python's
    float-int comparisons are, and compiled guards keep them exact; a
    masked array is refused rather than losing its mask."""
    out = run_script(
        tmp_path,
        """
import fractions
import numpy as np
import pyad
from pyad import Var

assert Var(2.0**53) < 2**53 + 1
assert not Var(2.0**53) > 2**53 + 1
assert Var(1.0) < 10**400 and Var(1.0) > -(10**400)
assert not Var(float("inf")) < 10**400 and Var(float("inf")) > 10**400
tenth = fractions.Fraction(1, 10)  # the double 0.1 is 1/10 + 5.55e-18
assert Var(0.1) > tenth and Var(0.1) < tenth + fractions.Fraction(1, 10**17)
assert Var(2.0**53) < np.int64(2**53 + 1)

big = 2**53 + 1
f = pyad.compile(lambda x: x * 2.0 if x < big else -x)
for x in (2.0**53, 2.0**53 + 2.0, 1.0, float("inf")):
    want = x * 2.0 if x < big else -x
    assert f(x) == want, (x, f(x), want)
g = pyad.compile(lambda x: x + 1.0 if x > 10**400 else x - 1.0)
assert g(1e308) == 1e308 - 1.0 and g(float("inf")) == float("inf")
xs = np.array([2.0**53, 2.0**53 + 2.0])
assert f(xs).tolist() == [2.0**54, -(2.0**53 + 2.0)]

m = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
try:
    f(m)
except TypeError as e:
    assert "masked" in str(e), e
else:
    raise SystemExit("masked array accepted")
print("ok")
""",
    )
    assert out.strip() == "ok"


def test_var_comparisons_with_numbers_of_every_kind():
    """In-process companion of the test above: every real type compares
    exactly, non-reals give NotImplemented (TypeError)."""
    x = Var(0.5)
    assert x < 1 and x > 0 and x <= 0.5 and x >= np.float32(0.5)
    assert x > np.int8(0) and x < np.uint64(2**64 - 1)
    assert (x < True) and not (x < False)
    with pytest.raises(TypeError):
        x < "1"  # noqa: B015
    with pytest.raises(TypeError):
        x < 1j  # noqa: B015
