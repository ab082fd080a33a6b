"""Every op of the C registry as a Python function, method and operator.

Built from the registry (pyad.optable) at import: each unary op is a
function (Var in, Var out; number in, float out) and a method; each op of
two or three operands is a function of that many operands; ops that Python
spells as an operator also get it. Every function also takes numpy arrays
(of Vars or numbers) and applies elementwise: pyad.relu(X @ W). numpy's
hooks are in ufuncs.py. The only per-op Python here is the table of
operator names, the n-ary ops' signatures (pyad.sum(iterable),
pyad.dot(ws, xs, bias), pyad.logsumexp(xs)), and divmod (// and % together).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import opdocs, record, special
from ._lib import pending
from .optable import OPS
from .var import Var

# Python's operator methods of the ops that have one.
OPERATORS: dict[str, tuple[str, ...]] = {
    "add": ("__add__", "__radd__"),
    "sub": ("__sub__", "__rsub__"),
    "mul": ("__mul__", "__rmul__"),
    "div": ("__truediv__", "__rtruediv__"),
    "pow": ("__pow__", "__rpow__"),
    "neg": ("__neg__",),
    "abs": ("__abs__",),
    "mod": ("__mod__", "__rmod__"),
    "floordiv": ("__floordiv__", "__rfloordiv__"),
}
# Operators that Var's C base class implements as number slots (the hot
# path of eager recording, csrc/pyoper.c): their Python methods are bound to
# the slot, for the cases it does not handle, rather than set on Var, where
# a Python dunder would hide the slot.
C_OPERATORS = ("add", "sub", "mul", "div", "neg")
# n-ary ops: their Python signature is their own (record.py).
NARY: dict[str, Callable[..., Any]] = {
    "sum": record.nary_sum,
    "dot": record.dot,
    "logsumexp": special.logsumexp,
}

__all__: list[str] = []
# doctest.testmod(pyad.ops) finds functions by their module's globals; these
# are made by record.py's factories, so name them for it.
__test__: dict[str, Any] = {}


def _pow_method(forward: Callable[..., Any]) -> Callable[..., Any]:
    def __pow__(a: Var, k: Any, mod: object = None) -> Any:
        # pow(v, k, mod) would otherwise bind mod to the op's default arguments
        if mod is not None:
            raise TypeError("pow() with a modulus is not defined for Var")
        return forward(a, k)

    return __pow__


def _arrays_too(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn of a fixed number of operands, also applied elementwise when one
    is a numpy array. (Unary and binary ops do this on their slow path in
    record.py, at no cost to a call on a Var.)"""

    def f(*operands: Any) -> Any:
        if any(isinstance(x, np.ndarray) for x in operands):
            return record.map_arrays(fn.__name__, operands)
        return fn(*operands)

    f.__name__ = f.__qualname__ = fn.__name__
    return f


def _build() -> None:
    g = globals()
    for op in OPS:
        if op.arity == 1:
            fn: Callable[..., Any] = record.unary(op.name)  # also Var.<name>
            if op.name in C_OPERATORS:
                Var._bind_operator(op.name, op.code, fn, None, pending)
            elif op.name in OPERATORS:
                setattr(Var, OPERATORS[op.name][0], fn)
        elif op.arity in (2, 3):
            if op.arity == 2:
                fn = record.binary_function(op.name)
            else:
                fn = _arrays_too(record.function(op.name))
            if op.name in C_OPERATORS:
                forward, reflected = record.binary(op.name)
                Var._bind_operator(op.name, op.code, forward, reflected, pending)
            elif op.name in OPERATORS:
                forward, reflected = record.binary(op.name)
                dunder, rdunder = OPERATORS[op.name]
                setattr(Var, dunder, _pow_method(forward) if op.name == "pow" else forward)
                setattr(Var, rdunder, reflected)
            else:
                # out=None: np.clip(v, lo, hi) calls v.clip(lo, hi, out=None)
                def method(
                    self: Var, *others: Any, out: None = None, _fn: Callable[..., Any] = fn
                ) -> Any:
                    if out is not None:
                        raise TypeError(f"Var.{_fn.__name__}() does not take out=")
                    return _fn(self, *others)

                method.__name__ = op.name
                setattr(Var, op.name, method)
        else:
            fn = NARY[op.name]
        if op.arity > 0:
            record.ELEMENTWISE.setdefault(op.name, fn)
        doc = opdocs.doc(op.name, op.arity) or fn.__doc__ or ""
        fn.__doc__ = doc.rstrip("\n") + f"\n\nConventions: {op.note}.\n"
        method = getattr(Var, op.name, None)
        if method is not None and method is not fn:
            method.__doc__ = fn.__doc__
        g[op.name] = fn
        __all__.append(op.name)
        __test__[op.name] = fn
        # numpy's object loops call the method named after the ufunc
        if op.ufunc and op.ufunc != op.name and op.name not in OPERATORS and op.arity > 0:
            setattr(Var, op.ufunc, getattr(Var, op.name))


_build()


# divmod(a, b) is (a // b, a % b), as for floats: two ops, no op of its own.
def _divmod(a: Var, b: Any) -> Any:
    q, r = a.__floordiv__(b), a.__mod__(b)
    return NotImplemented if q is NotImplemented else (q, r)


def _rdivmod(a: Var, b: Any) -> Any:
    q, r = a.__rfloordiv__(b), a.__rmod__(b)
    return NotImplemented if q is NotImplemented else (q, r)


Var.__divmod__ = _divmod
Var.__rdivmod__ = _rdivmod
