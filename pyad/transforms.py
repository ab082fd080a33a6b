"""JAX-style transforms beyond the gradient: jacobian, hessian, hvp, jvp,
vjp. Arguments and results are pytrees, as for pyad.grad.

Called with numbers at top level, a transform records the function once,
freezes the graph as a C program (pyad.frozen) and computes in C: forward
tangents for jvp, a weighted reverse sweep for vjp, forward-over-reverse
for Hessian-vector products, and for a Hessian one Hessian-vector product
per colour of its sparsity pattern (or per column when that is no
cheaper). Called inside another transform, they record their derivatives
as ops and return Vars, so that compositions work to any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Callable

import numpy as np

from ._transform import (
    Inputs,
    Leaf,
    Outputs,
    argnums_tuple,
    assemble,
    grad_graph,
    has_var,
    scalar_output,
    trace,
    weighted_sum,
)
from .frozen import Frozen, freeze
from .pytree import flatten, unflatten
from .var import Var

__all__ = ["jacobian", "hessian", "hvp", "jvp", "vjp"]


def _point(inputs: Inputs) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The input values of a top-level trace (its fresh leaves)."""
    return np.array(inputs.values, dtype=np.float64)


def _block(rows: Any, lo: Leaf, li: Leaf) -> Any:
    """The block of rows (a float array, or lists of Vars and floats) for
    output leaf lo and input leaf li, shaped lo.shape + li.shape."""
    shape = None if lo.shape is None and li.shape is None else (lo.shape or ()) + (li.shape or ())
    if isinstance(rows, np.ndarray):
        b = rows[lo.start : lo.start + lo.size, li.start : li.start + li.size]
        return float(b[0, 0]) if shape is None else b.reshape(shape).copy()
    flat = [rows[o][i] for o in range(lo.start, lo.start + lo.size)
            for i in range(li.start, li.start + li.size)]  # fmt: skip
    return assemble(flat, shape)


def _by_inputs(rows: Any, lo: Leaf, inputs: Inputs, nums: Sequence[int], single: bool) -> Any:
    """Output leaf lo's derivatives in the structure of the arguments."""
    per = [
        unflatten(inputs.spec[num].tree, [_block(rows, lo, li) for li in inputs.spec[num].leaves])
        for num in nums
    ]
    return per[0] if single else tuple(per)


