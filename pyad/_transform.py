"""What every transform shares: arguments as pytrees of fresh Vars, the
function's outputs flattened, and the two ways to differentiate.

A transform runs its function once on fresh Vars, then either
  - computes numbers in C (the function was called with numbers, outside
    any other transform): pyad_gradient for gradients, or the graph frozen
    as a program (pyad.frozen) for everything else; or
  - *nested*: the transform was called inside another one (a Var among the
    arguments, or an outer transform or pyad.compile tracing on this
    thread), so its results must be Vars the outer one can differentiate:
    the derivatives are recorded as ops with pyad_grad_graph, to any order.
    Each argument is then a fresh node (pyad.pos of the outer Var) and the
    sweep stops at it, so that an inner variable is never confused with the
    outer one it was made from (grad(lambda x: grad(lambda y: x * y)(x))).
Closure Vars captured by a function called at top level are constants.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import numpy as np

from . import ops as _ops
from ._arrays import handleless, var_array
from ._lib import ffi, lib
from .dropped import Watch, begin_watching, end_watching, watch_stack
from .errors import check
from .frozen import compile_tracing
from .pytree import TreeDef, flatten, unflatten
from .reals import as_float
from .var import Var

if TYPE_CHECKING:
    import numpy.typing as npt


class _Local(threading.local):
    depth = 0  # transforms' functions running on this thread (see inside)


_local = _Local()
_pos: Callable[[Var], Var] = _ops.pos


def outer_active() -> bool:
    """True inside a transform's function, or while pyad.compile traces."""
    return _local.depth > 0 or compile_tracing()


# argnums: an int or an iterable of ints, checked here
def argnums_tuple(argnums: Any, nargs: int) -> tuple[bool, list[int]]:
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    out = []
    for i in nums:
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"argnums must be ints, not {type(i).__name__}")
        if not -nargs <= i < nargs:
            raise ValueError(f"argnums {i} out of range for {nargs} arguments")
        out.append(i % nargs)
    return single, out


# ---- leaves ----------------------------------------------------------------------


class Leaf(NamedTuple):
    shape: tuple[int, ...] | None  # None: a scalar (a number or a Var), not an array
    start: int  # its elements' offset in the flat vector
    size: int


def _elements(leaf: Any, what: str) -> tuple[list[Any], tuple[int, ...] | None]:
    """A leaf's elements (floats and Vars) and its shape (None: scalar)."""
    if isinstance(leaf, Var):
        return [leaf], None
    if isinstance(leaf, np.ndarray):
        kind = leaf.dtype.kind
        if kind in "biuf":
            return leaf.astype(np.float64).ravel().tolist(), leaf.shape
        if kind == "O":
            items: list[Any] = []
            for x in leaf.ravel():
                if isinstance(x, Var):
                    items.append(x)
                else:
                    f = as_float(x)
                    if f is None:
                        raise TypeError(f"{what}: an array element of type {type(x).__name__}")
                    items.append(f)
            return items, leaf.shape
        raise TypeError(f"{what}: arrays of dtype {leaf.dtype} cannot be differentiated")
    f = as_float(leaf)
    if f is None:
        raise TypeError(
            f"{what} must be a real number, a Var, a real numpy array, or a "
            f"tuple/list/dict of them, not {type(leaf).__name__}"
        )
    return [f], None


def has_var(tree: Any) -> bool:
    """True when a pytree holds a Var (a leaf, or in an object array)."""
    for leaf in flatten(tree)[0]:
        if isinstance(leaf, Var):
            return True
        if isinstance(leaf, np.ndarray) and leaf.dtype == object:
            if any(isinstance(x, Var) for x in leaf.flat):
                return True
    return False


def make_leaves(values: Sequence[float]) -> list[Var]:
    """New leaf Vars, in one C call."""
    n = len(values)
    if n == 0:
        return []
    vs = handleless(n)
    buf = ffi.new("int64_t[]", n)
    check(lib.pyad_py_leaves(ffi.new("double[]", values), n, buf, id(vs)), "making leaves")
    return vs


