"""Every error path: bad operands, interior .val, pow with modulus, tampered
handles, errstate, allocation failure, pickling and copying.

An error must record nothing: live_nodes() and the tape length are the same
before and after."""

import copy
import json
import math
import operator
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from support import UNARY_FUNCTIONS, tape_state

import pyad
from pyad import Var
from pyad._lib import lib

# ---- bad operands ----------------------------------------------------------

BAD = {
    "str": ("a", "str"),
    "None": (None, "NoneType"),
    "complex": (1j, "complex"),
    "list": ([1.0], "list"),
    "np.complex128": (np.complex128(1 + 1j), "complex"),
    "dict": ({}, "dict"),
}

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": operator.pow,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def _raises_type_error_naming(fn, type_name):
    v = Var(1.5)  # created before the snapshot
    before = tape_state()
    with pytest.raises(TypeError) as info:
        fn(v)
    assert type_name in str(info.value), str(info.value)
    assert tape_state() == before


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_right_operand(op, bad):
    obj, name = BAD[bad]
    _raises_type_error_naming(lambda v: BINARY[op](v, obj), name)


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_left_operand(op, bad):
    obj, name = BAD[bad]
    _raises_type_error_naming(lambda v: BINARY[op](obj, v), name)


FUNCS = list(UNARY_FUNCTIONS)


@pytest.mark.parametrize("fn", FUNCS)
@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_function_argument(fn, bad):
    obj, name = BAD[bad]
    _raises_type_error_naming(lambda v: getattr(pyad, fn)(obj), name)


@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_constructor_setter_and_seed(bad):
    obj, name = BAD[bad]
    _raises_type_error_naming(lambda v: Var(obj), name)

    def set_val(v):
        v.val = obj

    _raises_type_error_naming(set_val, name)

    def set_grad(v):
        v.grad = obj

    _raises_type_error_naming(set_grad, name)
    _raises_type_error_naming(lambda v: v.backward(obj), name)
    _raises_type_error_naming(lambda v: pyad.sum([v, obj, v]), name)
    _raises_type_error_naming(lambda v: pyad.sum([1.0, obj]), name)


def test_var_of_var_and_other_non_reals():
    v = Var(1.0)
    before = tape_state()
    for obj in (v, "1.0", np.array([1.0]), np.array(1.0), object()):
        with pytest.raises(TypeError):
            Var(obj)
    assert tape_state() == before


def test_reinitialising_a_var_is_refused():
    v = Var(1.5)
    y = v * 2.0
    before = tape_state()
    with pytest.raises(TypeError):
        v.__init__(3.0)
    with pytest.raises(TypeError):
        y.__init__(3.0)
    assert tape_state() == before
    assert v.val == 1.5 and v.is_leaf and y.val == 3.0 and not y.is_leaf


def test_bad_values_leave_state_alone():
    v = Var(1.5)
    with pytest.raises(TypeError):
        v.val = "2"
    with pytest.raises(TypeError):
        v.grad = None
    assert v.val == 1.5 and v.grad == 0.0


def test_pow_with_modulus():
    v = Var(2.0)
    before = tape_state()
    for call in (
        lambda: pow(v, 2, 5),
        lambda: pow(v, v, 5),
        lambda: pow(v, 2.0, 3.0),
        lambda: pow(2, v, 5),
    ):
        with pytest.raises(TypeError):
            call()
    assert tape_state() == before
    assert pow(v, 3).val == 8.0 and pow(v, 3, None).val == 8.0


def test_interior_val_assignment_records_nothing():
    a = Var(2.0)
    y = pyad.exp(a)
    before = tape_state()
    with pytest.raises(pyad.NotALeafError) as info:
        y.val = 5.0
    assert isinstance(info.value, AttributeError)
    assert tape_state() == before and y.val == math.exp(2.0)


def test_tampered_handle_raises_invalid_handle_error():
    """A Var whose private handle was tampered with: an op on it raises
    InvalidHandleError, at the op or (ops are recorded in batches, see
    pyad/_lib.py) at the next sync; its result is unusable."""
    ghost = object.__new__(Var)
    ghost._h = 10**12
    good = Var(1.0)
    before = tape_state()

    def synced(op):
        def call():
            result = op()
            pyad.live_nodes()  # hands the buffered records to C
            return result

        return call

    for call in (
        synced(lambda: ghost + 1.0),
        synced(lambda: good * ghost),
        synced(lambda: 2.0 - ghost),
        synced(lambda: pyad.exp(ghost)),
        lambda: pyad.sum([good, ghost]),
        ghost.backward,
        ghost.zero_grad,
        lambda: ghost.is_leaf,
        lambda: pyad.zero_grad(ghost),
    ):
        with pytest.raises(pyad.InvalidHandleError):
            call()
    with pytest.raises(ValueError):
        ghost.grad = 1.0
    with pytest.raises(ValueError):
        ghost.val = 1.0
    assert math.isnan(ghost.val) and math.isnan(ghost.grad)
    assert tape_state() == before


