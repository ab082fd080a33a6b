"""Allocation failure (pyad_debug_fail_alloc_after): an op whose C
allocation fails raises pyad.PyadMemoryError, records nothing (live_nodes()
and the tape length are the same before and after), and the library keeps
working.
"""

import json
import math
import os
import subprocess
import sys
import textwrap

import pytest
from support import tape_state

import pyad
from pyad import Var
from pyad._lib import lib

# ---- allocation failure ----------------------------------------------------


def _raw_state():
    return lib.pyad_live_nodes(), lib.pyad_tape_length()


def _fail_next_allocation(op, limit=1 << 22):
    """Run `op` repeatedly (keeping its results, so the tape grows), each
    time with the next C allocation armed to fail, until an op raises
    MemoryError: ops that need no allocation succeed. Returns the results
    kept and the tape state just before the failing op. (No Var dies in the
    loop, so the unflushed C counts are exact.)"""
    kept = []
    tape_state()  # flush dead Vars once
    for _ in range(limit):
        before = _raw_state()
        lib.pyad_debug_fail_alloc_after(0)
        try:
            kept.append(op())
        except MemoryError as e:
            assert isinstance(e, pyad.PyadMemoryError)
            return kept, before
        finally:
            lib.pyad_debug_fail_alloc_after(-1)
    pytest.fail("no allocation happened")


def test_allocation_failure_in_binary_op():
    x = Var(1.25)
    start = tape_state()
    kept, before = _fail_next_allocation(lambda: x * 2.0)
    assert _raw_state() == before  # nothing recorded by the failed op
    # the library works afterwards: more ops, values and gradients right
    y = pyad.sum(kept) + x * x
    assert y.val == len(kept) * 2.5 + 1.5625
    y.backward()
    assert x.grad == 2.0 * len(kept) + 2.5
    del kept, y
    assert tape_state()[0] == start[0]


def test_allocation_failure_in_leaf_and_unary():
    start = tape_state()
    v = Var(3.0)
    kept, before = _fail_next_allocation(lambda: Var(3.0))
    assert _raw_state() == before
    assert all(k.val == 3.0 for k in kept)
    # pyflakes misreads the `del v` below, which runs after the call
    kept2, before = _fail_next_allocation(lambda: pyad.sin(v))  # noqa: F821
    assert _raw_state() == before
    assert all(k.val == math.sin(3.0) for k in kept2)
    s = pyad.sin(v) * 2
    s.backward()
    assert s.val == 2 * math.sin(3.0) and v.grad == 2 * math.cos(3.0)
    del kept, kept2, v, s
    assert tape_state()[0] == start[0]


def test_allocation_failure_in_sum_and_zero_grad():
    a, b = Var(1.0), Var(2.0)
    y = a * b
    y.backward()
    before = tape_state()
    for n in (0, 1):
        lib.pyad_debug_fail_alloc_after(n)
        try:
            with pytest.raises(MemoryError):
                pyad.sum([a, b, 3.0])
        finally:
            lib.pyad_debug_fail_alloc_after(-1)
        assert tape_state() == before
    lib.pyad_debug_fail_alloc_after(0)
    try:
        with pytest.raises(MemoryError):
            y.zero_grad()
    finally:
        lib.pyad_debug_fail_alloc_after(-1)
    assert (a.grad, b.grad) == (2.0, 1.0)  # untouched
    s = pyad.sum([a, b, 3.0])
    assert s.val == 6.0
    y.zero_grad()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_allocation_failure_in_wide_sum():
    vs = [Var(float(i)) for i in range(20)]
    before = tape_state()
    for n in (0, 1, 2):
        lib.pyad_debug_fail_alloc_after(n)
        try:
            with pytest.raises(MemoryError):
                pyad.sum(vs)
        finally:
            lib.pyad_debug_fail_alloc_after(-1)
        assert tape_state() == before
    s = pyad.sum(vs)
    s.backward()
    assert s.val == 190.0 and all(v.grad == 1.0 for v in vs)


_DUE_COMPACTION = textwrap.dedent("""
    import json, sys
    import pyad
    from pyad import Var
    from pyad._lib import lib

    def state():
        return [pyad.live_nodes(), lib.pyad_tape_length()]

    k = int(sys.argv[1])
    a = Var(1.0)
    s = pyad.sum([a] + [1.0] * 2500)   # 2501 nodes behind one handle
    t = Var(0.0)                        # keeps them from being popped
    del s                               # dead, not compacted: tape < 4096
    state()
    # fill the handle table to one below its capacity (a power of two)
    leaves = []
    def full_but_one(h):
        return h + 1 >= 1024 and (h + 1) & h == 0
    while not full_but_one(lib.pyad_live_handles()):
        leaves.append(Var(0.5))
    b = pyad.sum([a] + [1.0] * 700)    # takes the last handle; tape > 4096
    before = state()
    lib.pyad_debug_fail_alloc_after(k)
    try:
        r = a + 1.0                     # compaction due, and the handle table is full
        out = "ok"
    except MemoryError:
        out = "MemoryError"
    finally:
        lib.pyad_debug_fail_alloc_after(-1)
    print(json.dumps([out, before, state()]))
""")


def test_allocation_failure_when_compaction_is_due_leaves_the_tape_alone():
    """An op that finds the tape due for compaction and then fails to grow
    the handle table must leave the tape as it was (live nodes *and* tape
    length), like every other failing op. Each k makes a different
    allocation fail, in a fresh process so the tape's capacities are known."""
    failures = 0
    for k in range(0, 14):
        # PYAD_DIRECT=1: one C call per op, so that handles are taken one
        # at a time (the record buffer reserves them in blocks)
        out = subprocess.run(
            [sys.executable, "-c", _DUE_COMPACTION, str(k)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYAD_DIRECT": "1"},
        )
        assert out.returncode == 0, out.stderr
        result, before, after = json.loads(out.stdout)
        if result == "MemoryError":
            failures += 1
            assert after == before, (k, before, after)
    assert failures > 0, "the scenario never hit an allocation"


@pytest.mark.parametrize("n", range(1, 12))
def test_allocation_failure_part_way_through_growth(n):
    """The n-th allocation from now fails, in the middle of growing the
    tape's arrays (values, grads, ..., edges, handles); the op fails cleanly
    and everything works after."""
    x = Var(0.5)
    start = tape_state()
    chain = [x]
    lib.pyad_debug_fail_alloc_after(n)
    failed_at = None
    try:
        for _ in range(1 << 20):
            before = _raw_state()
            try:
                chain.append(chain[-1] + x)
            except MemoryError:
                failed_at = before
                break
    finally:
        lib.pyad_debug_fail_alloc_after(-1)
    assert failed_at is not None
    assert _raw_state() == failed_at
    # continue the chain past the failure and check everything
    for _ in range(3000):
        chain.append(chain[-1] + x)
    k = len(chain) - 1
    assert chain[-1].val == 0.5 * (k + 1)
    chain[-1].backward()
    assert x.grad == k + 1
    assert chain[k // 2].grad == 1.0
    del chain
    assert tape_state()[0] == start[0]
