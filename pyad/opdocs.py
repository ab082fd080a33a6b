"""Docstring examples of the op functions (tests/test_doctests.py runs them,
and a test fails when an op of the registry has none).

Unary ops: value and derivative at 0.5 (or at the point in AT), rounded to
6 digits. Other ops: a docstring of their own.
"""

from __future__ import annotations

AT_HALF: dict[str, str] = {
    "neg": "-0.5, -1.0",
    "pos": "0.5, 1.0",
    "abs": "0.5, 1.0",
    "sign": "1.0, 0.0",
    "square": "0.25, 1.0",
    "exp": "1.648721, 1.648721",
    "log": "-0.693147, 2.0",
    "sin": "0.479426, 0.877583",
    "cos": "0.877583, -0.479426",
    "tanh": "0.462117, 0.786448",
    "sech2": "0.786448, -0.726862",
    "cosh": "1.127626, 0.521095",
    "sinh": "0.521095, 1.127626",
    "sigmoid": "0.622459, 0.235004",
    "relu": "0.5, 1.0",
    "sqrt": "0.707107, 0.707107",
    "log1p": "0.405465, 0.666667",
    "expm1": "0.648721, 1.648721",
    "softplus": "0.974077, 0.622459",
    "tan": "0.546302, 1.298446",
    "asin": "0.523599, 1.154701",
    "acos": "1.047198, -1.154701",
    "atan": "0.463648, 0.8",
    "asinh": "0.481212, 0.894427",
    "acosh": "0.962424, 0.894427",
    "atanh": "0.549306, 1.333333",
    "log2": "-1.0, 2.88539",
    "log10": "-0.30103, 0.868589",
    "exp2": "1.414214, 0.980258",
    "cbrt": "0.793701, 0.529134",
    "erf": "0.5205, 0.878783",
    "erfc": "0.4795, -0.878783",
    "floor": "-2.0, 0.0",
    "ceil": "-1.0, 0.0",
    "trunc": "-1.0, 0.0",
    "lgamma": "0.572365, -1.96351",
    "digamma": "-1.96351, 4.934802",
    "ndtr": "0.691462, 0.352065",
    "log_ndtr": "-0.368946, 0.50916",
    "dlog_ndtr": "0.50916, -0.513825",
    "ndtri": "1.959964, 17.110083",
    "erfinv": "0.476936, 1.112585",
}
# The point of the example where 0.5 says little (outside acosh's domain;
# floor, ceil and trunc differ at -1.5).
AT: dict[str, float] = {
    "acosh": 1.5,
    "floor": -1.5,
    "ceil": -1.5,
    "trunc": -1.5,
    "ndtri": 0.975,
}


def unary_doc(name: str) -> str:
    x = AT.get(name, 0.5)
    return (
        f"{name}(x): a Var recording {name} when x is a Var, else a float; a\n"
        f"numpy array (of Vars or numbers) gives an object array, elementwise.\n\n"
        f"Also the method Var.{name}(), so numpy object arrays of Vars work with\n"
        f"the matching numpy function.\n\n"
        f">>> import pyad\n"
        f">>> x = pyad.Var({x}); y = pyad.{name}(x); y.backward()\n"
        f">>> round(y.val, 6), round(x.grad, 6)\n({AT_HALF[name]})\n"
        f">>> round(pyad.{name}({x}), 6) == round(y.val, 6)\nTrue\n"
    )


_COMPARISON = """{name}(a, b): 1.0 if a {op} b else 0.0, as a Var (zero gradient, no
guard for pyad.compile) if a or b is a Var, else a float.

>>> import pyad
>>> pyad.{name}(1.0, 2.0), pyad.{name}(pyad.Var(2.0), 2.0).val
({plain}, {var})
"""

_BINARY = """{name}(a, b): a Var recording {name} if a or b is a Var, else a float.

>>> import pyad
>>> a, b = pyad.Var(3.0), pyad.Var(2.0)
>>> y = pyad.{name}(a, b); y.backward(); y.val, a.grad, b.grad
{result}
>>> pyad.{name}(3.0, 2.0) == y.val
True
"""

