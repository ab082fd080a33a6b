"""The special functions' Python signatures that the registry's rows do not
give by themselves: logsumexp (an n-ary op: one node over a sequence) and
trigamma (polygamma(1, x), an op of two operands). Every other special
function (lgamma, digamma, polygamma, logaddexp, xlogy, xlog1py, ndtr,
log_ndtr, ndtri, erfinv) is made from its row in csrc/oplist.h by ops.py.
See docs/special-functions.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import record
from .optable import CODE
from .var import Var


def logsumexp(xs: Iterable[object]) -> Var | float:
    """log(sum(exp(x) for x in xs)) as ONE node, shifted by the maximum so
    that it never overflows; its gradient is the softmax. xs: Vars and
    numbers, or a numpy array (all its elements, as scipy's default); a
    float if there is no Var. An empty xs gives -inf (log 0).

    >>> import pyad
    >>> a, b = pyad.Var(1000.0), pyad.Var(1000.0)
    >>> y = pyad.logsumexp([a, b]); y.backward(); y.val, a.grad, b.grad
    (1000.6931471805599, 0.5, 0.5)
    >>> round(pyad.logsumexp([0.0, 1.0, 2.0]), 12)
    2.407605964444
    """
    if isinstance(xs, np.ndarray):
        items: list[Any] = xs.ravel().tolist()
    else:
        items = list(xs)
    if not items:
        return -float("inf")
    return record._record_nary(CODE["logsumexp"], "logsumexp", items)


def trigamma(x: Any) -> Any:
    """polygamma(1, x), the derivative of digamma: a Var for a Var, a float
    for a number, elementwise over a numpy array.

    >>> import pyad
    >>> x = pyad.Var(1.0); y = pyad.trigamma(x); y.backward()
    >>> round(y.val, 12), round(x.grad, 12)  # pi^2/6, -2 zeta(3)
    (1.644934066848, -2.404113806319)
    """
    from .ops import polygamma  # ops imports this module

    return polygamma(1.0, x)
