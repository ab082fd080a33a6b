"""The pickle format of compiled functions.

A pickle names ops by name, never by their place in the C op table, so
adding or reordering ops cannot change what an old pickle computes:

version 2 (written now): state["ops"] is the list of the op names the
    traces use, and each op node's code in a trace's node_op array is an
    index into that list (INPUT and CONST nodes keep their negative codes).
    Loading maps each name to the current op code, and refuses a name this
    pyad does not know with a ValueError saying so.
    A compiled function with a gufunc signature adds state["signature"]
    (its text) and state["dims"] (its core sizes); pickles without them
    load with no signature.
version 1 (pyad 0.1): node_op held row indices of the op table of that
    release, whose order is frozen below as V1_OP_NAMES; loading maps them
    through it the same way.

Everything else is validated as before (see _Program and csrc/program.c):
a malformed pickle raises ValueError, and can never make C read or write
out of bounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .optable import CODE as _CODE
from .program import FIELDS, Program
from .signature import Signature

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["FORMAT_VERSION", "V1_OP_NAMES", "decode", "encode"]

FORMAT_VERSION = 2

# The op table of pyad 0.1, in row order: what version-1 node_op codes mean.
# Frozen: never edit.
V1_OP_NAMES: tuple[str, ...] = tuple(
    "add sub mul div pow neg abs exp log sin cos tanh sigmoid relu sqrt "
    "log1p expm1 softplus sum lt le gt ge where dot".split()
)

# This build's op codes by name (the registry, pyad/optable.py), and names by code.
_NAME: dict[int, str] = {i: n for n, i in _CODE.items()}


def op_name(code: int) -> str:
    return _NAME.get(code, "?")


def encode(
    traces: Sequence[Program],
    n_in: int | None,
    n_out: int | None,
    tuple_out: bool | None,
    cache_size: int,
    function: bool,
) -> dict[str, Any]:
    """The pickled state of a compiled function: the header, the op names
    the traces use, and each trace's arrays as bytes with node_op rewritten
    as indices into those names."""
    used = sorted({int(c) for t in traces for c in np.unique(t.arrays["node_op"]) if c >= 0})
    index = np.full(max(used, default=0) + 1, -1, np.int32)
    index[used] = np.arange(len(used), dtype=np.int32)
    out = []
    for t in traces:
        arrays = dict(t.arrays)
        node_op = arrays["node_op"].copy()
        ops = node_op >= 0
        node_op[ops] = index[node_op[ops]]
        arrays["node_op"] = node_op
        out.append({name: arrays[name].tobytes() for name, _ in FIELDS})
    return {
        "version": FORMAT_VERSION,
        "ops": [_NAME[c] for c in used],
        "n_in": n_in,
        "n_out": n_out,
        "tuple_out": tuple_out,
        "cache_size": cache_size,
        "function": function,
        "traces": out,
    }


class UnknownOpError(ValueError):
    """A pickle names an op this build does not have."""


def _codes(names: object) -> npt.NDArray[np.int32]:
    """The current op code of each name; ValueError for an unknown one."""
    if not isinstance(names, (list, tuple)) or not all(type(n) is str for n in names):
        raise ValueError("bad op names")
    missing = [n for n in names if n not in _CODE]
    if missing:
        raise UnknownOpError(
            f"pyad: this compiled function uses the op {missing[0]!r}, which this "
            "version of pyad does not have: it cannot be loaded"
        )
    return np.array([_CODE[n] for n in names], np.int32)


def decode(state: object) -> tuple[dict[str, Any], list[Program]]:
    """(the header: n_in, n_out, tuple_out, cache_size, function; the traces
    with op codes of this build) of a pickled state. ValueError if anything
    is off (UnknownOpError, a ValueError, for an op this build lacks)."""
    try:
        return _decode(state)
    except UnknownOpError:
        raise
    except (KeyError, TypeError, AttributeError, OverflowError, IndexError) as e:
        raise ValueError(f"pyad: malformed pickled compiled function ({e!r})") from None
    except ValueError as e:
        raise ValueError(f"pyad: malformed pickled compiled function ({e})") from None


def _decode(state: object) -> tuple[dict[str, Any], list[Program]]:
    if not isinstance(state, dict):
        raise ValueError("unknown format")
    version = state.get("version")
    if version == 1:
        codes = _codes(V1_OP_NAMES)
    elif version == FORMAT_VERSION:
        codes = _codes(state["ops"])
    else:
        raise ValueError(f"unknown format version {version!r}")
    header = {k: state[k] for k in ("n_in", "n_out", "tuple_out", "cache_size", "function")}
    header["signature"], header["dims"] = _signature(state)
    n_in, n_out, tuple_out = header["n_in"], header["n_out"], header["tuple_out"]
    traces = state["traces"]
    if not isinstance(traces, list) or not isinstance(header["function"], bool):
        raise ValueError("bad traces")
    if not traces:
        if n_in is not None or n_out is not None or tuple_out is not None:
            raise ValueError("bad header")
    else:
        for x in (n_in, n_out):
            if type(x) is not int or not 0 <= x < 2**32:
                raise ValueError("bad sizes")
        if type(tuple_out) is not bool or (not tuple_out and n_out != 1):
            raise ValueError("bad output kind")
    cache_size = header["cache_size"]
    if type(cache_size) is not int or not 1 <= cache_size <= 2**20 or len(traces) > cache_size:
        raise ValueError("bad cache size")
    progs = []
    for t in traces:
        if not isinstance(t, dict) or set(t) != {name for name, _ in FIELDS}:
            raise ValueError("bad trace")
        arrays = {}
        for name, dtype in FIELDS:
            b = t[name]
            if type(b) is not bytes or len(b) % np.dtype(dtype).itemsize:
                raise ValueError(f"bad array {name}")
            arrays[name] = np.frombuffer(b, dtype=dtype)
        node_op = arrays["node_op"].copy()
        ops = node_op >= 0
        if ops.any() and int(node_op[ops].max()) >= codes.size:
            raise ValueError("an op index is out of range")
        node_op[ops] = codes[node_op[ops]]
        arrays["node_op"] = node_op
        prog = Program(arrays, n_out)
        if prog.n_in != n_in:
            raise ValueError("trace has the wrong number of inputs")
        progs.append(prog)
    if header["signature"] is not None and progs:
        sig, dims = Signature(header["signature"]), header["dims"]
        if {d for c in sig.ins + sig.outs for d in c if isinstance(d, str)} - set(dims):
            raise ValueError("the signature's sizes are missing")
        sizes = [[math.prod(s) for s in f(dims)] for f in (sig.in_shapes, sig.out_shapes)]
        if sum(sizes[0]) != n_in or sum(sizes[1]) != n_out:
            raise ValueError("the signature's sizes do not match the traces")
    return header, progs


def _signature(state: dict[str, Any]) -> tuple[str | None, dict[str, int] | None]:
    """The gufunc signature and its core sizes (absent before signatures
    existed: None)."""
    text = state.get("signature")
    if text is None:
        return None, None
    dims = state.get("dims")
    if type(text) is not str or not isinstance(dims, dict):
        raise ValueError("bad signature")
    for k, v in dims.items():
        if type(k) is not str or type(v) is not int or not 0 <= v < 2**32:
            raise ValueError("bad signature sizes")
    Signature(text)  # ValueError if malformed
    return text, dict(dims) or None
