"""Var: a Python handle on one node of the C tape.

A Var holds a single slot, `_h`, the handle of its node. It is the only
Python object an op creates, and it refers to nothing else, so recording
makes no reference cycles and the cyclic GC has little to walk. When a Var
dies, its finalizer (C) queues its handle; the C core frees the node once no
live node depends on it.

The operators, functions and methods of the ops are not written here:
ops.py builds them from the C op registry with the factories of record.py.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, Callable, overload

from ._lib import VarBase, core, exact_var, ffi, lib, pending, set_graph_grads, sync
from ._types import Real, _Method, _Operator, _Power, _Reflected
from .errors import check
from .reals import as_float, exact_real, integral_interval

_new: Callable[[type[Var]], Var] = object.__new__
_LEAF = lib.PYAD_REC_LEAF

# Called as guard_hook(kind, var, other, result) when a Var's value decides
# Python control flow (kind: lt le gt ge ne bool float); None when not
# tracing.
guard_hook: Callable[[str, Var, object, object], None] | None = None
# Called as float_hook(var) when float(var) is taken inside pyad.grad,
# value_and_grad or a compiled trace (pyad/dropped.py); None elsewhere.
float_hook: Callable[[Var], None] | None = None

# Gradients that backward(create_graph=True) made, as Vars, keyed by the
# handle of the Var whose .grad they are. Keyed by handle (an int), not by
# Var, so that no node refers to its gradient: an entry dies with its Var
# (the C finalizer deletes it, running no Python code, so that Ctrl-C
# cannot leave it behind for the next Var given the handle; a Var's death
# costs one C check while the table is empty). See _graphgrad.py.
graph_grads: dict[int, Var] = {}
set_graph_grads(graph_grads)


def release_dead() -> None:
    """Release the handles of Vars that have died (see VarBase), and
    record the buffered ops (see _lib.py)."""
    sync()


def _type_error(fn: str, x: object) -> TypeError:
    return TypeError(f"{fn}() expects a Var or a real number, not {type(x).__name__}")


def _fmt(x: Any) -> str:  # a Var or a real number
    return repr(lib.pyad_value(x._h) if isinstance(x, Var) else float(x))


@exact_var  # the class is made in C, with this namespace (pyad/_lib.py)
class Var(VarBase):
    """A scalar that records the operations applied to it.

    >>> a = Var(2.0); y = a * a + 1; y.backward(); (y.val, a.grad)
    (5.0, 4.0)
    """

    # The one slot, `_h` (the handle of the node), and the finalizer that
    # queues it when the Var dies are VarBase's, in C (csrc/pyvar.c): the
    # next sync releases the queue (_lib.py).
    __slots__ = ()
    _h: int

    if TYPE_CHECKING:
        # Made by ops.py with the factories at the bottom of this file and
        # set on the class there; declared here for type checkers.
        __add__: _Operator
        __radd__: _Reflected
        __sub__: _Operator
        __rsub__: _Reflected
        __mul__: _Operator
        __rmul__: _Reflected
        __truediv__: _Operator
        __rtruediv__: _Reflected
        __pow__: _Power
        __rpow__: _Reflected
        __neg__: _Method
        __abs__: _Method
        __array_ufunc__: Callable[..., Any]

        # Every op of the registry is also a method (v.exp(), v.arctan2(w)),
        # made by ops.py from the C table.
        def __getattr__(self, name: str) -> Callable[..., Var]: ...

    def __init__(self, value: Real) -> None:
        if hasattr(self, "_h"):  # re-initialising would leak the node
            raise TypeError("Var.__init__ called on an existing Var")
        x = as_float(value)
        if x is None:
            if isinstance(value, Var):
                raise TypeError(
                    "Var(Var) is ambiguous: use the Var itself, or "
                    "Var(v.val) / v.detach() for a new leaf"
                )
            raise TypeError(f"Var() expects a real number, not {type(value).__name__}")
        # Each branch makes self own its handle in one C call, so that
        # Ctrl-C cannot land between the handle's birth and self owning it.
        try:
            h = self._take_reserved()
        except IndexError:  # no reserved handle (or direct mode): record now
            sync()
            check(core.pyad_py_leaf(x, id(self)))
        else:  # owned before the record names it (see record.py)
            pending.append((_LEAF, x, 0, h))

    # ---- state --------------------------------------------------------
    @property
    def val(self) -> float:
        """The value, a float. Assignable on leaves only.

        >>> a = Var(2.0); a.val += 1; (a * a).val
        9.0
        """
        r = lib.pyad_value(self._h)
        if guard_hook is not None:  # reading it while tracing pins it
            guard_hook("float", self, None, r)
        return r

    @val.setter
    def val(self, value: Real) -> None:
        x = as_float(value)
        if x is None:
            raise TypeError(f".val must be a real number, not {type(value).__name__}")
        check(lib.pyad_set_value(self._h, x))

    @property
    def grad(self) -> Any:  # a float, or a Var after backward(create_graph=True)
        """The accumulated gradient: a float, or after
        backward(create_graph=True) a Var that can be differentiated again.
        Assignable (p.grad = 0).

        >>> a = Var(3.0); (a * a).backward(); a.grad
        6.0
        >>> a.grad = 0; a.grad
        0.0
        """
        if graph_grads:
            g = graph_grads.get(self._h)
            if g is not None:
                return g
        return lib.pyad_grad(self._h)

    @grad.setter
    def grad(self, value: Real | Var) -> None:
        if isinstance(value, Var):
            from ._graphgrad import set_graph_grad

            set_graph_grad(self._h, value)
            return
        x = as_float(value)
        if x is None:
            raise TypeError(f".grad must be a real number, not {type(value).__name__}")
        if graph_grads:
            graph_grads.pop(self._h, None)
        check(lib.pyad_set_grad(self._h, x))

    @property
    def is_leaf(self) -> bool:
        """True for a Var made by Var(x), False for the result of an op.

        >>> a = Var(1.0); a.is_leaf, (a + 1).is_leaf
        (True, False)
        """
        return bool(check(lib.pyad_is_leaf(self._h)))

    def backward(self, seed: Real | Var = 1.0, create_graph: bool = False) -> None:
        """Add seed * d(self)/d(node) to .grad of self and of every node it
        depends on. Calls accumulate, as in PyTorch.

        >>> a = Var(3.0); y = a * a
        >>> y.backward(); a.grad
        6.0
        >>> y.backward(0.5); a.grad
        9.0

        With create_graph=True the backward pass is itself recorded (as
        PyTorch's): afterwards .grad of each Var self depends on is a Var,
        which can be differentiated again; seed may then be a Var.

        >>> a = Var(3.0); y = a * a * a
        >>> y.backward(create_graph=True); g = a.grad; g.val
        27.0
        >>> a.zero_grad(); g.backward(); a.grad
        18.0
        """
        if create_graph:
            from ._graphgrad import backward_graph

            backward_graph(self, seed)
            return
        s = as_float(seed)
        if s is None:
            raise TypeError(f"seed must be a real number, not {type(seed).__name__}")
        check(lib.pyad_backward(self._h, s))
        if graph_grads:  # gradients that are Vars take the new numbers in
            from ._graphgrad import absorb_numeric

            absorb_numeric()

    def zero_grad(self) -> None:
        """Set .grad to 0 on self and on every node self depends on (and
        drop the gradients backward(create_graph=True) left as Vars).

        >>> a = Var(3.0); y = a * a; y.backward()
        >>> y.zero_grad(); a.grad, y.grad
        (0.0, 0.0)
        """
        check(lib.pyad_zero_grad(ffi.new("int64_t[1]", [self._h]), 1))
        if graph_grads:
            from ._graphgrad import forget_below

            forget_below(self)

    def detach(self) -> Var:
        """A new leaf with the same value, cut off from the graph.

        >>> a = Var(3.0); d = (a * a).detach(); d.val, d.is_leaf
        (9.0, True)
        """
        return Var(self.val)

    # ---- conversions and comparisons -----------------------------------
    # Each of these turns a value into Python control flow. While a function
    # is traced for replay, guard_hook (set by the tracer) sees the outcome.
    def __float__(self) -> float:
        r = lib.pyad_value(self._h)
        if guard_hook is not None:
            guard_hook("float", self, None, r)
        if float_hook is not None:  # inside grad or a trace: may warn
            float_hook(self)
        return r

    def __bool__(self) -> bool:
        r = lib.pyad_value(self._h) != 0.0
        if guard_hook is not None:
            guard_hook("bool", self, None, r)
        return r

    def __repr__(self) -> str:
        return f"Var(val={lib.pyad_value(self._h)!r}, grad={self.grad!r})"

    def _compare(self, kind: str, other: object, test: Callable[[Any, Any], bool]) -> bool:
        # Exact, as Python compares a float with an int or a Fraction:
        # Var(2.0**53) < 2**53 + 1 is True, Var(1.0) < 10**400 is True.
        o = lib.pyad_value(other._h) if isinstance(other, Var) else exact_real(other)
        if o is None:
            return NotImplemented  # type: ignore[no-any-return]  # for the operators
        r = test(lib.pyad_value(self._h), o)
        if guard_hook is not None:
            guard_hook(kind, self, other, r)
        return r

    def __lt__(self, other: Var | Real) -> bool:
        return self._compare("lt", other, operator.lt)

    def __le__(self, other: Var | Real) -> bool:
        return self._compare("le", other, operator.le)

    def __gt__(self, other: Var | Real) -> bool:
        return self._compare("gt", other, operator.gt)

    def __ge__(self, other: Var | Real) -> bool:
        return self._compare("ge", other, operator.ge)

    # == and != compare values, as PyTorch's tensors do; the hash stays
    # identity-based (object's), so Vars remain dict keys. Both go through
    # _compare (one exact comparison of a Var with any real number); the
    # guard of == is the != guard with the opposite outcome.
    def __eq__(self, other: object) -> bool:
        r = self._compare("ne", other, operator.ne)
        return r if r is NotImplemented else not r

    def __ne__(self, other: object) -> bool:
        return self._compare("ne", other, operator.ne)

    __hash__ = object.__hash__

    def __pos__(self) -> Var:
        return self

    # ---- the number protocol: the value as a plain number -----------------
    def item(self) -> float:
        """The value as a float (as .val; the name numpy and PyTorch use).

        >>> Var(2.5).item()
        2.5
        """
        return self.val

    @property
    def real(self) -> Var:
        """The Var itself: it is real (np.std and np.var of object arrays
        read .real).

        >>> a = Var(2.0); a.real is a
        True
        """
        return self

    @property
    def imag(self) -> float:
        """0.0: a Var is real.

        >>> Var(2.0).imag
        0.0
        """
        return 0.0

    def conjugate(self) -> Var:
        """The Var itself (np.conjugate of object arrays calls this).

        >>> a = Var(2.0); a.conjugate() is a
        True
        """
        return self

    def __format__(self, spec: str) -> str:
        # f"{v:.4f}" formats the value; f"{v}" is str(v), as for objects
        return format(self.val, spec) if spec else str(self)

    def __int__(self) -> int:
        return self._integral("trunc", math.trunc)

    def __trunc__(self) -> int:
        return self._integral("trunc", math.trunc)

    def __floor__(self) -> int:
        return self._integral("floor", math.floor)

    def __ceil__(self) -> int:
        return self._integral("ceil", math.ceil)

    @overload
    def __round__(self, ndigits: None = None) -> int: ...
    @overload
    def __round__(self, ndigits: int) -> float: ...
    def __round__(self, ndigits: int | None = None) -> int | float:
        if ndigits is None:
            return self._integral("round", round)
        return round(self.val, ndigits)  # .val pins the value while tracing

    def _integral(self, kind: str, fn: Callable[[float], int]) -> int:
        """fn(value), an int; while tracing, guards that hold exactly on the
        interval of values that give the same int, so a compiled function
        that calls int(x) re-traces only when int(x) changes."""
        x = lib.pyad_value(self._h)
        k = fn(x)  # ValueError / OverflowError for nan / inf, as for floats
        if guard_hook is not None:
            for test, bound in integral_interval(kind, k, x):
                guard_hook(test, self, bound, True)
        return k

    # ---- copying: a Var is a handle, so a naive copy would double-free ---
    def __copy__(self) -> Var:
        return self

    def __deepcopy__(self, memo: object) -> Var:
        if not self.is_leaf:
            raise TypeError("only leaf Vars can be deep-copied; use v.detach()")
        v = Var(self.val)
        v.grad = self.grad
        return v

    def __reduce__(self) -> tuple[Callable[[float, float], Var], tuple[float, float]]:
        if not self.is_leaf:
            raise TypeError("only leaf Vars can be pickled; pickle float(v), or use v.detach()")
        return (_leaf_from_state, (self.val, self.grad))


def _leaf_from_state(val: float, grad: float) -> Var:
    v = Var(val)
    v.grad = grad
    return v
