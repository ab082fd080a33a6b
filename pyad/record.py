"""Recording factories: the Python functions and operators of the ops.

ops.py builds every op's function, method and operator from the C op
registry with these factories; nothing here knows one op from another.
Each records one node in C (the op registry computes its value and
partials) and wraps its handle in a new Var.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Callable, cast, overload

import numpy as np

from ._lib import core, ffi, lib, pending, sync
from ._types import Real, UnaryFunction
from .errors import check
from .optable import CODE
from .reals import as_float
from .var import Var, _fmt, _new, _type_error

if TYPE_CHECKING:
    import numpy.typing as npt


def _fail(status: int, name: str, *operands: Var | float) -> None:
    check(status, f"{name}({', '.join(_fmt(x) for x in operands)})")


def eval_numbers(op: int, name: str, *xs: object) -> float:
    """Apply op to plain numbers in C (same code as recording): a float.

    A numpy array among the operands (only met off the Var fast path)
    gives the op's function applied elementwise: an object array."""
    vals: list[float] = []
    for x in xs:
        f = as_float(x)
        if f is None:
            if isinstance(x, np.ndarray):
                mapped: float = map_arrays(name, xs)  # an object array: ops.pyi types it
                return mapped
            raise _type_error(name, x)
        vals.append(f)
    out = ffi.new("double *")
    st = lib.pyad_eval(op, ffi.new("double[]", vals), len(vals), out)
    if st < 0:
        _fail(st, name, *vals)
    r: float = out[0]
    return r


# The Python callable of each op, for numpy's object loops and for
# elementwise calls on arrays: the operator where a binary op has one, else
# the op's pyad function (ops.py fills it in as it makes them).
ELEMENTWISE: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
}


def map_arrays(name: str, operands: Sequence[object]) -> Any:
    """The op's Python function applied elementwise over numpy arrays (and
    scalars, broadcast): an object array of Vars and floats."""
    return np.frompyfunc(ELEMENTWISE[name], len(operands), 1)(*operands)


def object_array(x: object) -> npt.NDArray[np.object_]:
    """x as a numpy object array (0-d for a scalar), for object loops."""
    if isinstance(x, np.ndarray):
        return x.astype(object)
    a = np.empty((), dtype=object)
    a[()] = x
    return a


# Operands that can never take part in arithmetic: refused with a TypeError
# naming them, rather than NotImplemented (which would let str or list
# answer with a message about Var).
NEVER_OPERANDS = (
    str,
    bytes,
    bytearray,
    complex,
    list,
    tuple,
    dict,
    set,
    frozenset,
    type(None),
    np.complexfloating,
    np.str_,
    np.bytes_,
)


def elementwise(name: str, left: object, right: object) -> Any:
    """left <op> right when one side is not a Var or a real number: with a
    numpy array, an object array of Vars computed by numpy's object loops;
    with a value that is never an operand, TypeError; else NotImplemented,
    so that the other type may answer."""
    other = right if isinstance(left, Var) else left
    if isinstance(other, np.ndarray) and other.dtype.kind in "biufO":
        fn = ELEMENTWISE[name]
        if fn in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow):
            return fn(object_array(left), object_array(right))
        return np.frompyfunc(fn, 2, 1)(object_array(left), object_array(right))
    if isinstance(other, NEVER_OPERANDS) or isinstance(other, np.ndarray):
        raise TypeError(
            f"unsupported operand type for {name}: {type(left).__name__} and {type(right).__name__}"
        )
    return NotImplemented


# ---- the fast paths: buffered records (see _lib.py) -------------------------
# An op takes a reserved handle from `free` and appends its record to
# `pending`; when `free` is empty (every ~1000 ops, or always in direct
# mode: a raising errstate) it syncs and records directly instead.

_CONST0, _CONST1 = lib.PYAD_REC_CONST0, lib.PYAD_REC_CONST1


