"""The points of a batch as C reads them: for each input, a pointer and a
stride in doubles (input i of point j is x[i][j * stride[i]]).

So an (N, n) array goes to C as it is, n columns of stride n; a column of
N points has stride 1; a number or an array every point shares has stride
0. Nothing is copied per element in Python: a batch is a list of *blocks*,

* a float: one input, the same at every point;
* a float64 array of shape (N, k), C-contiguous: k inputs, per point;
* a float64 array of shape (k,), C-contiguous: k inputs shared by every
  point.

>>> import numpy as np
>>> from pyad.columns import Columns
>>> c = Columns([np.arange(6.0).reshape(3, 2), 10.0], 3)
>>> c.n, c.point(1), c.take(np.array([2, 0])).point(0)
(3, [2.0, 3.0, 10.0], [4.0, 5.0, 10.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ._lib import ffi

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Block = Union[float, "FloatArray"]

__all__ = ["Columns", "dbl"]


def dbl(a: npt.NDArray[Any]) -> Any:
    """A double* to a contiguous float64 array (a dummy for an empty one).

    C reads doubles at 8-byte boundaries: an array that does not start at
    one (np.frombuffer at an odd offset, a block unpickled from a network
    frame) is read through an aligned copy, which the pointer keeps alive.
    Only arguments can be such arrays: the arrays C writes are pyad's own."""
    if not a.size:
        return ffi.new("double[1]")
    if not a.flags.aligned:
        a = a.copy()
    return ffi.from_buffer("double[]", a)


class Columns:
    """n inputs at N points, as blocks (see the module's docstring).

    >>> import numpy as np
    >>> from pyad.columns import Columns
    >>> Columns([np.zeros((4, 2)), np.ones(3)], 4).n
    5
    """

    __slots__ = ("blocks", "N", "n")

    def __init__(self, blocks: Sequence[Block], N: int) -> None:
        self.N = N
        self.blocks: list[Block] = []
        n = 0
        for b in blocks:
            if isinstance(b, np.ndarray):
                b = np.require(b, np.float64, ["C", "A"])  # contiguous, aligned
                if b.ndim == 2 and b.shape[0] != N:
                    raise ValueError(f"a block of {b.shape[0]} points in a batch of {N}")
                if b.ndim not in (1, 2):
                    raise ValueError(f"a block must be 1-D or 2-D, not of shape {b.shape}")
                n += b.shape[-1]
            else:
                b = float(b)
                n += 1
            self.blocks.append(b)
        self.n = n

    @classmethod
    def of_columns(cls, cols: Sequence[Any], N: int) -> Columns:
        """One block per input: floats, and 1-D arrays of N points.

        >>> import numpy as np
        >>> from pyad.columns import Columns
        >>> Columns.of_columns([np.array([1.0, 2.0]), 3.0], 2).point(1)
        [2.0, 3.0]
        """
        return cls([c.reshape(N, 1) if isinstance(c, np.ndarray) else c for c in cols], N)

    def point(self, j: int) -> list[float]:
        """The n input values of point j.

        >>> import numpy as np
        >>> from pyad.columns import Columns
        >>> Columns([np.array([1.0, 2.0])], 5).point(3)
        [1.0, 2.0]
        """
        out: list[float] = []
        for b in self.blocks:
            if isinstance(b, float):
                out.append(b)
            elif b.ndim == 2:
                out.extend(b[j].tolist())
            else:
                out.extend(b.tolist())
        return out

    def take(self, idx: npt.NDArray[np.intp]) -> Columns:
        """The points idx (an index array), in that order.

        >>> import numpy as np
        >>> from pyad.columns import Columns
        >>> Columns([np.array([[1.0], [2.0], [3.0]])], 3).take(np.array([2])).point(0)
        [3.0]
        """
        blocks = [b[idx] if isinstance(b, np.ndarray) and b.ndim == 2 else b for b in self.blocks]
        return Columns(blocks, int(idx.size))

    def pointers(self) -> tuple[list[Any], Any, Any]:
        """(keep-alive list, double *[n], size_t[n]) for C. The pointers are
        valid while the keep-alive list lives.

        >>> import numpy as np
        >>> from pyad.columns import Columns
        >>> keep, ptrs, strides = Columns([np.zeros((2, 3)), 1.0], 2).pointers()
        >>> list(strides)
        [3, 3, 3, 0]
        """
        keep: list[Any] = []
        ptrs: list[Any] = []
        strides: list[int] = []
        for b in self.blocks:
            if isinstance(b, float):
                p = ffi.new("double[1]", [b])
                keep.append(p)
                ptrs.append(p)
                strides.append(0)
                continue
            k = b.shape[-1]
            if k == 0:
                continue
            buf = dbl(b)
            keep += [b, buf]
            base = ffi.cast("double *", buf)
            ptrs += [base + i for i in range(k)]
            strides += [k if b.ndim == 2 else 0] * k
        keep.append(ptrs)
        cp = ffi.new("double *[]", ptrs) if ptrs else ffi.NULL
        sp = ffi.new("size_t[]", strides) if strides else ffi.NULL
        return keep, cp, sp
