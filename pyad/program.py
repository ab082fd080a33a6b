"""One frozen graph as a validated C program (csrc/program.c), and export,
which freezes a graph of the tape into program arrays.

A Program owns its C program and the numpy arrays it was made from (kept
for pickling). C validates everything before use, and every replay call
passes the lengths of the buffers it hands over, so C refuses a call whose
buffers do not fit the program instead of reading or writing past them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._lib import ffi, lib
from .columns import dbl
from .errors import check

if TYPE_CHECKING:
    import numpy.typing as npt

    from .var import Var

    Arrays = dict[str, npt.NDArray[Any]]  # a program's arrays, by FIELDS name
    FloatArray = npt.NDArray[np.float64]
    Info = tuple[int, int, int]  # (point, node, guard) of a failed replay

__all__ = ["FIELDS", "Program", "export", "no_guards"]

# name, dtype: the arrays of one program, as stored and as pickled
FIELDS: tuple[tuple[str, type[np.generic]], ...] = (
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


# The C call of a compiled function (csrc/pycall.c) reads at most this many
# arguments, and replays programs of at most this many nodes (csrc/replay.c).
LEAN_INPUTS, LEAN_NODES = 16, 1024


class Program:
    """One trace: the validated C program and its arrays (for pickling).
    Immutable: any number of threads may replay it at once."""

    def __init__(self, arrays: Mapping[str, object], n_out: int) -> None:
        a: Arrays = {}
        for name, dtype in FIELDS:
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
        # The sizes as C has them (they equal the arrays' by validation).
        self.n_in: int = lib.pyad_program_n_in(self.ptr)
        self.n_out: int = lib.pyad_program_n_out(self.ptr)
        self.n_guards = n_guards
        self.n_ops = lib.pyad_program_n_ops(self.ptr)
        self.work_size = lib.pyad_program_work_size(self.ptr)
        self._scratch: list[tuple[Any, Any, Any, Any, Any]] = []  # for point calls
        self.frozen: Any = None  # its pyad.frozen.Frozen, made on first use (higher order)

    def lean(self) -> tuple[Program, int, int] | None:
        """(owner, address, n_in): the arguments of CallBase._set_lean
        (csrc/pycall.c) for this program, when it fits the C call: one
        output, at most LEAN_INPUTS inputs and LEAN_NODES nodes."""
        if self.n_out != 1 or self.n_in > LEAN_INPUTS or self.arrays["node_op"].size > LEAN_NODES:
            return None
        return self, int(ffi.cast("uintptr_t", self.ptr)), self.n_in

    def _buffers(self) -> tuple[Any, Any, Any, Any, Any]:
        try:
            return self._scratch.pop()  # list.pop is atomic: threads share the pool
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
        """Replay one point: (status, values list, grads array or None,
        info tuple). xs must hold n_in floats (TypeError otherwise)."""
        n_in, n_out = self.n_in, self.n_out
        if len(xs) != n_in:
            raise TypeError(f"pyad: this trace takes {n_in} inputs, not {len(xs)}")
        buf = self._buffers()
        x, vals, g, work, info = buf
        try:
            x[0:n_in] = xs
            st = lib.pyad_program_eval(
                self.ptr,
                x,
                n_in,
                vals,
                max(n_out, 1),
                g if want_grad else ffi.NULL,
                max(n_out * n_in, 1),
                work,
                self.work_size,
                info,
            )
            if st != 0:
                return st, None, None, (info.point, info.node, info.guard)
            values = [vals[0]] if n_out == 1 else ffi.unpack(vals, n_out)
            grads = None
            if want_grad:
                grads = np.frombuffer(ffi.buffer(g, 8 * n_out * n_in), dtype=np.float64).copy()
            return st, values, grads, None
        finally:
            self._scratch.append(buf)

    def eval_flat(self, x: FloatArray, want_grad: bool) -> tuple[int, Any, Any, Any]:
        """As eval, with x a contiguous float64 array of n_in values, handed
        to C as it is: (status, values (n_out,) array, grads (n_out, n_in)
        array or None, info tuple or None)."""
        n_in, n_out = self.n_in, self.n_out
        if x.shape != (n_in,):
            raise TypeError(f"pyad: this trace takes {n_in} inputs, not {x.size}")
        vals = np.empty(n_out)
        g = np.empty((n_out, n_in)) if want_grad else None
        buf = self._buffers()
        work, info = buf[3], buf[4]
        try:
            st = lib.pyad_program_eval(
                self.ptr,
                dbl(x),
                n_in,
                dbl(vals),
                max(n_out, 1),
                ffi.NULL if g is None else dbl(g),
                max(n_out * n_in, 1),
                work,
                self.work_size,
                info,
            )
            if st != 0:
                return st, None, None, (info.point, info.node, info.guard)
            return st, vals, g, None
        finally:
            self._scratch.append(buf)


def export(inputs: Sequence[Var], outputs: Sequence[Var], with_grads: bool = False) -> Arrays:
    """pyad_export into numpy arrays: the arrays of a guard-free program
    (plus "node_grad", each node's .grad, when with_grads)."""
    n_in, n_out = len(inputs), len(outputs)
    hin = ffi.new("int64_t[]", [v._h for v in inputs] or [0])
    hout = ffi.new("int64_t[]", [v._h for v in outputs] or [0])
    nn, na = ffi.new("size_t *"), ffi.new("size_t *")
    null = ffi.NULL
    check(
        lib.pyad_export(hin, n_in, hout, n_out, null, null, null, null, null, null, null, nn, na),
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
            ffi.cast("double *", buf["node_grad"]) if with_grads else null,
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


def no_guards(a: Arrays) -> Arrays:
    """a with empty guard arrays: a program that replays as recorded."""
    a.update(
        guard_kind=np.empty(0, np.int32),
        guard_a=np.empty(0, np.uint32),
        guard_b=np.empty(0, np.int64),
        guard_c=np.empty(0),
        guard_outcome=np.empty(0, np.uint8),
    )
    return a
