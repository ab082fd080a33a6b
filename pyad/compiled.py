"""Compiled functions: record once, replay value and gradient in C.

    >>> import pyad
    >>> f = pyad.compile(lambda x, y: x * pyad.sin(y) + 1)
    >>> f(2.0, 0.0)
    1.0
    >>> f.grad(2.0, 0.0).tolist()
    [0.0, 2.0]

The first call *traces* the function: it runs it once on leaf Vars and
freezes the recorded graph as a program (csrc/program.c) that C replays for
new inputs, one point or a whole numpy batch, with the GIL released.

Python control flow that depends on a Var's value (`if x > 0:`, bool(v),
float(v)) is recorded as a *guard*. A replay whose guards do not all hold
is never used: the function is re-traced for that outcome pattern, and the
traces are kept in a small LRU cache (see docs/compile.md).
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Literal, cast

import numpy as np

from . import var as _var
from ._lib import ffi, lib
from .dropped import watching
from .errors import GuardMissError, PyadError, check
from .optable import CODE as _OP
from .var import Var, as_float

if TYPE_CHECKING:
    import numpy.typing as npt
    from typing_extensions import Self

    FloatArray = npt.NDArray[np.float64]
    Arrays = dict[str, npt.NDArray[Any]]  # a program's arrays, by _FIELDS name
    Info = tuple[int, int, int]  # (point, node, guard) of a failed replay
    Guard = tuple[str, Var, object, Any]  # (kind, var, other, result: bool or float)
    Column = FloatArray | float  # one input of a batch: per point, or broadcast

__all__ = ["compile", "Compiled", "Function"]

_FORMAT_VERSION = 1
_GUARD_KINDS: dict[str, int] = {
    "lt": lib.PYAD_GUARD_LT,
    "le": lib.PYAD_GUARD_LE,
    "gt": lib.PYAD_GUARD_GT,
    "ge": lib.PYAD_GUARD_GE,
    "ne": lib.PYAD_GUARD_NE,  # == is recorded as != with the opposite outcome
}
_OP_NAMES = {i: n for n, i in _OP.items()}


# ---- tracing: the guard hook ---------------------------------------------

_tracers: dict[int, list[list[Guard]]] = {}  # thread id -> stack of guard lists
_tracers_lock = threading.Lock()


def _dispatch(kind: str, var: Var, other: object, result: Any) -> None:
    stack = _tracers.get(threading.get_ident())
    if stack:
        stack[-1].append((kind, var, other, result))


class _Tracing:
    """Collect the guards of the calling thread while in the block."""

    def __init__(self) -> None:
        self.guards: list[Guard] = []

    def __enter__(self) -> list[Guard]:
        tid = threading.get_ident()
        with _tracers_lock:
            _tracers.setdefault(tid, []).append(self.guards)
            _var.guard_hook = _dispatch
        return self.guards

    def __exit__(self, *exc: object) -> Literal[False]:
        tid = threading.get_ident()
        with _tracers_lock:
            stack = _tracers[tid]
            stack.pop()
            if not stack:
                del _tracers[tid]
            if not _tracers:
                _var.guard_hook = None
        return False


# ---- programs ------------------------------------------------------------

# name, dtype: the arrays of one program, as stored and as pickled
_FIELDS: tuple[tuple[str, type[np.generic]], ...] = (
    ("node_op", np.int32),
    ("node_value", np.float64),
    ("arg_start", np.uint32),
    ("args", np.uint32),
    ("input_slot", np.uint32),
    ("output_slot", np.uint32),
    ("guard_kind", np.int32),
    ("guard_a", np.uint32),
    ("guard_b", np.int64),
    ("guard_c", np.float64),
    ("guard_outcome", np.uint8),
)
_CTYPES: dict[type[np.generic], str] = {
    np.int32: "int32_t[]",
    np.float64: "double[]",
    np.uint32: "uint32_t[]",
    np.int64: "int64_t[]",
    np.uint8: "uint8_t[]",
}


def _ptr(arr: npt.NDArray[Any], dtype: type[np.generic]) -> Any:
    if arr.size == 0:
        return ffi.NULL
    return ffi.from_buffer(_CTYPES[dtype], arr)


class _Program:
    """One trace: the validated C program and its arrays (for pickling)."""

    def __init__(self, arrays: Mapping[str, object], n_out: int) -> None:
        a: Arrays = {}
        for name, dtype in _FIELDS:
            x = arrays[name]
            if not isinstance(x, np.ndarray) or x.dtype != dtype or x.ndim != 1:
                raise ValueError(f"pyad: program array {name} must be 1-D {np.dtype(dtype).name}")
            a[name] = np.ascontiguousarray(x)
        n_nodes = a["node_op"].size
        n_guards = a["guard_kind"].size
        if (
            a["node_value"].size != n_nodes
            or a["arg_start"].size != n_nodes + 1
            or a["output_slot"].size != n_out
            or any(
                a[k].size != n_guards for k in ("guard_a", "guard_b", "guard_c", "guard_outcome")
            )
        ):
            raise ValueError("pyad: program arrays have inconsistent lengths")
        out = ffi.new("pyad_program **")
        check(
            lib.pyad_program_new(
                _ptr(a["node_op"], np.int32),
                _ptr(a["node_value"], np.float64),
                _ptr(a["arg_start"], np.uint32),
                n_nodes,
                _ptr(a["args"], np.uint32),
                a["args"].size,
                _ptr(a["input_slot"], np.uint32),
                a["input_slot"].size,
                _ptr(a["output_slot"], np.uint32),
                n_out,
                _ptr(a["guard_kind"], np.int32),
                _ptr(a["guard_a"], np.uint32),
                _ptr(a["guard_b"], np.int64),
                _ptr(a["guard_c"], np.float64),
                _ptr(a["guard_outcome"], np.uint8),
                n_guards,
                out,
            ),
            "pyad_program_new (the loader)",
        )
        self.ptr = ffi.gc(out[0], lib.pyad_program_free)
        self.arrays = a
        self.n_in = a["input_slot"].size
        self.n_out = n_out
        self.n_guards = n_guards
        self.n_ops = lib.pyad_program_n_ops(self.ptr)
        self.work_size = lib.pyad_program_work_size(self.ptr)
        self._pool: list[tuple[Any, Any, Any, Any, Any]] = []  # scratch buffers for scalar calls

    def _buffers(self) -> tuple[Any, Any, Any, Any, Any]:
        try:
            return self._pool.pop()
        except IndexError:
            return (
                ffi.new("double[]", max(self.n_in, 1)),
                ffi.new("double[]", max(self.n_out, 1)),
                ffi.new("double[]", max(self.n_out * self.n_in, 1)),
                ffi.new("double[]", self.work_size),
                ffi.new("pyad_fail_info *"),
            )

    # (Any: which parts are None depends on the status.)
    def eval(self, xs: Sequence[float], want_grad: bool) -> tuple[int, Any, Any, Any]:
        """(status, values list, grads array or None, info tuple)."""
        buf = self._buffers()
        x, vals, g, work, info = buf
        try:
            x[0 : self.n_in] = xs
            st = lib.pyad_program_eval(
                self.ptr, x, vals, g if want_grad else ffi.NULL, work, self.work_size, info
            )
            if st != 0:
                return st, None, None, (info.point, info.node, info.guard)
            values = [vals[0]] if self.n_out == 1 else ffi.unpack(vals, self.n_out)
            grads = None
            if want_grad:
                grads = np.frombuffer(
                    ffi.buffer(g, 8 * self.n_out * self.n_in), dtype=np.float64
                ).copy()
            return st, values, grads, None
        finally:
            self._pool.append(buf)

    def eval_batch(
        self, cols: Sequence[Column], N: int, want_grad: bool, workers: int | None
    ) -> tuple[int, Info, FloatArray, Any, npt.NDArray[np.uint8]]:  # Any: grads or None
        """Evaluate all N points. cols: per input, a float64 array of length N
        or a float. Returns (status, info, values (N, m), grads (N, m, n) or
        None, guard_fail mask)."""
        n, m = self.n_in, self.n_out
        keep: list[object] = []
        ptrs: list[Any] = []
        strides: list[int] = []
        for c in cols:
            if isinstance(c, np.ndarray):
                keep.append(c)
                ptrs.append(ffi.from_buffer("double[]", c))
                strides.append(1)
            else:
                b = ffi.new("double[1]", [c])
                keep.append(b)
                ptrs.append(b)
                strides.append(0)
        xp = ffi.new("double *[]", ptrs) if n else ffi.NULL
        sp = ffi.new("size_t[]", strides) if n else ffi.NULL
        values = np.empty((N, m))
        grads = np.empty((N, m, n)) if want_grad else None
        fail = np.empty(N, dtype=np.uint8)
        vp = ffi.from_buffer("double[]", values) if values.size else ffi.new("double[1]")
        gp = ffi.NULL
        if grads is not None:  # want_grad
            gp = ffi.from_buffer("double[]", grads) if grads.size else ffi.new("double[1]")
        fp = ffi.from_buffer("uint8_t[]", fail) if N else ffi.new("uint8_t[1]")

        mode = lib.pyad_get_errmode()  # per thread: workers get ours

        def run(lo: int, hi: int) -> tuple[int, Info]:
            nfail = ffi.new("size_t *")
            info = ffi.new("pyad_fail_info *")
            old = lib.pyad_set_errmode(mode)
            try:
                st = lib.pyad_program_eval_batch(self.ptr, xp, sp, lo, hi, vp, gp, fp, nfail, info)
            finally:
                lib.pyad_set_errmode(old)
            return st, (info.point, info.node, info.guard)

        workers = _check_workers(workers)
        if workers <= 1 or N < 2 * workers:
            st, info = run(0, N)
        else:
            bounds = [N * k // workers for k in range(workers + 1)]
            pool = _executor(workers)
            futures = [pool.submit(run, bounds[k], bounds[k + 1]) for k in range(workers)]
            results = [f.result() for f in futures]
            st, info = 0, (-1, -1, -1)
            for s, i in results:  # the lowest failing point wins
                if s != 0:
                    st, info = s, i
                    break
        # On an error, points from info[0] on may not have been run: their
        # entries (fail mask included) are garbage, and the caller drops them.
        del keep
        return st, info, values, grads, fail


def _check_workers(workers: object) -> int:
    if workers is None:
        return 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, not {workers!r}")
    return workers


_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            old = _pool
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=max(workers, os.cpu_count() or 1), thread_name_prefix="pyad-replay"
            )
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def export(inputs: Sequence[Var], outputs: Sequence[Var], with_grads: bool = False) -> Arrays:
    """pyad_export into numpy arrays: the arrays of a guard-free program
    (plus "node_grad", each node's .grad, when with_grads)."""
    n_in, n_out = len(inputs), len(outputs)
    hin = ffi.new("int64_t[]", [v._h for v in inputs] or [0])
    hout = ffi.new("int64_t[]", [v._h for v in outputs] or [0])
    nn, na = ffi.new("size_t *"), ffi.new("size_t *")
    check(
        lib.pyad_export(
            hin,
            n_in,
            hout,
            n_out,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            ffi.NULL,
            nn,
            na,
        ),
        "export",
    )
    n = max(nn[0], 1)  # cffi wants non-empty buffers
    a = {
        "node_op": np.empty(n, np.int32),
        "node_value": np.empty(n),
        "node_grad": np.empty(n),
        "arg_start": np.empty(nn[0] + 1, np.uint32),
        "args": np.empty(max(na[0], 1), np.uint32),
        "input_slot": np.empty(max(n_in, 1), np.uint32),
        "output_slot": np.empty(max(n_out, 1), np.uint32),
    }
    buf = {k: ffi.from_buffer(arr) for k, arr in a.items()}
    check(
        lib.pyad_export(
            hin,
            n_in,
            hout,
            n_out,
            ffi.cast("int32_t *", buf["node_op"]),
            ffi.cast("double *", buf["node_value"]),
            ffi.cast("double *", buf["node_grad"]) if with_grads else ffi.NULL,
            ffi.cast("uint32_t *", buf["arg_start"]),
            ffi.cast("uint32_t *", buf["args"]),
            ffi.cast("uint32_t *", buf["input_slot"]),
            ffi.cast("uint32_t *", buf["output_slot"]),
            nn,
            na,
        ),
        "export",
    )
    sizes = {
        "node_op": nn[0],
        "node_value": nn[0],
        "node_grad": nn[0],
        "arg_start": nn[0] + 1,
        "args": na[0],
        "input_slot": n_in,
        "output_slot": n_out,
    }
    out = {k: a[k][:size].copy() for k, size in sizes.items()}
    if not with_grads:
        del out["node_grad"]
    return out


def _no_guards(a: Arrays) -> Arrays:
    a.update(
        guard_kind=np.empty(0, np.int32),
        guard_a=np.empty(0, np.uint32),
        guard_b=np.empty(0, np.int64),
        guard_c=np.empty(0),
        guard_outcome=np.empty(0, np.uint8),
    )
    return a


# ---- the compiled function ---------------------------------------------------


class Compiled:
    """A function of n scalars, replayed in C. Made by pyad.compile(fn).

    f(*xs) value(s); f.grad(*xs); f.value_and_grad(*xs); f.jacobian(*xs);
    f.value_and_jacobian(*xs). Any argument may be a 1-D float64 array (a
    batch; numbers broadcast); every method takes workers=k to split a batch
    over k threads.

    >>> import numpy as np, pyad
    >>> f = pyad.compile(lambda x, y: x * y + 1)
    >>> f(2.0, 3.0), f(np.array([1.0, 2.0]), 3.0).tolist()
    (7.0, [4.0, 7.0])
    """

    def __init__(self, fn: Callable[..., Any] | None, cache_size: int = 32) -> None:
        if fn is not None and not callable(fn):
            raise TypeError(f"pyad.compile() expects a callable, not {type(fn).__name__}")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError("cache_size must be a positive int")
        self.fn = fn
        self.cache_size = cache_size
        self.n_in: int | None = None  # set by the first trace
        self.n_out: int | None = None
        self.tuple_out: bool | None = None
        self._traces: list[_Program] = []  # MRU first; replaced, never mutated
        self._lock = threading.RLock()
        self.retraces = 0  # traces made after the first (for tests)
        if fn is not None:
            self.__name__ = getattr(fn, "__name__", "compiled")
            self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", None) or "<unpickled>"
        return (
            f"<pyad.Compiled {name}: {len(self._traces)} trace(s), "
            f"{self.n_in} inputs, {self.n_out} outputs>"
        )

    def attach(self, fn: Callable[..., Any]) -> Self:
        """Give an unpickled compiled function its Python function back, so
        that it can re-trace when a guard misses. Returns self.

        >>> import pickle, pyad
        >>> f = pyad.compile(lambda x: x * x if x > 0 else -x)
        >>> f(2.0)
        4.0
        >>> g = pickle.loads(pickle.dumps(f)).attach(lambda x: x * x if x > 0 else -x)
        >>> g(-3.0), g.traces
        (3.0, 2)
        """
        if not callable(fn):
            raise TypeError("attach() expects a callable")
        self.fn = fn
        return self

    @property
    def traces(self) -> int:
        """How many traces are cached.

        >>> import pyad
        >>> f = pyad.compile(lambda x: x if x > 0 else -x)
        >>> f(1.0), f(-1.0), f(2.0), f.traces
        (1.0, 1.0, 2.0, 2)
        """
        return len(self._traces)

    # ---- tracing ----------------------------------------------------------
    def _trace(self, xs: Sequence[float]) -> _Program:
        """Run fn on leaf Vars at the point xs; cache and return the trace."""
        if self.fn is None:
            raise GuardMissError(
                "pyad: the guards recorded when this function was traced do not "
                f"hold at the point {list(xs)!r}, and its Python function is not "
                "available to re-trace (it was unpickled, or made by "
                "pyad.Function); call .attach(fn) on it to allow re-tracing"
            )
        leaves = [Var(x) for x in xs]
        with _Tracing() as guards, watching(leaves, "compile"):
            out = self.fn(*leaves)
        tuple_out = isinstance(out, (tuple, list))
        outs: list[Var] = list(out) if tuple_out else [out]
        for i, o in enumerate(outs):
            if not isinstance(o, Var):
                c = as_float(o)
                if c is None:
                    raise TypeError(
                        "the compiled function must return a Var, a real number, "
                        f"or a tuple of them, not {type(o).__name__}"
                    )
                outs[i] = Var(c)  # a constant output
        if self.tuple_out is not None and (tuple_out != self.tuple_out or len(outs) != self.n_out):
            raise TypeError(
                "the compiled function returned a different kind of result "
                f"({'a tuple of ' + str(len(outs)) if tuple_out else 'one value'}) "
                f"than when first traced"
            )
        # Guards: every Var they read becomes an extra output of the export,
        # so that its slot is known and it is computed on replay.
        extra: list[Var] = []
        index: dict[int, int] = {}

        def slot_of(v: Var) -> int:
            if id(v) not in index:
                index[id(v)] = len(outs) + len(extra)
                extra.append(v)
            return index[id(v)]

        kinds: list[int] = []
        ga: list[int] = []
        gb: list[int] = []
        gc: list[float] = []
        go: list[int] = []
        for kind, v, other, result in guards:
            if kind in _GUARD_KINDS:
                kinds.append(_GUARD_KINDS[kind])
                ga.append(slot_of(v))
                if isinstance(other, Var):
                    gb.append(slot_of(other))
                    gc.append(0.0)
                else:
                    gb.append(-1)
                    gc.append(as_float(other))  # type: ignore[arg-type]  # a number: it compared
                go.append(1 if result else 0)
            elif kind == "bool":
                kinds.append(lib.PYAD_GUARD_NE)
                ga.append(slot_of(v))
                gb.append(-1)
                gc.append(0.0)
                go.append(1 if result else 0)
            elif kind == "float":
                kinds.append(lib.PYAD_GUARD_SAME)
                ga.append(slot_of(v))
                gb.append(-1)
                gc.append(float(result))
                go.append(1)
            else:
                raise PyadError(f"pyad: unknown guard kind {kind!r}")
        a = export(leaves, outs + extra)
        slots = a["output_slot"]
        a["output_slot"] = slots[: len(outs)].copy()
        a["guard_kind"] = np.array(kinds, np.int32)
        a["guard_a"] = np.array([slots[i] for i in ga], np.uint32)
        a["guard_b"] = np.array([slots[i] if i >= 0 else -1 for i in gb], np.int64)
        a["guard_c"] = np.array(gc, np.float64)
        a["guard_outcome"] = np.array(go, np.uint8)
        prog = _Program(a, len(outs))
        with self._lock:
            if self.n_in is None:
                self.n_in, self.n_out, self.tuple_out = len(xs), len(outs), tuple_out
            else:
                self.retraces += 1
            self._traces = ([prog] + self._traces)[: self.cache_size]
        return prog

    def _promote(self, prog: _Program) -> None:
        with self._lock:
            if self._traces and self._traces[0] is not prog and prog in self._traces:
                rest = [t for t in self._traces if t is not prog]
                self._traces = [prog] + rest

    # ---- arguments ----------------------------------------------------------
    def _parse(self, xs: Sequence[Any]) -> tuple[list[Column], int | None]:
        """(floats, None) for a scalar call, or (columns, N) for a batch."""
        if self.n_in is not None and len(xs) != self.n_in:
            raise TypeError(
                f"compiled function takes {self.n_in} argument"
                f"{'s' if self.n_in != 1 else ''}, got {len(xs)}"
            )
        vals, N = [], None
        for i, x in enumerate(xs):
            t = type(x)
            if t is float:
                vals.append(x)
                continue
            if isinstance(x, np.ndarray):
                if x.dtype != np.float64:
                    raise TypeError(
                        f"argument {i}: batch arrays must have dtype float64, not "
                        f"{x.dtype} (use x.astype(np.float64))"
                    )
                if x.ndim == 0:
                    vals.append(float(x))
                    continue
                if x.ndim != 1:
                    raise ValueError(
                        f"argument {i}: batch arrays must be 1-D, not of shape {x.shape}"
                    )
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
                    f"argument {i} must be a real number or a 1-D float64 array, "
                    f"not {type(x).__name__}"
                )
            vals.append(f)
        return vals, N

    # ---- evaluation -----------------------------------------------------
    def _point(self, xs: Sequence[Any], want_grad: bool) -> tuple[Any, Any]:  # xs: floats
        """Replay at one point: (values list, grads (m*n,) array or None)."""
        traces = self._traces
        if traces:
            st, vals, grads, info = traces[0].eval(xs, want_grad)
            if st == 0:
                return vals, grads
            if st != lib.PYAD_ERR_GUARD:
                self._raise(st, traces[0], info, None)
            for prog in traces[1:]:
                st, vals, grads, info = prog.eval(xs, want_grad)
                if st == 0:
                    self._promote(prog)
                    return vals, grads
                if st != lib.PYAD_ERR_GUARD:
                    self._raise(st, prog, info, None)
        prog = self._trace(xs)
        st, vals, grads, info = prog.eval(xs, want_grad)
        if st != 0:
            if st == lib.PYAD_ERR_GUARD:
                raise PyadError("pyad: internal error: a fresh trace missed its own guards")
            self._raise(st, prog, info, None)
        return vals, grads

    def _raise(self, st: int, prog: _Program, info: Info, point: int | None) -> None:
        node = info[1]
        where = "compiled function"
        if node is not None and node >= 0:
            op = int(prog.arrays["node_op"][node])
            where = f"{_OP_NAMES.get(op, '?')} (node {node}) of the compiled function"
        if point is not None:
            where += f" at batch point {point}"
        check(st, where)

    def _batch(
        self, cols: list[Column], N: int, want_grad: bool, workers: int | None
    ) -> tuple[FloatArray, FloatArray | None]:
        """Replay N points: (values (N, m), grads (N, m, n) or None)."""
        if not self._traces:
            first: Any = [c[0] if isinstance(c, np.ndarray) else c for c in cols] if N else None
            if first is None:
                if self.fn is None or self.n_in is None:
                    raise ValueError(
                        "the first call of a compiled function needs at least one point"
                    )
            else:
                self._trace([float(x) for x in first])
        m, n = cast(int, self.n_out), cast(int, self.n_in)  # set by the first trace
        values = np.empty((N, m))
        grads = np.empty((N, m, n)) if want_grad else None
        todo = np.arange(N)  # original indices still to solve
        sub = cols
        tried: set[int] = set()
        err: tuple[int, int, _Program, Info] | None = (
            None  # (point, st, prog, info): first fp error
        )
        while todo.size:
            prog = next((t for t in self._traces if id(t) not in tried), None)
            if prog is None:
                # no cached trace fits the first unsolved point: trace it there
                first = int(todo[0])
                if err is not None and first > err[0]:
                    break
                pt = [float(c[first]) if isinstance(c, np.ndarray) else c for c in cols]
                try:
                    prog = self._trace(pt)
                except FloatingPointError as e:
                    if (
                        N > 1
                        or isinstance(cols, list)
                        and any(isinstance(c, np.ndarray) for c in cols)
                    ):
                        # add_note is Python 3.11+; older Pythons get the bare error
                        if hasattr(e, "add_note"):
                            e.add_note(f"at batch point {first}")
                    raise
            tried.add(id(prog))
            st, info, v, g, fail = prog.eval_batch(sub, todo.size, want_grad, workers)
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
            idx = todo[ok]
            values[idx] = v[ok]
            if grads is not None:  # want_grad
                grads[idx] = g[ok]
            left = (~ok) & keep
            if err is not None:
                left &= todo < err[0]
            todo = todo[left]
            sub = [c[todo] if isinstance(c, np.ndarray) else c for c in cols]
            if ok.any() and prog is not self._traces[0]:
                self._promote(prog)
        if err is not None:
            p, st, prog, info = err
            self._raise(st, prog, info, p)
        return values, grads

    def _run(
        self, xs: Sequence[Any], want_grad: bool, workers: int | None
    ) -> tuple[bool, tuple[Any, Any]]:
        vals, N = self._parse(xs)
        if N is None:
            if workers is not None:
                _check_workers(workers)
            return False, self._point(vals, want_grad)
        return True, self._batch(vals, N, want_grad, workers)

    # ---- the public calls -------------------------------------------------
    # Any: a float, a tuple of floats, an array (batch), or with Vars whatever
    # fn returns.
    def __call__(self, *xs: Any, workers: int | None = None) -> Any:
        if any(isinstance(x, Var) for x in xs):
            return self._eager(xs)
        batch, (vals, _) = self._run(xs, False, workers)
        if batch:
            return vals if self.tuple_out else vals[:, 0].copy()
        return tuple(vals) if self.tuple_out else vals[0]

    def _eager(self, xs: Sequence[Any]) -> Any:
        if self.fn is None:
            raise TypeError(
                "this compiled function has no Python function (unpickled, or a "
                "pyad.Function), so it cannot be called on Vars"
            )
        return self.fn(*xs)

    def _single(self, what: str) -> None:
        if self.tuple_out:
            raise TypeError(
                f"{what}() needs a function with one output; this one returns "
                f"{self.n_out} values: use jacobian()"
            )

    def value_and_grad(
        self, *xs: Any, workers: int | None = None
    ) -> tuple[float | FloatArray, FloatArray]:
        """(value, gradient): a float and an (n,) array, or for a batch of N
        points an (N,) and an (N, n) array.

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x, y: x * y)
        >>> v, g = f.value_and_grad(3.0, 4.0); v, g.tolist()
        (12.0, [4.0, 3.0])
        >>> v, g = f.value_and_grad(np.array([1.0, 2.0]), 4.0); v.tolist(), g.tolist()
        ([4.0, 8.0], [[4.0, 1.0], [4.0, 2.0]])
        """
        if self.tuple_out:
            self._single("value_and_grad")
        batch, (vals, grads) = self._run(xs, True, workers)
        self._single("value_and_grad")  # the first call has traced now
        if batch:
            return vals[:, 0].copy(), grads[:, 0, :].copy()
        return vals[0], grads

    def grad(self, *xs: Any, workers: int | None = None) -> FloatArray:
        """The gradient: an (n,) array, or (N, n) for a batch.

        >>> import pyad
        >>> pyad.compile(lambda x, y: x * y).grad(3.0, 4.0).tolist()
        [4.0, 3.0]
        """
        return self.value_and_grad(*xs, workers=workers)[1]

    def value_and_jacobian(
        self, *xs: Any, workers: int | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(values, Jacobian): (m,) and (m, n) arrays, or (N, m), (N, m, n).

        >>> import pyad
        >>> v, j = pyad.compile(lambda x, y: (x + y, x * y)).value_and_jacobian(3.0, 4.0)
        >>> v.tolist(), j.tolist()
        ([7.0, 12.0], [[1.0, 1.0], [4.0, 3.0]])
        """
        batch, (vals, grads) = self._run(xs, True, workers)
        if batch:
            return vals, grads
        return np.array(vals), grads.reshape(self.n_out, self.n_in)

    def jacobian(self, *xs: Any, workers: int | None = None) -> FloatArray:
        """The m x n Jacobian (one row per output), or (N, m, n) for a batch.

        >>> import pyad
        >>> pyad.compile(lambda x, y: (x + y, x * y)).jacobian(3.0, 4.0).tolist()
        [[1.0, 1.0], [4.0, 3.0]]
        """
        return self.value_and_jacobian(*xs, workers=workers)[1]

    # ---- pickling -----------------------------------------------------------
    def __reduce__(self) -> tuple[Callable[[object], Compiled], tuple[dict[str, Any]]]:
        traces = self._traces
        state = {
            "version": _FORMAT_VERSION,
            "n_in": self.n_in,
            "n_out": self.n_out,
            "tuple_out": self.tuple_out,
            "cache_size": self.cache_size,
            "function": isinstance(self, Function),
            "traces": [{name: t.arrays[name].tobytes() for name, _ in _FIELDS} for t in traces],
        }
        return (_load, (state,))


class Function(Compiled):
    """Freeze an existing eager graph for replay.

    >>> import pyad
    >>> x, y = pyad.Var(1.0), pyad.Var(2.0)
    >>> z = x * y + pyad.sin(x)
    >>> f = pyad.Function(inputs=[x, y], outputs=z)
    >>> round(f(3.0, 4.0), 6), f.grad(3.0, 4.0).round(6).tolist()
    (12.14112, [3.010008, 3.0])

    outputs is a Var or a tuple/list of Vars. Leaves that are not inputs are
    constants, baked in with their current values. The Python code that
    built the graph is not known, so there are no guards: the graph is
    replayed as recorded.
    """

    def __init__(self, inputs: Iterable[Var], outputs: Var | tuple[Var, ...] | list[Var]) -> None:
        super().__init__(None)
        inputs = list(inputs)
        for v in inputs:
            if not isinstance(v, Var):
                raise TypeError(f"Function inputs must be Vars, not {type(v).__name__}")
        if len({id(v) for v in inputs}) != len(inputs):
            raise ValueError("Function inputs must be distinct Vars")
        tuple_out = isinstance(outputs, (tuple, list))
        outs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]  # tuple_out
        for v in outs:
            if not isinstance(v, Var):
                raise TypeError(f"Function outputs must be Vars, not {type(v).__name__}")
        prog = _Program(_no_guards(export(inputs, outs)), len(outs))
        if prog.n_in != len(inputs):
            raise ValueError("Function inputs must name distinct nodes")
        self.n_in, self.n_out, self.tuple_out = len(inputs), len(outs), tuple_out
        self._traces = [prog]


def compile(fn: Callable[..., Any], cache_size: int = 32) -> Compiled:  # noqa: A001  (pyad.compile, like torch.compile)
    """Compile fn, a function of n scalars returning a Var or a tuple of Vars,
    for replay in C. See Compiled and docs/compile.md.

    >>> import pyad
    >>> f = pyad.compile(lambda x: x * x if x > 0 else -x)
    >>> f(3.0), f(-2.0), f.grad(3.0).tolist(), f.grad(-2.0).tolist()
    (9.0, 2.0, [6.0], [-1.0])
    """
    return Compiled(fn, cache_size)


def _load(state: object) -> Compiled:
    """Rebuild a pickled compiled function; ValueError if anything is off."""
    try:
        if not isinstance(state, dict) or state.get("version") != _FORMAT_VERSION:
            raise ValueError("unknown format")
        n_in, n_out = state["n_in"], state["n_out"]
        tuple_out, cache_size = state["tuple_out"], state["cache_size"]
        traces = state["traces"]
        if not isinstance(traces, list) or not isinstance(state["function"], bool):
            raise ValueError("bad traces")
        if not traces:
            if n_in is not None or n_out is not None or tuple_out is not None:
                raise ValueError("bad header")
        else:
            for x in (n_in, n_out):
                if type(x) is not int or not 0 <= x < 2**32:
                    raise ValueError("bad sizes")
            if type(tuple_out) is not bool or (not tuple_out and n_out != 1):
                raise ValueError("bad output kind")
        if type(cache_size) is not int or not 1 <= cache_size <= 2**20 or len(traces) > cache_size:
            raise ValueError("bad cache size")
        progs = []
        for t in traces:
            if not isinstance(t, dict) or set(t) != {name for name, _ in _FIELDS}:
                raise ValueError("bad trace")
            arrays = {}
            for name, dtype in _FIELDS:
                b = t[name]
                if type(b) is not bytes or len(b) % np.dtype(dtype).itemsize:
                    raise ValueError(f"bad array {name}")
                arrays[name] = np.frombuffer(b, dtype=dtype)
            prog = _Program(arrays, n_out)
            if prog.n_in != n_in:
                raise ValueError("trace has the wrong number of inputs")
            progs.append(prog)
    except (KeyError, TypeError, AttributeError, OverflowError) as e:
        raise ValueError(f"pyad: malformed pickled compiled function ({e!r})") from None
    except ValueError as e:
        raise ValueError(f"pyad: malformed pickled compiled function ({e})") from None
    f = Function.__new__(Function) if state["function"] else Compiled.__new__(Compiled)
    Compiled.__init__(f, None, cache_size)
    f.n_in, f.n_out, f.tuple_out = n_in, n_out, tuple_out
    f._traces = progs
    return f
