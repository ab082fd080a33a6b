"""Arrays that do not start at an 8-byte boundary.

C reads doubles (and int64 indices) at aligned addresses; numpy can hand
pyad arrays that are not: np.frombuffer at an odd byte offset, or a block
unpickled from a network frame. Every entry point that passes an array to
C must read such an array through an aligned copy and give the same bits
as for an aligned one (UBSan, under .ci/sanitize, reports a misaligned
read).
"""

import numpy as np
import pytest

import pyad


def misaligned(values):
    """A float64 array holding values, starting one byte past a boundary."""
    values = np.asarray(values, dtype=np.float64)
    raw = np.zeros(values.nbytes + 1, np.uint8)
    a = np.frombuffer(raw[1:].data, np.float64).reshape(values.shape)
    a[...] = values
    assert not a.flags.aligned
    return a


def f(a, b):
    return pyad.sin(a * b) + pyad.exp(-a) * b


X = np.linspace(-2.0, 2.0, 37)
Y = np.linspace(0.5, 3.0, 37)


@pytest.mark.parametrize("entry", ["call", "value_and_grad", "jacobian", "hessian", "hvp", "jvp"])
def test_batch_columns(entry):
    c = pyad.compile(f)
    args = (X, Y)
    odd = (misaligned(X), misaligned(Y))
    v = np.stack([Y, X], axis=1)  # a direction per point, (N, 2)
    extra = (v,) if entry in ("hvp", "jvp") else ()
    odd_extra = (misaligned(v),) if extra else ()
    fn = c if entry == "call" else getattr(c, entry)
    want, got = fn(*args, *extra), fn(*odd, *odd_extra)
    for w, g in zip(
        np.atleast_1d(want) if entry == "call" else want,
        np.atleast_1d(got) if entry == "call" else got,
    ):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_vector_argument_of_a_signature():
    c = pyad.compile(lambda v: pyad.sum([v[i] * v[i + 1] for i in range(4)]), signature="(n)->()")
    v = np.array([0.5, -1.0, 2.0, 3.0, 0.25])
    for entry in ("value_and_grad", "hessian"):
        want, got = getattr(c, entry)(v), getattr(c, entry)(misaligned(v))
        for w, g in zip(
            want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)
        ):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_a_point_given_as_misaligned_numpy_scalars():
    c = pyad.compile(f)
    a = misaligned([0.75, 1.5])
    (v, g), (w, h) = c.value_and_grad(a[0], a[1]), c.value_and_grad(0.75, 1.5)
    assert v == w and g.tolist() == h.tolist()