OTHER: dict[str, str] = {
    "lt": _COMPARISON.format(name="lt", op="<", plain=1.0, var=0.0),
    "le": _COMPARISON.format(name="le", op="<=", plain=1.0, var=1.0),
    "gt": _COMPARISON.format(name="gt", op=">", plain=0.0, var=0.0),
    "ge": _COMPARISON.format(name="ge", op=">=", plain=0.0, var=1.0),
    "add": _BINARY.format(name="add", result="(5.0, 1.0, 1.0)"),
    "sub": _BINARY.format(name="sub", result="(1.0, 1.0, -1.0)"),
    "mul": _BINARY.format(name="mul", result="(6.0, 2.0, 3.0)"),
    "div": _BINARY.format(name="div", result="(1.5, 0.5, -0.75)"),
    "pow": _BINARY.format(name="pow", result="(9.0, 6.0, 9.887510598012987)"),
    "atan2": """atan2(y, x): the angle of the point (x, y), in [-pi, pi] (numpy's
arctan2); a Var if y or x is a Var, else a float.

>>> import pyad
>>> y, x = pyad.Var(3.0), pyad.Var(2.0)
>>> t = pyad.atan2(y, x); t.backward(); t.val, y.grad, x.grad
(0.982793723247329, 0.15384615384615385, -0.23076923076923078)
>>> pyad.atan2(0.0, -1.0), pyad.atan2(-0.0, -1.0)  # as C and numpy
(3.141592653589793, -3.141592653589793)
""",
    "hypot": _BINARY.format(
        name="hypot", result="(3.605551275463989, 0.8320502943378437, 0.5547001962252291)"
    )
    + """>>> round(pyad.hypot(3e200, 4e200) / 1e200, 12)  # no overflow
5.0
""",
    "maximum": """maximum(a, b): the larger, as numpy's (nan if either is nan); a Var if a
or b is a Var, else a float. On a tie the gradient is split 0.5 / 0.5.

>>> import pyad
>>> a, b = pyad.Var(3.0), pyad.Var(2.0)
>>> y = pyad.maximum(a, b); y.backward(); y.val, a.grad, b.grad
(3.0, 1.0, 0.0)
>>> a, b = pyad.Var(2.0), pyad.Var(2.0)
>>> y = pyad.maximum(a, b); y.backward(); a.grad, b.grad
(0.5, 0.5)
>>> pyad.maximum(1.0, float("nan"))
nan
""",
    "minimum": """minimum(a, b): the smaller, as numpy's (nan if either is nan); a Var if
a or b is a Var, else a float. On a tie the gradient is split 0.5 / 0.5.

>>> import pyad
>>> a, b = pyad.Var(3.0), pyad.Var(2.0)
>>> y = pyad.minimum(a, b); y.backward(); y.val, a.grad, b.grad
(2.0, 0.0, 1.0)
>>> pyad.minimum(2, 3)
2.0
""",
    "copysign": _BINARY.format(name="copysign", result="(3.0, 1.0, 0.0)")
    + """>>> pyad.copysign(3.0, -0.0), pyad.copysign(3.0, float("nan"))
(-3.0, nan)
""",
    "fmod": """fmod(a, b): C's remainder a - trunc(a/b) * b, with the sign of a (numpy's
fmod); a Var if a or b is a Var, else a float. Python's % is pyad.mod.

>>> import pyad
>>> a, b = pyad.Var(-7.0), pyad.Var(2.0)
>>> y = pyad.fmod(a, b); y.backward(); y.val, a.grad, b.grad
(-1.0, 1.0, 3.0)
>>> pyad.fmod(7.0, -2.0)
1.0
""",
    "mod": """mod(a, b): Python's a % b for floats (numpy's remainder): the result has
the sign of b. Also the operator: Var % x, x % Var. a % 0 is nan (Python
raises ZeroDivisionError; pyad is IEEE unless pyad.errstate says raise).

>>> import pyad
>>> a, b = pyad.Var(-7.0), pyad.Var(2.0)
>>> y = a % b; y.backward(); y.val, a.grad, b.grad
(1.0, 1.0, 4.0)
>>> pyad.mod(-7.0, 2.0) == -7.0 % 2.0, pyad.mod(7.0, -2.0)
(True, -1.0)
""",
    "floordiv": """floordiv(a, b): Python's a // b for floats (numpy's floor_divide), with
gradient 0. Also the operator: Var // x, x // Var, and divmod(Var, x).
a // 0 is +-inf (nan for 0 // 0), where Python raises ZeroDivisionError.

>>> import pyad
>>> a = pyad.Var(-7.0)
>>> y = a // 2; y.backward(); y.val, a.grad
(-4.0, 0.0)
>>> [v.val for v in divmod(pyad.Var(-7.0), 2.0)]
[-4.0, 1.0]
""",
    "clip": """clip(x, lo, hi): minimum(maximum(x, lo), hi), numpy's np.clip, as one
node. The gradient goes to x on lo <= x <= hi (both ends included, as
PyTorch's clamp), to lo below, to hi above. A Var if any operand is a
Var, else a float; also the method Var.clip(lo, hi).

>>> import pyad
>>> x = pyad.Var(1.0)
>>> y = pyad.clip(x, 0.0, 1.0); y.backward(); y.val, x.grad
(1.0, 1.0)
>>> x, hi = pyad.Var(5.0), pyad.Var(1.0)
>>> y = x.clip(0.0, hi); y.backward(); y.val, x.grad, hi.grad
(1.0, 0.0, 1.0)
""",
    "fma": """fma(a, b, c): a * b + c rounded once (C's fma); a Var if any operand
is a Var, else a float.

>>> import pyad
>>> a, b, c = pyad.Var(3.0), pyad.Var(2.0), pyad.Var(1.0)
>>> y = pyad.fma(a, b, c); y.backward(); y.val, a.grad, b.grad, c.grad
(7.0, 2.0, 3.0, 1.0)
>>> x = 1.0 + 2.0**-30
>>> pyad.fma(x, x, -(x * x))  # the rounding error of x * x, exactly
8.673617379884035e-19
""",
    "where": """where(cond, a, b): a where cond > 0 else b, without a branch (no
guard for pyad.compile); the gradient goes to the chosen operand. A Var if
any operand is a Var, else a float.

>>> import pyad
>>> x = pyad.Var(3.0)
>>> y = pyad.where(x - 2, x * x, -x); y.backward(); y.val, x.grad
(9.0, 6.0)
>>> pyad.where(-1.0, 1.0, 2.0)
2.0
""",
}


