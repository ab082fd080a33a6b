"""Every op of the Python API, one line each, over the C op table.

A new op is a row in csrc/ops.c plus one line here.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from .var import (
    NEVER_OPERANDS,
    ComparisonFunction,
    UnaryFunction,
    Var,
    WhereFunction,
    as_float,
    binary,
    function,
    nary_sum,
    object_array,
    unary,
)

# Operators: forward and reflected forms.
Var.__add__, Var.__radd__ = binary("add")
Var.__sub__, Var.__rsub__ = binary("sub")
Var.__mul__, Var.__rmul__ = binary("mul")
Var.__truediv__, Var.__rtruediv__ = binary("div")
_pow, Var.__rpow__ = binary("pow")
# (ignore: on the class these are methods, -v and abs(v), typed as such in var.py)
Var.__neg__ = unary("neg")  # type: ignore[assignment]
Var.__abs__ = unary("abs")  # type: ignore[assignment]


def _pow_checked(a: Var, k: Any, mod: object = None) -> Any:
    # pow(v, k, mod) would otherwise bind mod to the op code.
    if mod is not None:
        raise TypeError("pow() with a modulus is not defined for Var")
    return _pow(a, k)


Var.__pow__ = _pow_checked  # type: ignore[assignment]  # a method, as above

# Functions: each takes a Var (gives a Var) or a number (gives a float),
# and is also a method of Var.
exp: UnaryFunction = unary("exp")
log: UnaryFunction = unary("log")
sin: UnaryFunction = unary("sin")
cos: UnaryFunction = unary("cos")
tanh: UnaryFunction = unary("tanh")
sigmoid: UnaryFunction = unary("sigmoid")
relu: UnaryFunction = unary("relu")
sqrt: UnaryFunction = unary("sqrt")
log1p: UnaryFunction = unary("log1p")
expm1: UnaryFunction = unary("expm1")
softplus: UnaryFunction = unary("softplus")

sum = nary_sum  # noqa: A001  (pyad.sum, like numpy's np.sum)

# Branch-free control flow, for code that pyad.compile should not re-trace:
# lt(a, b) is 1.0 if a < b else 0.0 (zero gradient, no guard);
# where(cond, a, b) is a where cond > 0 else b (gradient to the chosen one).
lt: ComparisonFunction = function("lt")
le: ComparisonFunction = function("le")
gt: ComparisonFunction = function("gt")
ge: ComparisonFunction = function("ge")
where: WhereFunction = function("where")


# numpy: np.float64(2) * v and np.exp(v) give Vars. numpy asks
# __array_ufunc__ first; scalar calls are answered with the ops above, calls
# with an array go to numpy's object loops, which call Var's operators and
# methods element by element.
_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: operator.add,
    np.subtract: operator.sub,
    np.multiply: operator.mul,
    np.true_divide: operator.truediv,
    np.power: operator.pow,
    np.negative: operator.neg,
    np.positive: operator.pos,
    np.absolute: operator.abs,
    np.less: operator.lt,
    np.less_equal: operator.le,
    np.greater: operator.gt,
    np.greater_equal: operator.ge,
    np.exp: exp,
    np.log: log,
    np.sin: sin,
    np.cos: cos,
    np.tanh: tanh,
    np.sqrt: sqrt,
    np.log1p: log1p,
    np.expm1: expm1,
}


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
