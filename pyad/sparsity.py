"""Sparsity patterns of Jacobians and Hessians, and their colourings.

A Pattern is a structural pattern in CSR form (as scipy.sparse keeps it):
the entries that can be non-zero at some point, computed once from a
program (csrc/sparsity.c) from each op's definition in the registry. A
colouring of its columns (csrc/coloring.c) groups columns that share no
row, so that a Jacobian costs one forward sweep per colour, and a Hessian
one Hessian-vector product per colour, instead of one per column.

>>> import numpy as np, pyad
>>> from pyad import sparsity
>>> p = sparsity.hessian_pattern(lambda x: (x[1:] * x[:-1]).sum(), np.ones(6))
>>> p.shape, p.nnz, p.n_colors
((6, 6), 10, 2)
>>> p.to_dense().astype(int)
array([[0, 1, 0, 0, 0, 0],
       [1, 0, 1, 0, 0, 0],
       [0, 1, 0, 1, 0, 0],
       [0, 0, 1, 0, 1, 0],
       [0, 0, 0, 1, 0, 1],
       [0, 0, 0, 0, 1, 0]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ._lib import ffi, lib
from .errors import check

if TYPE_CHECKING:
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int64]

__all__ = ["Pattern", "hessian_pattern", "jacobian_pattern", "color_columns"]


def _i64(a: npt.NDArray[Any]) -> Any:
    return ffi.from_buffer("int64_t[]", a) if a.size else ffi.new("int64_t[1]")


class Pattern:
    """A CSR sparsity pattern with a column colouring (made on first use).

    >>> import numpy as np
    >>> from pyad.sparsity import Pattern
    >>> p = Pattern((2, 3), np.array([0, 2, 3]), np.array([0, 2, 1]))
    >>> p.nnz, p.color.tolist(), p.n_colors
    (3, [0, 0, 1], 2)
    """

    def __init__(self, shape: tuple[int, int], row_ptr: npt.ArrayLike, col: npt.ArrayLike) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.row_ptr: IntArray = np.require(row_ptr, np.int64, ["C", "A"])
        self.col: IntArray = np.require(col, np.int64, ["C", "A"])
        if self.row_ptr.shape != (self.shape[0] + 1,):
            raise ValueError(f"row_ptr must have {self.shape[0] + 1} entries")
        self._color: npt.NDArray[np.int32] | None = None
        self._n_colors = 0
        self._rows: IntArray | None = None
        self._index32: tuple[Any, Any] | None = None  # (col, row_ptr) as int32, for scipy

    @property
    def nnz(self) -> int:
        """How many entries the pattern holds.

        >>> import numpy as np
        >>> from pyad.sparsity import Pattern
        >>> Pattern((1, 1), np.array([0, 1]), np.array([0])).nnz
        1
        """
        return int(self.col.size)

    def _colour(self) -> None:
        color = np.empty(self.shape[1], np.int32)
        n = ffi.new("size_t *")
        check(
            lib.pyad_sparsity_color(
                self.shape[0],
                self.shape[1],
                _i64(self.row_ptr),
                _i64(self.col),
                self.nnz,
                ffi.from_buffer("int32_t[]", color) if color.size else ffi.new("int32_t[1]"),
                n,
            ),
            "colouring a sparsity pattern",
        )
        self._color, self._n_colors = color, int(n[0])

    @property
    def color(self) -> npt.NDArray[np.int32]:
        """Each column's colour: no row holds two columns of one colour.

        >>> import numpy as np
        >>> from pyad.sparsity import Pattern
        >>> Pattern((1, 2), np.array([0, 2]), np.array([0, 1])).color.tolist()
        [0, 1]
        """
        if self._color is None:
            self._colour()
        return self._color  # type: ignore[return-value]  # set by _colour

    @property
    def n_colors(self) -> int:
        """How many colours: the sweeps a compressed evaluation costs.

        >>> import numpy as np
        >>> from pyad.sparsity import Pattern
        >>> Pattern((2, 2), np.array([0, 1, 2]), np.array([0, 1])).n_colors
        1
        """
        if self._color is None:
            self._colour()
        return self._n_colors

    def rows(self) -> IntArray:
        """The row of each entry (COO form).

        >>> import numpy as np
        >>> from pyad.sparsity import Pattern
        >>> Pattern((2, 2), np.array([0, 1, 3]), np.array([1, 0, 1])).rows().tolist()
        [0, 1, 1]
        """
        if self._rows is None:  # cached: a Pattern is immutable
            self._rows = np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.row_ptr))
        return self._rows

    def to_dense(self, values: npt.ArrayLike | None = None) -> npt.NDArray[Any]:
        """A dense array: the values at the entries (True without values).

        >>> import numpy as np
        >>> from pyad.sparsity import Pattern
        >>> Pattern((1, 2), np.array([0, 1]), np.array([1])).to_dense([5.0]).tolist()
        [[0.0, 5.0]]
        """
        if values is None:
            out = np.zeros(self.shape, dtype=bool)
            out[self.rows(), self.col] = True
            return out
        dense = np.zeros(self.shape)
        dense[self.rows(), self.col] = values
        return dense

    def to_scipy(self, values: npt.ArrayLike | None = None) -> Any:
        """A scipy.sparse.csr_matrix of the values (ones without values).

        >>> import numpy as np
        >>> from pyad.sparsity import Pattern
        >>> m = Pattern((1, 2), np.array([0, 1]), np.array([1])).to_scipy([5.0])
        >>> m.toarray().tolist()  # doctest: +SKIP
        [[0.0, 5.0]]
        """
        import scipy.sparse  # optional: only for scipy matrices

        data = np.ones(self.nnz) if values is None else np.asarray(values, dtype=np.float64)
        col, row_ptr = self.col, self.row_ptr
        if max(self.nnz, *self.shape) < 2**31:
            # scipy keeps int32 indices when they fit: given them, it skips
            # scanning int64 ones on every matrix (half the cost here)
            if self._index32 is None:
                self._index32 = (col.astype(np.int32), row_ptr.astype(np.int32))
            col, row_ptr = self._index32
        return scipy.sparse.csr_matrix((data, col, row_ptr), shape=self.shape)

    def __repr__(self) -> str:
        return f"<pyad.sparsity.Pattern {self.shape[0]}x{self.shape[1]}, {self.nnz} entries>"


def _pattern(
    fill: Callable[[Any, Any, int, Any], int], shape: tuple[int, int], max_nnz: int | None = None
) -> Pattern | None:
    """Call a C pattern function (with room for a banded pattern first, then
    for what it reports); None when it holds more than max_nnz entries."""
    nnz = ffi.new("size_t *")
    row_ptr = np.empty(shape[0] + 1, np.int64)
    col = np.empty(8 * max(shape) + 64, np.int64)
    st = fill(_i64(row_ptr), _i64(col), col.size, nnz)
    if st == lib.PYAD_ERR_ARGS and nnz[0] > col.size:
        if max_nnz is not None and nnz[0] > max_nnz:
            return None
        col = np.empty(nnz[0], np.int64)
        st = fill(_i64(row_ptr), _i64(col), col.size, nnz)
    check(st, "computing a sparsity pattern")
    if max_nnz is not None and nnz[0] > max_nnz:
        return None
    return Pattern(shape, row_ptr, col[: nnz[0]].copy())


def program_hessian_pattern(
    ptr: Any, n_in: int, weights: Any = None, max_nnz: int | None = None
) -> Pattern | None:
    """The Hessian pattern of a C program (of sum_o w[o] output o), or None
    past max_nnz entries."""
    w = ffi.NULL if weights is None else ffi.new("double[]", list(weights))
    return _pattern(
        lambda rp, c, cap, nnz: lib.pyad_program_hessian_sparsity(ptr, w, rp, c, cap, nnz),
        (n_in, n_in),
        max_nnz,
    )


def program_jacobian_pattern(ptr: Any, n_out: int, n_in: int) -> Pattern:
    """The Jacobian pattern of a C program."""
    p = _pattern(
        lambda rp, c, cap, nnz: lib.pyad_program_jacobian_sparsity(ptr, rp, c, cap, nnz),
        (n_out, n_in),
    )
    assert p is not None  # no max_nnz
    return p


def color_columns(pattern: Pattern) -> tuple[npt.NDArray[np.int32], int]:
    """(colour of each column, number of colours) of a pattern.

    >>> import numpy as np
    >>> from pyad.sparsity import Pattern, color_columns
    >>> color, n = color_columns(Pattern((3, 3), [0, 2, 4, 5], [0, 1, 1, 2, 2]))
    >>> color.tolist(), n
    ([0, 1, 0], 2)
    """
    return pattern.color, pattern.n_colors


def hessian_pattern(f: Callable[..., Any], *args: Any, argnums: Any = 0) -> Pattern:
    """The structural Hessian pattern of f over its flattened arguments
    (argnums as in pyad.hessian), recorded at args.

    >>> import numpy as np
    >>> from pyad.sparsity import hessian_pattern
    >>> hessian_pattern(lambda x, y: x * y + y ** 3, 1.0, 2.0, argnums=(0, 1)).to_dense()
    array([[False,  True],
           [ True,  True]])
    """
    from .transforms import _frozen_for_pattern

    frozen = _frozen_for_pattern(f, args, argnums, scalar=True)
    return frozen.hessian_pattern()


def jacobian_pattern(f: Callable[..., Any], *args: Any, argnums: Any = 0) -> Pattern:
    """The structural Jacobian pattern of f (outputs flattened to rows,
    arguments to columns), recorded at args.

    >>> import numpy as np
    >>> from pyad.sparsity import jacobian_pattern
    >>> jacobian_pattern(lambda x: x[1:] - x[:-1], np.zeros(3)).to_dense()
    array([[ True,  True, False],
           [False,  True,  True]])
    """
    from .transforms import _frozen_for_pattern

    frozen = _frozen_for_pattern(f, args, argnums, scalar=False)
    return frozen.jacobian_pattern()
