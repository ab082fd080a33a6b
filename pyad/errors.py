"""pyad's exceptions, and the one helper that turns C status codes into them.

Every exception pyad raises itself derives from PyadError and also from the
builtin a user would catch (MemoryError, FloatingPointError, ...).
"""

from __future__ import annotations

from ._lib import lib


class PyadError(Exception):
    """Base class of the exceptions raised by pyad.

    >>> import pyad
    >>> try:
    ...     (pyad.Var(1.0) * 2).val = 3.0
    ... except pyad.PyadError as e:
    ...     type(e).__name__
    'NotALeafError'
    """


class PyadMemoryError(PyadError, MemoryError):
    """The C core could not allocate memory, or its tape is full.

    >>> import pyad
    >>> issubclass(pyad.PyadMemoryError, MemoryError)
    True
    """


class PyadFloatingPointError(PyadError, FloatingPointError):
    """An op raised an IEEE exception that pyad.errstate asked to raise.

    >>> import pyad
    >>> with pyad.errstate(invalid="raise"):
    ...     try:
    ...         pyad.sqrt(pyad.Var(-1.0))
    ...     except FloatingPointError as e:
    ...         print(e)
    invalid value encountered in sqrt(-1.0)
    """


class InvalidHandleError(PyadError, ValueError):
    """A Var whose C node is gone (its handle was tampered with).

    >>> import pyad
    >>> issubclass(pyad.InvalidHandleError, ValueError)
    True
    """


class NotALeafError(PyadError, AttributeError):
    """The value of an interior node was assigned.

    >>> import pyad
    >>> y = pyad.Var(1.0) * 2
    >>> try:
    ...     y.val = 3.0
    ... except AttributeError as e:
    ...     type(e).__name__
    'NotALeafError'
    """


class MalformedProgramError(PyadError, ValueError):
    """A compiled program (e.g. from a pickle) failed validation.

    >>> import pyad
    >>> issubclass(pyad.MalformedProgramError, ValueError)
    True
    """


class GuardMissError(PyadError, RuntimeError):
    """A replay's guards missed and there is no function to re-trace with
    (a compiled function unpickled without its Python function).

    >>> import pickle, pyad
    >>> f = pyad.compile(lambda x: x if x > 0 else -x)
    >>> g = pickle.loads(pickle.dumps(f(1.0) and f))
    >>> try:
    ...     g(-1.0)
    ... except pyad.GuardMissError:
    ...     print("re-trace needed: use g.attach(fn)")
    re-trace needed: use g.attach(fn)
    """


class ImpureFunctionError(PyadError, RuntimeError):
    """A compiled function's fresh trace does not take, when replayed at the
    very point it was traced at, the branches it recorded: the function is
    not pure in its Var values (e.g. it changed a Var's .val after
    comparing it), so no trace of it can be trusted.

    >>> import pyad
    >>> w = pyad.Var(0.0)
    >>> def f(x):
    ...     y = x * 2 if x > w else -x
    ...     w.val = 5.0  # changes what the comparison was made with
    ...     return y
    >>> try:
    ...     pyad.compile(f)(1.0)
    ... except pyad.ImpureFunctionError:
    ...     print("not pure")
    not pure
    """


class GradcheckError(PyadError, RuntimeError):
    """pyad.gradcheck found an analytic gradient that disagrees.

    >>> import pyad
    >>> issubclass(pyad.GradcheckError, RuntimeError)
    True
    """


_FP_WORDS = {
    lib.PYAD_ERR_DIVIDE: "divide by zero",
    lib.PYAD_ERR_OVERFLOW: "overflow",
    lib.PYAD_ERR_INVALID: "invalid value",
    lib.PYAD_ERR_UNDERFLOW: "underflow",
}


def check(status: int, what: str = "") -> int:
    """Return status if it is not an error code, else raise its exception.

    `what` describes the failing call (e.g. "log(0.0)") for the message.
    """
    if status >= 0:
        return status
    where = f" in {what}" if what else ""
    if status in _FP_WORDS:
        raise PyadFloatingPointError(f"{_FP_WORDS[status]} encountered{where}")
    if status == lib.PYAD_ERR_NOMEM:
        raise PyadMemoryError(f"pyad: out of memory{where}")
    if status == lib.PYAD_ERR_FULL:
        raise PyadMemoryError(f"pyad: the tape cannot hold more nodes{where}")
    if status == lib.PYAD_ERR_HANDLE:
        raise InvalidHandleError(f"pyad: a Var refers to a node that does not exist{where}")
    if status == lib.PYAD_ERR_NOT_LEAF:
        raise NotALeafError(
            "can't assign .val of an interior node: only leaves (Var(x)) have "
            "a settable value; build a new expression instead"
        )
    if status == lib.PYAD_ERR_PROGRAM:
        raise MalformedProgramError(f"pyad: malformed compiled program{where}")
    if status == lib.PYAD_ERR_GUARD:
        raise GuardMissError(f"pyad: a guard of the compiled trace does not hold{where}")
    if status == lib.PYAD_ERR_CANCELLED:
        raise PyadError(f"pyad: the batch was cancelled{where}")
    if status == lib.PYAD_ERR_ARGS:
        raise PyadError(f"pyad: bad buffers passed to the replay engine{where}")
    if status == lib.PYAD_ERR_OP:
        raise PyadError(f"pyad: unknown op or wrong number of operands{where}")
    raise PyadError(f"pyad: C core returned unknown status {status}{where}")
