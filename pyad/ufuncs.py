"""numpy interop: np.float64(2) * v and np.exp(v) give Vars.

numpy asks a Var's __array_ufunc__ first. A call on Vars and numbers is
answered with the op whose registry row names that ufunc (csrc/oplist.h),
so every op with a numpy name works without a list here; calls with an
array go to numpy's object loops, which call Var's operators and methods
(named after the ufuncs) element by element. Comparisons keep Python's
meaning (a bool), as numpy's object comparisons do; np.divmod gives the
pair (a // b, a % b), np.conjugate the Var itself (it is real).
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from . import ops
from .optable import OPS
from .reals import as_float
from .record import NEVER_OPERANDS, object_array
from .var import Var

_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.less: operator.lt,
    np.less_equal: operator.le,
    np.greater: operator.gt,
    np.greater_equal: operator.ge,
    np.equal: operator.eq,
    np.not_equal: operator.ne,
    np.divmod: divmod,
    np.conjugate: lambda x: x,
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


def _array_ufunc(self: Var, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    fn = _UFUNCS.get(ufunc)
    if method != "__call__" or kwargs or fn is None:
        return NotImplemented
    if any(isinstance(x, np.ndarray) and x.ndim for x in inputs):
        return ufunc(*[object_array(x) for x in inputs])
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
