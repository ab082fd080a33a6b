"""Docstring examples of the op functions (tests/test_doctests.py runs them,
and a test fails when an op of the registry has none).

Unary ops: value and derivative at 0.5, rounded to 6 digits. Other ops: a
docstring of their own.
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
    "cosh": "1.127626, 0.521095",
    "sinh": "0.521095, 1.127626",
    "sigmoid": "0.622459, 0.235004",
    "relu": "0.5, 1.0",
    "sqrt": "0.707107, 0.707107",
    "log1p": "0.405465, 0.666667",
    "expm1": "0.648721, 1.648721",
    "softplus": "0.974077, 0.622459",
}


def unary_doc(name: str) -> str:
    return (
        f"{name}(x): a Var recording {name} when x is a Var, else a float.\n\n"
        f"Also the method Var.{name}(), so numpy object arrays of Vars work with\n"
        f"the matching numpy function.\n\n"
        f">>> import pyad\n"
        f">>> x = pyad.Var(0.5); y = pyad.{name}(x); y.backward()\n"
        f">>> round(y.val, 6), round(x.grad, 6)\n({AT_HALF[name]})\n"
        f">>> round(pyad.{name}(0.5), 6) == round(y.val, 6)\nTrue\n"
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


def doc(name: str, arity: int) -> str | None:
    """The docstring of op `name`, or None if it has none (n-ary ops keep
    their own)."""
    if arity == 1 and name in AT_HALF:
        return unary_doc(name)
    return OTHER.get(name)