def _direct(op: int, name: str, a: Any, b: Any) -> Var:
    """Record op on a and b (each a Var or a float; one is a Var) by a
    direct C call, which checks the error mode at the op. The C call gives
    the new node to v, made first, so that Ctrl-C cannot land between
    the two (csrc/pybridge.c)."""
    sync()
    v = _new(Var)
    if isinstance(a, Var):
        if isinstance(b, Var):
            h = core.pyad_py_op(op, a._h, b._h, 0.0, 0.0, 0, id(v))
        else:
            h = core.pyad_py_op(op, a._h, 0, 0.0, b, 2, id(v))
    else:
        h = core.pyad_py_op(op, 0, b._h, a, 0.0, 1, id(v))
    if h < 0:
        _fail(h, name, a, b)
    return v


def binary(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(forward, reflected) methods for the binary op `name`. For + - * /
    ops.py binds them to VarBase's C number slots (csrc/pyoper.c), which
    record an exact Var with an exact Var or float themselves, the same
    record, and call these for every other case."""
    op = CODE[name]

    # b is Any: `type(b) is ...` tests, kept for speed, do not narrow it.
    def forward(
        a: Var,
        b: Any,
        _fresh: Callable[[], Var] = Var._fresh,
        _rec: Callable[[tuple[Any, ...]], None] = pending.append,
        _vv: int = op,
        _vc: int = op | _CONST1,
    ) -> Any:
        # The result Var owns its handle before the record names it: if
        # Ctrl-C lands in between, the Var dies and its handle goes back.
        tb = type(b)
        if tb is Var:
            try:
                v = _fresh()
            except IndexError:
                return _direct(_vv, name, a, b)
            _rec((_vv, a._h, b._h, v._h))
        elif tb is float:
            try:
                v = _fresh()
            except IndexError:
                return _direct(_vv, name, a, b)
            _rec((_vc, a._h, b, v._h))
        elif isinstance(b, Var):  # a subclass instance
            try:
                v = _fresh()
            except IndexError:
                return _direct(_vv, name, a, b)
            _rec((_vv, a._h, b._h, v._h))
        else:
            f = as_float(b)
            if f is None:
                return elementwise(name, a, b)
            return forward(a, f)
        return v

    def reflected(
        a: Var,
        b: Any,
        _fresh: Callable[[], Var] = Var._fresh,
        _rec: Callable[[tuple[Any, ...]], None] = pending.append,
        _op: int = op,
        _cv: int = op | _CONST0,
    ) -> Any:
        # b <op> a, where b is not a Var
        if type(b) is not float:
            f = as_float(b)
            if f is None:
                return elementwise(name, b, a)
            b = f
        try:
            v = _fresh()
        except IndexError:
            return _direct(_op, name, b, a)
        _rec((_cv, b, a._h, v._h))
        return v

    return forward, reflected


def binary_function(name: str) -> Callable[..., Any]:
    """The function for the binary op `name`, e.g. atan2(a, b): a Var if
    either operand is a Var, else a float (same C code)."""
    op = CODE[name]
    forward, reflected = binary(name)

    def function(a: Any, b: Any) -> Any:
        if isinstance(a, Var):
            return forward(a, b)
        if isinstance(b, Var):
            return reflected(b, a)
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return elementwise(name, a, b)
        return eval_numbers(op, name, a, b)

    function.__name__ = function.__qualname__ = name
    return function


def unary(name: str) -> UnaryFunction:
    """The function for the unary op `name`: Var -> Var, number -> float."""
    op = CODE[name]

    def function(
        x: object,
        _fresh: Callable[[], Var] = Var._fresh,
        _rec: Callable[[tuple[Any, ...]], None] = pending.append,
        _op: int = op,
    ) -> Var | float:
        if type(x) is Var or isinstance(x, Var):
            try:
                v = _fresh()
            except IndexError:  # direct mode, or a sync is due
                sync()
                v = _new(Var)
                h = core.pyad_py_op(_op, x._h, 0, 0.0, 0.0, 0, id(v))
                if h < 0:
                    _fail(h, name, x)
                return v
            _rec((_op, x._h, 0, v._h))
            return v
        return eval_numbers(_op, name, x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"{name}(x): a Var recording {name} when x is a Var, else a float.\n\n"
        f"Also available as the method Var.{name}(), so numpy object arrays\n"
        f"of Vars work with the matching numpy function."
    )
    setattr(Var, name, function)
    return cast("UnaryFunction", function)  # Var -> Var, number -> float


def _record_nary(op: int, name: str, items: list[object]) -> Var | float:
    """Record op over items (Vars and real numbers, at least one Var) as one
    node; a float if there is no Var (evaluated by the same C code)."""
    # Exact Vars and floats: C reads the list itself (no arrays built here).
    # C gives the new node to v, made first (Ctrl-C: see _direct).
    v = _new(Var)
    h = lib.pyad_py_nary(op, id(items), id(v))
    if h == lib.PYAD_PY_OTHER:
        general = _record_nary_items(op, name, items, v)
        if isinstance(general, float):
            return general
        h = general
    if h < 0:
        shown = ", ".join(_fmt(x) for x in items[:8])
        more = f", ... ({len(items)} operands)" if len(items) > 8 else ""
        check(h, f"{name}({shown}{more})")
    return v


def _record_nary_items(op: int, name: str, items: list[object], v: Var) -> int | float:
    """_record_nary for any items, giving the node to v: the handle or
    status, or a float."""
    handles = [x._h for x in items if type(x) is Var]
    constants = ffi.NULL
    if len(handles) != len(items):
        handles, consts = [], []  # (Var handle or -1, constant or 0.0) each
        for x in items:
            if isinstance(x, Var):
                if x._h < 0:  # tampered: C would read it as a constant
                    check(lib.PYAD_ERR_HANDLE, name)
                handles.append(x._h)
                consts.append(0.0)
            else:
                f = as_float(x)
                if f is None:
                    raise _type_error(name, x)
                handles.append(-1)
                consts.append(f)
        if all(h < 0 for h in handles):
            return eval_numbers(op, name, *consts)
        constants = ffi.new("double[]", consts)
    h: int = lib.pyad_py_nary_to(op, ffi.new("int64_t[]", handles), constants, len(handles), id(v))
    return h


def function(name: str) -> Callable[..., Any]:
    """The function for the op `name` taking a fixed number of operands,
    each a Var or a number: a Var if any operand is a Var, else a float."""
    op = CODE[name]
    arity = lib.pyad_op_arity(op)

    def f(*operands: object) -> Var | float:
        if len(operands) != arity:
            raise TypeError(f"{name}() takes {arity} operands, got {len(operands)}")
        return _record_nary(op, name, list(operands))

    f.__name__ = f.__qualname__ = name
    return f


@overload
def nary_sum(iterable: Iterable[Real], _op: int = ...) -> float: ...
@overload
def nary_sum(iterable: Iterable[Var | Real], _op: int = ...) -> Var | float: ...
def nary_sum(iterable: Iterable[object], _op: int = CODE["sum"]) -> Var | float:
    """pyad.sum: Vars and numbers summed as one n-ary node (a float if there
    is no Var), in the order given.

    >>> import pyad
    >>> a, b = pyad.Var(1.0), pyad.Var(2.0)
    >>> y = pyad.sum([a, b, a * b, 0.5]); y.backward(); y.val, a.grad, b.grad
    (5.5, 3.0, 2.0)
    >>> pyad.sum([1, 2.5]), pyad.sum([])
    (3.5, 0.0)
    """
    items = iterable if type(iterable) is list else list(iterable)
    if not items:
        return 0.0
    return _record_nary(_op, "sum", items)


def dot(ws: Iterable[object], xs: Iterable[object], bias: object = None) -> Var | float:
    """pyad.dot: sum(w * x for w, x in zip(ws, xs)) (+ bias) as ONE node.

    The fast way to write a neuron: one C call instead of one per term.
    Operands are Vars or numbers; a float if none is a Var. The products are
    added left to right, then the bias.

    >>> import pyad
    >>> w, x = [pyad.Var(1.0), pyad.Var(2.0)], [3.0, 4.0]
    >>> y = pyad.dot(w, x, 0.5); y.backward(); y.val, w[0].grad, w[1].grad
    (11.5, 3.0, 4.0)
    >>> pyad.dot([1, 2], [3, 4])
    11.0
    """
    w = ws if isinstance(ws, list) else list(ws)
    x = xs if isinstance(xs, list) else list(xs)
    if len(w) != len(x):
        raise ValueError(f"dot(): {len(w)} weights but {len(x)} inputs")
    items = w + x if bias is None else w + x + [bias]
    if not items:
        return 0.0
    return _record_nary(CODE["dot"], "dot", items)
