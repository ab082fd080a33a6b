"""Batches of points through the lane evaluators of csrc/drive.c and
hessian.c: arrays as C columns (pyad.columns), a batch run in short C
calls or split over the replay pool's workers (pyad.pool.run_job, which
also makes it safe to interrupt), and Frozen.batch.

Each C entry point evaluates points [begin, end) of a batch, with no lock
and the GIL released, and gives every point the same bits whatever the
split.

>>> import numpy as np, pyad
>>> from pyad.frozen import freeze
>>> a, b = pyad.Var(1.0), pyad.Var(2.0); f = freeze([a, b], [a * a * b])
>>> st, info, fail, r = f.batch("hessian", np.array([[1.0, 2.0], [3.0, 1.0]]), workers=2)
>>> r["hessians"].tolist()
[[[4.0, 2.0], [2.0, 0.0]], [[2.0, 6.0], [6.0, 0.0]]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import pool
from ._lib import ffi, lib
from .columns import Columns, dbl
from .frozen import _i32, _i64

if TYPE_CHECKING:
    import numpy.typing as npt

    from .frozen import FloatArray, Frozen
    from .program import Info

__all__ = ["LaneJob", "run_batch"]


def _columns(spec: Any, n: int, N: int | None, what: str) -> Columns:
    """Columns of a batch for C.

    spec: a Columns; an (N, n) array (row j is point j), an (n,) array
    (broadcast), or a sequence of n columns, each a float or a 1-D array
    of N."""
    if isinstance(spec, Columns):
        cols = spec
    elif isinstance(spec, np.ndarray) and spec.ndim in (1, 2):
        a = np.ascontiguousarray(spec, dtype=np.float64)
        if a.shape[-1] != n:
            raise ValueError(f"{what}: last axis must have {n} entries, not {a.shape[-1]}")
        if a.ndim == 2:
            if N is not None and a.shape[0] != N:
                raise ValueError(f"{what}: {a.shape[0]} points, expected {N}")
            N = a.shape[0]
        if N is None:
            raise ValueError(f"{what}: a batch needs at least one array of points")
        cols = Columns([a], N)
    else:
        items = list(spec)
        if len(items) != n:
            raise ValueError(f"{what}: {len(items)} columns, expected {n}")
        for c in items:
            if isinstance(c, np.ndarray) and c.ndim == 1:
                if N is not None and c.shape[0] != N:
                    raise ValueError(f"{what}: columns of {c.shape[0]} points, expected {N}")
                N = c.shape[0]
        if N is None:
            raise ValueError(f"{what}: a batch needs at least one array of points")
        cols = Columns.of_columns(
            [np.asarray(c, np.float64) if isinstance(c, np.ndarray) and c.ndim == 1
             else float(c) for c in items], N,
        )  # fmt: skip
    if cols.n != n or (N is not None and cols.N != N):
        raise ValueError(f"{what}: {cols.n} inputs at {cols.N} points, expected {n} at {N}")
    return cols


class LaneJob:
    """One batch call of a lane evaluator, as pool.run_job runs it: C
    calls of points [lo, hi), each short (chunks), so that Ctrl-C is seen
    between two; a slice on the pool stops at its next chunk once
    cancelled. The buffers live as long as the job."""

    def __init__(self, N: int, cost: int, call: Callable[[int, int], tuple[int, Info]]) -> None:
        self.N = N
        self.cost = cost
        self._call = call
        self._stopped: set[int] = set()  # participants asked to stop

    def run(self, lo: int, hi: int, mode: int, s: int = 0) -> tuple[int, Info]:
        old = lib.pyad_get_errmode()  # set inside the try: Ctrl-C after it restores it
        try:
            lib.pyad_set_errmode(mode)
            return self._call(lo, hi)
        finally:
            lib.pyad_set_errmode(old)

    def run_slice(self, lo: int, hi: int, mode: int, s: int) -> tuple[int, Info]:
        return pool.chunks(self, lo, hi, mode, s, lambda: s in self._stopped)

    def cancel(self, s: int) -> None:
        self._stopped.add(s)


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
    if isinstance(w, Columns):
        seeded: list[float] = []
        for b in w.blocks:
            if isinstance(b, float):
                seeded.append(b)
            else:
                seeded += b.tolist() if b.ndim == 1 else [1.0] * b.shape[1]
        return seeded
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
    xc = _columns(x, n, None, "x")
    N = xc.N
    keep, xp, xs = xc.pointers()
    head: list[Any] = [frozen.ptr, xp, xs]
    if takes_w:
        if w is None:
            head += [ffi.NULL, ffi.NULL]
        else:
            kw, wp, ws = _columns(w, m, N, "w").pointers()
            keep.append(kw)
            head += [wp, ws]
    if takes_v:
        if v is None:
            raise ValueError(f"batch {kind!r} needs directions v")
        kv, vp, vs = _columns(v, n, N, "v").pointers()
        keep.append(kv)
        head += [vp, vs]
    sizes = {"tangents": (m,), "grads": (n,), "hvs": (n,), "hessians": (n, n), "jacobians": (m, n)}
    lanes = {"hessians": n, "jacobians": n}  # directions per point, for the chunk size
    if kind in ("hessian_sparse", "jacobian_sparse"):
        p = (
            frozen.hessian_pattern(_seeded(w, m))
            if kind == "hessian_sparse"
            else frozen.jacobian_pattern()
        )
        head += [_i64(p.row_ptr), _i64(p.col), p.nnz, _i32(p.color), p.n_colors]
        sizes["hvals"] = sizes["jvals"] = (p.nnz,)
        lanes["hvals"] = lanes["jvals"] = p.n_colors
    out: dict[str, FloatArray] = {"values": np.empty((N, m))}
    for name in names:
        out[name] = np.empty((N, *sizes[name]))
    ptrs = [dbl(out["values"])] + [dbl(out[name]) for name in names]
    fail = np.zeros(N, np.uint8)
    fp = ffi.from_buffer("uint8_t[]", fail) if N else ffi.new("uint8_t[1]")
    cfun = getattr(lib, fname)

    def call(lo: int, hi: int) -> tuple[int, Info]:
        nf, info = ffi.new("size_t *"), ffi.new("pyad_fail_info *")
        st = cfun(*head, lo, hi, *ptrs, fp, nf, info)
        return st, (info.point, info.node, info.guard)

    cost = frozen.program.n_ops * max([2] + [2 * lanes.get(name, 1) for name in names])
    st, info = pool.run_job(LaneJob(N, cost, call), pool.slices(N, workers))
    del keep
    return st, info, fail, out
