"""Compiled functions over dask arrays: lazy results, computed chunk by chunk.

Any method of a compiled function that takes a batch (f(), grad,
value_and_grad, jacobian, value_and_jacobian, hvp, hessian, jvp, vjp),
called with at least one dask array among its arguments, comes here
(pyad.compiled checks with holds_dask, which never imports dask) and
returns dask arrays shaped as the numpy call would shape its results. One
task per chunk of the batch runs the same method on that chunk's numpy
blocks, so every point gets the bits the numpy call of the whole batch
gives it (replay's bits do not depend on how a batch is split).

The graph: each argument is split into its loop dimensions (the batch)
and its core dimensions (none without a signature; the signature's
otherwise; (n,) / (m,) for directions and weights). Loop dimensions are
right-aligned across the arguments and their chunks unified (numpy
arrays with loop dimensions become one-chunk dask arrays first); core
dimensions are made one chunk. One da.blockwise, with an explicit meta
so that dask never calls pyad on a probe, gives every chunk one float64
block of loop + (K,), the method's results flattened side by side; the
results are slices of it.

Shipping: the task holds a _Job, whose pickle carries the compiled
function (its traces, by op name) and its Python function beside it
(pickled by the pickler in use: dask's cloudpickle pickles a lambda or a
__main__ function by value), so a worker re-traces a chunk that takes a
new branch. A worker process keeps what it unpickled by a per-function
token, so its chunks share their traces.

Errors: the chunk runs under the errstate of the thread that built the
lazy result, and an error naming "batch point p" (errstate raising, a
guard miss with no Python function) is renamed to the point's index in
the whole batch before it travels to the client.
"""

from __future__ import annotations

import importlib
import math
import pickle
import re
import sys
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._lib import lib

if TYPE_CHECKING:
    from .compiled_higher import HigherOrder as Compiled  # every compiled function is one

__all__ = ["call", "holds_dask"]

# method -> the side of its trailing operand (directions "in", weights "out")
_EXTRA = {"hvp": "in", "jvp": "in", "vjp": "out"}
_POINT = re.compile(r"batch point (\d+)")


def holds_dask(xs: Sequence[Any]) -> bool:
    """Whether any of xs (or of a tuple among them) is a dask array. Dask
    is looked for among the loaded modules: no dask array can exist before
    dask.array.core has defined the class (another thread may be importing
    dask.array right now: its module is there, half made)."""
    core = sys.modules.get("dask.array.core")
    array = getattr(core, "Array", None)
    if array is None:
        return False
    return any(
        isinstance(x, array)
        or (isinstance(x, (tuple, list)) and any(isinstance(y, array) for y in x))
        for x in xs
    )


# ---- shipping the compiled function ------------------------------------------
_tokens: weakref.WeakKeyDictionary[Compiled, str] = weakref.WeakKeyDictionary()
_here: weakref.WeakValueDictionary[str, Compiled] = weakref.WeakValueDictionary()
_arrived: OrderedDict[str, Compiled] = OrderedDict()  # unpickled in this process
_ARRIVED_MAX = 16
_lock = threading.Lock()


def _token(f: Compiled) -> str:
    with _lock:
        token = _tokens.get(f)
        if token is None:
            token = _tokens[f] = uuid.uuid4().hex
            _here[token] = f
        return token


def _arrive(token: str, payload: bytes, has_fn: bool) -> Compiled:
    """The compiled function a job names, in this process: the original if
    it lives here, else the first copy unpickled here (with its Python
    function attached), so the chunks a worker runs share its traces. The
    payload (the pickled function) is unpickled only the first time."""
    with _lock:
        mine = _here.get(token)
        if mine is not None:
            return mine
        known = _arrived.get(token)
        if known is not None:
            _arrived.move_to_end(token)
            if known.fn is None and has_fn:  # attach()ed on the client since
                known.fn = pickle.loads(payload)[1]
            return known
        loaded, fn = pickle.loads(payload)
        f = cast("Compiled", loaded)
        if fn is not None:
            f.fn = fn  # as f.attach(fn)
        _arrived[token] = f
        while len(_arrived) > _ARRIVED_MAX:
            _arrived.popitem(last=False)
        return f


