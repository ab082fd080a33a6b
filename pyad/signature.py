"""Array arguments of compiled functions: numpy's generalized-ufunc
signature (the one np.vectorize takes), e.g. "(n)->()", "(n),()->(m)",
"(n,k)->()".

Each argument has *core* dimensions, named in the signature; any leading
dimensions of the array it is given are *loop* dimensions, broadcast
together as numpy broadcasts: loop shape () is one point, (N,) a batch of
N points, (A, B) a batch of A * B points. A compiled function sees each
argument's core as an object array of Vars (a Var for a core "()"), and
its results come back as float arrays of loop + core shape.

A core dimension's size is fixed by the first call (a compiled program
has a fixed number of inputs); a name that appears only among the outputs
is fixed by the first trace. Within a program the arguments are
flattened, in order, into one vector of inputs (and the outputs into one
vector of outputs): that is what sparse Hessians and Jacobians index.

>>> from pyad.signature import Signature
>>> s = Signature("(n),()->(m)")
>>> s.ins, s.outs
([('n',), ()], [('m',)])
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Union

import numpy as np

from ._arrays import var_array
from ._transform import _elements
from .columns import Columns
from .reals import as_float
from .var import Var

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Core = tuple[Union[str, int], ...]
Dims = dict[str, int]

__all__ = ["Signature", "Call"]

_GROUPS = re.compile(r"\(([^()]*)\)\s*(?:,\s*|$)")
_NAME = re.compile(r"[A-Za-z_]\w*|\d+")


def _cores(text: str, where: str, full: str) -> list[Core]:
    text = text.strip()
    cores: list[Core] = []
    pos = 0
    while pos < len(text):
        m = _GROUPS.match(text, pos)
        if m is None:
            break
        names = [s.strip() for s in m.group(1).split(",")] if m.group(1).strip() else []
        core: list[str | int] = []
        for name in names:
            if not _NAME.fullmatch(name):
                raise ValueError(f"signature {full!r}: bad dimension name {name!r} in the {where}")
            core.append(int(name) if name.isdigit() else name)
        cores.append(tuple(core))
        pos = m.end()
    if pos != len(text) or not cores or text.endswith(","):
        raise ValueError(
            f"signature {full!r}: the {where} must be a comma-separated list of core "
            "shapes in parentheses, as numpy's gufunc signatures: e.g. '(n)->()', "
            "'(n),()->(m)', '(n,k)->()'"
        )
    return cores


def _fmt(shape: Sequence[Any]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Call(NamedTuple):
    """One call's operands: each group a flat float64 array (one point) or
    Columns (a batch); the loop shape; the core sizes."""

    groups: list[Any]
    loop: tuple[int, ...]
    dims: Dims


class Signature:
    """A parsed gufunc signature, and the arrays of a call laid out for a
    program of flat inputs and outputs.

    >>> import numpy as np
    >>> from pyad.signature import Signature
    >>> s = Signature("(n)->()")
    >>> c = s.operands([[(np.ones((4, 3)), s.ins[0], "argument 0")]], {})
    >>> c.loop, c.dims, c.groups[0].n
    ((4,), {'n': 3}, 3)
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"signature must be a str, not {type(text).__name__}")
        if text.count("->") != 1:
            raise ValueError(f"signature {text!r}: expected one '->', as in '(n)->()'")
        left, right = text.split("->")
        self.text = text
        self.ins = _cores(left, "arguments", text)
        self.outs = _cores(right, "outputs", text)
        self.k = len(self.ins)
        self.in_names = {d for c in self.ins for d in c if isinstance(d, str)}

    def __repr__(self) -> str:
        return f"Signature({self.text!r})"

    # ---- sizes -----------------------------------------------------------------
    @staticmethod
    def shape(core: Core, dims: Dims) -> tuple[int, ...]:
        return tuple(d if isinstance(d, int) else dims[d] for d in core)

    def in_shapes(self, dims: Dims) -> list[tuple[int, ...]]:
        return [self.shape(c, dims) for c in self.ins]

    def out_shapes(self, dims: Dims) -> list[tuple[int, ...]]:
        return [self.shape(c, dims) for c in self.outs]

    def scalar_out(self) -> bool:
        """One output of core shape ()."""
        return self.outs == [()]

    # ---- a call's operands ---------------------------------------------------
    def _match(self, a: Any, core: Core, dims: Dims, fixed: Dims, what: str) -> None:
        """Check a's core dimensions against core, binding new names."""
        if a.ndim < len(core):
            raise ValueError(
                f"{what} must have shape {_fmt(core)} (or a batch of them, "
                f"(..., {', '.join(map(str, core))})) for the signature "
                f"{self.text!r}, not {a.shape}"
            )
        for name, size in zip(core, a.shape[a.ndim - len(core) :]):
            need = name if isinstance(name, int) else dims.get(name)
            if need is None:
                dims[str(name)] = size
            elif size != need:
                why = (
                    "fixed by the first call of this compiled function"
                    if isinstance(name, str) and name in fixed
                    else "the signature's size"
                    if isinstance(name, int)
                    else "as in an earlier argument"
                )
                raise ValueError(
                    f"{what} has shape {a.shape}, but core dimension {name} is {need} "
                    f"({why}; signature {self.text!r})"
                )

    def operands(
        self, groups: Sequence[Sequence[tuple[Any, Core, str]]], dims: Dims | None
    ) -> Call:
        """Lay out groups of (value, core, what) operands (the arguments;
        directions; output weights) over one broadcast loop shape: each
        group becomes one flat array (loop shape ()) or Columns."""
        fixed = dims or {}
        new = dict(fixed)
        arrays: list[list[Any]] = []
        loops: list[tuple[int, ...]] = []
        for group in groups:
            row = []
            for value, core, what in group:
                a = _array(value, what)
                self._match(a, core, new, fixed, what)
                row.append(a)
                loops.append(a.shape[: a.ndim - len(core)])
            arrays.append(row)
        try:
            loop = tuple(np.broadcast_shapes(*loops)) if loops else ()
        except ValueError:
            raise ValueError(
                f"the loop (batch) dimensions of the operands do not broadcast together: "
                f"{', '.join(_fmt(s) for s in loops)} (signature {self.text!r})"
            ) from None
        out: list[Any] = []
        N = math.prod(loop)
        for row, group in zip(arrays, groups):
            sizes = [math.prod(a.shape[a.ndim - len(c) :]) for a, (_, c, _) in zip(row, group)]
            if not loop:
                flat = [a.reshape(-1) for a in row]
                out.append(
                    np.ascontiguousarray(flat[0] if len(flat) == 1 else np.concatenate(flat))
                )
                continue
            blocks: list[Any] = []
            for a, (_, core, _), size in zip(row, group, sizes):
                own = a.shape[: a.ndim - len(core)]
                if own == ():
                    blocks.append(a.reshape(size))
                elif own == loop:
                    blocks.append(a.reshape(N, size))
                else:
                    blocks.append(np.broadcast_to(a, loop + a.shape[len(own) :]).reshape(N, size))
            out.append(Columns(blocks, N))
        return Call(out, loop, new)

    def structured(self, value: Any, k: int, what: str) -> list[Any]:
        """The k items of an operand in the arguments' structure: value
        itself for one, a tuple/list of k otherwise."""
        if k == 1:
            return [value]
        if not isinstance(value, (tuple, list)) or len(value) != k:
            raise TypeError(f"{what} must be a tuple of {k} arrays (one per argument or output)")
        return list(value)

    # ---- tracing -----------------------------------------------------------------
    def flat_function(
        self, fn: Callable[..., Any], dims: Dims, out_shapes: list[tuple[int, ...]]
    ) -> Callable[..., tuple[Any, ...]]:
        """fn as a function of flat leaves returning a tuple of flat
        outputs; the outputs' shapes are appended to out_shapes."""
        shapes = self.in_shapes(dims)

        def flat(*leaves: Var) -> tuple[Any, ...]:
            args: list[Any] = []
            i = 0
            for shape in shapes:
                size = math.prod(shape)
                items = leaves[i : i + size]
                i += size
                args.append(items[0] if shape == () else var_array(list(items), shape))
            out = fn(*args)
            if len(self.outs) == 1:
                outs = [out]
            elif isinstance(out, (tuple, list)) and len(out) == len(self.outs):
                outs = list(out)
            else:
                raise TypeError(
                    f"the compiled function must return a tuple of {len(self.outs)} "
                    f"results (signature {self.text!r}), not {type(out).__name__}"
                )
            elements: list[Any] = []
            for j, (o, core) in enumerate(zip(outs, self.outs)):
                elems, oshape = _elements(o, f"output {j}")
                shape = oshape or ()
                if len(shape) != len(core):
                    raise ValueError(
                        f"output {j} has shape {shape}, but the signature {self.text!r} "
                        f"says {_fmt(core)}"
                    )
                for name, size in zip(core, shape):
                    need = name if isinstance(name, int) else dims.get(name)
                    if need is not None and need != size:
                        raise ValueError(
                            f"output {j} has shape {shape}, but core dimension {name} is "
                            f"{need} (signature {self.text!r})"
                        )
                out_shapes.append(shape)
                elements.extend(elems)
            return tuple(elements)

        return flat

    def out_dims(self, shapes: Sequence[tuple[int, ...]]) -> Dims:
        """The sizes the outputs' shapes give their core names."""
        found: Dims = {}
        for core, shape in zip(self.outs, shapes):
            for name, size in zip(core, shape):
                if isinstance(name, str):
                    if found.setdefault(name, size) != size:
                        raise ValueError(
                            f"the outputs give core dimension {name} two sizes "
                            f"(signature {self.text!r})"
                        )
        return found

    # ---- results -------------------------------------------------------------------
    def _spans(self, shapes: list[tuple[int, ...]]) -> list[tuple[int, int, tuple[int, ...]]]:
        spans, start = [], 0
        for shape in shapes:
            size = math.prod(shape)
            spans.append((start, start + size, shape))
            start += size
        return spans

    def values(self, a: Any, loop: tuple[int, ...], dims: Dims) -> Any:
        """Output values (loop + (m,)) as the outputs: a float or an array
        of loop + core shape, a tuple of them for several."""
        return _one(
            [
                _shaped(a[..., s:e], loop + shape)
                for s, e, shape in self._spans(self.out_shapes(dims))
            ]
        )

    def like_inputs(self, a: Any, loop: tuple[int, ...], dims: Dims) -> Any:
        """Per input (loop + (n,)) as the arguments: one array, or a tuple."""
        return _one(
            [
                _shaped(a[..., s:e], loop + shape)
                for s, e, shape in self._spans(self.in_shapes(dims))
            ]
        )

    def hessian(self, H: Any, loop: tuple[int, ...], dims: Dims) -> Any:
        """Hessian (loop + (n, n)) as blocks: block (a, b) of shape loop +
        core a + core b, a tuple of tuples for several arguments."""
        spans = self._spans(self.in_shapes(dims))
        return _one(
            [
                _one([_shaped(H[..., s:e, t:u], loop + sa + sb) for t, u, sb in spans])
                for s, e, sa in spans
            ]
        )

    def jacobian(self, J: Any, loop: tuple[int, ...], dims: Dims) -> Any:
        """Jacobian (loop + (m, n)): per output (outer) and argument
        (inner), blocks of loop + output core + argument core."""
        ins = self._spans(self.in_shapes(dims))
        return _one(
            [
                _one([_shaped(J[..., s:e, t:u], loop + so + si) for t, u, si in ins])
                for s, e, so in self._spans(self.out_shapes(dims))
            ]
        )


def _one(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else tuple(items)


def _shaped(a: Any, shape: tuple[int, ...]) -> Any:
    return float(a.reshape(())) if shape == () else a.reshape(shape)


def _array(x: Any, what: str) -> npt.NDArray[Any]:
    """x as a real numpy array (numbers as 0-d arrays), float64."""
    if isinstance(x, np.ndarray):
        if isinstance(x, np.ma.MaskedArray):
            raise TypeError(
                f"{what}: masked arrays are not supported (the mask would be ignored); "
                "pass x.filled(value) or x.compressed()"
            )
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be a real array, not of dtype {x.dtype}")
        return x if x.dtype == np.float64 else x.astype(np.float64)
    f = as_float(x)
    if f is not None:
        return np.array(f)
    try:
        a = np.asarray(x)
    except Exception:
        a = np.empty(0, object)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be a real number or array, not {type(x).__name__}")
    return a.astype(np.float64)
