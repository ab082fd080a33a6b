"""The one import of the compiled core; everything else imports from here.

Its types come from _pyad_cffi.pyi, generated from csrc/pyad.h.

Eager ops are not recorded by one C call each: an op appends a record
(code, x0, x1, out) to `pending` and takes a handle from `free` (C arrays
behind small list-like objects, csrc/pybuffers.c), both filled and emptied
by C in one call per ~1000 ops (sync(); csrc/pybridge.c). So anything
that reads the tape must first hand the buffer to C. `lib` does that for
you: it is the compiled module's lib, except that every function that
touches the tape syncs first; `core` is the raw lib, for the recording
fast paths. See docs/architecture.md.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

if TYPE_CHECKING:
    from pyad._pyad_cffi import _Lib as _CffiLib

try:
    from pyad._pyad_cffi import ffi
    from pyad._pyad_cffi import lib as core
except ImportError:
    # A source checkout shadows the installed package when Python runs from
    # the repository root (`pip install . && python -m pyad`): its pyad/ has
    # no compiled module. Use the one `pip install .` built, if any.
    import glob
    import importlib.util
    import os
    import sys

    _here = os.path.dirname(os.path.abspath(__file__))
    for _entry in sys.path:
        _found = [
            p
            for p in glob.glob(os.path.join(_entry or ".", "pyad", "_pyad_cffi*"))
            if os.path.dirname(os.path.abspath(p)) != _here and p.endswith((".so", ".pyd"))
        ]
        if _found:
            _spec = importlib.util.spec_from_file_location("pyad._pyad_cffi", _found[0])
            # (ignores: a spec for an existing .so/.pyd path always has a loader)
            _module = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
            _spec.loader.exec_module(_module)  # type: ignore[union-attr]
            sys.modules["pyad._pyad_cffi"] = _module
            ffi, core = _module.ffi, _module.lib
            break
    else:
        raise ImportError(
            "pyad's C core is not built: run `pip install .` (or "
            "`python setup.py build_ext --inplace` for development)"
        ) from None

__all__ = [
    "ffi",
    "lib",
    "core",
    "pending",
    "dead",
    "free",
    "sync",
    "direct",
    "VarBase",
    "ErrstateBase",
    "CallBase",
    "fast_call",
    "exact_var",
    "set_graph_grads",
]

# ---- the record buffer ------------------------------------------------------

REFILL = 1024  # handles reserved per sync: ~one sync per REFILL ops

# While some thread raises on IEEE flags (C knows: csrc/pyerrmode.c), or
# direct[0] > 0 (allocation failures are being tested, or PYAD_DIRECT=1 is
# set in the environment), `free` stays empty, so every op takes its slow
# path and is recorded by a direct C call, which checks at the op.
direct = [1 if os.environ.get("PYAD_DIRECT", "") not in ("", "0") else 0]
_refill_lock = threading.RLock()  # orders refills against entering direct mode
_failed = ffi.new("int64_t *")

# The base class of pyad.Var, made in C (csrc/pyvar.c): the `_h` slot, a C
# finalizer that pushes it on `dead`, atomic under Ctrl-C, and + - * / and
# unary - as C number slots that append records to `pending`; and the
# three buffers (csrc/pybuffers.c), made with it:
#   pending  the records (code, x0, x1, out) of the ops since the last sync
#   dead     handles of Vars that died, to release
#   free     handles reserved in C for the next ops
if TYPE_CHECKING:
    _E = TypeVar("_E", bound="ErrstateBase")

    class RecordBuffer:
        def append(self, record: tuple[Any, ...], /) -> None: ...  # (code, x0, x1, out)
        def __len__(self) -> int: ...
        def __getitem__(self, i: int, /) -> tuple[Any, ...]: ...  # as appended

    class HandleStack:
        def append(self, h: int, /) -> None: ...
        def extend(self, hs: Iterable[int], /) -> None: ...
        def pop(self) -> int: ...  # IndexError when empty
        def clear(self) -> None: ...
        def move_to(self, other: HandleStack, /) -> None: ...
        def __len__(self) -> int: ...
        def __getitem__(self, i: int, /) -> int: ...
        def __iter__(self) -> Iterator[int]: ...

    pending = RecordBuffer()
    dead = HandleStack()
    free = HandleStack()

    class VarBase:
        _h: int

        @classmethod
        def _fresh(cls) -> Any: ...  # a new instance owning a handle of `free`
        def _take_reserved(self) -> int: ...  # self takes a handle of `free`
        @classmethod
        def _bind_operator(
            cls, name: str, code: int, forward: Any, reflected: Any, pending: RecordBuffer, /
        ) -> None: ...  # the C number slot of operator `name` (pyad/ops.py)

    def _var_class() -> type: ...
    def set_graph_grads(d: dict[int, Any] | None, /) -> dict[int, Any] | None: ...

    class ErrstateBase:
        # reads the subclass's _set_bits, _clear_bits (ints) and _saved
        # (a dict: thread ident -> the modes to restore)
        def __enter__(self: _E) -> _E: ...
        def __exit__(self, *exc: object) -> bool: ...

    def _set_errmode(mode: int, /) -> int: ...

else:
    _ns: dict[str, Any] = {}
    if core.pyad_py_var_base(id(_ns)) != 0:
        raise MemoryError("pyad: cannot make the Var class")
    VarBase = _ns.pop("VarBase")
    pending, dead, free = _ns.pop("pending"), _ns.pop("dead"), _ns.pop("free")
    _var_class, set_graph_grads = _ns.pop("var_class"), _ns.pop("set_graph_grads")
    # A thread's error mode, switched in one C step (csrc/pyerrmode.c):
    # pending ops synced, reserved handles given back when it starts to
    # raise, the mode set; atomic under Ctrl-C, as a Python function is not.
    ErrstateBase, _set_errmode = _ns.pop("ErrstateBase"), _ns.pop("set_errmode")

# The base class of pyad.Compiled, made in C (csrc/pycall.c): its call at
# one point of floats runs no Python frame; anything else goes to `_call`.
if TYPE_CHECKING:

    class CallBase:
        def __call__(self, *xs: Any, workers: int | None = None) -> Any: ...
        def _set_lean(self, owner: object, address: int, n_in: int, /) -> None: ...

    def _fast_call_class(cls: type, name: str, /) -> type: ...

else:
    if core.pyad_py_call_base(id(_ns)) != 0:
        raise MemoryError("pyad: cannot make the Compiled class")
    CallBase = _ns.pop("CallBase")
    _fast_call_class = _ns.pop("fast_call_class")

_C = TypeVar("_C", bound=type)

# Names a class's copy leaves alone: its own (the spec names it) and the
# descriptors of its layout.
_KEPT = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__"})


def fast_call(cls: _C) -> _C:
    """Class decorator for CallBase's subclasses that users call: returns a
    subclass of cls, made in C, whose instances CPython calls by vectorcall
    (no argument tuple; csrc/pycall.c). Before 3.12 a Python subclass of
    CallBase is called through tp_call, however CallBase is made. The
    subclass takes a copy of cls's namespace, so that it reads as cls does
    (doctest, help, inspect); cls stays in its bases for the layout and for
    super(). cls may not define __call__, which the vectorcall would skip."""
    if "__call__" in vars(cls):
        raise TypeError(f"fast_call: {cls.__qualname__} defines __call__")
    made = _fast_call_class(cls, f"{cls.__module__}.{cls.__qualname__}")
    return _copy_namespace(cls, made)


def exact_var(cls: _C) -> _C:
    """Class decorator for pyad.Var: returns the class csrc/pyvar.c makes,
    a subclass of VarBase with no GC support (one malloc per Var, no GC
    header, no generic dealloc), with a copy of cls's namespace, so that
    it reads as cls does (doctest, help, inspect). cls must add no field to
    VarBase (__slots__ = ()) and must not need super(): it is not a base."""
    if cls.__bases__ != (VarBase,) or cls.__basicsize__ != VarBase.__basicsize__:
        raise TypeError(f"exact_var: {cls.__qualname__} must add no field to VarBase")
    if f"{cls.__module__}.{cls.__qualname__}" != "pyad.var.Var":
        raise TypeError(f"exact_var: only for pyad.var.Var, not {cls.__qualname__}")
    return _copy_namespace(cls, _var_class())  # named pyad.var.Var (csrc/pyvar.c)


def _copy_namespace(cls: _C, made: type) -> _C:
    """made, a class made in C to stand for cls, with a copy of cls's
    namespace but for the names of its own layout (_KEPT, __slots__)."""
    for name, value in vars(cls).items():
        if name not in _KEPT and name != "__slots__":
            setattr(made, name, value)
    return cast(_C, made)


def sync() -> None:
    """Hand the buffered ops and dead handles to C; top up `free`."""
    with _refill_lock:
        refill = REFILL if not direct[0] and len(free) < REFILL // 2 else 0
        st = core.pyad_py_sync(id(pending), id(dead), id(free), refill, _failed)
    if st < 0:
        sync_failed(st)


def sync_failed(st: int) -> None:
    """Raise the error of a failed sync's status (C's errstate calls it too)."""
    from .errors import check  # errors imports this module

    check(st, "an earlier op (recorded in a batch; its result is unusable)")


def _set_direct(on: bool) -> None:
    with _refill_lock:
        direct[0] += 1 if on else -1
        if on:  # give the reserved handles back (C frees a reserved handle)
            free.move_to(dead)


_armed = [False]


def _debug_fail_alloc_after(n: int) -> None:
    """pyad_debug_fail_alloc_after: direct mode while armed, so that the
    failing allocation happens inside the op under test. Direct mode is
    entered before arming and left after disarming: giving the reserved
    handles back may allocate, and must not be the allocation that fails."""
    if pending:
        sync()
    if n >= 0 and not _armed[0]:
        _armed[0] = True
        _set_direct(True)
    core.pyad_debug_fail_alloc_after(n)
    if n < 0 and _armed[0]:
        _armed[0] = False
        _set_direct(False)


# Functions that never touch the tape (no sync needed).
_PURE = (
    "pyad_op_",
    "pyad_program_",
    "pyad_eval",
    "pyad_get_errmode",
    "pyad_py_sync",
    "pyad_py_var_base",
    "pyad_py_call_base",
    "pyad_fork_",  # the fork hooks hold _refill_lock already
    "pyad_sparsity_",
    "pyad_vmath",
)


def _synced(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, _fn: Callable[..., Any] = fn, _pending: RecordBuffer = pending) -> Any:
        if _pending:
            sync()
        return _fn(*args)

    return call


class _SyncedLib:
    """The compiled lib, syncing the record buffer before tape access."""


_synced_lib = _SyncedLib()
for _name in dir(core):
    _attr = getattr(core, _name)
    if callable(_attr) and _name.startswith("pyad_") and not _name.startswith(_PURE):
        _attr = _synced(_attr)
    setattr(_synced_lib, _name, _attr)
_synced_lib.pyad_set_errmode = _set_errmode  # type: ignore[attr-defined]
_synced_lib.pyad_debug_fail_alloc_after = _debug_fail_alloc_after  # type: ignore[attr-defined]
# Typed as the compiled lib it stands for (pyad/_pyad_cffi.pyi).
lib = cast("_CffiLib", _synced_lib)
