"""What every op of the registry must have, with the op list taken from the
C table (csrc/oplist.h): adding a row without its references fails here.

Each op needs: a bit-exact float reference (tests/hardening_ref.OPS, which
the fuzz tests run), an mpmath reference (tests/support.MP_OPS), a
documented domain and kink convention (PYAD_NOTE_<name>), a docstring
example, a Python function, a Var method, and its numpy ufunc (when it
names one) answering for a single Var. And compiled replay must equal
eager recording bit for bit for every op, at ordinary and special inputs.
"""

import itertools
import math

import hardening_ref
import numpy as np
import pytest
from support import MP_OPS, same_float

import pyad
from pyad import Var
from pyad._lib import ffi, lib
from pyad.optable import OPS
from pyad.ufuncs import _UFUNCS

TABLE = [
    (ffi.string(lib.pyad_op_name(i)).decode(), lib.pyad_op_arity(i))
    for i in range(lib.pyad_op_count())
]
NAMES = [name for name, _ in TABLE]


def test_the_table_is_the_registry():
    assert len(NAMES) == len(set(NAMES)) == len(OPS) >= 56
    assert [op.name for op in OPS] == NAMES
    assert (
        lib.pyad_op_name(len(NAMES)) == ffi.NULL or ffi.string(lib.pyad_op_name(len(NAMES))) == b""
    )


@pytest.mark.parametrize("name,arity", TABLE)
def test_every_op_has_a_float_reference(name, arity):
    assert name in hardening_ref.OPS, f"{name}: no bit-exact reference in tests/hardening_ref.py"
    assert hardening_ref.OPS[name][0] == arity, name


@pytest.mark.parametrize("name,arity", TABLE)
def test_every_op_has_an_mpmath_reference(name, arity):
    assert name in MP_OPS, f"{name}: no mpmath reference in tests/support.py (MP_OPS)"
    value, partials = MP_OPS[name]
    assert callable(value) and callable(partials)


@pytest.mark.parametrize("op", OPS, ids=NAMES)
def test_every_op_documents_its_conventions(op):
    note = op.note
    assert len(note) >= 5, f"{op.name}: no PYAD_NOTE_{op.name} in csrc/opdefs_*.h"
    doc = getattr(pyad, op.name).__doc__
    assert f"Conventions: {note}." in doc, op.name


@pytest.mark.parametrize("name", NAMES)
def test_every_op_has_a_docstring_example(name):
    doc = getattr(pyad, name).__doc__ or ""
    assert ">>>" in doc, f"{name}: no example (pyad/opdocs.py)"
    assert name in pyad.__all__


@pytest.mark.parametrize("op", OPS, ids=NAMES)
def test_every_op_is_a_function_and_a_method(op):
    assert callable(getattr(pyad, op.name))
    if op.name in pyad.ops.OPERATORS:  # a + b, a % b, -a: the operator
        assert all(callable(getattr(Var, d)) for d in pyad.ops.OPERATORS[op.name])
    elif op.arity > 0:  # the n-ary ops take sequences: functions only
        assert callable(getattr(Var, op.name)), f"Var.{op.name}"
    if op.ufunc:
        # numpy's object loops call the method named after the ufunc (or
        # the operator, for the ops that have one)
        uf = getattr(np, op.ufunc, None)
        if op.ufunc == "clip":  # np.clip is a function over the ufunc
            uf = np._core.umath.clip if hasattr(np, "_core") else np.core.umath.clip
        assert isinstance(uf, np.ufunc) and uf in _UFUNCS, (op.name, op.ufunc)


def _point(name, i, k):
    """Operand k of point i, inside every op's domain (acosh: above 1)."""
    return (1.25 if name == "acosh" else 0.0) + 0.1 + 0.15 * i + 0.05 * k


def _arguments(op):
    return [Var(_point(op.name, 0, k)) for k in range(op.arity if op.arity > 0 else 3)]


@pytest.mark.parametrize("op", [op for op in OPS if op.ufunc], ids=lambda op: op.ufunc)
def test_every_numpy_ufunc_on_a_single_var_gives_a_var(op):
    uf = getattr(np, op.ufunc)  # np.clip: the function, which calls Var.clip
    args = _arguments(op)
    got = uf(*args)
    assert type(got) is Var, (op.ufunc, got)
    want = getattr(pyad, op.name)(*args)
    assert same_float(got.val, want.val)
    # a number on the left too: numpy hands the call to the Var
    got = uf(args[0].val, *args[1:]) if op.arity > 1 else uf(args[0])
    assert type(got) is Var, op.ufunc