def assemble(items: Sequence[Any], shape: tuple[int, ...] | None) -> Any:
    """A leaf of results: a scalar stays one; an array of floats is a float
    array, with Vars an object array (a VarArray: its ufuncs record in
    bulk, see _arrays.py)."""
    if shape is None:
        return items[0]
    if all(type(x) is float for x in items):
        return np.array(items, dtype=np.float64).reshape(shape)
    return var_array(items, shape)


# ---- inputs ----------------------------------------------------------------------


class Arg(NamedTuple):
    tree: TreeDef
    leaves: list[Leaf]
    start: int
    size: int


class Inputs:
    """The differentiated arguments, each element a fresh Var; `args` is
    what the function is called with."""

    def __init__(self, args: Sequence[Any], nums: Sequence[int], nested: bool) -> None:
        self.args = list(args)
        self.nested = nested
        self.vars: list[Var] = []
        self.values: list[float] = []  # top level: the point, as floats
        self.spec: dict[int, Arg] = {}
        for num in nums:
            if num in self.spec:
                continue
            leaves, tree = flatten(args[num])
            start = len(self.vars)
            infos, made = [], []
            for leaf in leaves:
                items, shape = _elements(leaf, f"argument {num}")
                if nested:
                    fresh = [_pos(x) if isinstance(x, Var) else Var(x) for x in items]
                else:
                    fresh = make_leaves(items)
                    self.values.extend(items)
                infos.append(Leaf(shape, len(self.vars), len(fresh)))
                self.vars.extend(fresh)
                made.append(assemble(fresh, shape))
            self.spec[num] = Arg(tree, infos, start, len(self.vars) - start)
            self.args[num] = unflatten(tree, made)

    @property
    def n(self) -> int:
        return len(self.vars)

    def structure(self, flat: Sequence[Any], num: int) -> Any:
        """Argument num's structure holding flat's entries (one per element
        of all the differentiated arguments, in order)."""
        arg = self.spec[num]
        return unflatten(
            arg.tree, [assemble(flat[lf.start : lf.start + lf.size], lf.shape) for lf in arg.leaves]
        )


# ---- outputs ----------------------------------------------------------------------


class Outputs:
    """A function's result flattened: elements (Vars and floats)."""

    def __init__(self, out: Any, what: str = "the function") -> None:
        leaves, self.tree = flatten(out)
        self.elements: list[Any] = []
        self.leaves: list[Leaf] = []
        for leaf in leaves:
            try:
                items, shape = _elements(leaf, "an output")
            except TypeError:
                raise TypeError(
                    f"{what} must return Vars, real numbers, real numpy arrays or "
                    f"tuples/lists/dicts of them, not {type(leaf).__name__}"
                ) from None
            self.leaves.append(Leaf(shape, len(self.elements), len(items)))
            self.elements.extend(items)

    @property
    def m(self) -> int:
        return len(self.elements)

    def as_vars(self) -> list[Var]:
        """The elements as Vars (constants become leaves), for freezing."""
        return [x if isinstance(x, Var) else Var(x) for x in self.elements]

    def values(self) -> list[float]:
        return [lib.pyad_value(x._h) if isinstance(x, Var) else x for x in self.elements]

    def structure(self, flat: Sequence[Any]) -> Any:
        return unflatten(
            self.tree,
            [assemble(flat[lf.start : lf.start + lf.size], lf.shape) for lf in self.leaves],
        )


def scalar_output(out: Any, who: str) -> Var | float:
    """The one output of a function that must return a scalar."""
    if isinstance(out, Var):
        return out
    if isinstance(out, np.ndarray):
        if out.shape != ():
            raise TypeError(
                f"{who} needs a function with a scalar output, not of shape {out.shape}"
            )
        out = out[()]
        if isinstance(out, Var):
            return out
    f = as_float(out)
    if f is None:
        raise TypeError(
            f"the function must return a Var or a real number, not {type(out).__name__}"
        )
    return f


def floats(tree: Any) -> Any:
    """tree with its Vars as floats (aux outputs of a top-level call)."""
    leaves, t = flatten(tree)
    out = []
    for leaf in leaves:
        if isinstance(leaf, Var):
            leaf = lib.pyad_value(leaf._h)
        elif isinstance(leaf, np.ndarray) and leaf.dtype == object and has_var(leaf):
            leaf = np.vectorize(lambda v: v.val if isinstance(v, Var) else v, otypes=[float])(leaf)
        out.append(leaf)
    return unflatten(t, out)


