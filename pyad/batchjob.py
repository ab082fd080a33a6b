"""One batch call of a program in C (pyad_program_eval_batch), as a
pool.Job: the general path (replay._Batch) and the fast path
(fastbatch.batch) lay out the C arguments each their own way, and both
run them through BatchJob.

No C call outlives the buffers it was given: a job holds every cdata C
reads or writes (and `keep`, what its pointers point into), and every
participant runs a method of it, so they live at least as long as any C
call uses them (pyad.pool cancels and awaits the participants before an
exception leaves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lib import ffi, lib

if TYPE_CHECKING:
    from .program import Info

__all__ = ["BatchJob"]

_NO_FAILURE: Info = (-1, -1, -1)


class BatchJob:
    """Points [lo, hi) of one batch call per C call (a pool.Job). The
    arguments up to n_fail are the C call's, in its order: the program, the
    inputs (double *[n_in], size_t strides[n_in]), N points, and values,
    grads (NULL: none) and the guard_fail mask with their lengths. Then
    cost: op evaluations per point; k: participants; keep: what the
    pointers point into. (All positional: keywords would cost the fast
    path a dict per call.)"""

    __slots__ = (
        "ptr", "x", "stride", "n_in", "N", "vp", "n_values", "gp", "n_grads",
        "fp", "n_fail", "cost", "keep", "nfail", "info", "flags", "misses",
    )  # fmt: skip

    def __init__(
        self,
        ptr: Any,
        x: Any,
        stride: Any,
        n_in: int,
        N: int,
        vp: Any,
        n_values: int,
        gp: Any,
        n_grads: int,
        fp: Any,
        n_fail: int,
        cost: int,
        k: int,
        keep: object,
    ) -> None:
        self.ptr, self.x, self.stride, self.n_in, self.N = ptr, x, stride, n_in, N
        self.vp, self.n_values, self.gp, self.n_grads = vp, n_values, gp, n_grads
        self.fp, self.n_fail = fp, n_fail
        self.cost = cost
        self.keep = keep
        # per participant: the C call's out-parameters (one participant runs
        # on one thread at a time), and its guard misses summed over its calls
        self.nfail = ffi.new("size_t[]", k)
        self.info = ffi.new("pyad_fail_info[]", k)
        self.misses = [0] * k
        # one cancel flag per participant (raised by pyad_cancel, polled by C
        # between blocks of points); k == 1: nobody cancels (pool.chunks runs
        # the job on the calling thread alone)
        self.flags = ffi.new("int[]", k) if k > 1 else None

    def cancel(self, s: int) -> None:
        """Ask participant s to stop at its next block of points."""
        if self.flags is not None:
            lib.pyad_cancel(self.flags + s)

    def run(self, lo: int, hi: int, mode: int, s: int = 0) -> tuple[int, Info]:
        """Points [lo, hi), by participant s, under error mode `mode`
        (workers run with the caller's mode: it is per thread)."""
        nfail = self.nfail + s
        info = self.info + s
        old = lib.pyad_get_errmode()  # set inside the try: Ctrl-C after it restores it
        try:
            lib.pyad_set_errmode(mode)
            st = lib.pyad_program_eval_batch(
                self.ptr,
                self.x,
                self.stride,
                self.n_in,
                self.N,
                lo,
                hi,
                self.vp,
                self.n_values,
                self.gp,
                self.n_grads,
                self.fp,
                self.n_fail,
                nfail,
                info,
                ffi.NULL if self.flags is None else self.flags + s,
            )
        finally:
            lib.pyad_set_errmode(old)
        self.misses[s] += nfail[0]
        if st:
            return st, (info.point, info.node, info.guard)
        # C leaves info at (-1, -1, -1) when no point failed
        return 0, _NO_FAILURE

    # A shared chunk is one C call (pyad.pool bounds its size): C polls the
    # cancel flag.
    run_slice = run
