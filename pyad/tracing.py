"""Tracing: run a function once on leaf Vars and freeze what it recorded,
with its guards, into program arrays.

A guard is a place where a Var's value decided Python control flow
(`if x > 0`, bool(v), float(v), v.val): var.py calls guard_hook, which
gives the outcome to the trace running in the calling thread.

Comparisons made by *other* threads while a trace runs (a helper thread
the traced function starts, say) are kept too, as candidates: when the
trace ends, those whose Vars depend on the trace's own inputs become
guards of it, and the rest (unrelated work in other threads) are dropped.
So a replay never takes a branch that no guard checked, whichever thread
looked at the value.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import var as _var
from ._lib import lib
from .dropped import Watch, begin_watching, end_watching, watch_stack
from .errors import PyadError
from .program import export
from .reals import as_float, exact_real
from .var import Var

if TYPE_CHECKING:
    from .program import Arrays

    Guard = tuple[str, Var, object, Any]  # (kind, var, other, result: bool or float)

__all__ = ["trace"]

_GUARD_KINDS: dict[str, int] = {
    "lt": lib.PYAD_GUARD_LT,
    "le": lib.PYAD_GUARD_LE,
    "gt": lib.PYAD_GUARD_GT,
    "ge": lib.PYAD_GUARD_GE,
    "ne": lib.PYAD_GUARD_NE,  # == is recorded as != with the opposite outcome
}

_tracers: dict[int, list[_Tracing]] = {}  # thread id -> its stack of traces
_active: list[_Tracing] = []  # every running trace, in any thread
_tracers_lock = threading.Lock()


def _dispatch(kind: str, var: Var, other: object, result: Any) -> None:
    stack = _tracers.get(threading.get_ident())
    if stack:
        stack[-1].guards.append((kind, var, other, result))
        return
    # Not tracing here: offer it to every running trace (see the top).
    with _tracers_lock:
        for t in _active:
            t.foreign.append((kind, var, other, result))


class _Tracing:
    """The guards of the calling thread, and the comparisons of other
    threads, while a trace runs (see trace: Ctrl-C)."""

    def __init__(self) -> None:
        self.guards: list[Guard] = []
        self.foreign: list[Guard] = []


def _run_traced(fn: Callable[..., Any], leaves: list[Var], tracing: _Tracing) -> Any:
    """fn(*leaves) with tracing registered (guards) and the leaves watched
    (float(v) warns). Ctrl-C: CPython runs signal handlers as a call
    returns and as a Python function (an __exit__) starts, so every
    registration is inside the try, and the finally undoes what was done
    (each step a no-op if its registration never happened) with no call
    before its last step: a trace left registered would make every later
    comparison a guard of it, and every later transform on this thread
    nest (returning Vars)."""
    tid = threading.get_ident()
    watch = Watch(leaves, "compile")
    watches = watch_stack()
    try:
        with _tracers_lock:
            if tid not in _tracers:
                _tracers[tid] = []
            _tracers[tid].append(tracing)
            _active.append(tracing)
            _var.guard_hook = _dispatch
        begin_watching()
        watches += (watch,)
        return fn(*leaves)
    finally:
        if watches and watches[-1] is watch:
            del watches[-1]
        with _tracers_lock:
            stack = _tracers[tid] if tid in _tracers else []
            if stack and stack[-1] is tracing:
                del stack[-1]
            if not stack and tid in _tracers:
                del _tracers[tid]
            if tracing in _active:
                _active.remove(tracing)  # the first call: the rest only clears the hook
            if not _active:
                _var.guard_hook = None
        end_watching()


def after_fork_child() -> None:
    """In a child after fork(): only the forking thread exists; forget the
    traces of the others (they will never end)."""
    mine = _tracers.get(threading.get_ident(), [])
    _tracers.clear()
    if mine:
        _tracers[threading.get_ident()] = mine
    _active[:] = [t for t in _active if t in mine]
    if not _active:
        _var.guard_hook = None


def float_threshold(kind: str, other: object) -> tuple[int, float]:
    """(C guard kind, float constant) testing `x kind other` for every
    double x exactly as Python does, also for ints and Fractions no double
    equals: x < c is x <= (the largest double below c), x > c is x >= (the
    smallest double above c), with +-inf past the end of the range."""
    c = exact_real(other)
    if c is None:
        raise PyadError(f"pyad: internal error: a guard compared with {type(other).__name__}")
    if isinstance(c, float):
        return _GUARD_KINDS[kind], c
    try:
        f = float(c)
    except OverflowError:
        f = math.inf if c > 0 else -math.inf
    if f == c:
        return _GUARD_KINDS[kind], f
    if kind == "ne":  # no double equals c: x != c always, as x != nan
        return lib.PYAD_GUARD_NE, math.nan
    below, above = (f, math.nextafter(f, math.inf)) if f < c else (math.nextafter(f, -math.inf), f)
    if kind in ("lt", "le"):
        return lib.PYAD_GUARD_LE, below
    return lib.PYAD_GUARD_GE, above


def _depends_on(leaves: Sequence[Var], vs: Sequence[Var]) -> list[bool]:
    """For each of vs: does its value depend on the leaves?"""
    a = export(leaves, vs)
    ops, start, args = a["node_op"], a["arg_start"], a["args"]
    live = ops == lib.PYAD_NODE_INPUT
    for k in np.flatnonzero(ops >= 0):  # topological order
        live[k] = live[args[start[k] : start[k + 1]]].any()
    return [bool(live[s]) for s in a["output_slot"]]


def _own(leaves: Sequence[Var], foreign: list[Guard]) -> list[Guard]:
    """The comparisons of other threads that are about this trace."""
    if not foreign:
        return []
    vs = [g[1] for g in foreign] + [g[2] for g in foreign if isinstance(g[2], Var)]
    dep = dict(zip(map(id, vs), _depends_on(leaves, vs)))
    return [g for g in foreign if dep[id(g[1])] or (isinstance(g[2], Var) and dep[id(g[2])])]


def trace(fn: Callable[..., Any], xs: Sequence[float]) -> tuple[Arrays, int, bool]:
    """Run fn on leaf Vars at xs: (program arrays, outputs, tuple_out)."""
    leaves = [Var(x) for x in xs]
    tracing = _Tracing()
    out = _run_traced(fn, leaves, tracing)
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
    guards = tracing.guards + _own(leaves, tracing.foreign)
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
        ga.append(slot_of(v))
        if kind in _GUARD_KINDS:
            if isinstance(other, Var):
                kinds.append(_GUARD_KINDS[kind])
                gb.append(slot_of(other))
                gc.append(0.0)
            else:
                k, c = float_threshold(kind, other)
                kinds.append(k)
                gb.append(-1)
                gc.append(c)
            go.append(1 if result else 0)
        elif kind == "bool":
            kinds.append(lib.PYAD_GUARD_NE)
            gb.append(-1)
            gc.append(0.0)
            go.append(1 if result else 0)
        elif kind == "float":
            kinds.append(lib.PYAD_GUARD_SAME)
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
    return a, len(outs), tuple_out
