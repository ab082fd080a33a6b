"""Static types of the Var API, for type checkers (no run-time role)."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Protocol, Union, overload

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    from .var import Var

# A real number, as the API accepts it: int, float, bool, numpy real scalars
# and other numbers.Real (e.g. Fraction).
Real = Union[float, numbers.Real, "np.integer[Any]", "np.floating[Any]"]


class UnaryFunction(Protocol):
    """exp, log, ...: a Var gives a Var, a real number gives a float."""

    @overload
    def __call__(self, x: Var, /) -> Var: ...
    @overload
    def __call__(self, x: Real, /) -> float: ...


class ComparisonFunction(Protocol):
    """lt, le, gt, ge: a Var if either operand is a Var, else a float."""

    @overload
    def __call__(self, a: Var, b: Var | Real, /) -> Var: ...
    @overload
    def __call__(self, a: Real, b: Var, /) -> Var: ...
    @overload
    def __call__(self, a: Real, b: Real, /) -> float: ...


class WhereFunction(Protocol):
    """where: a Var if any operand is a Var, else a float."""

    @overload
    def __call__(self, cond: Var, a: Var | Real, b: Var | Real, /) -> Var: ...
    @overload
    def __call__(self, cond: Real, a: Var, b: Var | Real, /) -> Var: ...
    @overload
    def __call__(self, cond: Real, a: Real, b: Var, /) -> Var: ...
    @overload
    def __call__(self, cond: Real, a: Real, b: Real, /) -> float: ...


class _Operator(Protocol):
    # A binary operator method of Var (bound): with a numpy array, an object
    # array of Vars.
    @overload
    def __call__(self, other: Var | Real, /) -> Var: ...
    @overload
    def __call__(self, other: npt.NDArray[Any], /) -> npt.NDArray[np.object_]: ...


class _Reflected(Protocol):
    # A reflected operator method of Var (bound): `other <op> self`.
    def __call__(self, other: Real, /) -> Var: ...


class _Power(Protocol):
    # Var.__pow__ (bound); pow(v, k, mod) with a modulus raises TypeError.
    @overload
    def __call__(self, other: Var | Real, mod: None = None, /) -> Var: ...
    @overload
    def __call__(self, other: npt.NDArray[Any], mod: None = None, /) -> npt.NDArray[np.object_]: ...


class _Method(Protocol):
    # -v, abs(v), v.exp(), ...: a new Var.
    def __call__(self) -> Var: ...
