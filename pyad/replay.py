"""Batch replay: a program run over N points in C, on the calling thread or
split over the replay pool (workers=k).

Two rules make it safe to interrupt (Ctrl-C) or fail at any moment:

* No C call outlives the buffers it was given. A call's buffers (inputs,
  outputs, the cancel flag) all belong to one _Batch, and a worker runs a
  method of it, so they live at least as long as any worker uses them.
  And when anything is raised while workers run (KeyboardInterrupt in the
  wait, an error in a worker, a failed submit), the batch's cancel flag is
  raised, which every worker polls between blocks of points, and the
  caller waits for all of them before the exception leaves.
* A long batch on the calling thread runs as a series of short C calls
  (about _CHUNK_SECONDS each), so that Python's signal handlers, run
  between them, see Ctrl-C quickly.

The pool is one ThreadPoolExecutor per process: created on first use,
recreated in a child after fork() (its threads do not exist there), capped
at MAX_WORKERS threads, and never shut down while the process runs, so no
call can find it shut down under it.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ._lib import ffi, lib
from .columns import Columns, dbl
from .reals import as_float

if TYPE_CHECKING:
    import numpy.typing as npt

    from .program import Info, Program

    FloatArray = npt.NDArray[np.float64]
    Column = FloatArray | float  # one input of a batch: per point, or broadcast

__all__ = ["MAX_WORKERS", "check_workers", "eval_batch", "parse_args", "run_job", "slices"]

# More slices than this share the pool's threads; results are the same.
MAX_WORKERS = 4 * (os.cpu_count() or 1)
_CHUNK_SECONDS = 0.02  # aim of one C call on the calling thread
_BLOCK_MAX = 256  # csrc/program.c BLOCK_MAX: the most points C runs op by op
_OPS_PER_FIRST_CHUNK = 1 << 16  # first chunk: this many op evaluations (< ~10 ms)

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_pid = -1
_pool_lock = threading.Lock()


def check_workers(workers: object) -> int:
    if workers is None:
        return 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, not {workers!r}")
    return workers


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


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    """This process's replay pool (a child of fork() makes its own)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=MAX_WORKERS, thread_name_prefix="pyad-replay"
            )
            _pool_pid = os.getpid()
        return _pool


def forget_pool() -> None:
    """In a child after fork(): drop the parent's pool (its threads are not
    here); the next batch with workers makes a new one."""
    global _pool, _pool_pid
    _pool, _pool_pid = None, -1


class _Batch:
    """One batch call: every buffer C reads or writes, and the cancel flag.
    The C pointers stay valid as long as this object lives. cols: a
    Columns, or a list of per-input columns (1-D arrays of N, or floats)."""

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
        self.prog = prog
        self.N = N
        self.cost = prog.n_ops  # op evaluations per point
        self._keep, self.x, self.stride = cols.pointers()
        self.values: FloatArray = np.empty((N, m))
        self.grads: FloatArray | None = np.empty((N, m, n)) if want_grad else None
        self.fail = np.empty(N, dtype=np.uint8)
        self.vp = dbl(self.values)
        self.gp = ffi.NULL
        self.n_grads = 0
        if self.grads is not None:
            self.n_grads = self.grads.size
            self.gp = dbl(self.grads)
        self.fp = ffi.from_buffer("uint8_t[]", self.fail) if N else ffi.new("uint8_t[1]")
        # One cancel flag per slice (raised by pyad_cancel, polled by C).
        self.n_slices = n_slices
        self.cancel = ffi.new("int[]", n_slices)

    def cancel_from(self, first: int) -> None:
        """Ask slices first, first + 1, ... to stop at their next block."""
        for s in range(first, self.n_slices):
            lib.pyad_cancel(self.cancel + s)

    def run(self, lo: int, hi: int, mode: int, s: int = 0) -> tuple[int, Info]:
        """Points [lo, hi), slice s, under error mode `mode` (workers run
        with the caller's mode: it is per thread). When the slice fails,
        the slices after it stop: the lowest failing point wins, and
        nothing after it is used."""
        nfail = ffi.new("size_t *")
        info = ffi.new("pyad_fail_info *")
        old = lib.pyad_set_errmode(mode)
        try:
            st = lib.pyad_program_eval_batch(
                self.prog.ptr,
                self.x,
                self.stride,
                self.prog.n_in,
                self.N,
                lo,
                hi,
                self.vp,
                self.values.size,
                self.gp,
                self.n_grads,
                self.fp,
                self.fail.size,
                nfail,
                info,
                self.cancel + s,
            )
        finally:
            lib.pyad_set_errmode(old)
        if st != 0 and st != lib.PYAD_ERR_CANCELLED:
            self.cancel_from(s + 1)
        return st, (info.point, info.node, info.guard)

    # A slice on the pool is one C call: C polls the cancel flag.
    run_slice = run


