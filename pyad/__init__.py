"""pyad: reverse-mode automatic differentiation of Python scalars, in C.

>>> import pyad
>>> a, b = pyad.Var(2.0), pyad.Var(5.0)
>>> y = pyad.sin(a * b) + a / b
>>> y.backward()
>>> round(a.grad, 6), round(b.grad, 6)
(-3.995358, -1.758143)
"""

from . import forking as _forking  # noqa: F401  (installs the fork() hooks)
from . import pytree, sparsity  # noqa: F401  (pyad.pytree, pyad.sparsity)
from . import ufuncs as _ufuncs  # noqa: F401  (installs Var.__array_ufunc__)
from ._lib import lib as _synced_lib
from .compiled import Compiled, Function, compile
from .dot import to_dot
from .dropped import GradientDroppedWarning
from .errors import (
    GradcheckError,
    GuardMissError,
    ImpureFunctionError,
    InvalidHandleError,
    MalformedProgramError,
    NotALeafError,
    PyadError,
    PyadFloatingPointError,
    PyadMemoryError,
)
from .errstate import errstate, geterr
from .functional import grad, gradcheck, value_and_grad, zero_grad
from .ops import *  # noqa: F403  (every op of the C registry: exp, sin, where, ...)
from .ops import __all__ as _op_names
from .special import trigamma
from .transforms import hessian, hvp, jacobian, jvp, vjp
from .var import Var
from .var import release_dead as _release_dead

__version__ = "0.1.0"


def live_nodes() -> int:
    """Nodes alive on the C tape (for tests and memory accounting).

    Vars that died are released in batches; this flushes the batch first.

    >>> import pyad
    >>> n = pyad.live_nodes()
    >>> a = pyad.Var(1.0); y = a * 2
    >>> pyad.live_nodes() - n
    3
    """
    _release_dead()
    return _synced_lib.pyad_live_nodes()


__all__ = [
    *_op_names,
    "trigamma",
    "Var",
    "grad",
    "value_and_grad",
    "gradcheck",
    "zero_grad",
    "jacobian",
    "hessian",
    "hvp",
    "jvp",
    "vjp",
    "errstate",
    "geterr",
    "live_nodes",
    "PyadError",
    "PyadMemoryError",
    "PyadFloatingPointError",
    "InvalidHandleError",
    "NotALeafError",
    "GradcheckError",
    "MalformedProgramError",
    "to_dot",
    "__version__",
    "compile",
    "Compiled",
    "Function",
    "GuardMissError",
    "ImpureFunctionError",
    "GradientDroppedWarning",
]
