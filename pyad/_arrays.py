"""The object arrays of Vars the transforms give a function.

A transform calls f with its array arguments as VarArrays: numpy object
arrays (a subclass of ndarray, dtype object) whose elements are Vars, so
ordinary numpy code and element access work as on any object array. What
differs is speed: a numpy ufunc of the op registry (np.exp, +, *, **, ...)
over a VarArray records the whole array in one C call (csrc/bulk.c)
instead of one Python call per element, and sum() records one n-ary sum
node. Each element is recorded exactly as the element-by-element loop
would record it, so values and derivatives are the same bits. Anything
else falls back to numpy's object loops.

>>> import numpy as np, pyad
>>> from pyad._arrays import var_array
>>> x = var_array([pyad.Var(1.0), pyad.Var(2.0)], (2,))
>>> y = np.exp(x) * 2 + x ** 2
>>> type(y).__name__, y.dtype, [round(v.val, 6) for v in y]
('VarArray', dtype('O'), [6.436564, 18.778112])
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any

import numpy as np

from . import ops as _ops
from ._lib import VarBase, ffi, lib
from .errors import check
from .optable import OPS
from .reals import as_float
from .var import Var, _fmt, _new

__all__ = ["VarArray", "var_array"]

# The ufuncs recorded in bulk: those the registry names (by numpy name),
# except np.positive, which on an object array gives back the same Vars.
_BULK: dict[Any, tuple[int, int, str]] = {}
for _op in OPS:
    _uf = getattr(np, _op.ufunc, None) if _op.ufunc else None
    if isinstance(_uf, np.ufunc) and _op.arity == _uf.nin and _uf is not np.positive:
        _BULK[_uf] = (_op.code, _op.arity, _op.name)


# Handles read without a Python frame per element: map() over the slot's
# descriptor.
_slot: Any = VarBase.__dict__["_h"]  # the slot's member descriptor (C)
_get_h = _slot.__get__


def handleless(n: int) -> list[Var]:
    """n Vars with no handle yet, for a C call to give its new nodes to
    before it returns (pyad_py_leaves, pyad_py_grad_graph,
    pyad_py_record_many), so that Ctrl-C cannot land between a node's
    birth and a Var owning it. No Python frame per Var."""
    return list(map(_new, repeat(Var, n)))


def var_array(items: Any, shape: tuple[int, ...]) -> VarArray:
    """An object array of shape `shape` holding items (Vars, numbers).

    >>> import pyad
    >>> from pyad._arrays import var_array
    >>> var_array([pyad.Var(1.0)], ()).shape
    ()
    """
    flat = np.empty(len(items), dtype=object)
    flat[:] = list(items)
    return flat.reshape(shape).view(VarArray)


def _operand(x: Any) -> tuple[Any, Any] | None:
    """(handles, constants) arrays of an operand (handle -1: a constant),
    or None if it cannot be recorded in bulk."""
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            items = x.ravel().tolist()
            try:  # all Vars: the common case
                h = np.fromiter(map(_get_h, items), np.int64, len(items))
                return h.reshape(x.shape), np.zeros(x.shape)
            except TypeError:  # a number (not a Var) among them
                pass
            hs, cs = np.full(len(items), -1, np.int64), np.zeros(len(items))
            for i, v in enumerate(items):
                if isinstance(v, Var):
                    hs[i] = v._h
                else:
                    f = as_float(v)
                    if f is None:
                        return None
                    cs[i] = f
            return hs.reshape(x.shape), cs.reshape(x.shape)
        if x.dtype.kind in "biuf":
            return np.full(x.shape, -1, np.int64), x.astype(np.float64)
        return None
    if isinstance(x, Var):
        return np.array(x._h, dtype=np.int64), np.zeros(())
    f = as_float(x)
    if f is None:
        return None
    return np.array(-1, dtype=np.int64), np.array(f)


def _record(code: int, arity: int, name: str, inputs: tuple[Any, ...]) -> Any:
    """The ufunc of op `code` over inputs, recorded in one C call; or
    NotImplemented when an operand is not made of Vars and numbers."""
    parts = [_operand(x) for x in inputs]
    if any(p is None for p in parts):
        return NotImplemented
    shape = np.broadcast_shapes(*[p[0].shape for p in parts])  # type: ignore[index]
    n = math.prod(shape)
    H = np.empty((arity, *shape), np.int64)
    C = np.empty((arity, *shape))
    for j, p in enumerate(parts):
        H[j] = p[0]  # type: ignore[index]  # broadcast by assignment
        C[j] = p[1]  # type: ignore[index]
    out = np.empty(max(n, 1), np.int64)
    failed = ffi.new("size_t *")
    vs = handleless(n)
    st = lib.pyad_py_record_many(
        code, arity, n, ffi.from_buffer("int64_t[]", H) if n else ffi.NULL,
        ffi.from_buffer("double[]", C) if n else ffi.NULL, ffi.from_buffer("int64_t[]", out),
        failed, id(vs),
    )  # fmt: skip
    if st < 0:
        k = failed[0]
        Hf, Cf = H.reshape(arity, n), C.reshape(arity, n)
        operands = [_fmt(_wrap_const(Hf[j, k], Cf[j, k])) for j in range(arity)] if n else []
        check(st, f"{name}({', '.join(operands)})")
    return var_array(vs, shape)


def _wrap_const(h: int, c: float) -> Any:
    return c if h < 0 else _ValueOf(int(h))


class _ValueOf:
    """Formats as the value of handle h (for an error message)."""

    def __init__(self, h: int) -> None:
        self._h = h

    def __float__(self) -> float:
        return float(lib.pyad_value(self._h))


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, VarArray) else x


class VarArray(np.ndarray):
    """A numpy object array of Vars whose registry ufuncs record in bulk.

    >>> import numpy as np, pyad
    >>> from pyad._arrays import var_array
    >>> x = var_array([pyad.Var(3.0), pyad.Var(4.0)], (2,))
    >>> s = (x * x).sum(); s.val
    25.0
    """

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if not kwargs:
            if method == "__call__" and ufunc in _BULK:
                code, arity, name = _BULK[ufunc]
                r = _record(code, arity, name, inputs)
                if r is not NotImplemented:
                    return r
            elif method == "reduce" and ufunc is np.add and len(inputs) == 1:
                items = inputs[0].ravel().tolist()
                if items and any(isinstance(v, Var) for v in items):
                    return _ops.sum(items)  # one n-ary node, added left to right
        args = [_plain(x) for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        result = getattr(ufunc, method)(*args, **kwargs)
        if isinstance(result, np.ndarray) and result.dtype == object:
            return result.view(VarArray)
        return result

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None, **kwargs: Any) -> Any:
        """Sum of the elements: one n-ary node for a whole sum.

        >>> import pyad
        >>> from pyad._arrays import var_array
        >>> var_array([pyad.Var(1.0), 2.0], (2,)).sum().val
        3.0
        """
        if (axis is None or (axis in (0, -1) and self.ndim == 1)) and dtype is None and out is None:
            if not kwargs:
                return np.add.reduce(self.ravel())
        return np.add.reduce(self, axis=axis, dtype=dtype, out=out, **kwargs)
