"""The common batch call of a compiled function, in few steps.

f(*xs), f.grad(*xs) and f.value_and_grad(*xs) without a signature, where
every argument is a 1-D C-contiguous aligned float64 numpy array of one
length N (or a float, broadcast), on the most recent trace: the general
path (calls.py, replay.py, columns.py) parses and lays out the arguments
in many small steps, which at a few hundred points cost several times the
C work. Here the C arguments are built directly (one pointer array, one
stride array), and the points run through the same pool (pool.run_job:
the same chunks, Ctrl-C between C calls, the same worker sharing) under
the caller's error mode.

Anything unusual is not handled here: batch() returns None and the caller
takes the general path, which then does everything as if this had not
run (nothing here is observable: no trace, no warning, no error). That is:
any other argument type, dtype, shape, stride or alignment, lengths that
differ, no array at all, odd workers, and after the C call any guard that
missed at some point or an error at a point (an error mode that raised).
The general path then replays again from the start, with the same
results for every point that this call would have given. An error that
is not about a point (out of memory) is raised here, as the general
path's first replay raises it.

    >>> import numpy as np, pyad
    >>> f = pyad.compile(lambda x, y: x * y + 1)
    >>> f(2.0, 3.0), f(np.array([1.0, 2.0]), 3.0).tolist()
    (7.0, [4.0, 7.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._lib import ffi, lib
from .batchjob import BatchJob
from .errors import check
from .pool import MAX_WORKERS, participants, run_job

if TYPE_CHECKING:
    import numpy.typing as npt

    from .program import Program

    FloatArray = npt.NDArray[np.float64]

__all__ = ["Lean", "batch"]

_F64 = np.dtype(np.float64)


class Lean:
    """What a batch call of one trace needs and that never changes.
    one: the trace has one output and the function returns one value (the
    fast path of grad and value_and_grad)."""

    __slots__ = ("prog", "ptr", "n_in", "n_out", "cost", "one")

    def __init__(self, prog: Program, one: bool) -> None:
        self.prog = prog  # keeps ptr alive
        self.ptr = prog.ptr
        self.n_in: int = prog.n_in
        self.n_out: int = prog.n_out
        self.cost: int = prog.n_ops
        self.one = one


def batch(
    lean: Lean, xs: Sequence[Any], want_grad: bool, workers: object
) -> tuple[FloatArray, FloatArray | None] | None:
    """values (N, m) and grads (N, m, n) (or None), exactly as the general
    path gives them when every point's guards hold; None: take the general
    path (see the module's docstring). len(xs) must be lean.n_in."""
    if workers is None:
        k = 1
    elif type(workers) is int and workers >= 1:
        k = min(workers, MAX_WORKERS)
    else:
        return None  # the general path says what is wrong
    N = -1
    ptrs: list[Any] = []
    strides: list[int] = []
    for x in xs:
        if type(x) is float:
            ptrs.append(ffi.new("double *", x))
            strides.append(0)
            continue
        if (
            type(x) is not np.ndarray
            or x.dtype != _F64
            or x.ndim != 1
            or (N >= 0 and x.shape[0] != N)
        ):
            return None
        flags = x.flags
        if not (flags.c_contiguous and flags.aligned):
            return None
        N = x.shape[0]
        ptrs.append(ffi.from_buffer("double[]", x) if N else ffi.new("double *"))
        strides.append(1)
    if N < 0:
        return None  # one point: not a batch
    m, n = lean.n_out, lean.n_in
    values: FloatArray = np.empty((N, m))
    grads: FloatArray | None = np.empty((N, m, n)) if want_grad else None
    if not N:
        return values, grads
    if N < 2 * k:  # as pool.slices
        k = 1
    k = participants(N, k, lean.cost)
    gp, n_grads = ffi.NULL, 0
    if grads is not None:
        n_grads = grads.size
        gp = ffi.from_buffer("double[]", grads) if n_grads else ffi.new("double[1]")
    fail = np.empty(N, dtype=np.uint8)
    job = BatchJob(
        lean.ptr, ffi.new("double *[]", ptrs), ffi.new("size_t[]", strides), n, N,
        ffi.from_buffer("double[]", values), N * m, gp, n_grads,
        ffi.from_buffer("uint8_t[]", fail), N, lean.cost, k, (ptrs, xs),
    )  # fmt: skip
    st, info = run_job(job, k)
    if st != 0 and (st == lib.PYAD_ERR_GUARD or info[0] < 0):
        # not about a point (out of memory): raised as the general path's
        # first replay raises it, which a rerun might not meet again
        check(st, "batch replay")
    if st != 0 or any(job.misses):
        return None
    return values, grads
