"""pyad.errstate: numpy-style control of IEEE exceptions, per thread.

By default ops follow IEEE (log(0) = -inf, 1/0 = inf, no exception).
Inside `with pyad.errstate(divide="raise")` a dividing-by-zero op raises
FloatingPointError instead, and records nothing.
"""

from __future__ import annotations

import contextlib
from typing import Literal, Optional

from ._lib import ErrstateBase, lib

# An action, as errstate takes it: None keeps the current setting.
Action = Optional[Literal["ignore", "raise"]]

_BITS = {
    "divide": lib.PYAD_RAISE_DIVIDE,
    "over": lib.PYAD_RAISE_OVERFLOW,
    "invalid": lib.PYAD_RAISE_INVALID,
    "under": lib.PYAD_RAISE_UNDERFLOW,
}
_ACTIONS = ("ignore", "raise")


def _bits_of(settings: dict[str, str]) -> tuple[int, int]:
    """The mode bits the settings set, and those they clear."""
    set_bits = clear_bits = 0
    for key, action in settings.items():
        if action not in _ACTIONS:
            raise ValueError(
                f"errstate: {key}={action!r} is not supported; use 'ignore' or 'raise'"
            )
        if action == "raise":
            set_bits |= _BITS[key]
        else:
            clear_bits |= _BITS[key]
    return set_bits, clear_bits


class errstate(ErrstateBase, contextlib.ContextDecorator):
    """Context manager and decorator: which floating-point errors raise in
    this thread.

    Keywords as numpy's: all, divide, over (or overflow), invalid, under;
    values 'ignore' or 'raise'. Keywords left out keep their current setting.

    >>> import pyad
    >>> with pyad.errstate(divide="raise"):
    ...     pyad.log(pyad.Var(0.0))
    Traceback (most recent call last):
    ...
    pyad.errors.PyadFloatingPointError: divide by zero encountered in log(0.0)

    As numpy's, one errstate object may be entered by several threads at
    once, and re-entered (recursion): each entry restores, on exit, the
    mode its own thread had when it entered. As a decorator it applies to
    every call of the function:

    >>> @pyad.errstate(invalid="raise")
    ... def root(x):
    ...     return pyad.sqrt(x)
    >>> try:
    ...     root(pyad.Var(-1.0))
    ... except FloatingPointError:
    ...     print("raised")
    raised
    """

    def __init__(
        self,
        *,
        all: Action = None,
        divide: Action = None,
        over: Action = None,
        overflow: Action = None,
        invalid: Action = None,
        under: Action = None,
    ) -> None:
        if over is not None and overflow is not None:
            raise TypeError("errstate: give over or overflow, not both")
        over = over if over is not None else overflow
        settings: dict[str, str] = {}
        if all is not None:
            settings.update(divide=all, over=all, invalid=all, under=all)
        for key, action in (
            ("divide", divide),
            ("over", over),
            ("invalid", invalid),
            ("under", under),
        ):
            if action is not None:
                settings[key] = action
        # Read by __enter__ and __exit__, which are C (csrc/pyerrmode.c): a
        # Python __exit__ can be interrupted by Ctrl-C before its first line,
        # leaving the thread in this errstate's mode after the with. _saved
        # holds the modes to restore, per thread (thread ident -> a list:
        # entries nest per thread).
        self._set_bits, self._clear_bits = _bits_of(settings)  # validated now, not on enter
        self._saved: dict[int, list[int]] = {}


def geterr() -> dict[str, str]:
    """The current thread's settings, as a dict like numpy.geterr().

    >>> import pyad
    >>> with pyad.errstate(divide="raise"):
    ...     pyad.geterr()
    {'divide': 'raise', 'over': 'ignore', 'invalid': 'ignore', 'under': 'ignore'}
    """
    mode = lib.pyad_get_errmode()
    return {k: ("raise" if mode & bit else "ignore") for k, bit in _BITS.items()}