_SPECIAL2 = """{name}(a, b): {what}; a Var if a or b is a Var, else a float
(docs/special-functions.md).

>>> import pyad
>>> a, b = pyad.Var({a}), pyad.Var({b})
>>> y = pyad.{name}(a, b); y.backward()
>>> round(y.val, 6), round(a.grad, 6), round(b.grad, 6)
({result})
{extra}"""

OTHER.update(
    {
        "polygamma": _SPECIAL2.format(
            name="polygamma",
            what="the n-th derivative of digamma at x (n an integer >= 0)",
            a=3.0,
            b=2.0,
            result="0.493939, 0.0, -0.886266",
            extra=">>> round(pyad.polygamma(1, 1.0), 12)  # pi^2/6\n1.644934066848\n",
        ),
        "logaddexp": _SPECIAL2.format(
            name="logaddexp",
            what="log(exp(a) + exp(b)) without overflow (numpy's logaddexp)",
            a=3.0,
            b=2.0,
            result="3.313262, 0.731059, 0.268941",
            extra=">>> pyad.logaddexp(1000.0, 1000.0)  # no overflow\n1000.6931471805599\n",
        ),
        "xlogy": _SPECIAL2.format(
            name="xlogy",
            what="x log(y), 0 where x == 0 (scipy.special.xlogy)",
            a=3.0,
            b=2.0,
            result="2.079442, 0.693147, 1.5",
            extra=">>> pyad.xlogy(0.0, 0.0)\n0.0\n",
        ),
        "xlog1py": _SPECIAL2.format(
            name="xlog1py",
            what="x log1p(y), 0 where x == 0 (scipy.special.xlog1py)",
            a=3.0,
            b=2.0,
            result="3.295837, 1.098612, 1.0",
            extra=">>> pyad.xlog1py(0.0, -1.0)\n0.0\n",
        ),
    }
)


def doc(name: str, arity: int) -> str | None:
    """The docstring of op `name`, or None if it has none (n-ary ops keep
    their own)."""
    if arity == 1 and name in AT_HALF:
        return unary_doc(name)
    return OTHER.get(name)