# ---- errstate --------------------------------------------------------------
# (kind, op name in the message, operand values, which operands are Vars, op)

INF = math.inf
FP_CASES = [
    ("divide", "log", (0.0,), "v", pyad.log),
    ("divide", "log", (0.0,), "c", pyad.log),
    ("divide", "div", (1.0, 0.0), "vv", operator.truediv),
    ("divide", "div", (1.0, 0.0), "cv", operator.truediv),
    ("divide", "div", (1.0, -0.0), "vc", operator.truediv),
    ("divide", "log1p", (-1.0,), "v", pyad.log1p),
    ("divide", "pow", (0.0, -1.0), "vc", operator.pow),
    ("invalid", "log", (-1.0,), "v", pyad.log),
    ("invalid", "sqrt", (-1.0,), "v", pyad.sqrt),
    ("invalid", "sqrt", (-1.0,), "c", pyad.sqrt),
    ("invalid", "div", (0.0, 0.0), "vv", operator.truediv),
    ("invalid", "sub", (INF, INF), "vv", operator.sub),
    ("invalid", "mul", (INF, 0.0), "vc", operator.mul),
    ("invalid", "sin", (INF,), "v", pyad.sin),
    ("invalid", "pow", (-2.0, 0.5), "vc", operator.pow),
    ("over", "exp", (1000.0,), "v", pyad.exp),
    ("over", "exp", (1000.0,), "c", pyad.exp),
    ("over", "expm1", (800.0,), "v", pyad.expm1),
    ("over", "mul", (1e308, 10.0), "vc", operator.mul),
    ("over", "add", (1e308, 1e308), "vv", operator.add),
    ("over", "pow", (10.0, 400.0), "cv", operator.pow),
]


def _operands(values, mask):
    return [Var(x) if m == "v" else x for x, m in zip(values, mask)]


@pytest.mark.parametrize(
    "kind,opname,values,mask,fn", FP_CASES, ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in FP_CASES]
)
def test_errstate_raises_and_records_nothing(kind, opname, values, mask, fn):
    keep = [Var(float(i)) for i in range(10)]  # a graph to leave alone
    keep.append(keep[0] * keep[1] + 3.0)
    args = _operands(values, mask)
    before = tape_state()
    with pyad.errstate(**{kind: "raise"}):
        with pytest.raises(pyad.PyadFloatingPointError) as info:
            fn(*args)
    assert isinstance(info.value, FloatingPointError)
    msg = str(info.value)
    assert opname in msg, msg
    for x in values:
        assert repr(float(x)) in msg, (msg, x)
    assert tape_state() == before
    # the same op without errstate: the IEEE result, no exception
    out = float(fn(*args))
    assert math.isnan(out) or math.isinf(out)


def test_errstate_sum_raises_naming_operands_and_records_nothing():
    args = [Var(1e308), 5.0, Var(1e308)]
    before = tape_state()
    with pyad.errstate(over="raise"):
        with pytest.raises(pyad.PyadFloatingPointError) as info:
            pyad.sum(args)
    assert tape_state() == before
    msg = str(info.value)
    assert "sum" in msg and "1e+308" in msg and "5.0" in msg, msg
    assert pyad.sum(args).val == INF


def test_errstate_only_raises_what_was_asked():
    with pyad.errstate(divide="raise"):
        assert math.isnan(pyad.log(Var(-1.0)).val)
        assert pyad.exp(Var(1000.0)).val == math.inf
    with pyad.errstate(invalid="raise"):
        assert pyad.log(Var(0.0)).val == -math.inf
    with pyad.errstate(over="raise"):
        assert (1 / Var(0.0)).val == math.inf
        assert pyad.exp(Var(-1000.0)).val == 0.0  # underflow is fine
        assert (Var(1e-300) * 1e-300).val == 0.0
    with pyad.errstate(divide="raise", invalid="raise", over="raise"):
        assert pyad.log(Var(1.0)).val == 0.0
        assert math.isnan(pyad.log(Var(math.nan)).val)  # quiet nan: no flag
        assert pyad.sqrt(Var(0.0)).val == 0.0  # partial inf is fine


def test_errstate_underflow():
    x = Var(1e-300)
    before = tape_state()
    with pyad.errstate(under="raise"):
        assert pyad.geterr()["under"] == "raise"
        with pytest.raises(pyad.PyadFloatingPointError):
            x * 1e-300
        with pytest.raises(FloatingPointError):
            pyad.exp(-1000.0)
    assert tape_state() == before
    assert (x * 1e-300).val == 0.0