class _Job:
    """What one chunk task runs: the method `name` of f on the blocks of
    the array leaves, the other leaves fixed (plan[i] is ("block", None)
    or ("fixed", value)), nested as `tree`. The task is given the block's
    index (chunks: the batch's chunks, for the block's place in the batch
    and global point indices) and the blocks. single: the core shape of
    the one result, which the task returns as its block; else (None) the
    results flattened side by side. errmode: the errstate of the thread
    that built the graph."""

    def __init__(
        self,
        f: Compiled,
        name: str,
        kwargs: dict[str, Any],
        plan: list[tuple[str, Any]],
        tree: Any,
        chunks: tuple[tuple[int, ...], ...],
        single: tuple[int, ...] | None,
        errmode: int,
    ) -> None:
        self.f, self.name, self.kwargs = f, name, kwargs
        self.plan, self.tree, self.chunks, self.single = plan, tree, chunks, single
        self.loop = tuple(sum(c) for c in chunks)
        self.starts = [np.cumsum((0,) + c[:-1]).tolist() for c in chunks]
        self.errmode = errmode
        self.token = _token(f)
        self._payload: bytes | None = None

    def __dask_tokenize__(self) -> str:
        return uuid.uuid4().hex  # a new graph per call (f's traces are not in its key)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Every chunk's task holds this job: the compiled function and its
        # Python function are pickled once per job (cloudpickle, as dask
        # does: a lambda or a __main__ function by value), and a worker
        # unpickles them once per compiled function (_arrive).
        with _lock:
            if self._payload is None:
                self._payload = _cloudpickle().dumps((self.f, self.f.fn))
        state = (self.name, self.kwargs, self.plan, self.tree, self.chunks, self.single,
                 self.errmode)  # fmt: skip
        return (_job_from, (self.token, self._payload, self.f.fn is not None, state))

    def __call__(self, *args: Any) -> Any:
        # (the block's index, then the blocks), or with no loop dimensions the blocks
        block_id, blocks = (args[0], args[1:]) if self.chunks else ((), args)
        starts = tuple(s[i] for s, i in zip(self.starts, block_id))
        shape = tuple(c[i] for c, i in zip(self.chunks, block_id))
        arrays = iter(_aligned(b) for b in blocks)
        leaves = [next(arrays) if kind == "block" else value for kind, value in self.plan]
        args = _unflatten(self.tree, leaves)
        old = lib.pyad_get_errmode()
        try:
            lib.pyad_set_errmode(self.errmode)
            res = getattr(self.f, self.name)(*args, **self.kwargs)
        except Exception as e:
            _globalize(e, starts, shape, self.loop)
            raise
        finally:
            lib.pyad_set_errmode(old)
        if self.single is not None:
            return np.asarray(res, np.float64).reshape(shape + self.single)
        cols = [np.asarray(r, np.float64).reshape(shape + (-1,)) for r in _flatten(res)[0]]
        return np.concatenate(cols, axis=-1) if len(cols) > 1 else cols[0]


def _job_from(token: str, payload: bytes, has_fn: bool, state: tuple[Any, ...]) -> _Job:
    job = _Job.__new__(_Job)
    job.f, job.token, job._payload = _arrive(token, payload, has_fn), token, payload
    name, kwargs, plan, tree, chunks, single, errmode = state
    _Job.__init__(job, job.f, name, kwargs, plan, tree, chunks, single, errmode)
    return job


def _aligned(a: Any) -> Any:
    """a, or an aligned copy: a block unpickled from a network frame may
    start at any byte, and C reads doubles at 8-byte boundaries."""
    if isinstance(a, np.ndarray) and not a.flags.aligned:
        return np.require(a, requirements="A")
    return a


def _cloudpickle() -> Any:
    """cloudpickle (a dependency of dask), else the standard pickle."""
    try:
        return importlib.import_module("cloudpickle")
    except ImportError:  # pragma: no cover  (dask requires it)
        return pickle