def _objects(xs):
    a = np.empty(len(xs), dtype=object)
    a[:] = xs
    return a


# numpy's object loops that do not call the method of the ufunc's name:
# maximum/minimum/clip/sign compare (and return an operand), floor/ceil/
# trunc call math.floor & co. (ints), copysign and logaddexp have no object
# loop. pyad's own function does these elementwise.
NOT_METHOD_LOOPS = {
    "maximum",
    "minimum",
    "clip",
    "sign",
    "floor",
    "ceil",
    "trunc",
    "copysign",
    "logaddexp",
}


@pytest.mark.parametrize(
    "op",
    [op for op in OPS if op.ufunc and op.name not in NOT_METHOD_LOOPS],
    ids=lambda op: op.ufunc,
)
def test_every_numpy_ufunc_on_object_arrays_of_vars(op):
    uf = getattr(np, op.ufunc)
    n = op.arity
    cols = [_objects([Var(_point(op.name, i, k)) for i in range(3)]) for k in range(n)]
    got = uf(*cols)
    assert got.dtype == object and got.shape == (3,)
    for i in range(3):
        want = getattr(pyad, op.name)(*[c[i] for c in cols])
        assert type(got[i]) is Var and same_float(got[i].val, want.val), (op.ufunc, i)


@pytest.mark.parametrize("op", [op for op in OPS if op.arity > 0], ids=lambda op: op.name)
def test_every_function_applies_elementwise_to_arrays(op):
    """pyad.NAME(array) is an object array of the op's results, for arrays
    of Vars and of numbers (broadcast with scalars)."""
    fn = getattr(pyad, op.name)
    numbers = [np.array([_point(op.name, i, k) for i in range(3)]) for k in range(op.arity)]
    got = fn(*numbers)
    assert isinstance(got, np.ndarray) and got.dtype == object
    for i in range(3):
        assert same_float(got[i], fn(*[c[i] for c in numbers]))
    vars_ = [_objects([Var(float(x)) for x in c]) for c in numbers]
    got = fn(*vars_) if op.arity == 1 else fn(vars_[0], *[c[0] for c in numbers[1:]])
    assert all(type(g) is Var for g in got)


def test_relu_of_a_matrix_product():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    W = _objects([Var(0.5), Var(-1.0)]).reshape(2, 1)
    H = pyad.relu(X @ W)
    assert H.shape == (2, 1) and H.dtype == object
    assert [h.val for h in H.ravel()] == [0.0, 0.0]
    loss = pyad.sum(pyad.exp(X @ W).ravel())
    loss.backward()
    assert W[0, 0].grad == pytest.approx(math.exp(-1.5) * 1.0 + math.exp(-2.0) * -3.0)


# ---- compiled replay: bit for bit the eager result, for every op ------------

SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -3.0, 1e-310, 1e300, math.inf, -math.inf, math.nan]


def _same(a, b):
    return len(a) == len(b) and all(same_float(float(x), float(y)) for x, y in zip(a, b))


@pytest.mark.parametrize("op", OPS, ids=NAMES)
def test_compiled_replay_equals_eager_for_every_op(op):
    """Point replay and batch replay of a one-op program give eager
    recording's value and gradient exactly, constants on either side."""
    fn_of = getattr(pyad, op.name)
    n = op.arity if op.arity > 0 else 3
    if op.name in ("sum", "logsumexp"):
        fn_of = lambda *xs, _f=fn_of: _f(xs)  # noqa: E731
    elif op.name == "dot":
        fn_of = lambda a, b, c: pyad.dot([a], [b], c)  # noqa: E731
    variants = [lambda *xs: fn_of(*xs)]
    if n > 1:  # a constant operand in each place
        for j in range(n):
            variants.append(
                lambda *xs, j=j: fn_of(*[0.75 if k == j else x for k, x in enumerate(xs)])
            )
    points = list(itertools.product(SPECIAL, repeat=n))
    if len(points) > 200:
        points = points[:: len(points) // 200]
    for f in variants:
        c = pyad.compile(f)
        cols = [np.array([p[k] for p in points]) for k in range(n)]
        V, G = c.value_and_grad(*cols)
        for i, p in enumerate(points):
            vs = [Var(x) for x in p]
            y = f(*vs)
            y = y if isinstance(y, Var) else Var(y)
            y.backward()
            want = [y.val] + [v.grad for v in vs]
            assert _same([V[i]] + list(G[i]), want), (op.name, p, V[i], G[i], want)
            if i % 17 == 0:  # point replay too (slower: one call each)
                pv, pg = c.value_and_grad(*p)
                assert _same([pv] + list(pg), want), (op.name, p)
