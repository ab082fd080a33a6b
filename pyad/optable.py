"""The C op registry (csrc/oplist.h), read once at import.

Everything in the Python layer that knows about ops (functions, methods,
numpy hooks, pickles, docs, tests) takes them from here, so a new row in
the C registry needs no list to be edited by hand.

>>> from pyad.optable import OPS, CODE
>>> OPS[CODE["mul"]].name, OPS[CODE["mul"]].arity, OPS[CODE["mul"]].ufunc
('mul', 2, 'multiply')
"""

from __future__ import annotations

from typing import NamedTuple

from ._lib import ffi, lib

__all__ = ["Op", "OPS", "CODE", "BY_UFUNC"]


class Op(NamedTuple):
    """One row of the registry."""

    code: int  # stable code (never persisted: pickles store names)
    name: str  # pyad's name: function and method
    arity: int  # 1, 2, 3, or -1 for n-ary
    hess: int  # which second partials may be non-zero (lib.PYAD_HESS_*)
    ufunc: str  # numpy's ufunc of the same meaning, or ""
    note: str  # domain and conventions at kinks and ties


def _text(p: object) -> str:
    return ffi.string(p).decode()  # type: ignore[no-any-return]  # char* -> bytes


OPS: tuple[Op, ...] = tuple(
    Op(
        code,
        _text(lib.pyad_op_name(code)),
        lib.pyad_op_arity(code),
        lib.pyad_op_hess(code),
        _text(lib.pyad_op_ufunc(code)),
        _text(lib.pyad_op_note(code)),
    )
    for code in range(lib.pyad_op_count())
)
CODE: dict[str, int] = {op.name: op.code for op in OPS}  # name -> code
BY_UFUNC: dict[str, Op] = {op.ufunc: op for op in OPS if op.ufunc}  # numpy name -> op
