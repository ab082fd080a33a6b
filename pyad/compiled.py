"""Compiled functions: record once, replay value and gradient in C.

    >>> import pyad
    >>> f = pyad.compile(lambda x, y: x * pyad.sin(y) + 1)
    >>> f(2.0, 0.0)
    1.0
    >>> f.grad(2.0, 0.0).tolist()
    [0.0, 2.0]

The first call *traces* the function (tracing.py): it runs it once on leaf
Vars and freezes the recorded graph as a program (program.py, over
csrc/program.c) that C replays for new inputs, one point or a whole numpy
batch (replay.py), with the GIL released.

Python control flow that depends on a Var's value (`if x > 0:`, bool(v),
float(v), v.val) is recorded as a *guard*. A replay whose guards do not all
hold is never used: the function is re-traced for that outcome pattern, and
the traces are kept in a small LRU cache (see docs/compile.md).

The first trace fixes the signature (number of arguments, number and kind
of outputs) under a lock; every later trace is checked against it, so all
traces of one compiled function have the same shape.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable, cast

import numpy as np

from . import pickling, replay
from ._lib import lib
from .errors import GuardMissError, ImpureFunctionError, PyadFloatingPointError, check
from .program import Program, export, no_guards
from .tracing import trace
from .var import Var

if TYPE_CHECKING:
    import numpy.typing as npt
    from typing_extensions import Self

    from .program import Info

    FloatArray = npt.NDArray[np.float64]
    Column = FloatArray | float  # one input of a batch: per point, or broadcast

__all__ = ["compile", "Compiled", "Function"]

# Guards the signature and trace list of every compiled function (held for
# a few list operations only; pyad/forking.py takes it around fork()).
_state_lock = threading.Lock()


def _signature(n_in: int | None, n_out: int | None, tuple_out: bool | None) -> str:
    args = f"{n_in} argument{'s' if n_in != 1 else ''}"
    return f"{args} -> {f'a tuple of {n_out}' if tuple_out else 'one value'}"


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
        self.n_in: int | None = None  # the signature, fixed by the first trace
        self.n_out: int | None = None
        self.tuple_out: bool | None = None
        self._traces = []  # MRU first; replaced, never mutated
        self.retraces = 0  # traces made after the first (for tests)
        if fn is not None:
            self.__name__ = getattr(fn, "__name__", "compiled")
            self.__doc__ = getattr(fn, "__doc__", None)

    # The traces, most recently used first. Setting them also sets the fast
    # path of __call__ from the first one (see Program.lean).
    @property
    def _traces(self) -> list[Program]:
        return self._trace_list

    @_traces.setter
    def _traces(self, traces: list[Program]) -> None:
        self._trace_list = traces
        self._fast = traces[0].lean() if traces else None

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

    # ---- copying: traces are immutable and shared; fn is kept ---------------
    def __copy__(self) -> Self:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        new = self.__copy__()
        memo[id(self)] = new
        new.fn = copy.deepcopy(self.fn, memo)
        return new

    # ---- tracing ----------------------------------------------------------
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
        arrays, n_out, tuple_out = trace(self.fn, xs)
        prog = Program(arrays, n_out)
        with _state_lock:
            if self.n_in is None:  # the first trace fixes the signature
                self.n_in, self.n_out, self.tuple_out = len(xs), n_out, tuple_out
            elif (len(xs), n_out, tuple_out) != (self.n_in, self.n_out, self.tuple_out):
                raise TypeError(
                    "the compiled function returned a different kind of result "
                    f"({_signature(len(xs), n_out, tuple_out)}) than when first traced "
                    f"({_signature(self.n_in, self.n_out, self.tuple_out)})"
                )
            else:
                self.retraces += 1
            self._traces = ([prog] + self._traces)[: self.cache_size]
        return prog

    def _trace_at(self, cols: Sequence[Column], point: int) -> Program:
        """Trace at one point of a batch; an error of the trace names it."""
        pt = [float(c[point]) if isinstance(c, np.ndarray) else c for c in cols]
        try:
            return self._trace(pt)
        except PyadFloatingPointError as e:
            e.args = (f"{e.args[0]} at batch point {point}", *e.args[1:])
            raise
        except Exception as e:
            if hasattr(e, "add_note"):  # Python 3.11+
                e.add_note(f"at batch point {point}")
            raise

    def _promote(self, prog: Program) -> None:
        with _state_lock:
            if self._traces and self._traces[0] is not prog and prog in self._traces:
                rest = [t for t in self._traces if t is not prog]
                self._traces = [prog] + rest

    def _arity_error(self, got: int) -> None:
        s = "s" if self.n_in != 1 else ""
        raise TypeError(f"compiled function takes {self.n_in} argument{s}, got {got}")

    # ---- evaluation -----------------------------------------------------
    def _point(self, xs: Sequence[Any], want_grad: bool) -> tuple[Any, Any]:  # xs: floats
        """Replay at one point: (values list, grads (m*n,) array or None)."""
        traces = self._traces
        for k, prog in enumerate(traces):
            st, vals, grads, info = prog.eval(xs, want_grad)
            if st == 0:
                if k:
                    self._promote(prog)
                return vals, grads
            if st != lib.PYAD_ERR_GUARD:
                self._raise(st, prog, info, None)
        prog = self._trace(xs)
        st, vals, grads, info = prog.eval(xs, want_grad)
        if st == lib.PYAD_ERR_GUARD:
            raise self._impure(prog, list(xs))
        if st != 0:
            self._raise(st, prog, info, None)
        return vals, grads

    def _impure(self, prog: Program, point: object) -> ImpureFunctionError:
        with _state_lock:  # a trace that misses its own guards is useless
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

    def _batch(
        self, cols: list[Column], N: int, want_grad: bool, workers: int | None
    ) -> tuple[FloatArray, FloatArray | None]:
        """Replay N points: (values (N, m), grads (N, m, n) or None)."""
        first_trace = None
        if not self._traces:
            if N == 0:
                if self.fn is None or self.n_in is None:
                    raise ValueError(
                        "the first call of a compiled function needs at least one point"
                    )
            else:
                first_trace = self._trace_at(cols, 0)
        if len(cols) != self.n_in:  # another thread's first trace won
            self._arity_error(len(cols))
        m, n = cast(int, self.n_out), cast(int, self.n_in)
        # The common case first: the most recent trace fits every point.
        if self._traces and first_trace is None:
            st, info, v, g, fail = replay.eval_batch(self._traces[0], cols, N, want_grad, workers)
            if st == 0 and not fail.any():
                return v, g
            if st != 0 and (st == lib.PYAD_ERR_GUARD or info[0] < 0):
                check(st, "batch replay")  # not about a point: out of memory, cancelled
        values = np.empty((N, m))
        grads = np.empty((N, m, n)) if want_grad else None
        todo = np.arange(N)  # original indices still to solve
        sub = cols
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
            st, info, v, g, fail = replay.eval_batch(prog, sub, todo.size, want_grad, workers)
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
                return v, g
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
        if self.n_in is not None and len(xs) != self.n_in:
            self._arity_error(len(xs))
        vals, N = replay.parse_args(xs)
        if N is None:
            if workers is not None:
                replay.check_workers(workers)
            return False, self._point(vals, want_grad)
        return True, self._batch(vals, N, want_grad, workers)

    # ---- the public calls -------------------------------------------------
    # Any: a float, a tuple of floats, an array (batch), or with Vars whatever
    # fn returns.
    def __call__(self, *xs: Any, workers: int | None = None) -> Any:
        # The fast path: one output, at most 4 float arguments, one C call
        # (pyad_program_value*), which gives nan on anything unusual (a guard
        # that misses, a raising errstate): the general path then says why.
        fast = self._fast
        if fast is not None and workers is None and len(xs) == fast[0]:
            n, c, p = fast
            if n == 1:
                if type(xs[0]) is float:
                    v = c(p, xs[0])
                    if v == v:
                        return v
            elif n == 2:
                a, b = xs
                if type(a) is float and type(b) is float:
                    v = c(p, a, b)
                    if v == v:
                        return v
            elif n == 3:
                a, b, d = xs
                if type(a) is float and type(b) is float and type(d) is float:
                    v = c(p, a, b, d)
                    if v == v:
                        return v
            else:
                a, b, d, e = xs
                if type(a) is float and type(b) is float and type(d) is float and type(e) is float:
                    v = c(p, a, b, d, e)
                    if v == v:
                        return v
        if any(isinstance(x, Var) for x in xs):
            return self._eager(xs)
        batch, (vals, _) = self._run(xs, False, workers)
        if batch:
            return vals if self.tuple_out else vals[:, 0]
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
            return vals[:, 0], grads[:, 0, :]  # views of fresh arrays: no copy
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

    # ---- pickling (format: pyad/pickling.py) ------------------------------------
    def __reduce__(self) -> tuple[Callable[[object], Compiled], tuple[dict[str, Any]]]:
        header = (self.n_in, self.n_out, self.tuple_out, self.cache_size)
        return (_load, (pickling.encode(self._traces, *header, isinstance(self, Function)),))


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
        prog = Program(no_guards(export(inputs, outs)), len(outs))
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
    """Rebuild a pickled compiled function (any format version, see
    pickling.py); ValueError if anything is off. Every pickle names this
    function, so it stays here."""
    h, progs = pickling.decode(state)
    f = Function.__new__(Function) if h["function"] else Compiled.__new__(Compiled)
    Compiled.__init__(f, None, h["cache_size"])
    f.n_in, f.n_out, f.tuple_out = h["n_in"], h["n_out"], h["tuple_out"]
    f._traces = progs
    return f
