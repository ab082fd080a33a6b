"""The traces of a compiled function, and the two loops that find, for
each point, the trace whose guards hold there (re-tracing when none does).

Every evaluator of a compiled function goes through these loops: value
and gradient (replay), and the higher-order methods (the lane engine,
pyad.frozen). An evaluator is given as `run`:

* one point: run(prog) -> (status, result, info); status
  PYAD_ERR_GUARD sends the point on to the next trace;
* a batch: run(prog, pts) -> (status, info, results, guard_fail), pts a
  tuple of Columns (the points' inputs, and any per-point directions or
  weights), results a tuple of arrays whose first axis is the points;
  the points whose guards missed go on, in a smaller batch, to the next
  trace, and the results are merged back in point order.

See docs/compile.md (guards and re-tracing).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import fastbatch, pickling
from ._lib import CallBase, lib
from .columns import Columns
from .errors import GuardMissError, ImpureFunctionError, PyadFloatingPointError, check
from .program import Program
from .tracing import trace

if TYPE_CHECKING:
    from .program import Info
    from .signature import Dims, Signature

    PointRun = Callable[[Program], tuple[int, Any, Any]]
    BatchRun = Callable[[Program, tuple[Columns, ...]], tuple[int, Any, tuple[Any, ...], Any]]

__all__ = ["Retracing", "state_lock"]

# Guards the signature and trace list of every compiled function (held for
# a few list operations only; pyad/forking.py takes it around fork()).
state_lock = threading.Lock()


def _signature(n_in: int | None, n_out: int | None, tuple_out: bool | None) -> str:
    args = f"{n_in} argument{'s' if n_in != 1 else ''}"
    return f"{args} -> {f'a tuple of {n_out}' if tuple_out else 'one value'}"


class Retracing(CallBase):
    """The state of a compiled function (its traces, and the signature the
    first trace fixed) and the loops over its traces."""

    fn: Callable[..., Any] | None
    cache_size: int
    n_in: int | None
    n_out: int | None
    tuple_out: bool | None
    retraces: int
    sig: Signature | None  # the gufunc signature, if any
    dims: Dims | None  # its core sizes, fixed by the first call (inputs) and trace
    _trace_list: list[Program]
    _fast_prog: Program | None
    _fast_batch: fastbatch.Lean | None

    # The traces, most recently used first. Setting them also sets the fast
    # path of __call__ from the first one (see Program.lean).
    @property
    def _traces(self) -> list[Program]:
        return self._trace_list

    @_traces.setter
    def _traces(self, traces: list[Program]) -> None:
        self._trace_list = traces
        lean = traces[0].lean() if traces and self.sig is None else None
        self._set_lean(*(lean or (None, 0, 0)))  # the C call of __call__ (csrc/pycall.c)
        # value_and_grad's fast path: scalar arguments, one output
        one = traces[0] if traces and self.sig is None else None
        self._fast_prog = one if one is not None and one.n_out == 1 and not self.tuple_out else None
        # and the batch calls' (pyad.fastbatch): arrays of one length and floats
        fb = None
        if one is not None and one.n_out > 0:
            fb = fastbatch.Lean(one, self._fast_prog is not None)
        self._fast_batch = fb

    # ---- tracing ----------------------------------------------------------
    def _bind_dims(self, dims: Dims) -> None:
        """Fix the core sizes of the first call (a no-op later: the call was
        checked against them)."""
        with state_lock:
            if self.dims is None:
                self.dims = dims
                return
            current = self.dims
        for name, size in dims.items():  # another thread's first call won
            if current.get(name, size) != size:
                raise ValueError(
                    f"core dimension {name} is {current[name]} (fixed by the first call "
                    f"of this compiled function), not {size}"
                )

    def _trace(self, xs: Sequence[float]) -> Program:
        """Run fn on leaf Vars at the point xs; cache and return the trace."""
        if self.fn is None:
            raise GuardMissError(
                "pyad: the guards recorded when this function was traced do not "
                f"hold at the point {list(xs)!r}, and its Python function is not "
                "available to re-trace (it was unpickled, or made by "
                "pyad.Function); call .attach(fn) on it to allow re-tracing"
            )
        if self.n_in is not None and len(xs) != self.n_in:
            self._arity_error(len(xs))
        fn, out_shapes = self.fn, list[tuple[int, ...]]()
        if self.sig is not None:
            assert self.dims is not None  # bound by the call
            fn = self.sig.flat_function(fn, self.dims, out_shapes)
        try:
            arrays, n_out, tuple_out = trace(fn, xs)
        except BaseException:
            with state_lock:
                if self.n_in is None and not self._traces:  # no trace fixed the sizes:
                    self.dims = None  # the next call may bring others
            raise
        prog = Program(arrays, n_out)
        new_dims = self.sig.out_dims(out_shapes) if self.sig is not None else {}
        with state_lock:
            if self.n_in is None:  # the first trace fixes the signature
                self.n_in, self.n_out, self.tuple_out = len(xs), n_out, tuple_out
                if new_dims:
                    self.dims = {**(self.dims or {}), **new_dims}
            elif (len(xs), n_out, tuple_out) != (self.n_in, self.n_out, self.tuple_out) or any(
                (self.dims or {}).get(k) != v for k, v in new_dims.items()
            ):
                raise TypeError(
                    "the compiled function returned a different kind of result "
                    f"({_signature(len(xs), n_out, tuple_out)}) than when first traced "
                    f"({_signature(self.n_in, self.n_out, self.tuple_out)})"
                    + (f", output shapes {out_shapes}" if self.sig is not None else "")
                )
            else:
                self.retraces += 1
            self._traces = ([prog] + self._traces)[: self.cache_size]
        return prog

    def _trace_at(self, cols: Columns, point: int) -> Program:
        """Trace at one point of a batch; an error of the trace names it."""
        try:
            return self._trace(cols.point(point))
        except PyadFloatingPointError as e:
            e.args = (f"{e.args[0]} at batch point {point}", *e.args[1:])
            raise
        except Exception as e:
            if hasattr(e, "add_note"):  # Python 3.11+
                e.add_note(f"at batch point {point}")
            raise

    def _promote(self, prog: Program) -> None:
        with state_lock:
            if self._traces and self._traces[0] is not prog and prog in self._traces:
                rest = [t for t in self._traces if t is not prog]
                self._traces = [prog] + rest

    def _arity_error(self, got: int) -> None:
        s = "s" if self.n_in != 1 else ""
        raise TypeError(f"compiled function takes {self.n_in} argument{s}, got {got}")

    def _impure(self, prog: Program, point: object) -> ImpureFunctionError:
        with state_lock:  # a trace that misses its own guards is useless
            self._traces = [t for t in self._traces if t is not prog]
        return ImpureFunctionError(
            f"pyad: the trace just made at {point} does not take the branches it "
            "recorded when replayed at that same point: the compiled function is "
            "not pure in its Var values (it changed a Var's .val, or state a "
            "comparison depended on, while it was traced)"
        )

    def _raise(self, st: int, prog: Program, info: Info, point: int | None) -> None:
        node = info[1]
        where = "compiled function"
        if node is not None and node >= 0:
            op = int(prog.arrays["node_op"][node])
            where = f"{pickling.op_name(op)} (node {node}) of the compiled function"
        if point is not None:
            where += f" at batch point {point}"
        check(st, where)

    # ---- the loops -----------------------------------------------------
    def _point(self, xs: Any, run: PointRun) -> Any:
        """run at one point (xs: its n input values), with the first trace
        whose guards hold there; re-trace when none does."""
        traces = self._traces
        for k, prog in enumerate(traces):
            st, res, info = run(prog)
            if st == 0:
                if k:
                    self._promote(prog)
                return res
            if st != lib.PYAD_ERR_GUARD:
                self._raise(st, prog, info, None)
        point = xs.tolist() if isinstance(xs, np.ndarray) else list(xs)
        prog = self._trace(point)
        st, res, info = run(prog)
        if st == lib.PYAD_ERR_GUARD:
            raise self._impure(prog, point)
        if st != 0:
            self._raise(st, prog, info, None)
        return res

    def _batch(self, pts: tuple[Columns, ...], run: BatchRun) -> tuple[Any, ...]:
        """run over the N points of pts (pts[0]: their inputs), each point
        with the first trace whose guards hold there: the results, merged."""
        cols = pts[0]
        N = cols.N
        first_trace = None
        if not self._traces:
            if N == 0:
                if self.fn is None or self.n_in is None:
                    raise ValueError(
                        "the first call of a compiled function needs at least one point"
                    )
            else:
                first_trace = self._trace_at(cols, 0)
        if cols.n != self.n_in:  # another thread's first trace won
            self._arity_error(cols.n)
        # The common case first: the most recent trace fits every point.
        if self._traces and first_trace is None:
            st, info, res, fail = run(self._traces[0], pts)
            if st == 0 and not fail.any():
                return res
            if st != 0 and (st == lib.PYAD_ERR_GUARD or info[0] < 0):
                check(st, "batch replay")  # not about a point: out of memory, cancelled
        merged: list[Any] | None = None
        todo = np.arange(N)  # original indices still to solve
        sub = pts
        tried: dict[int, Program] = {}  # by id; holding them keeps ids unique
        made_at: dict[int, int] = {}  # id of a trace made by this call -> its point
        if N and first_trace is not None:
            made_at[id(first_trace)] = 0
        err: tuple[int, int, Program, Info] | None = None  # (point, st, prog, info): first fp error
        # Every pass either tries a cached trace once, or makes a trace that
        # must solve its own point: at most cache_size + N passes.
        while todo.size:
            prog = next((t for t in self._traces if id(t) not in tried), None)
            if prog is None:
                # no cached trace fits the first unsolved point: trace it there
                first = int(todo[0])
                if err is not None and first > err[0]:
                    break
                prog = self._trace_at(cols, first)
                made_at[id(prog)] = first
            tried[id(prog)] = prog
            st, info, res, fail = run(prog, sub)
            if st != 0:
                if st == lib.PYAD_ERR_GUARD or info[0] < 0:
                    check(st, "batch replay")
                p = int(todo[info[0]])
                if err is None or p < err[0]:
                    err = (p, st, prog, info)
                # points from the failing one on are not needed any more
                keep = todo < p
                ok = (fail == 0) & keep
            else:
                keep = np.ones(todo.size, bool)
                ok = fail == 0
            if made_at.get(id(prog)) == int(todo[0]) and not ok[0] and keep[0]:
                raise self._impure(prog, f"batch point {int(todo[0])}")
            if st == 0 and todo.size == N and ok.all():  # one trace fits every point
                if prog is not self._traces[0]:
                    self._promote(prog)
                return res
            if merged is None:
                merged = [np.empty((N, *r.shape[1:]), r.dtype) for r in res]
            idx = todo[ok]
            for out, r in zip(merged, res):
                out[idx] = r[ok]
            left = (~ok) & keep
            if err is not None:
                left &= todo < err[0]
            todo = todo[left]
            sub = tuple(c.take(todo) for c in pts)
            if ok.any() and prog is not self._traces[0]:
                self._promote(prog)
        if err is not None:
            p, st, prog, info = err
            self._raise(st, prog, info, p)
        if merged is None:  # no points (N == 0) and no trace run
            return run(self._traces[0], pts)[2]
        return tuple(merged)