def _globalize(e: BaseException, starts: tuple[int, ...], shape: tuple[int, ...],
               loop: tuple[int, ...]) -> None:  # fmt: skip
    """Rename "batch point p" (p: within the chunk) in e's message and
    notes to the point's index in the whole batch."""

    def whole(m: re.Match[str]) -> str:
        local = np.unravel_index(int(m.group(1)), shape) if shape else ()
        at = tuple(int(i) + s for i, s in zip(local, starts))
        return f"batch point {int(np.ravel_multi_index(at, loop)) if loop else 0}"

    if e.args and isinstance(e.args[0], str):
        e.args = (_POINT.sub(whole, e.args[0]), *e.args[1:])
    notes = getattr(e, "__notes__", None)
    if isinstance(notes, list):
        notes[:] = [_POINT.sub(whole, n) if isinstance(n, str) else n for n in notes]


# ---- pytrees of tuples and lists --------------------------------------------
def _flatten(x: Any) -> tuple[list[Any], Any]:
    if isinstance(x, (tuple, list)):
        leaves: list[Any] = []
        kids = []
        for item in x:
            sub, tree = _flatten(item)
            leaves += sub
            kids.append((len(sub), tree))
        return leaves, (type(x), kids)
    return [x], None


def _unflatten(tree: Any, leaves: Sequence[Any]) -> Any:
    if tree is None:
        return leaves[0]
    kind, kids = tree
    out, i = [], 0
    for n, sub in kids:
        out.append(_unflatten(sub, leaves[i : i + n]))
        i += n
    return kind(out)


# ---- the call ------------------------------------------------------------------
def _cores(f: Compiled, name: str, n_args: int) -> list[list[int] | int]:
    """The core ndim of each argument (a list for one given as a tuple of
    arrays: the directions or weights of several arguments/outputs)."""
    sig, extra = f.sig, _EXTRA.get(name)
    n_xs = n_args - (extra is not None)
    cores: list[list[int] | int] = []
    if sig is None:
        cores += [0] * n_xs + ([1] if extra else [])
        return cores
    cores += [len(c) for c in sig.ins[:n_xs]] + [0] * (n_xs - sig.k)
    if extra is not None:
        ext = [len(c) for c in (sig.ins if extra == "in" else sig.outs)]
        cores.append(ext[0] if len(ext) == 1 else ext)
    return cores


