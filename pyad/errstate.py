"""pyad.errstate: numpy-style control of IEEE exceptions, per thread.

By default ops follow IEEE (log(0) = -inf, 1/0 = inf, no exception).
Inside `with pyad.errstate(divide="raise")` a dividing-by-zero op raises
FloatingPointError instead, and records nothing.
"""

from ._lib import lib

_BITS = {
    "divide": lib.PYAD_RAISE_DIVIDE,
    "over": lib.PYAD_RAISE_OVERFLOW,
    "invalid": lib.PYAD_RAISE_INVALID,
    "under": lib.PYAD_RAISE_UNDERFLOW,
}
_ACTIONS = ("ignore", "raise")


def _mode_from(base, settings):
    mode = base
    for key, action in settings.items():
        if action is None:
            continue
        if action not in _ACTIONS:
            raise ValueError(
                f"errstate: {key}={action!r} is not supported; use 'ignore' or 'raise'"
            )
        bit = _BITS[key]
        mode = (mode | bit) if action == "raise" else (mode & ~bit)
    return mode


class errstate:
    """Context manager: which floating-point errors raise in this thread.

    Keywords as numpy's: all, divide, over (or overflow), invalid, under;
    values 'ignore' or 'raise'. Keywords left out keep their current setting.

    >>> import pyad
    >>> with pyad.errstate(divide="raise"):
    ...     pyad.log(pyad.Var(0.0))
    Traceback (most recent call last):
    ...
    pyad.errors.PyadFloatingPointError: divide by zero encountered in log(0.0)
    """

    def __init__(
        self, *, all=None, divide=None, over=None, overflow=None, invalid=None, under=None
    ):
        if over is not None and overflow is not None:
            raise TypeError("errstate: give over or overflow, not both")
        over = over if over is not None else overflow
        self._settings = {}
        if all is not None:
            self._settings.update(divide=all, over=all, invalid=all, under=all)
        for key, action in (
            ("divide", divide),
            ("over", over),
            ("invalid", invalid),
            ("under", under),
        ):
            if action is not None:
                self._settings[key] = action
        _mode_from(0, self._settings)  # validate now, not on enter
        self._saved = []

    def __enter__(self):
        old = lib.pyad_get_errmode()
        self._saved.append(old)
        lib.pyad_set_errmode(_mode_from(old, self._settings))
        return self

    def __exit__(self, *exc):
        lib.pyad_set_errmode(self._saved.pop())
        return False


def geterr():
    """The current thread's settings, as a dict like numpy.geterr()."""
    mode = lib.pyad_get_errmode()
    return {k: ("raise" if mode & bit else "ignore") for k, bit in _BITS.items()}
