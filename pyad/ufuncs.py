"""numpy interop: np.float64(2) * v and np.exp(v) give Vars.

numpy asks a Var's __array_ufunc__ first. A call on Vars and numbers is
answered with the op whose registry row names that ufunc (csrc/oplist.h),
so every op with a numpy name works without a list here; object arrays of
Vars alone go to numpy's object loops, which call Var's operators and
methods (named after the ufuncs) element by element. Comparisons keep Python's
meaning (a bool), as numpy's object comparisons do; np.divmod gives the
pair (a // b, a % b), np.conjugate the Var itself (it is real).

A few ufuncs have no registry row but an exact meaning in ops that do:
fabs, reciprocal, deg2rad & co. (numpy's own formulas, so the values are
numpy's bit for bit), fmax/fmin (maximum/minimum with a nan operand
replaced by the other one), and the predicates isnan/isinf/isfinite, which
answer with comparisons of the value, so a traced function records the
guards that keep its replay on the same branch. When a Var meets an array,
each element pair is answered as a scalar call would be (numpy's object
loops call a method a float element lacks, and logaddexp or copysign have
none); comparisons keep numpy's loop, which gives an array of bools.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable

import numpy as np

from . import ops
from .optable import OPS
from .reals import as_float
from .record import NEVER_OPERANDS, object_array
from .var import Var

_INF = float("inf")
_DEG = math.pi / 180.0  # numpy's deg2rad is x * (pi / 180): the same bits
_RAD = 180.0 / math.pi


def _fmax(a: Any, b: Any) -> Any:
    # a nan operand is replaced by the other before maximum: no nan partial
    # of an unused branch (0 * nan) reaches the gradient
    return ops.maximum(ops.where(ops.ge(a, a), a, b), ops.where(ops.ge(b, b), b, a))


def _fmin(a: Any, b: Any) -> Any:
    return ops.minimum(ops.where(ops.ge(a, a), a, b), ops.where(ops.ge(b, b), b, a))


def _isnan(x: Any) -> np.bool_:
    return np.bool_(x != x)


def _isinf(x: Any) -> np.bool_:
    return np.bool_(x == _INF or x == -_INF)


def _isfinite(x: Any) -> np.bool_:
    return np.bool_(x > -_INF and x < _INF)


_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.less: operator.lt,
    np.less_equal: operator.le,
    np.greater: operator.gt,
    np.greater_equal: operator.ge,
    np.equal: operator.eq,
    np.not_equal: operator.ne,
    np.divmod: divmod,
    np.conjugate: lambda x: x,
    np.fabs: abs,
    np.reciprocal: lambda x: 1.0 / x,
    np.deg2rad: lambda x: x * _DEG,
    np.radians: lambda x: x * _DEG,
    np.rad2deg: lambda x: x * _RAD,
    np.degrees: lambda x: x * _RAD,
    np.fmax: _fmax,
    np.fmin: _fmin,
    np.isnan: _isnan,
    np.isinf: _isinf,
    np.isfinite: _isfinite,
}
# numpy's private home of ufuncs that the top level shadows with a
# function (np.clip): numpy 2 and numpy 1 spellings.
_umath = getattr(np, "_core", None) or getattr(np, "core", None)
for _op in OPS:
    if not _op.ufunc:
        continue
    _uf = getattr(np, _op.ufunc, None)
    if not isinstance(_uf, np.ufunc):
        _uf = getattr(getattr(_umath, "umath", None), _op.ufunc, None)
    if isinstance(_uf, np.ufunc):
        _UFUNCS[_uf] = getattr(ops, _op.name)


_COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}


def _element(self: Var, ufunc: np.ufunc, *xs: Any) -> Any:
    """One element pair of a Var with an array; an element that no scalar
    call answers (an object of its own type) gets numpy's object loop, as
    it would without the Var: its own operators, or numpy's TypeError."""
    out = _array_ufunc(self, ufunc, "__call__", *xs)
    if out is NotImplemented:
        return ufunc(*[object_array(x) for x in xs])
    return out


def _array_ufunc(self: Var, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    fn = _UFUNCS.get(ufunc)
    if method != "__call__" or kwargs or fn is None:
        return NotImplemented
    if any(isinstance(x, np.ndarray) and x.ndim for x in inputs):
        arrays = [object_array(x) for x in inputs]
        if ufunc in _COMPARISONS:  # numpy's loop: an array of bools
            return ufunc(*arrays)
        # Element by element, each pair answered as a scalar call is (the
        # object loops of numpy call a method that a float element lacks,
        # and some ufuncs have none)
        return np.frompyfunc(lambda *xs: _element(self, ufunc, *xs), ufunc.nin, ufunc.nout)(*arrays)
    # numpy passes a numpy scalar on the left of a comparison as a 0-d array
    scalars = [x[()] if isinstance(x, np.ndarray) else x for x in inputs]
    args = []
    for x in scalars:
        if not isinstance(x, Var):
            f = as_float(x)  # a numpy scalar: make it a float, or the
            if f is None:  # operator would come straight back here
                if isinstance(x, NEVER_OPERANDS):
                    raise TypeError(
                        f"unsupported operand type for {ufunc.__name__}: {type(x).__name__} and Var"
                    )
                return NotImplemented
            x = f
        args.append(x)
    return fn(*args)


Var.__array_ufunc__ = _array_ufunc
