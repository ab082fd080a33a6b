"""GradientDroppedWarning: float() of a Var inside a differentiated function.

`math.sin(v)`, `np.float64(v)` and `float(v)` turn a Var into a plain
float, and whatever is computed from that float has no derivative: inside
pyad.grad the gradient is silently wrong. While pyad.grad, value_and_grad
or a compiled trace runs a function, float() of a Var that depends on its
inputs warns, once per call site (Python's default warning filter), and
names the pyad function to use. Explicit `.val` and `.item()` reads stay
silent: they say that the value is what is wanted.
"""

from __future__ import annotations

import linecache
import re
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import Literal

from . import var as _var
from ._lib import ffi, lib
from .optable import BY_UFUNC, CODE
from .var import Var

__all__ = ["GradientDroppedWarning"]


class GradientDroppedWarning(UserWarning):
    """float() was taken of a Var that depends on the inputs of pyad.grad,
    value_and_grad or a compiled trace: what is computed from the float has
    no gradient. Use pyad's function instead (pyad.sin for math.sin), or
    .val to read the value on purpose.

    >>> import math, warnings, pyad
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     g = pyad.grad(lambda x: x * math.sin(x))(1.0)
    >>> caught[0].category.__name__, round(g, 4)  # the truth is 1.3818
    ('GradientDroppedWarning', 0.8415)
    >>> "use pyad.sin(" in str(caught[0].message)
    True
    """


# Names under which math and numpy spell pyad's ops, where they differ.
_ALIASES = {"fabs": "abs", "fsum": "sum", "power": "pow", "absolute": "abs"}
_CALL = re.compile(r"\b(?:math|np|numpy)\.(\w+)\s*\(")


def _pyad_name(line: str) -> str | None:
    """The pyad function for the math / numpy call on a source line."""
    found: list[str] = _CALL.findall(line)
    for name in found:
        name = _ALIASES.get(name, name)
        if name in CODE:
            return name
        if name in BY_UFUNC:
            return BY_UFUNC[name].name
    return None


class Watch:
    """One running pyad.grad / value_and_grad call or compiled trace."""

    def __init__(self, inputs: Sequence[Var], where: Literal["grad", "compile"]) -> None:
        self.where = where
        self.inputs = inputs  # alive while the transform runs
        self.handles: object = None  # made on the first float(): most calls take none

    def depends(self, v: Var) -> bool:
        """Whether v depends on one of the inputs (leaves). The export of v's
        graph counts every input plus the nodes reached without passing
        through one; without inputs, every ancestor of v: the first is
        smaller by the inputs that are ancestors of v."""
        out = ffi.new("int64_t[1]", [v._h])
        n_nodes, n_args = ffi.new("size_t *"), ffi.new("size_t *")
        null = ffi.NULL
        args = (null, null, null, null, null, null, null, n_nodes, n_args)
        if lib.pyad_export(null, 0, out, 1, *args) != 0:
            return False
        alone = n_nodes[0]
        if self.handles is None:
            self.handles = ffi.new("int64_t[]", [v._h for v in self.inputs])
        n = len(self.inputs)
        if lib.pyad_export(self.handles, n, out, 1, *args) != 0:
            return False
        return bool(n_nodes[0] < alone + n)


_local = threading.local()
_lock = threading.Lock()
_active = 0  # watches running in all threads


def watch_stack() -> list[Watch]:
    """The calling thread's running watches, innermost last."""
    stack: list[Watch] = _local.__dict__.setdefault("stack", [])
    return stack


def begin_watching() -> None:
    """A watch starts, in some thread: float(v) is watched (end_watching
    undoes it). A count left too high by an interrupt only keeps the hook
    set, and it finds nothing to do."""
    global _active
    with _lock:
        _active += 1
        _var.float_hook = _on_float


def end_watching() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active <= 0:
            _active = 0
            _var.float_hook = None


def _on_float(v: Var) -> None:
    stack: list[Watch] = getattr(_local, "stack", [])
    for watch in reversed(stack):
        if watch.depends(v):
            warnings.warn(_message(watch.where), GradientDroppedWarning, stacklevel=3)
            return


def _message(where: str) -> str:
    # the frame that took float(): this function's caller's caller
    frame = sys._getframe(3)
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    name = _pyad_name(line)
    if name is not None:
        fix = f"use pyad.{name}(...), which keeps the gradient"
    else:
        fix = (
            "compute with the Var itself and pyad's functions (pyad.sin for "
            "math.sin, ...), or read v.val if the value is what you want"
        )
    if where == "grad":
        return (
            "float() of a Var that depends on the inputs of pyad.grad: what is "
            f"computed from the float has no derivative, so the gradient is wrong; {fix}"
        )
    return (
        "float() of a Var that depends on the inputs of a compiled function: "
        f"what is computed from the float has no derivative; {fix}. float() "
        "also pins the trace to this exact value, so every call with a new "
        "value re-traces the function"
    )
