"""Buffered eager recording (pyad/_lib.py, csrc/pybridge.c): ops append a
record to the record buffer (a C array) and C records them in batches. Whatever the timing,
the results must be those of recording each op at once."""

import gc
import math
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from hostile import run_threads

import pyad
from pyad import Var
from pyad._lib import dead, free, lib, pending
from pyad.optable import CODE


def test_values_are_readable_right_after_the_op():
    a = Var(3.0)
    b = a * a + 1.0
    assert pending  # buffered, not yet recorded
    assert b.val == 10.0
    assert not pending  # reading it recorded the batch
    c = pyad.exp(b - 10.0)
    assert c.val == 1.0 and (c > 0.5) and float(c) == 1.0


def test_a_batch_records_the_same_graph_as_direct_calls():
    script = textwrap.dedent("""
        import json
        from pyad import Var, exp, sin, relu, sigmoid, log, cos
        a, b, c = Var(2.0), Var(5.0), Var(-3.0)
        y = relu(log(sin(a * b) - exp(c) + 5.0) ** a / b * cos(c) + sigmoid(a))
        y.backward()
        print(json.dumps([y.val, a.grad, b.grad, c.grad]))
    """)
    outs = []
    for direct in ("0", "1"):
        env = {**os.environ, "PYAD_DIRECT": direct}
        r = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
        )
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]


def test_reserved_handles_are_not_leaked_by_errstate():
    """Entering a raising errstate empties the handle reserve (every op is
    then recorded at once, so that it can raise at the op); the reserved
    handles go back to C instead of being lost."""
    x = Var(1.0)
    for _ in range(3):
        with pyad.errstate(divide="raise"):
            x * 2.0
    pyad.live_nodes()
    base = lib.pyad_live_handles()
    for _ in range(300):
        y = x * 2.0  # takes a reserved handle, the rest are reserved
        with pyad.errstate(divide="raise"):
            y = y + 1.0
    del y
    pyad.live_nodes()
    assert lib.pyad_live_handles() <= base + 2 * 1024


def test_errstate_raises_at_the_op_even_with_ops_buffered():
    x = Var(0.0)
    y = x + 1.0  # buffered
    with pyad.errstate(divide="raise"):
        with pytest.raises(FloatingPointError, match="log"):
            pyad.log(x)
        z = pyad.log(y)  # fine: log(1) = 0
    assert z.val == 0.0 and y.val == 1.0


class _ReadsOnCollect:
    """Reads a Var's value from __del__, which the GC may run inside any
    allocation, including the record tuple of an op."""

    seen: list[float] = []

    def __init__(self, v):
        self.v = v
        self.cycle = self

    def __del__(self):
        self.seen.append(self.v.val + 0.0)


def test_a_value_read_during_garbage_collection_inside_an_op():
    gc.collect()
    old = gc.get_threshold()
    gc.set_threshold(1, 1, 1)  # collect at nearly every allocation
    try:
        x = Var(2.0)
        acc = x
        for _ in range(2000):
            _ReadsOnCollect(acc)  # garbage in a cycle: collected later
            acc = acc * 1.0001 + 0.5
        want = 2.0
        for _ in range(2000):
            want = want * 1.0001 + 0.5
        assert math.isclose(acc.val, want, rel_tol=1e-12)
    finally:
        gc.set_threshold(*old)
        gc.collect()
    assert len(_ReadsOnCollect.seen) >= 1000


def test_threads_record_and_read_at_once():
    """Threads record into the one buffer and read values (which syncs it)
    while another thread enters and leaves a raising errstate (which moves
    recording between buffered and direct): every value is right."""
    errors = []
    stop = threading.Event()

    def worker(seed):
        def run():
            x = Var(float(seed))
            y = x
            for i in range(3000):
                y = y * 0.5 + 1.0
                if i % 97 == 0 and not (abs(y.val - 2.0) < abs(seed) + 2.0):
                    errors.append((seed, i, y.val))
            want = float(seed)
            for _ in range(3000):
                want = want * 0.5 + 1.0
            assert y.val == want
            y.backward()
            assert x.grad == 0.5**3000

        return run

    def toggler():
        while not stop.is_set():
            with pyad.errstate(over="raise"):
                Var(1.0) * 2.0

    t = threading.Thread(target=toggler)
    t.start()
    try:
        run_threads([worker(s) for s in range(-3, 4)])
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors


def test_the_buffer_gives_back_each_record_as_appended():
    a = Var(1.5)
    pyad.live_nodes()  # empty buffer, full reserve
    assert len(pending) == 0 and not pending
    b = a * 2.0
    c = 4.0 - b
    d = -c
    assert len(pending) == 3
    assert pending[0] == (CODE["mul"] | lib.PYAD_REC_CONST1, a._h, 2.0, b._h)
    assert pending[1] == (CODE["sub"] | lib.PYAD_REC_CONST0, 4.0, b._h, c._h)
    assert pending[-1] == pending[2] == (CODE["neg"], c._h, 0, d._h)
    with pytest.raises(IndexError):
        pending[3]
    assert d.val == -1.0 and not pending