def test_errstate_overflow_spelling_and_validation():
    with pyad.errstate(overflow="raise"):
        assert pyad.geterr()["over"] == "raise"
        with pytest.raises(FloatingPointError):
            pyad.exp(Var(1000.0))
    with pyad.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            pyad.exp(Var(1000.0))
    with pytest.raises(TypeError):
        pyad.errstate(over="raise", overflow="raise")
    for bad in ("warn", "print", "RAISE", 1):
        with pytest.raises(ValueError):
            pyad.errstate(divide=bad)
    with pytest.raises(TypeError):
        pyad.errstate(zero="raise")


def test_errstate_all():
    with pyad.errstate(all="raise"):
        mode = pyad.geterr()
        assert (mode["divide"], mode["over"], mode["invalid"]) == ("raise",) * 3
        for thunk in (
            lambda: pyad.log(Var(0.0)),
            lambda: pyad.exp(Var(1e3)),
            lambda: pyad.sqrt(Var(-1.0)),
        ):
            with pytest.raises(FloatingPointError):
                thunk()
        with pyad.errstate(all="ignore"):
            assert pyad.log(Var(0.0)).val == -math.inf


def test_errstate_nests_and_restores():
    assert pyad.geterr()["divide"] == "ignore"
    es = pyad.errstate(divide="raise")
    with es:
        assert pyad.geterr()["divide"] == "raise"
        with pyad.errstate(divide="ignore", invalid="raise"):
            assert pyad.geterr() == {
                "divide": "ignore",
                "over": "ignore",
                "invalid": "raise",
                "under": "ignore",
            }
            assert pyad.log(Var(0.0)).val == -math.inf
        assert pyad.geterr()["divide"] == "raise" and pyad.geterr()["invalid"] == "ignore"
        with es:  # the same object, re-entered
            assert pyad.geterr()["divide"] == "raise"
        assert pyad.geterr()["divide"] == "raise"
    assert pyad.geterr()["divide"] == "ignore"
    with pytest.raises(KeyError):
        with pyad.errstate(divide="raise"):
            raise KeyError
    assert pyad.geterr()["divide"] == "ignore"
    assert pyad.log(Var(0.0)).val == -math.inf


def test_failed_op_does_not_compact_the_tape():
    """A failing op leaves the tape exactly as it was, even when enough of
    it is dead for the next successful op to compact it."""
    z = Var(0.0)
    junk = [Var(float(i)) for i in range(6000)]
    tail = Var(1.0)  # keeps the junk from being popped
    del junk
    before = tape_state()
    assert before[1] - before[0] > before[1] // 2  # compaction is due
    with pyad.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            pyad.log(z)
    assert tape_state() == before
    lib.pyad_debug_fail_alloc_after(0)
    try:
        with pytest.raises(MemoryError):
            pyad.sum([z, tail])
    finally:
        lib.pyad_debug_fail_alloc_after(-1)
    assert tape_state() == before
    assert (tail + z).val == 1.0


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


# ---- copying and pickling --------------------------------------------------


def test_copy_returns_the_same_var():
    a = Var(1.0)
    y = a * 2
    assert copy.copy(a) is a and copy.copy(y) is y


def test_deepcopy_and_pickle_of_a_leaf():
    a = Var(1.25)
    a.grad = -3.5
    for clone in (
        copy.deepcopy(a),
        pickle.loads(pickle.dumps(a)),
        pickle.loads(pickle.dumps(a, protocol=0)),
    ):
        assert type(clone) is Var and clone is not a and clone.is_leaf
        assert (clone.val, clone.grad) == (1.25, -3.5)
        clone.val = 9.0
        clone.grad = 0.0
        assert (a.val, a.grad) == (1.25, -3.5)  # independent
    special = Var(math.nan)
    special.grad = -math.inf
    back = pickle.loads(pickle.dumps(special))
    assert math.isnan(back.val) and back.grad == -math.inf
    # containers keep sharing
    pair = pickle.loads(pickle.dumps([a, a]))
    assert pair[0] is pair[1]
    pair = copy.deepcopy([a, a])
    assert pair[0] is pair[1] and pair[0] is not a


def test_interior_nodes_cannot_be_pickled_or_deep_copied():
    a = Var(1.0)
    y = a + 1
    before = tape_state()
    with pytest.raises(TypeError):
        pickle.dumps(y)
    with pytest.raises(TypeError):
        copy.deepcopy(y)
    with pytest.raises(TypeError):
        pickle.dumps([a, y])
    assert tape_state() == before