def jacobian(
    f: Callable[..., Any], argnums: int | Iterable[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """Like jax.jacobian: J(*args), each output leaf's derivatives with
    respect to each argument leaf, of shape out.shape + arg.shape, in the
    output's structure (each leaf replaced by the argument's structure, a
    tuple of them for a tuple of argnums). Forward mode when there are
    fewer inputs than outputs (as jax.jacfwd), else reverse (jax.jacrev).

    >>> import numpy as np, pyad
    >>> pyad.jacobian(lambda x: x[1:] * x[:-1])(np.array([1.0, 2.0, 3.0])).tolist()
    [[2.0, 1.0, 0.0], [0.0, 3.0, 2.0]]
    >>> pyad.jacobian(lambda x, y: (x * y, x + y), argnums=(0, 1))(2.0, 3.0)
    ((3.0, 2.0), (1.0, 1.0))
    """

    def wrapped(*args: Any) -> Any:
        single, nums = argnums_tuple(argnums, len(args))
        t = trace(f, args, nums, has_aux)
        outs = Outputs(t.out)
        n, m = t.inputs.n, outs.m
        rows: Any
        if t.nested:
            rows = [grad_graph(e, t.inputs.vars) for e in outs.elements]
        elif n == 0 or m == 0 or not any(isinstance(e, Var) for e in outs.elements):
            rows = np.zeros((m, n))
        else:
            prog = freeze(t.inputs.vars, outs.as_vars())
            x = _point(t.inputs)
            rows = prog.jacobian_fwd(x)[1] if n < m else prog.values_and_jacobian(x)[1]
        result = unflatten(
            outs.tree, [_by_inputs(rows, lo, t.inputs, nums, single) for lo in outs.leaves]
        )
        return (result, t.aux) if has_aux else result

    wrapped.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return wrapped


def hessian(
    f: Callable[..., Any], argnums: int | Iterable[int] = 0, has_aux: bool = False
) -> Callable[..., Any]:
    """Like jax.hessian: the second derivatives of a scalar function, block
    (a, b) of shape a.shape + b.shape for argument leaves a and b, in the
    structure of the arguments nested twice (a tuple of tuples for a tuple
    of argnums). Exactly symmetric. Computed in C by forward-over-reverse:
    one Hessian-vector product per colour of the Hessian's sparsity
    pattern (3 for a tridiagonal Hessian, whatever n), or per column.

    >>> import numpy as np, pyad
    >>> rosen = lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    >>> pyad.hessian(rosen)(np.array([1.0, 1.0, 1.0])).tolist()
    [[802.0, -400.0, 0.0], [-400.0, 1002.0, -400.0], [0.0, -400.0, 200.0]]
    >>> pyad.hessian(lambda x, y: x * x * y, argnums=(0, 1))(1.0, 2.0)
    ((4.0, 2.0), (2.0, 0.0))
    """

    def wrapped(*args: Any) -> Any:
        single, nums = argnums_tuple(argnums, len(args))
        t = trace(f, args, nums, has_aux)
        out = scalar_output(t.out, "hessian")
        n = t.inputs.n
        rows: Any
        if t.nested:
            rows = [grad_graph(g, t.inputs.vars) for g in grad_graph(out, t.inputs.vars)]
        elif n == 0 or not isinstance(out, Var):
            rows = np.zeros((n, n))
        else:
            rows = freeze(t.inputs.vars, [out]).hessian(_point(t.inputs))[2]
        spec = t.inputs.spec
        per = [
            unflatten(
                spec[a].tree,
                [_by_inputs(rows, lo, t.inputs, nums, single) for lo in spec[a].leaves],
            )
            for a in nums
        ]
        result = per[0] if single else tuple(per)
        return (result, t.aux) if has_aux else result

    wrapped.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return wrapped


def _directions(
    inputs: Inputs, tangents: Sequence[Any], nums: Sequence[int], what: str
) -> list[Any]:
    """The flat elements of tangents (one per argument in nums), each of
    its argument's structure and shapes."""
    flat: list[Any] = []
    for num, tangent in zip(nums, tangents):
        leaves, tree = flatten(tangent)
        arg = inputs.spec[num]
        if tree != arg.tree:
            raise ValueError(
                f"{what} {num} has structure {tree.describe()}, the argument {arg.tree.describe()}"
            )
        for leaf, info in zip(leaves, arg.leaves):
            shape = np.shape(leaf) if isinstance(leaf, np.ndarray) else None
            if shape != info.shape:
                raise ValueError(f"{what} {num}: a leaf of shape {shape}, expected {info.shape}")
            if isinstance(leaf, np.ndarray):
                flat.extend(leaf.ravel().tolist() if leaf.dtype != object else list(leaf.flat))
            else:
                flat.append(leaf)
    return [x if isinstance(x, Var) else float(x) for x in flat]


def hvp(f: Callable[[Any], Any], x: Any, v: Any) -> Any:
    """The Hessian of the scalar function f at x times v (both pytrees of
    the same structure): H v, in x's structure. One forward sweep carrying
    a tangent and one reverse sweep carrying adjoints and their tangents
    (forward-over-reverse); no Hessian is formed.

    >>> import numpy as np, pyad
    >>> f = lambda x: (x ** 3).sum()
    >>> pyad.hvp(f, np.array([1.0, 2.0]), np.array([1.0, 1.0])).tolist()
    [6.0, 12.0]
    """
    t = trace(f, (x,), [0], False, force_nested=has_var(v))
    out = scalar_output(t.out, "hvp")
    dirs = _directions(t.inputs, [v], [0], "v")
    if t.nested:
        gv = weighted_sum(dirs, grad_graph(out, t.inputs.vars))
        flat = grad_graph(gv, t.inputs.vars)
    elif t.inputs.n == 0 or not isinstance(out, Var):
        flat = [0.0] * t.inputs.n
    else:
        hv = freeze(t.inputs.vars, [out]).hvp(_point(t.inputs), np.array(dirs))[2]
        flat = hv.tolist()
    return t.inputs.structure(flat, 0)


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> Any:
    """Like jax.jvp: (f(*primals), J tangents), forward mode, computed in C
    by one sweep carrying a tangent over the recorded graph. primals and
    tangents are tuples (or lists) of arguments of the same structures.

    >>> import numpy as np, pyad
    >>> pyad.jvp(lambda x: pyad.sin(x) * 2, (0.0,), (1.0,))
    (0.0, 2.0)
    >>> out, t = pyad.jvp(lambda x, y: x * y, (np.array([1.0, 2.0]), 3.0), (np.ones(2), 0.0))
    >>> out.tolist(), t.tolist()
    ([3.0, 6.0], [3.0, 3.0])
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"{len(primals)} primals but {len(tangents)} tangents")
    nums = list(range(len(primals)))
    t = trace(f, primals, nums, has_aux, force_nested=has_var(list(tangents)))
    outs = Outputs(t.out)
    dirs = _directions(t.inputs, tangents, nums, "tangent")
    if t.nested:
        seeds = [Var(0.0) for _ in outs.elements]
        g = grad_graph(weighted_sum(seeds, outs.elements), t.inputs.vars)
        tan = grad_graph(weighted_sum(dirs, g), seeds)
        result = (outs.structure(outs.elements), outs.structure(tan))
    elif any(isinstance(d, Var) for d in dirs):  # linear in Var tangents
        J = _numbers_jacobian(t.inputs, outs)
        tan = [weighted_sum(dirs, J[o].tolist()) for o in range(outs.m)]
        result = (outs.structure(outs.values()), outs.structure(tan))
    elif t.inputs.n and outs.m and any(isinstance(e, Var) for e in outs.elements):
        vals, tv = freeze(t.inputs.vars, outs.as_vars()).jvp(_point(t.inputs), np.array(dirs))
        result = (outs.structure(vals.tolist()), outs.structure(tv.tolist()))
    else:
        result = (outs.structure(outs.values()), outs.structure([0.0] * outs.m))
    return (*result, t.aux) if has_aux else result


def _numbers_jacobian(inputs: Inputs, outs: Outputs) -> Any:
    if not inputs.n or not outs.m or not any(isinstance(e, Var) for e in outs.elements):
        return np.zeros((outs.m, inputs.n))
    return freeze(inputs.vars, outs.as_vars()).values_and_jacobian(_point(inputs))[1]


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Like jax.vjp: (f(*primals), vjp_fn), where vjp_fn(cotangent) gives
    the tuple of cotangent^T J for each primal, in its structure. The
    cotangent has the structure of f's output. With has_aux=True, also
    aux: (out, vjp_fn, aux). Top-level: f is recorded once and frozen, and
    each vjp_fn call is one reverse sweep in C.

    >>> import numpy as np, pyad
    >>> out, f_vjp = pyad.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> out.tolist(), f_vjp(np.array([1.0, 10.0]))[0].tolist()
    ([1.0, 4.0], [2.0, 40.0])
    """
    nums = list(range(len(primals)))
    t = trace(f, primals, nums, has_aux)
    outs = Outputs(t.out)
    inputs = t.inputs
    prog: list[Frozen] = []

    def cotangents(ct: Any) -> list[Any]:
        leaves, tree = flatten(ct)
        if tree != outs.tree:
            raise ValueError(
                f"the cotangent has structure {tree.describe()}, the output {outs.tree.describe()}"
            )
        flat: list[Any] = []
        for leaf, info in zip(leaves, outs.leaves):
            shape = np.shape(leaf) if isinstance(leaf, np.ndarray) else None
            if shape != info.shape:
                raise ValueError(f"a cotangent leaf of shape {shape}, expected {info.shape}")
            flat.extend(np.ravel(leaf).tolist() if isinstance(leaf, np.ndarray) else [leaf])
        return [x if isinstance(x, Var) else float(x) for x in flat]

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        w = cotangents(ct)
        if t.nested:
            flat = grad_graph(weighted_sum(w, outs.elements), inputs.vars)
        elif any(isinstance(x, Var) for x in w):  # linear in Var cotangents
            J = _numbers_jacobian(inputs, outs)
            flat = [weighted_sum(w, J[:, i].tolist()) for i in range(inputs.n)]
        elif not inputs.n or not any(isinstance(e, Var) for e in outs.elements):
            flat = [0.0] * inputs.n
        else:
            if not prog:
                prog.append(freeze(inputs.vars, outs.as_vars()))
            flat = prog[0].vjp(x0, np.array(w))[1].tolist()
        return tuple(inputs.structure(flat, num) for num in nums)

    x0 = None if t.nested else _point(inputs)
    if not t.nested and inputs.n and any(isinstance(e, Var) for e in outs.elements):
        prog.append(freeze(inputs.vars, outs.as_vars()))
    out = outs.structure(outs.elements if t.nested else outs.values())
    vjp_fn.__name__ = f"vjp({getattr(f, '__name__', 'f')})"
    return (out, vjp_fn, t.aux) if has_aux else (out, vjp_fn)


def _frozen_for_pattern(
    f: Callable[..., Any], args: Sequence[Any], argnums: Any, scalar: bool
) -> Frozen:
    """f recorded at args and frozen over the arguments argnums (for the
    structural patterns of pyad.sparsity)."""
    _, nums = argnums_tuple(argnums, len(args))
    t = trace(f, args, nums, False)
    if scalar:
        out = scalar_output(t.out, "hessian_pattern")
        outs = [out if isinstance(out, Var) else Var(out)]
    else:
        outs = Outputs(t.out).as_vars()
    return freeze(t.inputs.vars, outs)
