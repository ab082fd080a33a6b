"""Every error path: bad operands, interior .val, pow with modulus, tampered
handles, errstate, pickling and copying (allocation failure:
test_errors_alloc.py).

An error must record nothing: live_nodes() and the tape length are the same
before and after."""

import copy
import math
import operator
import pickle

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


def test_recording_leaves_the_floating_point_flags_as_they_were():
    """pyad reports an op's IEEE exceptions through its own errstate only.
    A flag left set would be reported by the next numpy loop that tests the
    flags: a buffered sqrt(-1.2), run when np.maximum's loop read a Var,
    made numpy warn "invalid value encountered in maximum"."""
    xs = np.array([Var(-1.2), Var(0.5), Var(0.0)], dtype=object)
    with np.errstate(all="raise"):
        for _ in range(1500):  # past a refill of the buffer: direct records too
            r = np.sqrt(xs)  # invalid; divide in sqrt's partial at 0
            q = np.reciprocal(xs)  # divide
            big = xs * 1e308 * 10.0  # overflow
            assert np.maximum(xs, xs)[1] is xs[1]  # reads Vars: the buffered ops run
        with pyad.errstate(under="raise"):  # checked, direct records
            r = np.sqrt(xs)
            assert np.maximum(r[1:], xs[1:])[0] is r[1]  # (a nan compared: numpy's own)
    assert math.isnan(r[0].val) and math.isinf(q[2].val) and math.isinf(big[0].val)


def test_recording_keeps_the_flags_the_caller_had():
    import ctypes.util

    libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    fe_invalid = 1  # its value on x86-64 and on AArch64
    libm.feclearexcept(fe_invalid)
    libm.feraiseexcept(fe_invalid)
    x = Var(2.0)
    y = x * 3.0  # buffered
    assert y.val == 6.0
    with pyad.errstate(divide="raise"):  # checked: clears the flags to test them
        z = pyad.sqrt(x)
    assert z.val == math.sqrt(2.0)
    assert libm.fetestexcept(fe_invalid) == fe_invalid
    libm.feclearexcept(fe_invalid)
