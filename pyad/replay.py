"""Batch replay: a program run over N points in C, on the calling thread or
shared with the replay pool's threads (workers=k; pyad.pool runs the job).

No C call outlives the buffers it was given: a call's buffers (inputs,
outputs, the cancel flags) all belong to one _Batch (a batchjob.BatchJob),
and every participant runs a method of it, so they live at least as long
as any C call uses them (pyad.pool cancels and awaits the participants
before an exception leaves).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._lib import ffi
from .batchjob import BatchJob
from .columns import Columns, dbl
from .pool import MAX_WORKERS, check_workers, run_job, slices
from .reals import as_float

if TYPE_CHECKING:
    import numpy.typing as npt

    from .program import Info, Program

    FloatArray = npt.NDArray[np.float64]
    Column = FloatArray | float  # one input of a batch: per point, or broadcast

__all__ = ["MAX_WORKERS", "check_workers", "eval_batch", "parse_args", "run_job", "slices"]


def parse_args(xs: Sequence[Any]) -> tuple[list[Column], int | None]:
    """A compiled function's arguments: (floats, None) for one point, or
    (columns, N) for a batch of N points (1-D float64 arrays, contiguous,
    and floats to broadcast)."""
    vals: list[Column] = []
    N = None
    for i, x in enumerate(xs):
        if type(x) is float:
            vals.append(x)
            continue
        if isinstance(x, np.ndarray):
            if isinstance(x, np.ma.MaskedArray):
                raise TypeError(
                    f"argument {i}: masked arrays are not supported (the mask "
                    "would be ignored); pass x.filled(value) or x.compressed()"
                )
            if x.dtype != np.float64:
                raise TypeError(
                    f"argument {i}: batch arrays must have dtype float64, not "
                    f"{x.dtype} (use x.astype(np.float64))"
                )
            if x.ndim == 0:
                vals.append(float(x))
                continue
            if x.ndim != 1:
                raise ValueError(f"argument {i}: batch arrays must be 1-D, not of shape {x.shape}")
            if N is None:
                N = x.shape[0]
            elif x.shape[0] != N:
                raise ValueError(
                    f"argument {i}: batch arrays must all have the same length "
                    f"({N}), not {x.shape[0]}"
                )
            vals.append(np.ascontiguousarray(x))
            continue
        f = as_float(x)
        if f is None:
            raise TypeError(
                f"argument {i} must be a real number or a 1-D float64 array, not {type(x).__name__}"
            )
        vals.append(f)
    return vals, N


class _Batch(BatchJob):
    """One batch call: its inputs laid out for C (cols: a Columns, or a
    list of per-input columns, 1-D arrays of N or floats) and its results,
    values (N, m), grads (N, m, n) or None, and the guard_fail mask."""

    __slots__ = ("values", "grads", "fail")

    def __init__(
        self,
        prog: Program,
        cols: Columns | Sequence[Column],
        N: int,
        want_grad: bool,
        n_slices: int = 1,
    ) -> None:
        n, m = prog.n_in, prog.n_out
        if not isinstance(cols, Columns):
            for c in cols:
                if isinstance(c, np.ndarray) and (c.dtype != np.float64 or c.shape != (N,)):
                    raise TypeError("pyad: a batch column must be a 1-D float64 array of N points")
            cols = Columns.of_columns(cols, N)
        if cols.n != n or cols.N != N:
            raise TypeError(f"pyad: this trace takes {n} inputs, not {cols.n}")
        keep, x, stride = cols.pointers()
        self.values: FloatArray = np.empty((N, m))
        self.grads: FloatArray | None = np.empty((N, m, n)) if want_grad else None
        self.fail = np.empty(N, dtype=np.uint8)
        gp, n_grads = ffi.NULL, 0
        if self.grads is not None:
            gp, n_grads = dbl(self.grads), self.grads.size
        fp = ffi.from_buffer("uint8_t[]", self.fail) if N else ffi.new("uint8_t[1]")
        super().__init__(
            prog.ptr, x, stride, n, N, dbl(self.values), self.values.size, gp, n_grads,
            fp, self.fail.size, prog.n_ops, n_slices, (prog, keep),
        )  # fmt: skip


def eval_batch(
    prog: Program,
    cols: Columns | Sequence[Column],
    N: int,
    want_grad: bool,
    workers: int | None,
) -> tuple[int, Info, FloatArray, Any, npt.NDArray[np.uint8]]:  # Any: grads or None
    """Evaluate all N points. cols: a Columns, or per input a float64
    array of length N or a float. Returns (status, info, values (N, m),
    grads (N, m, n) or None, guard_fail mask). On an error, points from
    info[0] on may not have been run: their entries (fail mask included)
    are garbage."""
    k = slices(N, workers)
    batch = _Batch(prog, cols, N, want_grad, k)
    st, info = run_job(batch, k)
    return st, info, batch.values, batch.grads, batch.fail
