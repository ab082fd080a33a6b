"""backward(create_graph=True): gradients that are Vars (as PyTorch's).

The backward pass from a Var is recorded as ops (pyad_grad_graph) with
respect to every live Var it depends on; each gradient is kept in
var.graph_grads under its Var's handle, where .grad finds it. Entries die
with their Vars (the C finalizer deletes them: csrc/pyvar.c). Accumulation
follows PyTorch: a later backward adds to the gradient, numerically or as
a graph, and zero_grad drops it.
"""

from __future__ import annotations

from . import _lib
from ._arrays import handleless
from ._lib import ffi, lib
from ._types import Real
from .errors import check
from .reals import as_float
from .var import Var, graph_grads


def _handles_below(out: Var) -> list[int]:
    """The live handles whose nodes out depends on (its own included)."""
    count = ffi.new("size_t *")
    cap = 64
    while True:
        buf = ffi.new("int64_t[]", cap)
        check(lib.pyad_ancestor_handles(out._h, buf, cap, count), "backward")
        if count[0] <= cap:
            return list(ffi.unpack(buf, count[0]))
        cap = count[0]


def set_graph_grad(h: int, g: Var) -> None:
    """Make g the gradient of the Var of handle h (its numeric .grad is
    cleared: the Var holds it all)."""
    graph_grads[h] = g
    check(lib.pyad_set_grad(h, 0.0))


def backward_graph(out: Var, seed: Real | Var) -> None:
    """out.backward(seed, create_graph=True)."""
    if isinstance(seed, Var):
        seed_h, seed_c = seed._h, 0.0
    else:
        s = as_float(seed)
        if s is None:
            raise TypeError(f"seed must be a real number or a Var, not {type(seed).__name__}")
        seed_h, seed_c = -1, s
    # Vars that died have their handles queued (pyad._lib.dead), still
    # live in C: release them first (sync), and hold the buffer's refill
    # lock throughout so that no other thread's sync releases a handle (to
    # be reused by a new Var) meanwhile; an entry made for a Var that died
    # during the call is dropped at the end.
    with _lib._refill_lock:
        _lib.sync()
        try:
            _record(out, seed_h, seed_c)
        finally:
            for h in set(_lib.dead):
                graph_grads.pop(h, None)


def _record(out: Var, seed_h: int, seed_c: float) -> None:
    handles = _handles_below(out)
    n = len(handles)
    res = ffi.new("int64_t[]", max(n, 1))
    hbuf = ffi.new("int64_t[]", handles or [0])
    made = handleless(n)  # C gives them the new nodes (Ctrl-C: pyad_py_grad_graph)
    check(lib.pyad_py_grad_graph(out._h, seed_h, seed_c, hbuf, n, 0, res, id(made)), "backward")
    made_h = ffi.unpack(res, n)
    numeric = [lib.pyad_grad(h) for h in handles]  # all read before any is cleared
    for h, gh, g, c in zip(handles, made_h, made, numeric):
        if gh < 0:  # out does not depend on it through a non-zero partial
            continue
        old = graph_grads.get(h)
        if old is not None:
            g = old + g
        elif c != 0.0:
            g = c + g
        set_graph_grad(h, g)


def absorb_numeric() -> None:
    """After a numeric backward: add the numbers it left in .grad of Vars
    whose gradient is a Var to that Var (several handles may share a node:
    read them all first)."""
    items = list(graph_grads.items())
    numeric = [lib.pyad_grad(h) for h, _ in items]
    for (h, g), c in zip(items, numeric):
        if c != 0.0 and graph_grads.get(h) is g:
            set_graph_grad(h, g + c)


def forget_below(out: Var) -> None:
    """Drop the Var gradients of every Var out depends on (zero_grad)."""
    for h in _handles_below(out):
        graph_grads.pop(h, None)