def call(f: Compiled, name: str, xs: Sequence[Any], **kwargs: Any) -> Any:
    """f.name(*xs, **kwargs) with dask arrays among xs: lazy dask results."""
    da: Any = importlib.import_module("dask.array")
    # the block index as a task argument (as da.map_blocks's block_id)
    ArrayBlockIdDep = importlib.import_module("dask.layers").ArrayBlockIdDep
    if kwargs.get("sparse"):
        raise TypeError(
            f"{name}(sparse=True) does not take dask arrays (its result is a list of "
            "scipy.sparse matrices, not an array): compute per chunk with map_blocks"
        )
    kwargs.pop("sparse", None)
    cores = _cores(f, name, len(xs))
    args: list[Any] = [
        tuple(x) if isinstance(x, (tuple, list)) and isinstance(c, list) else x
        for x, c in zip(xs, cores)
    ]
    leaves, tree = _flatten(args)
    core_of: list[int] = []
    for c in cores:
        core_of += c if isinstance(c, list) else [c]
    if len(core_of) != len(leaves):  # a tuple where an array belongs, or the reverse
        core_of = [0] * len(leaves)
    leaves = [x if isinstance(x, (da.Array, np.ndarray, float, int)) else np.asarray(x)
              for x in leaves]  # fmt: skip
    loops = []
    for x, c in zip(leaves, core_of):
        ndim = getattr(x, "ndim", 0)
        loops.append(x.shape[: ndim - c] if ndim > c else ())
    L = max(len(s) for s in loops)
    if f.sig is None:
        lengths = {s[0] for s in loops if s}
        if len(lengths) > 1 or any(len(s) > 1 for s in loops):
            probe = [np.empty(s + x.shape[len(s) :]) if s else x for x, s in zip(leaves, loops)]
            getattr(f, name)(*_unflatten(tree, probe), **kwargs)  # numpy's error
    loop = tuple(int(d) for d in np.broadcast_shapes(*loops))
    structure = _structure(f, name, kwargs, tree, leaves, loops, L)
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY")
    loop_ind = tuple(next(letters) for _ in range(L))
    plan: list[tuple[str, Any]] = []
    pairs: list[Any] = []
    for x, s in zip(leaves, loops):
        if not s and not isinstance(x, da.Array):
            plan.append(("fixed", x))
            continue
        if not isinstance(x, da.Array):
            x = da.from_array(np.asarray(x), chunks=x.shape)
        core_ind = tuple(next(letters) for _ in range(x.ndim - len(s)))
        x = x.rechunk({i: -1 for i in range(len(s), x.ndim)}) if core_ind else x
        plan.append(("block", None))
        pairs.append((x, loop_ind[L - len(s) :] + core_ind))
    all_chunks: dict[str, tuple[int, ...]] = {}
    if pairs:  # chunks aligned across the arguments
        all_chunks, arrays = da.unify_chunks(*[a for p in pairs for a in p])
        pairs = [(a, ind) for a, (_, ind) in zip(arrays, pairs)]
    chunks = tuple(tuple(int(n) for n in all_chunks.get(i, (d,))) for i, d in zip(loop_ind, loop))
    cores_out, out_tree = structure
    single = cores_out[0] if len(cores_out) == 1 else None
    job = _Job(f, name, kwargs, plan, tree, chunks, single, lib.pyad_get_errmode())
    core_out = tuple(next(letters) for _ in (single if single is not None else (0,)))
    sizes = single if single is not None else (sum(math.prod(c) for c in cores_out),)
    out = da.blockwise(
        job, loop_ind + core_out, *([ArrayBlockIdDep(chunks), loop_ind] if L else []),
        *[a for p in pairs for a in p], new_axes=dict(zip(core_out, sizes)),
        dtype=np.float64, meta=np.empty((0,) * (L + len(core_out))),
        concatenate=True, align_arrays=False, token=f"pyad-{name.strip('_')}",
    )  # fmt: skip
    if single is not None:
        return out
    results, at = [], 0
    for core in cores_out:
        k = math.prod(core)
        if core == ():
            piece = out[..., at]
        else:
            piece = out[..., at : at + k]
            if len(core) > 1:
                piece = piece.reshape(loop + core)
        results.append(piece)
        at += k
    return _unflatten(out_tree, results)


def _structure(
    f: Compiled, name: str, kwargs: dict[str, Any], tree: Any, leaves: list[Any],
    loops: list[tuple[int, ...]], L: int,
) -> tuple[list[tuple[int, ...]], Any]:  # fmt: skip
    """The core shape of each result of f.name, and the results' tree,
    learnt from a numpy call on a batch of no points (a traced function),
    or, before the first trace, on the batch's first point (computed: the
    trace needs its values)."""
    if f._traces:
        probe = [np.empty(tuple(0 for _ in s) + x.shape[len(s) :], x.dtype)
                 if s else x for x, s in zip(leaves, loops)]  # fmt: skip
        try:
            return _shapes(getattr(f, name)(*_unflatten(tree, probe), **kwargs), L)
        except Exception:  # noqa: BLE001  (an empty batch may not be enough: use a point)
            pass
    dask: Any = importlib.import_module("dask")
    first = [x[tuple(slice(0, 1) for _ in s)] if s else x for x, s in zip(leaves, loops)]
    first = [_aligned(a) for a in dask.compute(*first)]
    return _shapes(getattr(f, name)(*_unflatten(tree, first), **kwargs), L)


def _shapes(res: Any, L: int) -> tuple[list[tuple[int, ...]], Any]:
    flat, tree = _flatten(res)
    return [tuple(int(d) for d in np.shape(r)[L:]) for r in flat], tree