def slices(N: int, workers: int | None) -> int:
    """How many slices a batch of N points runs as with `workers`."""
    k = min(check_workers(workers), MAX_WORKERS)
    return 1 if N < 2 * k else k


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


class Job(Protocol):
    """A batch call as run_job runs it (_Batch, lanes.LaneJob)."""

    N: int
    cost: int  # op evaluations per point: the size of the first chunk

    def run(self, lo: int, hi: int, mode: int, s: int = 0) -> tuple[int, Info]: ...
    def run_slice(self, lo: int, hi: int, mode: int, s: int) -> tuple[int, Info]: ...
    def cancel_from(self, first: int) -> None: ...


def run_job(job: Job, k: int) -> tuple[int, Info]:
    """All of job's points, on this thread (k == 1) or as k slices on the
    pool, under the calling thread's error mode: (status, info) of the
    lowest failing point, or (0, (-1, -1, -1))."""
    mode = lib.pyad_get_errmode()
    return _run_here(job, mode) if k == 1 else _run_on_pool(job, k, mode)


def chunks(job: Job, lo: int, hi: int, mode: int, s: int = 0, stop: Any = None) -> tuple[int, Info]:
    """Points [lo, hi) in C calls of about _CHUNK_SECONDS each: between two
    calls Python's signal handlers run (Ctrl-C), and stop() is asked
    whether to give up (then the status is PYAD_ERR_CANCELLED)."""
    step = max(1, _OPS_PER_FIRST_CHUNK // max(job.cost, 1))
    st, info = 0, (-1, -1, -1)
    while lo < hi:
        if stop is not None and stop():
            return lib.PYAD_ERR_CANCELLED, info
        end = min(hi, lo + step)
        t0 = time.perf_counter()
        st, info = job.run(lo, end, mode, s)
        if st != 0:
            break
        took = time.perf_counter() - t0
        # the next chunk: about _CHUNK_SECONDS at the rate just seen, grown
        # at most 8-fold at a time (timers are coarse, rates noisy)
        want = int((end - lo) * _CHUNK_SECONDS / max(took, 1e-6))
        step = max(1, min(want, 8 * step))
        if step > _BLOCK_MAX:  # whole blocks of points: no partial block per chunk
            step -= step % _BLOCK_MAX
        lo = end
    return st, info


def _run_here(job: Job, mode: int) -> tuple[int, Info]:
    """All points on this thread, in short C calls, so that a
    KeyboardInterrupt is raised between two of them (no C call is running
    then, and none is left behind)."""
    return chunks(job, 0, job.N, mode)


def _run_on_pool(job: Job, k: int, mode: int) -> tuple[int, Info]:
    """k contiguous slices, one per pool task; this thread waits. Whatever
    is raised meanwhile, the tasks are cancelled and awaited first."""
    N = job.N
    bounds = [N * i // k for i in range(k + 1)]
    futures: list[concurrent.futures.Future[tuple[int, Info]]] = []
    try:
        pool = _executor()
        for i in range(k):
            futures.append(pool.submit(job.run_slice, bounds[i], bounds[i + 1], mode, i))
        results = [f.result() for f in futures]
    except BaseException:
        try:
            job.cancel_from(0)
            for f in futures:
                f.cancel()  # not started yet: never will
        finally:
            _await(futures)
        raise
    for st, info in results:  # slices in order: the lowest failing point wins
        if st != 0:  # (slices after a failing one may say CANCELLED)
            return st, info
    return 0, (-1, -1, -1)


def _await(futures: Sequence[concurrent.futures.Future[Any]]) -> None:
    """Wait until no future is running. A second Ctrl-C does not cut the
    wait short: the tasks stop at their next block of points, and the
    exception being raised is the first one."""
    while True:
        try:
            concurrent.futures.wait(futures)
            return
        except BaseException:  # noqa: S112  (keep waiting; see above)
            continue
