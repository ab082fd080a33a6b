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

# Docstrings with examples (tests/test_doctests.py runs them): each unary
# function at 0.5, with its derivative there.
_UNARY_AT_HALF = {
    exp: "1.648721, 1.648721",
    log: "-0.693147, 2.0",
    sin: "0.479426, 0.877583",
    cos: "0.877583, -0.479426",
    tanh: "0.462117, 0.786448",
    sigmoid: "0.622459, 0.235004",
    relu: "0.5, 1.0",
    sqrt: "0.707107, 0.707107",
    log1p: "0.405465, 0.666667",
    expm1: "0.648721, 1.648721",
    softplus: "0.974077, 0.622459",
}
for _f, _vg in _UNARY_AT_HALF.items():
    _name = _f.__name__  # type: ignore[attr-defined]  # a function (see var.unary)
    _f.__doc__ = (_f.__doc__ or "") + (
        f"\n\n>>> import pyad\n"
        f">>> x = pyad.Var(0.5); y = pyad.{_name}(x); y.backward()\n"
        f">>> round(y.val, 6), round(x.grad, 6)\n({_vg})\n"
        f">>> round(pyad.{_name}(0.5), 6) == round(y.val, 6)\nTrue\n"
    )
for _method, _vg in ((Var.__neg__, "-0.5, -1.0"), (Var.__abs__, "0.5, 1.0")):
    _name = _method.__name__  # type: ignore[attr-defined]  # neg, abs (see var.unary)
    _method.__doc__ = (_method.__doc__ or "") + (
        f"\n\n>>> import pyad\n"
        f">>> x = pyad.Var(0.5); y = x.{_name}(); y.backward()\n"
        f">>> round(y.val, 6), round(x.grad, 6)\n({_vg})\n"
    )
_COMPARISON_DOC = """{name}(a, b): 1.0 if a {op} b else 0.0, as a Var (zero gradient, no
guard for pyad.compile) if a or b is a Var, else a float.

>>> import pyad
>>> pyad.{name}(1.0, 2.0), pyad.{name}(pyad.Var(2.0), 2.0).val
({plain}, {var})
"""
lt.__doc__ = _COMPARISON_DOC.format(name="lt", op="<", plain=1.0, var=0.0)
le.__doc__ = _COMPARISON_DOC.format(name="le", op="<=", plain=1.0, var=1.0)
gt.__doc__ = _COMPARISON_DOC.format(name="gt", op=">", plain=0.0, var=0.0)
ge.__doc__ = _COMPARISON_DOC.format(name="ge", op=">=", plain=0.0, var=1.0)
where.__doc__ = """where(cond, a, b): a where cond > 0 else b, without a branch (no
guard for pyad.compile); the gradient goes to the chosen operand. A Var if
any operand is a Var, else a float.

>>> import pyad
>>> x = pyad.Var(3.0)
>>> y = pyad.where(x - 2, x * x, -x); y.backward(); y.val, x.grad
(9.0, 6.0)
>>> pyad.where(-1.0, 1.0, 2.0)
2.0
"""


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

# doctest.testmod(pyad.ops) finds functions by their module's globals; these
# are made in var.py and used only here, so name them for it.
__test__ = {"where": where, "lt": lt, "le": le, "gt": gt, "ge": ge}