@pytest.mark.parametrize(
    "record",
    [(1,), "not a tuple", (1.5, 0, 0, 0), ("mul", 0, 0, 0), (1, 0, 0, "out")],
    ids=["short", "str", "float code", "str code", "str out"],
)
def test_a_malformed_record_is_refused_at_the_sync_and_the_rest_recorded(record):
    a = Var(2.0)
    pyad.live_nodes()
    b = a * a
    pending.append(record)
    c = b + 1.0
    assert pending[1][0] == -1 or pending[1][3] == -1  # kept as a refused record
    with pytest.raises(pyad.PyadError):
        pyad.live_nodes()
    assert not pending and (b.val, c.val) == (4.0, 5.0)
    c.backward()
    assert a.grad == 4.0


def test_the_operators_are_bound_to_a_record_buffer_only():
    with pytest.raises(ValueError, match="not an operator of the fast path"):
        Var._bind_operator("mul", 3, lambda a, b: a, lambda a, b: a, [])


def test_handle_stacks_behave_as_lists_of_int64():
    s = type(dead)()  # a new, empty HandleStack (free and dead are two)
    assert len(s) == 0 and not s and list(s) == []
    s.append(5)
    s.extend([7, 2**70, None, -3])  # what is not an int64 is the handle -1
    s.append("x")
    assert list(s) == [5, 7, -1, -1, -3, -1] and s[-1] == -1 and len(s) == 6
    assert s.pop() == -1 and s.pop() == -3 and len(s) == 4
    s.extend(s)  # as a list does: doubled, not forever
    assert list(s) == [5, 7, -1, -1] * 2
    t = type(dead)()
    t.extend(s)
    assert list(t) == list(s)
    s.clear()
    with pytest.raises(IndexError):
        s.pop()
    with pytest.raises(IndexError):
        s[0]


def test_a_var_without_a_handle_queues_nothing_when_it_dies():
    pyad.live_nodes()
    n = len(dead)
    g = object.__new__(Var)  # no __init__: no handle, no node
    assert not hasattr(g, "_h")
    del g
    assert len(dead) == n
    g = object.__new__(Var)
    g._h = -(2**63)  # tampered: not a handle, kept as -1, never as "none"
    assert g._h == -1
    del g._h
    assert not hasattr(g, "_h")
    g._h = 10**15
    assert g._h == 10**15
    del g
    assert dead[-1] == 10**15  # C ignores a handle it does not know
    pyad.live_nodes()


def test_dead_vars_are_released_at_the_next_sync():
    start = pyad.live_nodes()
    vs = [Var(float(i)) * 2.0 for i in range(5000)]
    assert pyad.live_nodes() >= start + 10_000
    del vs
    assert dead  # queued, not yet released
    assert pyad.live_nodes() == start


def test_the_reserve_is_topped_up_in_blocks():
    pyad.live_nodes()
    assert len(free) >= 512
    n = len(free)
    x = Var(1.0)
    for _ in range(n + 10):
        x = x + 1.0
    assert x.val == n + 11.0


def test_ctrl_c_at_any_moment_of_eager_recording(tmp_path):
    """SIGINT every ~50 us lands anywhere: inside an op between taking a
    handle and appending its record, inside the sync, inside a finalizer.
    Whatever is interrupted, the Vars that exist afterwards give exact
    values and gradients, and every node is freed."""
    from hostile import run_interrupted

    run_interrupted(
        tmp_path,
        """
        import math
        import pyad

        def rep():
            x = pyad.Var(0.5)
            y = x
            for _ in range(50):
                y = pyad.sin(y) * 1.5 + x
            y.backward()
            return x, y
        """,
        "rep",
        """
        x, y = rep()
        v, d, t = 0.5, 1.0, 0.5
        for _ in range(50):
            v, d = math.sin(v) * 1.5 + t, math.cos(v) * 1.5 * d + 1.0
        assert y.val == v and abs(x.grad - d) <= 1e-12 * abs(d), (y.val, v, x.grad, d)
        del x, y
        """,
        reps=3000,
    )


def test_ctrl_c_at_any_moment_of_nary_and_direct_recording(tmp_path):
    """As above, for the ops recorded now rather than buffered: pyad.sum,
    dot and logsumexp, and every op and Var() inside a raising errstate
    (direct mode). Their C calls create a node and return; an interrupt as
    one returns must not lose it (csrc/pybridge.c gives it to a Var made
    first). Afterwards values and gradients are exact, and every node is
    freed."""
    from hostile import run_interrupted

    run_interrupted(
        tmp_path,
        """
        import math
        import pyad

        def work(x):
            y = x
            for _ in range(6):
                y = pyad.sum([pyad.sin(y), x, 0.5]) * 0.5
                y = pyad.dot([y, x], [1.0, 0.25]) + pyad.logsumexp([y, x]) * 0.0
            return y

        def run(direct):
            if direct:
                with pyad.errstate(all="raise"):
                    x = pyad.Var(0.5)
                    return x, work(x)
            x = pyad.Var(0.5)
            return x, work(x)

        reps = [0]

        def rep():
            reps[0] += 1
            x, y = run(reps[0] % 2 == 1)
            y.backward()
        """,
        "rep",
        """
        x, y = run(False)
        y.backward()
        v, d = 0.5, 1.0
        for _ in range(6):
            v, d = (math.sin(v) + 0.5 + 0.5) * 0.5, (math.cos(v) * d + 1.0) * 0.5
            v, d = v + 0.5 * 0.25, d + 0.25
        assert abs(y.val - v) <= 1e-15 and abs(x.grad - d) <= 1e-12 * abs(d), (y.val, v, x.grad, d)
        del x, y
        """,
        reps=2000,
    )
