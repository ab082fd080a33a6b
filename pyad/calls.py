"""How a compiled function takes its arguments and gives its results:
without a signature, numbers (a 1-D array is a batch of points); with a
gufunc signature (pyad.signature), arrays of the core shapes with any
leading batch dimensions. Every evaluator of pyad.compiled and
pyad.compiled_higher lays out its operands and shapes its results here, and
runs through the retrace loops of pyad.retracing.

>>> import numpy as np, pyad
>>> f = pyad.compile(lambda x: (x * x).sum(), signature="(n)->()")
>>> ops = f._operands([np.ones((2, 3))])
>>> ops.loop, ops.x.N, ops.x.n
((2,), 2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import replay
from .columns import Columns
from .frozen import Frozen
from .program import Program
from .retracing import Retracing
from .var import Var

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = ["Calls", "Operands"]


class Operands(NamedTuple):
    """A call's operands laid out for C: x (the inputs) and any per-point
    extras (directions, weights), each a flat float64 array (one point) or
    Columns (a batch); loop: the batch shape, None for one point without a
    signature (results as plain floats/tuples)."""

    x: Any
    extras: list[Any]
    loop: tuple[int, ...] | None


class Calls(Retracing):
    """Arguments in, results out (see the module's docstring)."""

    # ---- arguments -----------------------------------------------------------
    def _arity(self, got: int) -> None:
        want = self.sig.k if self.sig is not None else self.n_in
        if want is not None and got != want:
            s = "s" if want != 1 else ""
            raise TypeError(f"compiled function takes {want} argument{s}, got {got}")

    def _operands(self, xs: Sequence[Any], extras: Sequence[tuple[Any, str, str]] = ()) -> Operands:
        """The arguments xs, and extras (value, "in" or "out", name): per
        input directions or per output weights, shaped like the arguments
        or the outputs (without a signature: flat vectors of n or m, or
        (N, n) / (N, m) for a batch)."""
        sig = self.sig
        if sig is not None and sig.k == 1 == len(xs) and self.dims is not None:
            fast = self._one_array(xs[0], extras)
            if fast is not None:
                return fast
        self._arity(len(xs))
        if sig is None:
            vals, N = replay.parse_args(xs)
            if N is None:
                x = np.array(vals, np.float64)
                return Operands(x, [_flat_extra(v, what) for v, _, what in extras], None)
            ex = [_batch_extra(v, N, what) for v, _, what in extras]
            return Operands(Columns.of_columns(vals, N), ex, (N,))
        groups = [[(x, core, f"argument {i}") for i, (x, core) in enumerate(zip(xs, sig.ins))]]
        for value, side, what in extras:
            cores = sig.ins if side == "in" else sig.outs
            items = sig.structured(value, len(cores), what)
            groups.append([(v, c, f"{what}[{i}]" if len(cores) > 1 else what)
                           for i, (v, c) in enumerate(zip(items, cores))])  # fmt: skip
        call = sig.operands(groups, self.dims)
        self._bind_dims({k: v for k, v in call.dims.items() if k in sig.in_names})
        return Operands(call.groups[0], call.groups[1:], call.loop)

    def _one_array(self, x: Any, extras: Sequence[tuple[Any, str, str]]) -> Operands | None:
        """The common call of a one-argument signature, checked in a few
        steps: x (and any directions) float64 C-contiguous arrays of exactly
        the core shape, one point. None: take the general path."""
        assert self.sig is not None and self.dims is not None
        shape = self.sig.shape(self.sig.ins[0], self.dims)
        if not _exact(x, shape):
            return None
        flat = []
        for v, side, _ in extras:
            if side != "in" or not _exact(v, shape):
                return None
            flat.append(v.reshape(-1))
        return Operands(x.reshape(-1), flat, ())

    def _evaluate(self, ops: Operands, point_run: Any, batch_run: Any) -> Any:
        """Run at one point or over a batch with the loops of Retracing."""
        if isinstance(ops.x, Columns):
            return self._batch((ops.x, *ops.extras), batch_run)
        return self._point(ops.x, point_run)

    def _frozen(self, prog: Program) -> Frozen:
        """The trace's evaluators beyond the gradient (cached on it)."""
        fz = prog.frozen
        if fz is None:
            fz = prog.frozen = Frozen(prog, "the compiled function")
        return fz  # type: ignore[no-any-return]

    def _replay(self, ops: Operands, want_grad: bool, workers: int | None) -> tuple[Any, Any]:
        """Values (m,) and gradients (m, n) (or None), with a leading axis
        of N points for a batch."""

        def point(prog: Program) -> tuple[int, Any, Any]:
            st, vals, g, info = prog.eval_flat(ops.x, want_grad)
            return st, (vals, g), info

        def batch(prog: Program, pts: tuple[Columns, ...]) -> tuple[int, Any, Any, Any]:
            cols = pts[0]
            st, info, v, g, fail = replay.eval_batch(prog, cols, cols.N, want_grad, workers)
            return st, info, (v, g) if want_grad else (v,), fail

        if not isinstance(ops.x, Columns):
            replay.check_workers(workers)
            return self._point(ops.x, point)  # type: ignore[no-any-return]
        res = self._batch((ops.x,), batch)
        return res[0], (res[1] if want_grad else None)

    # ---- results ---------------------------------------------------------------
    def _values(self, v: Any, loop: tuple[int, ...] | None) -> Any:
        """Values (loop + (m,)) as the function returns them."""
        if self.sig is not None:
            assert self.dims is not None and loop is not None
            if loop == () and self.sig.outs == [()]:  # one scalar output
                return float(v[0])
            return self.sig.values(v, loop, self.dims)
        if loop is None:
            return tuple(v.tolist()) if self.tuple_out else float(v[0])
        return v if self.tuple_out else v[..., 0]

    def _like_inputs(self, g: Any, loop: tuple[int, ...] | None) -> Any:
        """Per input (loop + (n,)) as the arguments are given."""
        if self.sig is not None:
            assert self.dims is not None and loop is not None
            if loop == () and self.sig.k == 1 and self.sig.ins[0]:  # one array argument
                return g.reshape(self.sig.shape(self.sig.ins[0], self.dims))
            return self.sig.like_inputs(g, loop, self.dims)
        return g

    def _single(self, what: str) -> None:
        one = self.sig.scalar_out() if self.sig is not None else not self.tuple_out
        if self.n_out is not None and not one:
            raise TypeError(
                f"{what}() needs a function with one output; this one returns "
                f"{self.n_out} values: use jacobian()"
            )


def _exact(a: Any, shape: tuple[int, ...]) -> bool:
    return (
        type(a) is np.ndarray
        and a.dtype == np.float64
        and a.shape == shape
        and bool(a.flags.c_contiguous)
        and len(shape) > 0
    )


def _holds_var(x: Any) -> bool:
    return isinstance(x, Var) or (
        isinstance(x, np.ndarray) and x.dtype == object and any(isinstance(e, Var) for e in x.flat)
    )


def _flat_extra(v: Any, what: str) -> FloatArray:
    a = np.ascontiguousarray(v, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(
            f"{what} must be a 1-D array (one entry per input or output), not {a.shape}"
        )
    return a


def _batch_extra(v: Any, N: int, what: str) -> Columns:
    """Per point (N, k) or shared (k,) directions/weights of a batch."""
    a = np.ascontiguousarray(v, dtype=np.float64)
    if a.ndim not in (1, 2) or (a.ndim == 2 and a.shape[0] != N):
        raise ValueError(
            f"{what} must have shape (k,) or ({N}, k) for a batch of {N}, not {a.shape}"
        )
    return Columns([a], N)