# ---- running the function --------------------------------------------------------


class Traced(NamedTuple):
    inputs: Inputs
    out: Any
    aux: Any
    nested: bool


def trace(
    f: Callable[..., Any],
    args: Sequence[Any],
    nums: Sequence[int],
    has_aux: bool,
    force_nested: bool = False,
) -> Traced:
    """Run f once on fresh Vars for the arguments nums; nested (see the
    module's docstring) inside a transform, with Vars among the arguments,
    or when force_nested (Vars among the directions)."""
    nested = force_nested or outer_active() or has_var(list(args))
    inputs = Inputs(args, nums, nested)
    # While f runs: the thread's depth says it is inside a transform, and
    # the watch makes float(v) of a Var that depends on the inputs warn.
    # Ctrl-C: CPython runs signal handlers as a call returns and as a
    # Python function (an __exit__) starts. So no call separates the depth's
    # rise from the try, nor the finally from the depth's and the watch's
    # fall, and the fall of the watch is a no-op if it was never pushed: a
    # depth left high would make every later top-level transform nest and
    # return Vars, a watch left behind would keep its Vars alive.
    watch = Watch(inputs.vars, "grad")
    stack = watch_stack()
    _local.depth += 1
    try:
        begin_watching()
        stack += (watch,)
        out = f(*inputs.args)
    finally:
        _local.depth -= 1
        if stack and stack[-1] is watch:
            del stack[-1]
        end_watching()
    aux = None
    if has_aux:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("with has_aux=True the function must return a pair (output, aux)")
        out, aux = out
        if not nested:
            aux = floats(aux)
    return Traced(inputs, out, aux, nested)


# ---- the two ways to differentiate -------------------------------------------------


def gradient(outs: Sequence[Var], seeds: Sequence[float] | None, wrt: Sequence[Var]) -> list[float]:
    """sum_k seeds[k] d outs[k] / d wrt[i], as numbers (.grad untouched)."""
    n = len(wrt)
    out = ffi.new("double[]", max(n, 1))
    hout = ffi.new("int64_t[]", [o._h for o in outs] or [0])
    seed = ffi.NULL if seeds is None else ffi.new("double[]", list(seeds) or [0.0])
    hwrt = ffi.new("int64_t[]", [w._h for w in wrt] or [0])
    check(lib.pyad_gradient(hout, seed, len(outs), hwrt, n, out), "gradient")
    return list(ffi.unpack(out, n)) if n else []


def grad_graph(out: Var | float, wrt: Sequence[Var], seed: Var | float = 1.0) -> list[Any]:
    """d out / d wrt[i] recorded as ops: Vars (0.0 where out does not
    depend on wrt[i]); the sweep stops at the wrt nodes."""
    n = len(wrt)
    if not isinstance(out, Var) or n == 0:
        return [0.0] * n
    res = ffi.new("int64_t[]", n)
    hwrt = ffi.new("int64_t[]", [w._h for w in wrt])
    seed_h, seed_c = (seed._h, 0.0) if isinstance(seed, Var) else (-1, float(seed))
    vs = handleless(n)
    check(lib.pyad_py_grad_graph(out._h, seed_h, seed_c, hwrt, n, 1, res, id(vs)), "grad (nested)")
    return [v if h >= 0 else 0.0 for v, h in zip(vs, ffi.unpack(res, n))]


def weighted_sum(weights: Sequence[Any], items: Sequence[Any]) -> Var | float:
    """sum_i weights[i] * items[i] recorded as one dot node (Vars and
    numbers; 0.0 when nothing is a Var)."""
    pairs = [(w, x) for w, x in zip(weights, items) if not (type(w) is float and w == 0.0)]
    pairs = [(w, x) for w, x in pairs if not (type(x) is float and x == 0.0)]
    if not pairs:
        return 0.0
    r = _ops.dot([w for w, _ in pairs], [x for _, x in pairs])
    return r if isinstance(r, Var) else float(r)


def float_array(x: Any) -> npt.NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)
