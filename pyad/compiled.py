"""Compiled functions: record once, replay in C (values, gradients, and the
higher-order methods of pyad.compiled_higher).

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
the traces are kept in a small LRU cache (see docs/compile.md); the loops
that do this are pyad.retracing's, shared by every method.

Arguments: without a signature every argument is a number and a 1-D array
is a batch of points. With a numpy gufunc signature (pyad.signature),
arguments are arrays of their core shapes, and leading dimensions are a
batch:

    >>> import numpy as np
    >>> g = pyad.compile(lambda x: (x * x).sum(), signature="(n)->()")
    >>> g(np.array([1.0, 2.0])), g.grad(np.array([1.0, 2.0])).tolist()
    (5.0, [2.0, 4.0])
    >>> g(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [5.0, 25.0]
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable

from . import dask_arrays, fastbatch, pickling
from ._lib import fast_call
from .calls import _holds_var
from .compiled_higher import HigherOrder
from .program import Program, export, no_guards
from .retracing import state_lock
from .signature import Signature
from .var import Var

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["compile", "Compiled", "Function"]

# Guards the signature and trace list of every compiled function (held for
# a few list operations only; pyad/forking.py takes it around fork()).
_state_lock = state_lock


@fast_call  # the C call of f(*xs) by vectorcall (pyad/_lib.py)
class Compiled(HigherOrder):
    """A function replayed in C. Made by pyad.compile(fn, signature=None).

    f(*xs) value(s); f.grad(*xs); f.value_and_grad(*xs); f.jacobian(*xs);
    f.value_and_jacobian(*xs); and the higher-order methods f.hvp(*xs, v),
    f.hessian(*xs, sparse=False), f.jvp(*xs, t), f.vjp(*xs, w),
    f.hessian_sparsity(), f.jacobian_sparsity() (pyad.compiled_higher).
    Without a signature any argument may be a 1-D float64 array (a batch;
    numbers broadcast); every method takes workers=k to split a batch over
    k threads.

    >>> import numpy as np, pyad
    >>> f = pyad.compile(lambda x, y: x * y + 1)
    >>> f(2.0, 3.0), f(np.array([1.0, 2.0]), 3.0).tolist()
    (7.0, [4.0, 7.0])
    """

    def __init__(
        self, fn: Callable[..., Any] | None, cache_size: int = 32, signature: str | None = None
    ) -> None:
        if fn is not None and not callable(fn):
            raise TypeError(f"pyad.compile() expects a callable, not {type(fn).__name__}")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError("cache_size must be a positive int")
        self.fn = fn
        self.cache_size = cache_size
        self.sig = None if signature is None else Signature(signature)
        self.dims = None
        self.n_in = None  # the signature, fixed by the first trace
        self.n_out = None
        self.tuple_out = None
        self._traces = []  # MRU first; replaced, never mutated
        self.retraces = 0  # traces made after the first (for tests)
        if fn is not None:
            self.__name__ = getattr(fn, "__name__", "compiled")
            self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def signature(self) -> str | None:
        """The gufunc signature given to pyad.compile, or None.

        >>> import pyad
        >>> pyad.compile(lambda x: x.sum(), signature="(n)->()").signature
        '(n)->()'
        """
        return None if self.sig is None else self.sig.text

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", None) or "<unpickled>"
        sig = f", signature {self.sig.text!r}" if self.sig is not None else ""
        return (
            f"<pyad.Compiled {name}: {len(self._traces)} trace(s), "
            f"{self.n_in} inputs, {self.n_out} outputs{sig}>"
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
        new._traces = self._traces  # and the C call's program (csrc/pycall.c)
        return new

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        new = self.__copy__()
        memo[id(self)] = new
        new.fn = copy.deepcopy(self.fn, memo)
        return new

    # ---- the public calls -------------------------------------------------
    # Any: a float, a tuple of floats, an array (batch), or with Vars whatever
    # fn returns.
    # f(*xs) itself is CallBase's (csrc/pycall.c): float arguments on the
    # most recent trace replay in C with no Python frame; any other call,
    # and any call that C cannot answer (a guard that misses, a raising
    # errstate, a NaN value), comes here with the same arguments.
    def _call(self, *xs: Any, workers: int | None = None) -> Any:
        # one point of scalars that the C call declined (a program past its
        # limits: over 16 arguments or 1,024 nodes): one replay in C, values
        # only; anything it cannot answer goes on to the general path
        point = self._fast_point(xs, workers, False)
        if point is not None:
            return point[0]
        # a batch of float64 arrays and floats (so no Var, no dask array) on
        # the most recent trace: pyad.fastbatch, or None and the general path
        fb = self._fast_batch
        if fb is not None and len(xs) == fb.n_in:
            res = fastbatch.batch(fb, xs, False, workers)
            if res is not None:
                return res[0] if self.tuple_out else res[0][..., 0]
        if any(_holds_var(x) for x in xs):
            return self._eager(xs)
        if dask_arrays.holds_dask(xs):  # lazy results (pyad.dask_arrays)
            return dask_arrays.call(self, "__call__", xs, workers=workers)
        ops = self._operands(xs)
        vals, _ = self._replay(ops, False, workers)
        return self._values(vals, ops.loop)

    def _fast_point(
        self, xs: Sequence[Any], workers: object, want_grad: bool
    ) -> tuple[Any, Any] | None:
        """(value, gradient or None) by one replay in C: the fast path of a
        call at one point of scalars on the most recent trace with one
        output. None for anything else, and for any status but OK (a guard
        that misses, a raising errstate): the general path handles those."""
        prog = self._fast_prog
        if prog is None or workers is not None or len(xs) != prog.n_in:
            return None
        point = xs if all(type(x) is float for x in xs) else _scalar_point(xs)
        if point is None:
            return None
        st, values, grads, _ = prog.eval(point, want_grad)
        return (values[0], grads) if st == 0 else None

    def _eager(self, xs: Sequence[Any]) -> Any:
        if self.fn is None:
            raise TypeError(
                "this compiled function has no Python function (unpickled, or a "
                "pyad.Function), so it cannot be called on Vars"
            )
        return self.fn(*xs)

    def value_and_grad(self, *xs: Any, workers: int | None = None) -> tuple[Any, Any]:
        """(value, gradient): a float and an (n,) array, or for a batch of N
        points an (N,) and an (N, n) array. With a signature the gradient
        has the shape of the argument (a tuple for several arguments).

        >>> import numpy as np, pyad
        >>> f = pyad.compile(lambda x, y: x * y)
        >>> v, g = f.value_and_grad(3.0, 4.0); v, g.tolist()
        (12.0, [4.0, 3.0])
        >>> v, g = f.value_and_grad(np.array([1.0, 2.0]), 4.0); v.tolist(), g.tolist()
        ([4.0, 8.0], [[4.0, 1.0], [4.0, 2.0]])
        """
        return self._value_and_grad(xs, workers, True)

    def grad(self, *xs: Any, workers: int | None = None) -> Any:
        """The gradient: an (n,) array, or (N, n) for a batch (with a
        signature: the argument's shape).

        >>> import pyad
        >>> pyad.compile(lambda x, y: x * y).grad(3.0, 4.0).tolist()
        [4.0, 3.0]
        """
        fast = self._fast_batch_grad(xs, workers)
        if fast is not None:
            return fast[1]
        if dask_arrays.holds_dask(xs):  # one result: one task per chunk
            return dask_arrays.call(self, "grad", xs, workers=workers)
        return self._value_and_grad(xs, workers, False)[1]  # the batch was tried

    def _value_and_grad(self, xs: Sequence[Any], workers: Any, batch: bool) -> tuple[Any, Any]:
        """value_and_grad; batch: try the fast batch path (grad has)."""
        point = self._fast_point(xs, workers, True)
        if point is not None:
            return point
        if batch:
            fast = self._fast_batch_grad(xs, workers)
            if fast is not None:
                return fast
        if dask_arrays.holds_dask(xs):
            return dask_arrays.call(self, "value_and_grad", xs, workers=workers)  # type: ignore[no-any-return]
        self._single("value_and_grad")
        ops = self._operands(xs)
        vals, grads = self._replay(ops, True, workers)
        self._single("value_and_grad")  # the first call has traced now
        return self._values(vals, ops.loop), self._like_inputs(grads[..., 0, :], ops.loop)

    def _fast_batch_grad(self, xs: Sequence[Any], workers: object) -> tuple[Any, Any] | None:
        """(values, gradients) of a batch of arrays and floats on the most
        recent trace, one output (pyad.fastbatch); None: the general path."""
        fb = self._fast_batch
        if fb is None or not fb.one or len(xs) != fb.n_in:
            return None
        res = fastbatch.batch(fb, xs, True, workers)
        if res is None:
            return None
        vals, grads = res
        assert grads is not None
        return vals[..., 0], grads[..., 0, :]

    def value_and_jacobian(self, *xs: Any, workers: int | None = None) -> tuple[Any, Any]:
        """(values, Jacobian): (m,) and (m, n) arrays, or (N, m), (N, m, n).
        With a signature: the outputs, and the Jacobian in blocks (output
        core + argument core shapes; tuples for several).

        >>> import pyad
        >>> v, j = pyad.compile(lambda x, y: (x + y, x * y)).value_and_jacobian(3.0, 4.0)
        >>> v.tolist(), j.tolist()
        ([7.0, 12.0], [[1.0, 1.0], [4.0, 3.0]])
        """
        if dask_arrays.holds_dask(xs):  # lazy results (pyad.dask_arrays)
            return dask_arrays.call(self, "value_and_jacobian", xs, workers=workers)  # type: ignore[no-any-return]
        ops = self._operands(xs)
        vals, J = self._replay(ops, True, workers)
        if self.sig is not None:
            assert self.dims is not None and ops.loop is not None
            return self._values(vals, ops.loop), self.sig.jacobian(J, ops.loop, self.dims)
        return vals, J

    def jacobian(self, *xs: Any, sparse: bool = False, workers: int | None = None) -> Any:
        """The m x n Jacobian (one row per output), or (N, m, n) for a batch.
        sparse=True: a scipy.sparse CSR matrix (m, n) over the flat inputs
        and outputs, computed with one forward sweep per colour of
        jacobian_sparsity() (a list of them for a batch).

        >>> import pyad
        >>> pyad.compile(lambda x, y: (x + y, x * y)).jacobian(3.0, 4.0).tolist()
        [[1.0, 1.0], [4.0, 3.0]]
        """
        if dask_arrays.holds_dask(xs):
            return dask_arrays.call(self, "jacobian", xs, sparse=sparse, workers=workers)
        if sparse:
            return self._jacobian_sparse(xs, workers)
        return self.value_and_jacobian(*xs, workers=workers)[1]

    # ---- pickling (format: pyad/pickling.py) ------------------------------------
    def __reduce__(self) -> tuple[Callable[[object], Compiled], tuple[dict[str, Any]]]:
        header = (self.n_in, self.n_out, self.tuple_out, self.cache_size)
        state = pickling.encode(self._traces, *header, isinstance(self, Function))
        if self.sig is not None:
            state["signature"] = self.sig.text
            state["dims"] = dict(self.dims or {})
        return (_load, (state,))


@fast_call
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


def _scalar_point(xs: Sequence[Any]) -> list[float] | None:
    """xs as floats when each is a float or float subclass (numpy.float64)
    or an int (not bool) that converts -- the same doubles the general path
    makes of them, as the C call (csrc/pycall.c) reads them; else None."""
    point = []
    for x in xs:
        if not (isinstance(x, float) or type(x) is int):
            return None
        try:
            point.append(float(x))
        except OverflowError:  # an int beyond the doubles: the general path
            return None
    return point


def compile(  # noqa: A001  (pyad.compile, like torch.compile)
    fn: Callable[..., Any], cache_size: int = 32, signature: str | None = None
) -> Compiled:
    """Compile fn for replay in C. Without a signature fn takes n scalars
    and returns a Var or a tuple of Vars; with a numpy gufunc signature
    (e.g. "(n)->()", "(n),()->(m)") it takes arrays of those core shapes.
    See Compiled, pyad.signature and docs/compile.md.

    >>> import pyad
    >>> f = pyad.compile(lambda x: x * x if x > 0 else -x)
    >>> f(3.0), f(-2.0), f.grad(3.0).tolist(), f.grad(-2.0).tolist()
    (9.0, 2.0, [6.0], [-1.0])
    """
    return Compiled(fn, cache_size, signature)


def _load(state: object) -> Compiled:
    """Rebuild a pickled compiled function (any format version, see
    pickling.py); ValueError if anything is off. Every pickle names this
    function, so it stays here."""
    h, progs = pickling.decode(state)
    f = Function.__new__(Function) if h["function"] else Compiled.__new__(Compiled)
    Compiled.__init__(f, None, h["cache_size"], h["signature"])
    f.n_in, f.n_out, f.tuple_out = h["n_in"], h["n_out"], h["tuple_out"]
    f.dims = h["dims"]
    f._traces = progs
    return f
