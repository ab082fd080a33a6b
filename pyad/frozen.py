"""Frozen programs: a recorded graph as a C program, and the evaluators
beyond the gradient on it (csrc/drive.c, hessian.c, sparsity.c).

`freeze(inputs, outputs)` is the one place that turns a graph into a
program (through pyad.program and pyad.tracing, whose insides it alone
touches); the
eager transforms (pyad.hessian, jvp, vjp, jacobian) record a function once,
freeze it, and compute in C. `Frozen` wraps any program, so a compiled
function's traces can use the same methods.

>>> import numpy as np, pyad
>>> from pyad.frozen import freeze
>>> x, y = pyad.Var(1.0), pyad.Var(2.0)
>>> prog = freeze([x, y], [x * x * y])
>>> prog.hessian(np.array([1.0, 2.0]))[2].tolist()
[[4.0, 2.0], [2.0, 0.0]]
>>> prog.hvp(np.array([1.0, 2.0]), np.array([1.0, 0.0]))[2].tolist()
[4.0, 2.0]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import tracing as _tracing
from ._lib import ffi, lib
from .columns import dbl
from .errors import check
from .optable import OPS
from .program import Program, export, no_guards
from .sparsity import Pattern, program_hessian_pattern, program_jacobian_pattern
from .var import Var

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = ["Frozen", "freeze", "compile_tracing"]


# ---- the adapter: the only code here that knows pyad.compiled's insides ------


def freeze(inputs: Sequence[Var], outputs: Sequence[Var]) -> Frozen:
    """The graph from inputs to outputs as a guard-free C program.

    >>> import pyad
    >>> from pyad.frozen import freeze
    >>> x = pyad.Var(3.0)
    >>> freeze([x], [x * x]).n_in
    1
    """
    arrays = no_guards(export(list(inputs), list(outputs)))
    return Frozen(Program(arrays, len(outputs)))


def compile_tracing() -> bool:
    """True while pyad.compile traces a function on the calling thread: a
    transform called then is inside an outer one (its Vars are traced).

    >>> from pyad.frozen import compile_tracing
    >>> compile_tracing()
    False
    """
    return bool(_tracing._tracers.get(threading.get_ident()))


# ---- buffers -------------------------------------------------------------------


def _vec(x: Any, n: int, what: str) -> FloatArray:
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), not {a.shape}")
    return a


# ---- the frozen program -----------------------------------------------------------


class Frozen:
    """A C program with its evaluators: one point (x an (n_in,) array) or a
    batch (see batch()). Each call is independent and thread-safe.

    >>> import numpy as np, pyad
    >>> from pyad.frozen import freeze
    >>> x = pyad.Var(0.5)
    >>> f = freeze([x], [pyad.sin(x), x * x])
    >>> f.jvp(np.array([0.5]), np.array([1.0]))[1].round(6).tolist()
    [0.877583, 1.0]
    """

    def __init__(self, program: Any, where: str = "") -> None:  # a program.Program
        self.program = program  # owns the C program
        self.where = where  # what errors name ("the compiled function")
        self.ptr = program.ptr
        self.n_in: int = program.n_in
        self.n_out: int = program.n_out
        self.work_size: int = lib.pyad_program_so_work_size(self.ptr)
        self._pool: list[tuple[Any, Any]] = []
        self._patterns: dict[Any, Pattern] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<pyad.frozen.Frozen {self.n_in} inputs, {self.n_out} outputs>"

    # ---- helpers ----
    def _fail(self, st: int, info: Any, what: str) -> None:
        node = info.node
        if self.where:
            what = f"{self.where} ({what})"
        if node >= 0:
            op = int(self.program.arrays["node_op"][node])
            name = OPS[op].name if 0 <= op < len(OPS) else "?"
            what = f"{name} (node {node}) of {what}"
        check(st, what)

    def _work(self) -> tuple[Any, Any]:
        try:
            return self._pool.pop()
        except IndexError:
            return ffi.new("double[]", self.work_size), ffi.new("pyad_fail_info *")

    def _weights(self, w: Any) -> Any:
        return ffi.NULL if w is None else dbl(_vec(w, self.n_out, "weights"))

    # ---- one point ----
    def values_and_jacobian(self, x: Any) -> tuple[FloatArray, FloatArray]:
        """(values (n_out,), Jacobian (n_out, n_in)) by reverse sweeps, one
        per output (each seeded alone).

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a = pyad.Var(2.0); f = freeze([a], [a * a, 3 * a])
        >>> f.values_and_jacobian(np.array([2.0]))[1].tolist()
        [[4.0], [3.0]]
        """
        xs = _vec(x, self.n_in, "x")
        J = np.empty((self.n_out, self.n_in))
        vals = np.empty(self.n_out)
        w = np.zeros(self.n_out)
        for o in range(self.n_out):
            w[o] = 1.0
            vals, J[o] = self.vjp(xs, w)
            w[o] = 0.0
        if not self.n_out:
            vals = self.vjp(xs, w)[0]
        return vals, J

    def jvp(self, x: Any, t: Any) -> tuple[FloatArray, FloatArray]:
        """(values, J t): forward mode, one sweep carrying a tangent.

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(2.0), pyad.Var(3.0); f = freeze([a, b], [a * b])
        >>> f.jvp(np.array([2.0, 3.0]), np.array([1.0, 1.0]))[1].tolist()
        [5.0]
        """
        xs, ts = _vec(x, self.n_in, "x"), _vec(t, self.n_in, "tangent")
        vals, tan = np.empty(self.n_out), np.empty(self.n_out)
        work, info = self._work()
        try:
            st = lib.pyad_program_jvp(
                self.ptr, dbl(xs), dbl(ts), dbl(vals), dbl(tan), work, self.work_size, info
            )
            if st:
                self._fail(st, info, "jvp")
        finally:
            self._pool.append((work, info))
        return vals, tan

    def vjp(self, x: Any, w: Any = None) -> tuple[FloatArray, FloatArray]:
        """(values, w^T J): one reverse sweep seeded with output weights w
        (None: all 1).

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a = pyad.Var(2.0); f = freeze([a], [a * a, 3 * a])
        >>> f.vjp(np.array([2.0]), np.array([1.0, 10.0]))[1].tolist()
        [34.0]
        """
        xs = _vec(x, self.n_in, "x")
        vals, g = np.empty(self.n_out), np.empty(self.n_in)
        work, info = self._work()
        try:
            st = lib.pyad_program_vjp(
                self.ptr, dbl(xs), self._weights(w), dbl(vals), dbl(g), work,
                self.work_size, info,
            )  # fmt: skip
            if st:
                self._fail(st, info, "vjp")
        finally:
            self._pool.append((work, info))
        return vals, g

    def hvp(self, x: Any, v: Any, w: Any = None) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(values, gradient, H v) of sum_o w[o] output o, by
        forward-over-reverse.

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a = pyad.Var(2.0); f = freeze([a], [a ** 3])
        >>> [r.tolist() for r in f.hvp(np.array([2.0]), np.array([1.0]))]
        [[8.0], [12.0], [12.0]]
        """
        xs, vs = _vec(x, self.n_in, "x"), _vec(v, self.n_in, "v")
        vals, g, hv = np.empty(self.n_out), np.empty(self.n_in), np.empty(self.n_in)
        work, info = self._work()
        try:
            st = lib.pyad_program_hvp(
                self.ptr, dbl(xs), self._weights(w), dbl(vs), dbl(vals), dbl(g), dbl(hv),
                work, self.work_size, info,
            )  # fmt: skip
            if st:
                self._fail(st, info, "hvp")
        finally:
            self._pool.append((work, info))
        return vals, g, hv

    def hessian(
        self, x: Any, w: Any = None, method: str = "auto"
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(values, gradient, dense Hessian), exactly symmetric. method:
        "dense" (n Hessian-vector products as lanes of a block), "sparse"
        (one per colour of the Hessian's pattern), or "auto" (sparse when
        the colouring saves at least half of the products).

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(1.0), pyad.Var(2.0); f = freeze([a, b], [a * a * b])
        >>> f.hessian(np.array([1.0, 2.0]), method="sparse")[2].tolist()
        [[4.0, 2.0], [2.0, 0.0]]
        """
        if method not in ("auto", "dense", "sparse"):
            raise ValueError(f"method must be 'auto', 'dense' or 'sparse', not {method!r}")
        n = self.n_in
        if method == "sparse" or (method == "auto" and self._sparse_pays(w)):
            vals, g, hval = self.hessian_sparse(x, w)
            return vals, g, self.hessian_pattern(w).to_dense(hval)
        xs = _vec(x, n, "x")
        vals, g, H = np.empty(self.n_out), np.empty(n), np.empty((n, n))
        info = ffi.new("pyad_fail_info *")
        st = lib.pyad_program_hessian(
            self.ptr, dbl(xs), self._weights(w), dbl(vals), dbl(g), dbl(H), info
        )
        if st:
            self._fail(st, info, "hessian")
        return vals, g, H

    def _sparse_pays(self, w: Any) -> bool:
        """Whether a coloured Hessian saves at least half of the products
        (a pattern denser than a quarter is not even kept)."""
        n = self.n_in
        if n <= 8:
            return False
        p = self._hessian_pattern(w, max_nnz=n * n // 4)
        return p is not None and 2 * p.n_colors <= n

    def _hessian_pattern(self, w: Any, max_nnz: int | None = None) -> Pattern | None:
        key = None if w is None else tuple(float(x) != 0.0 for x in np.ravel(w))
        if key is not None and all(key):
            key = None
        with self._lock:
            if ("h", key) in self._patterns:
                return self._patterns[("h", key)]
            if ("h-dense", key) in self._patterns and max_nnz is not None:
                return None
            mask = None if key is None else [1.0 if k else 0.0 for k in key]
            p = program_hessian_pattern(self.ptr, self.n_in, mask, max_nnz)
            if p is None:  # remember that it is dense
                self._patterns[("h-dense", key)] = Pattern((0, 0), np.zeros(1), np.zeros(0))
                return None
            p.color  # noqa: B018  (colour now, under the lock)
            self._patterns[("h", key)] = p
            return p

    def hessian_pattern(self, w: Any = None) -> Pattern:
        """The structural Hessian pattern (of sum_o w[o] output o; only
        which weights are zero matters), computed once.

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(1.0), pyad.Var(2.0)
        >>> freeze([a, b], [a * b]).hessian_pattern().to_dense().tolist()
        [[False, True], [True, False]]
        """
        p = self._hessian_pattern(w)
        assert p is not None  # no max_nnz
        return p

    def jacobian_pattern(self) -> Pattern:
        """The structural Jacobian pattern, computed once.

        >>> import pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(1.0), pyad.Var(2.0)
        >>> freeze([a, b], [a * 2, a * b]).jacobian_pattern().to_dense().tolist()
        [[True, False], [True, True]]
        """
        with self._lock:
            p = self._patterns.get("j")
            if p is None:
                p = self._patterns["j"] = program_jacobian_pattern(self.ptr, self.n_out, self.n_in)
                p.color  # noqa: B018
            return p

    def hessian_sparse(self, x: Any, w: Any = None) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(values, gradient, the Hessian's values at hessian_pattern(w)'s
        entries), from one Hessian-vector product per colour.

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(1.0), pyad.Var(2.0); f = freeze([a, b], [a * b])
        >>> f.hessian_sparse(np.array([1.0, 2.0]))[2].tolist()
        [1.0, 1.0]
        """
        p = self.hessian_pattern(w)
        xs = _vec(x, self.n_in, "x")
        vals, g, hval = np.empty(self.n_out), np.empty(self.n_in), np.empty(p.nnz)
        info = ffi.new("pyad_fail_info *")
        st = lib.pyad_program_hessian_sparse(
            self.ptr, dbl(xs), self._weights(w), _i64(p.row_ptr), _i64(p.col), p.nnz,
            _i32(p.color), p.n_colors, dbl(vals), dbl(g), dbl(hval), info,
        )  # fmt: skip
        if st:
            self._fail(st, info, "hessian")
        return vals, g, hval

    def jacobian_fwd(self, x: Any) -> tuple[FloatArray, FloatArray]:
        """(values, Jacobian) by forward mode: n_in tangents as lanes.

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(1.0), pyad.Var(2.0)
        >>> freeze([a, b], [a * b]).jacobian_fwd(np.array([1.0, 2.0]))[1].tolist()
        [[2.0, 1.0]]
        """
        xs = _vec(x, self.n_in, "x")
        vals, J = np.empty(self.n_out), np.empty((self.n_out, self.n_in))
        info = ffi.new("pyad_fail_info *")
        st = lib.pyad_program_jacobian_fwd(self.ptr, dbl(xs), dbl(vals), dbl(J), info)
        if st:
            self._fail(st, info, "jacobian")
        return vals, J

    def jacobian_sparse(self, x: Any) -> tuple[FloatArray, FloatArray]:
        """(values, the Jacobian's values at jacobian_pattern()'s entries),
        from one forward sweep per colour.

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a, b = pyad.Var(1.0), pyad.Var(2.0)
        >>> freeze([a, b], [a * 2, a * b]).jacobian_sparse(np.array([1.0, 2.0]))[1].tolist()
        [2.0, 2.0, 1.0]
        """
        p = self.jacobian_pattern()
        xs = _vec(x, self.n_in, "x")
        vals, jval = np.empty(self.n_out), np.empty(p.nnz)
        info = ffi.new("pyad_fail_info *")
        st = lib.pyad_program_jacobian_sparse(
            self.ptr, dbl(xs), _i64(p.row_ptr), _i64(p.col), p.nnz, _i32(p.color),
            p.n_colors, dbl(vals), dbl(jval), info,
        )  # fmt: skip
        if st:
            self._fail(st, info, "jacobian")
        return vals, jval

    # ---- batches ----
    def batch(
        self, kind: str, x: Any, v: Any = None, w: Any = None, workers: int | None = None
    ) -> tuple[int, tuple[int, int, int], npt.NDArray[np.uint8], dict[str, FloatArray]]:
        """Evaluate a batch of N points (see pyad.lanes.run_batch): (status,
        (point, node, guard) info, guard_fail mask, results by name).

        >>> import numpy as np, pyad
        >>> from pyad.frozen import freeze
        >>> a = pyad.Var(1.0); f = freeze([a], [a ** 3])
        >>> st, info, fail, r = f.batch("hvp", np.array([[1.0], [2.0]]), v=np.ones(1))
        >>> st, r["hvs"].ravel().tolist()
        (0, [6.0, 12.0])
        """
        from .lanes import run_batch

        return run_batch(self, kind, x, v, w, workers)


def _i64(a: npt.NDArray[Any]) -> Any:
    return ffi.from_buffer("int64_t[]", a) if a.size else ffi.new("int64_t[1]")


def _i32(a: npt.NDArray[Any]) -> Any:
    return ffi.from_buffer("int32_t[]", a) if a.size else ffi.new("int32_t[1]")
