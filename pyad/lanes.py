"""Batches of points through the lane evaluators of csrc/drive.c and
hessian.c: arrays as C columns, a batch split over worker threads, and
Frozen.batch.

Each C entry point evaluates points [begin, end) of a batch, with no lock
and the GIL released, and gives every point the same bits whatever the
split; here a batch is cut into one range per worker.

>>> import numpy as np, pyad
>>> from pyad.frozen import freeze
>>> a, b = pyad.Var(1.0), pyad.Var(2.0); f = freeze([a, b], [a * a * b])
>>> st, info, fail, r = f.batch("hessian", np.array([[1.0, 2.0], [3.0, 1.0]]), workers=2)
>>> r["hessians"].tolist()
[[[4.0, 2.0], [2.0, 0.0]], [[2.0, 6.0], [6.0, 0.0]]]
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ._lib import ffi, lib
from .frozen import _dbl, _i32, _i64

if TYPE_CHECKING:
    import numpy.typing as npt

    from .frozen import FloatArray, Frozen

__all__ = ["run_batch", "split_batch"]


def _columns(spec: Any, n: int, N: int | None, what: str) -> tuple[Any, Any, Any, int]:
    """Columns of a batch for C: (keep-alive, double *[], size_t[], N).

    spec: an (N, n) array (row j is point j), an (n,) array (broadcast), or
    a sequence of n columns, each a float or a 1-D array of N."""
    keep: list[Any] = []
    ptrs: list[Any] = []
    strides: list[int] = []
    if isinstance(spec, np.ndarray) and spec.ndim in (1, 2):
        a = np.ascontiguousarray(spec, dtype=np.float64)
        if a.shape[-1] != n:
            raise ValueError(f"{what}: last axis must have {n} entries, not {a.shape[-1]}")
        if a.ndim == 2:
            if N is not None and a.shape[0] != N:
                raise ValueError(f"{what}: {a.shape[0]} points, expected {N}")
            N = a.shape[0]
        keep.append(a)
        base = ffi.cast("double *", _dbl(a))
        ptrs = [base + i for i in range(n)]
        strides = [n if a.ndim == 2 else 0] * n
    else:
        cols = list(spec)
        if len(cols) != n:
            raise ValueError(f"{what}: {len(cols)} columns, expected {n}")
        for c in cols:
            if isinstance(c, np.ndarray) and c.ndim == 1:
                c = np.ascontiguousarray(c, dtype=np.float64)
                if N is not None and c.shape[0] != N:
                    raise ValueError(f"{what}: columns of {c.shape[0]} points, expected {N}")
                N = c.shape[0]
                keep.append(c)
                ptrs.append(_dbl(c))
                strides.append(1)
            else:
                b = ffi.new("double[1]", [float(c)])
                keep.append(b)
                ptrs.append(b)
                strides.append(0)
    if N is None:
        raise ValueError(f"{what}: a batch needs at least one array of points")
    cp = ffi.new("double *[]", ptrs) if n else ffi.NULL
    sp = ffi.new("size_t[]", strides) if n else ffi.NULL
    return keep, cp, sp, N


_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            old = _pool
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=max(workers, os.cpu_count() or 1), thread_name_prefix="pyad-so"
            )
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def split_batch(
    N: int, workers: int | None, run: Callable[[int, int], tuple[int, tuple[int, int, int]]]
) -> tuple[int, tuple[int, int, int]]:
    """run(lo, hi) over [0, N), on `workers` threads (each with the caller's
    error mode); the status and info of the lowest failing point.

    >>> from pyad.lanes import split_batch
    >>> split_batch(10, 2, lambda lo, hi: (0, (-1, -1, -1)))
    (0, (-1, -1, -1))
    """
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or workers < 1
    ):
        raise ValueError(f"workers must be a positive int, not {workers!r}")
    mode = lib.pyad_get_errmode()

    def call(lo: int, hi: int) -> tuple[int, tuple[int, int, int]]:
        old = lib.pyad_set_errmode(mode)
        try:
            return run(lo, hi)
        finally:
            lib.pyad_set_errmode(old)

    k = workers or 1
    if k <= 1 or N < 2 * k:
        return call(0, N)
    bounds = [N * i // k for i in range(k + 1)]
    futures = [_executor(k).submit(call, bounds[i], bounds[i + 1]) for i in range(k)]
    results = [f.result() for f in futures]
    for st, info in results:  # in point order: the lowest failing point wins
        if st != 0:
            return st, info
    return 0, (-1, -1, -1)


# kind: (C function, takes directions v, takes weights w, result names)
_KINDS: dict[str, tuple[str, bool, bool, tuple[str, ...]]] = {
    "jvp": ("pyad_program_jvp_batch", True, False, ("tangents",)),
    "vjp": ("pyad_program_vjp_batch", False, True, ("grads",)),
    "hvp": ("pyad_program_hvp_batch", True, True, ("grads", "hvs")),
    "hessian": ("pyad_program_hessian_batch", False, True, ("grads", "hessians")),
    "hessian_sparse": ("pyad_program_hessian_sparse_batch", False, True, ("grads", "hvals")),
    "jacobian_fwd": ("pyad_program_jacobian_fwd_batch", False, False, ("jacobians",)),
    "jacobian_sparse": ("pyad_program_jacobian_sparse_batch", False, False, ("jvals",)),
}


def _seeded(w: Any, m: int) -> Any:
    """The output weights as the Hessian pattern sees them: which outputs
    are seeded (a broadcast weight of 0 leaves its output out; a column per
    point seeds it)."""
    if w is None:
        return None
    if isinstance(w, np.ndarray) and w.ndim == 1:
        return w
    if isinstance(w, np.ndarray):
        return None
    return [1.0 if isinstance(c, np.ndarray) else float(c) for c in w]


def run_batch(
    frozen: Frozen, kind: str, x: Any, v: Any = None, w: Any = None, workers: int | None = None
) -> tuple[int, tuple[int, int, int], npt.NDArray[np.uint8], dict[str, FloatArray]]:
    """Evaluate `kind` at N points: (status, (point, node, guard) info,
    guard_fail mask, results by name).

    x: an (N, n_in) array, or n_in columns (1-D arrays of N, or floats that
    broadcast); v likewise (the directions of "jvp" and "hvp"); w: output
    weights, an (n_out,) array, an (N, n_out) array, or columns. Results:
    "values" (N, n_out) always, and by kind: "jvp" tangents (N, n_out);
    "vjp" grads (N, n_in); "hvp" grads, hvs (N, n_in); "hessian" grads,
    hessians (N, n_in, n_in); "hessian_sparse" grads, hvals (N, nnz) at
    frozen.hessian_pattern(w)'s entries; "jacobian_fwd" jacobians
    (N, n_out, n_in); "jacobian_sparse" jvals (N, nnz). A point whose guards
    miss is flagged in the mask (its results are unspecified); on a
    non-zero status, points from info[0] on may not have been computed.
    Every point's bits are those of the one-point methods, for any workers.

    >>> import numpy as np, pyad
    >>> from pyad.frozen import freeze
    >>> from pyad.lanes import run_batch
    >>> a = pyad.Var(1.0); f = freeze([a], [pyad.sin(a)])
    >>> run_batch(f, "jvp", np.zeros((3, 1)), v=[np.arange(3.0)])[3]["tangents"].ravel().tolist()
    [0.0, 1.0, 2.0]
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown batch kind {kind!r}; one of {sorted(_KINDS)}")
    fname, takes_v, takes_w, names = _KINDS[kind]
    n, m = frozen.n_in, frozen.n_out
    keep, xp, xs, N = _columns(x, n, None, "x")
    head: list[Any] = [frozen.ptr, xp, xs]
    if takes_w:
        if w is None:
            head += [ffi.NULL, ffi.NULL]
        else:
            kw, wp, ws, _ = _columns(w, m, N, "w")
            keep.append(kw)
            head += [wp, ws]
    if takes_v:
        if v is None:
            raise ValueError(f"batch {kind!r} needs directions v")
        kv, vp, vs, _ = _columns(v, n, N, "v")
        keep.append(kv)
        head += [vp, vs]
    sizes = {"tangents": (m,), "grads": (n,), "hvs": (n,), "hessians": (n, n), "jacobians": (m, n)}
    if kind in ("hessian_sparse", "jacobian_sparse"):
        p = (
            frozen.hessian_pattern(_seeded(w, m))
            if kind == "hessian_sparse"
            else frozen.jacobian_pattern()
        )
        head += [_i64(p.row_ptr), _i64(p.col), p.nnz, _i32(p.color), p.n_colors]
        sizes["hvals"] = sizes["jvals"] = (p.nnz,)
    out: dict[str, FloatArray] = {"values": np.empty((N, m))}
    for name in names:
        out[name] = np.empty((N, *sizes[name]))
    ptrs = [_dbl(out["values"])] + [_dbl(out[name]) for name in names]
    fail = np.zeros(N, np.uint8)
    fp = ffi.from_buffer("uint8_t[]", fail) if N else ffi.new("uint8_t[1]")
    cfun = getattr(lib, fname)

    def run(lo: int, hi: int) -> tuple[int, tuple[int, int, int]]:
        nf, info = ffi.new("size_t *"), ffi.new("pyad_fail_info *")
        st = cfun(*head, lo, hi, *ptrs, fp, nf, info)
        return st, (info.point, info.node, info.guard)

    st, info = split_batch(N, workers, run)
    del keep
    return st, info, fail, out
