"""Every op of the Python API, one line each, over the C op table.

A new op is a row in csrc/ops.c plus one line here.
"""
from .var import Var, binary, nary_sum, unary

# Operators: forward and reflected forms.
Var.__add__, Var.__radd__ = binary("add")
Var.__sub__, Var.__rsub__ = binary("sub")
Var.__mul__, Var.__rmul__ = binary("mul")
Var.__truediv__, Var.__rtruediv__ = binary("div")
_pow, Var.__rpow__ = binary("pow")
Var.__neg__ = unary("neg")
Var.__abs__ = unary("abs")


def _pow_checked(a, k, mod=None):
    # pow(v, k, mod) would otherwise bind mod to the op code.
    if mod is not None:
        raise TypeError("pow() with a modulus is not defined for Var")
    return _pow(a, k)


Var.__pow__ = _pow_checked

# Functions: each takes a Var (gives a Var) or a number (gives a float),
# and is also a method of Var.
exp = unary("exp")
log = unary("log")
sin = unary("sin")
cos = unary("cos")
tanh = unary("tanh")
sigmoid = unary("sigmoid")
relu = unary("relu")
sqrt = unary("sqrt")
log1p = unary("log1p")
expm1 = unary("expm1")
softplus = unary("softplus")

sum = nary_sum  # noqa: A001  (pyad.sum, like numpy's np.sum)


# numpy: __array_ufunc__ = None makes numpy scalars and arrays hand binary
# ops and comparisons back to Var (np.float64(2) * v is a Var, and
# np.float64(1) < v a bool); arrays then go through elementwise() in var.py.
# numpy object arrays of Vars use the methods above (np.exp(arr) calls
# v.exp()); for one Var use pyad.exp(v).
Var.__array_ufunc__ = None
