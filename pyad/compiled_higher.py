"""The higher-order methods of compiled functions, in C: Hessian-vector
products by forward-over-reverse, dense and coloured sparse Hessians and
Jacobians, jvp and vjp (csrc/drive.c, hessian.c, through pyad.frozen and
pyad.lanes), at one point or over a batch, with guards and re-tracing as
for f.grad (pyad.retracing), errstate, and workers=.

    >>> import numpy as np, pyad
    >>> f = pyad.compile(lambda x: (x[1:] * x[:-1] ** 2).sum(), signature="(n)->()")
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> f.hessian(x).tolist()
    [[4.0, 2.0, 0.0], [2.0, 6.0, 4.0], [0.0, 4.0, 0.0]]
    >>> f.hvp(x, np.array([1.0, 0.0, 0.0])).tolist()
    [4.0, 2.0, 0.0]
    >>> H = f.hessian(x, sparse=True); H.nnz, f.hessian_sparsity().n_colors
    (6, 3)

The sparse forms are scipy.sparse CSR matrices over the flat inputs (all
arguments' elements, in order); the colouring of hessian_sparsity() /
jacobian_sparsity() sets how many products they cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import dask_arrays, replay
from ._lib import lib
from .calls import Calls, Operands
from .columns import Columns
from .errors import GuardMissError
from .program import Program

if TYPE_CHECKING:
    from .retracing import BatchRun
    from .sparsity import Pattern

__all__ = ["HigherOrder"]


def _split(args: Sequence[Any], what: str, name: str) -> tuple[Sequence[Any], Any]:
    """The arguments and the trailing operand of f.hvp(*xs, v) etc."""
    if len(args) < 2:
        raise TypeError(f"{what}() takes the function's arguments, then {name}")
    return args[:-1], args[-1]


class HigherOrder(Calls):
    """f.hvp, f.hessian, f.jvp, f.vjp, the sparse forms and the patterns."""

    def _point_or_batch(self, ops: Operands, point: Any, batch: Any, workers: int | None) -> Any:
        if not isinstance(ops.x, Columns):
            replay.check_workers(workers)
        return self._evaluate(ops, point, batch)

    def _guarded(self, prog: Program, run: Any) -> tuple[int, Any, Any]:
        """A one-point evaluator of prog's Frozen as the retrace loop wants
        it: a guard that misses is a status, not an exception."""
        try:
            return 0, run(self._frozen(prog)), None
        except GuardMissError:
            return lib.PYAD_ERR_GUARD, None, None

    def hvp(self, *args: Any, workers: int | None = None) -> Any:
        """The Hessian (of the one scalar output) times v: f.hvp(*xs, v),
        v shaped like the arguments (a tuple for several; without a
        signature an (n,) array). One forward sweep carrying a tangent and
        one reverse sweep carrying adjoints and their tangents. For a batch
        of N points v is shared or given per point.

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x, y: x * x * y)
        >>> f.hvp(1.0, 2.0, np.array([1.0, 0.0])).tolist()
        [4.0, 2.0]
        """
        if dask_arrays.holds_dask(args):  # lazy results (pyad.dask_arrays)
            return dask_arrays.call(self, "hvp", args, workers=workers)
        xs, v = _split(args, "hvp", "v")
        self._single("hvp")
        ops = self._operands(xs, [(v, "in", "v")])
        _, _, hv = self._point_or_batch(
            ops,
            lambda prog: self._guarded(prog, lambda fz: fz.hvp(ops.x, ops.extras[0])),
            self._lane_batch("hvp", ("values", "grads", "hvs"), workers),
            workers,
        )
        self._single("hvp")
        return self._like_inputs(hv, ops.loop)

    def _lane_batch(self, kind: str, names: tuple[str, ...], workers: int | None) -> BatchRun:
        """The batch evaluator of a lane kind (pyad.lanes.run_batch)."""

        def batch(prog: Program, pts: tuple[Columns, ...]) -> tuple[int, Any, Any, Any]:
            extra = {"w" if kind == "vjp" else "v": pts[1]} if len(pts) > 1 else {}
            st, info, fail, out = self._frozen(prog).batch(kind, pts[0], workers=workers, **extra)
            return st, info, tuple(out[k] for k in names), fail

        return batch

    def hessian(self, *xs: Any, sparse: bool = False, workers: int | None = None) -> Any:
        """The Hessian of the one scalar output: (n, n) (with a signature
        "(n)->()": (n, n); several arguments: a tuple of blocks), exactly
        symmetric; (N, n, n) for a batch. sparse=True: a scipy.sparse CSR
        matrix over the flat inputs, from one Hessian-vector product per
        colour of hessian_sparsity() (a list of them for a batch).

        >>> import pyad
        >>> pyad.compile(lambda x, y: x * x * y).hessian(1.0, 2.0).tolist()
        [[4.0, 2.0], [2.0, 0.0]]
        """
        if dask_arrays.holds_dask(xs):
            return dask_arrays.call(self, "hessian", xs, sparse=sparse, workers=workers)
        self._single("hessian")
        ops = self._operands(xs)
        if sparse:
            mats = self._point_or_batch(
                ops,
                lambda prog: self._guarded(prog, lambda fz: _csr(fz, fz.hessian_sparse(ops.x)[2])),
                self._sparse_batch("hessian_sparse", "hvals", workers),
                workers,
            )
            self._single("hessian")
            return mats if ops.loop is None or ops.loop == () else list(mats[0].ravel())

        def batch(prog: Program, pts: tuple[Columns, ...]) -> tuple[int, Any, Any, Any]:
            fz = self._frozen(prog)
            if not fz._sparse_pays(None):  # as the one-point method decides
                return self._lane_batch("hessian", ("hessians",), workers)(prog, pts)
            st, info, fail, out = fz.batch("hessian_sparse", pts[0], workers=workers)
            p = fz.hessian_pattern()
            H = np.zeros((pts[0].N, fz.n_in, fz.n_in))
            H[:, p.rows(), p.col] = out["hvals"]
            return st, info, (H,), fail

        res = self._point_or_batch(
            ops,
            lambda prog: self._guarded(prog, lambda fz: (fz.hessian(ops.x)[2],)),
            batch,
            workers,
        )
        self._single("hessian")
        H = res[0]
        if self.sig is not None and ops.loop == () and self.sig.k == 1 and self.sig.ins[0]:
            return H.reshape(2 * self.sig.shape(self.sig.ins[0], self.dims or {}))
        if self.sig is not None:
            assert self.dims is not None and ops.loop is not None
            return self.sig.hessian(H, ops.loop, self.dims)
        return H

    def _sparse_batch(self, kind: str, name: str, workers: int | None) -> Any:
        """A batch of sparse values as an object array of CSR matrices (one
        per point: different traces may have different patterns)."""

        def batch(prog: Program, pts: tuple[Columns, ...]) -> tuple[int, Any, Any, Any]:
            fz = self._frozen(prog)
            st, info, fail, out = fz.batch(kind, pts[0], workers=workers)
            mats = np.empty(pts[0].N, object)
            done = pts[0].N if st == 0 else max(info[0], 0)  # points computed
            for j in range(done):
                if not fail[j]:
                    mats[j] = _csr(fz, out[name][j], kind == "jacobian_sparse")
            return st, info, (mats,), fail

        return batch

    def _jacobian_sparse(self, xs: Sequence[Any], workers: int | None) -> Any:
        ops = self._operands(xs)
        mats = self._point_or_batch(
            ops,
            lambda prog: self._guarded(
                prog, lambda fz: _csr(fz, fz.jacobian_sparse(ops.x)[1], True)
            ),
            self._sparse_batch("jacobian_sparse", "jvals", workers),
            workers,
        )
        return mats if ops.loop is None or ops.loop == () else list(mats[0].ravel())

    def jvp(self, *args: Any, workers: int | None = None) -> tuple[Any, Any]:
        """(outputs, J t): f.jvp(*xs, t), forward mode in one sweep; t
        shaped like the arguments (without a signature an (n,) array); the
        tangent comes back shaped like the outputs.

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x, y: (x * y, x + y))
        >>> f.jvp(2.0, 3.0, np.array([1.0, 0.0]))
        ((6.0, 5.0), (3.0, 1.0))
        """
        if dask_arrays.holds_dask(args):  # lazy results (pyad.dask_arrays)
            return dask_arrays.call(self, "jvp", args, workers=workers)  # type: ignore[no-any-return]
        xs, t = _split(args, "jvp", "t")
        ops = self._operands(xs, [(t, "in", "t")])
        vals, tan = self._point_or_batch(
            ops,
            lambda prog: self._guarded(prog, lambda fz: fz.jvp(ops.x, ops.extras[0])),
            self._lane_batch("jvp", ("values", "tangents"), workers),
            workers,
        )
        return self._values(vals, ops.loop), self._values(tan, ops.loop)

    def vjp(self, *args: Any, workers: int | None = None) -> tuple[Any, Any]:
        """(outputs, w^T J): f.vjp(*xs, w), one reverse sweep seeded with
        output weights w shaped like the outputs (without a signature an
        (m,) array); the cotangent comes back shaped like the arguments.

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x, y: (x * y, x + y))
        >>> f.vjp(2.0, 3.0, np.array([1.0, 10.0]))[1].tolist()
        [13.0, 12.0]
        """
        if dask_arrays.holds_dask(args):  # lazy results (pyad.dask_arrays)
            return dask_arrays.call(self, "vjp", args, workers=workers)  # type: ignore[no-any-return]
        xs, w = _split(args, "vjp", "w")
        ops = self._operands(xs, [(w, "out", "w")])
        vals, g = self._point_or_batch(
            ops,
            lambda prog: self._guarded(prog, lambda fz: fz.vjp(ops.x, ops.extras[0])),
            self._lane_batch("vjp", ("values", "grads"), workers),
            workers,
        )
        return self._values(vals, ops.loop), self._like_inputs(g, ops.loop)

    # ---- patterns ----------------------------------------------------------------
    def _trace_for(self, xs: Sequence[Any]) -> Program:
        """The trace whose guards hold at the point xs (tracing it if
        needed); with no xs, the most recently used trace."""
        if not xs:
            traces = self._traces
            if not traces:
                raise ValueError(
                    "this compiled function has not been traced yet: call it once, "
                    "or pass a point (the pattern is that of the trace used there)"
                )
            return traces[0]
        ops = self._operands(xs)
        if isinstance(ops.x, Columns):
            raise ValueError("a sparsity pattern is that of one point's trace, not of a batch")

        def point(prog: Program) -> tuple[int, Any, Any]:
            st, _, _, info = prog.eval_flat(ops.x, False)
            return st, prog, info

        return self._point(ops.x, point)  # type: ignore[no-any-return]

    def hessian_sparsity(self, *xs: Any) -> Pattern:
        """The structural Hessian pattern (a pyad.sparsity.Pattern over the
        flat inputs: .nnz, .n_colors, .to_scipy(), .to_dense()) of the
        trace used at the point xs, or of the most recent trace; computed
        once per trace.

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x: (x[1:] * x[:-1]).sum(), signature="(n)->()")
        >>> p = f.hessian_sparsity(np.ones(5)); p.nnz, p.n_colors
        (8, 2)
        """
        return self._frozen(self._trace_for(xs)).hessian_pattern()

    def jacobian_sparsity(self, *xs: Any) -> Pattern:
        """The structural Jacobian pattern (flat outputs x flat inputs) of
        the trace used at xs, or of the most recent trace; cached per trace.

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x: x[1:] - x[:-1], signature="(n)->(m)")
        >>> f.jacobian_sparsity(np.ones(4)).to_dense().astype(int).tolist()
        [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
        """
        return self._frozen(self._trace_for(xs)).jacobian_pattern()


def _csr(fz: Any, values: Any, jacobian: bool = False) -> Any:
    """The values at a trace's pattern as a scipy.sparse CSR matrix."""
    p = fz.jacobian_pattern() if jacobian else fz.hessian_pattern()
    return p.to_scipy(values)
