"""Property-based tests: random expression DAGs with shared subexpressions,
evaluated and differentiated by pyad and by an independent reference engine
(tests/dag_ref.py: plain floats + math, reverse sweep in topological order).

A program is a list of nodes; every node picks its operands among the
nodes before it, so subexpressions are shared (and x*x-style repeated
operands occur). The reference runs the same program twice: in floats, and
in mpmath at 50 digits. Examples where the two disagree by more than 1e-12
(relative) are badly conditioned and are assumed away; on the rest pyad
must agree with the float reference to 1e-10 relative, for the value of
every node and the gradient of every node.
"""

import math
import operator

import mpmath
import numpy as np
from dag_ref import FloatBackend, MpBackend, reference
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import UNARY_OPS

import pyad
from pyad import Var

UNARY_NAMES = ["pos", *UNARY_OPS]
BINARY_NAMES = ["add", "sub", "mul", "div", "pow"]
MAX_MAG = 1e6


# ---- running a program on pyad -----------------------------------------------

_OPS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
}
_NP_UFUNC = {
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "neg": np.negative,
    "abs": np.absolute,
}


def _pyad_unary(name, v, style):
    """style 0: operator or pyad function; 1: numpy ufunc on an object array
    holding the Var; 2: Var method."""
    if name == "pos":
        return +v
    if style == 1 and name in _NP_UFUNC:
        return _NP_UFUNC[name](np.array([v], dtype=object))[0]
    if name == "neg":
        return -v
    if name == "abs":
        return abs(v)
    if style == 2:
        return getattr(v, name)()
    return getattr(pyad, name)(v)


def run_pyad(prog, styles, leaf_args=None):
    vs = []
    leaves = iter(leaf_args) if leaf_args is not None else None
    for node, style in zip(prog, styles):
        kind = node[0]
        if kind == "leaf":
            v = next(leaves) if leaves is not None else Var(node[1])
        elif kind == "unary":
            v = _pyad_unary(node[1], vs[node[2]], style)
        elif kind == "binary":
            v = _OPS[node[1]](vs[node[2]], vs[node[3]])
        elif kind == "binary_vc":
            v = _OPS[node[1]](vs[node[2]], node[3])
        elif kind == "binary_cv":
            v = _OPS[node[1]](node[2], vs[node[3]])
        elif kind == "sum":
            v = pyad.sum([vs[x] if is_node else x for is_node, x in node[1]])
        elif kind == "builtin_sum":
            v = sum(vs[x] if is_node else x for is_node, x in node[1])
        vs.append(v)
    return vs


# ---- generating programs -------------------------------------------------------

LEAF_VALUES = st.one_of(
    st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 1e-3]),
)
CONSTS = st.one_of(
    st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, 2.0, -1.0]),
)
EXPONENTS = st.sampled_from([0, 1, 2, 3, -1, 0.5, 1.5, -0.5, 2.5, -2.0])


def _const_kind(draw, c):
    kind = draw(st.sampled_from(["float", "float", "int", "np"]))
    if kind == "int" and float(c).is_integer():
        return int(c)
    if kind == "np":
        return np.float64(c)
    return float(c)


def _valid(node, vals):
    """Is the node inside every op's domain, with moderate values and
    finite partials? (Checked in floats while generating.)"""
    try:
        prog_vals, _ = reference_step(node, vals)
    except (ValueError, OverflowError, ZeroDivisionError):
        return False
    y, partials = prog_vals
    return (
        math.isfinite(y)
        and abs(y) <= MAX_MAG
        and all(math.isfinite(d) and abs(d) <= MAX_MAG for d in partials)
    )


def reference_step(node, vals):
    """Float value and partials of one node given operand values."""
    kind = node[0]
    B = FloatBackend
    if kind == "unary":
        x = vals[node[2]]
        if node[1] == "pos":
            return (x, [1.0]), None
        if node[1] in ("log", "sqrt") and not x > 0:
            raise ValueError
        if node[1] == "log1p" and not x > -1:
            raise ValueError
        y, d = B.unary(node[1], x)
        return (y, [d]), None
    if kind in ("binary", "binary_vc", "binary_cv"):
        if kind == "binary":
            a, b = vals[node[2]], vals[node[3]]
        elif kind == "binary_vc":
            a, b = vals[node[2]], float(node[3])
        else:
            a, b = float(node[2]), vals[node[3]]
        if node[1] == "div" and b == 0:
            raise ValueError
        if node[1] == "pow":
            if kind == "binary_vc" and float(b).is_integer():
                if a == 0 and b <= 0:
                    raise ValueError
            elif not a > 0:
                raise ValueError
        y, da, db = B.binary(node[1], a, b)
        return (y, [da, db]), None
    if kind in ("sum", "builtin_sum"):
        total = math.fsum(vals[x] if is_node else float(x) for is_node, x in node[1])
        return (total, [1.0]), None
    raise ValueError(kind)


@st.composite
def programs(draw, max_leaves=4, max_ops=22):
    n_leaves = draw(st.integers(1, max_leaves))
    prog = [("leaf", draw(LEAF_VALUES)) for _ in range(n_leaves)]
    vals = [p[1] for p in prog]
    styles = [0] * n_leaves
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(prog)
        # operands: any earlier node (sharing), or one of the last three
        # (depth)
        pick = st.one_of(st.integers(0, n - 1), st.integers(max(0, n - 3), n - 1))
        kind = draw(
            st.sampled_from(
                [
                    "unary",
                    "unary",
                    "binary",
                    "binary",
                    "binary_vc",
                    "binary_cv",
                    "sum",
                    "builtin_sum",
                ]
            )
        )
        if kind == "unary":
            node = ("unary", draw(st.sampled_from(UNARY_NAMES)), draw(pick))
        elif kind == "binary":
            node = ("binary", draw(st.sampled_from(BINARY_NAMES)), draw(pick), draw(pick))
        elif kind == "binary_vc":
            op = draw(st.sampled_from(BINARY_NAMES))
            c = draw(EXPONENTS if op == "pow" else CONSTS)
            node = ("binary_vc", op, draw(pick), _const_kind(draw, c))
        elif kind == "binary_cv":
            op = draw(st.sampled_from(BINARY_NAMES))
            c = draw(st.floats(0.25, 3.0) if op == "pow" else CONSTS)
            node = ("binary_cv", op, _const_kind(draw, c), draw(pick))
        else:
            items = draw(
                st.lists(
                    st.one_of(pick.map(lambda i: (True, i)), CONSTS.map(lambda c: (False, c))),
                    min_size=1,
                    max_size=6,
                )
            )
            if not any(is_node for is_node, _ in items):
                items.append((True, draw(pick)))
            node = (kind, items)
        if not _valid(node, vals):
            node = ("unary", "sin", draw(pick))
        prog.append(node)
        vals.append(
            reference_step(node, vals)[0][0]
            if node[0] != "sum"
            else reference(prog, 1.0, FloatBackend)[0][-1]
        )
        styles.append(draw(st.integers(0, 2)))
    # the output sums every node nothing else uses, so that every node
    # reaches it
    used = set()
    for node in prog:
        if node[0] in ("unary", "binary_vc"):
            used.add(node[2])
        elif node[0] == "binary":
            used.update(node[2:4])
        elif node[0] == "binary_cv":
            used.add(node[3])
        elif node[0] in ("sum", "builtin_sum"):
            used.update(x for is_node, x in node[1] if is_node)
    sinks = [k for k in range(len(prog)) if k not in used]
    if len(sinks) > 1:
        prog.append(("sum", [(True, k) for k in sinks]))
        styles.append(0)
    return prog, styles


def _well_conditioned(xf, xm):
    """Float reference within 1e-12 (relative) of the exact one."""
    m = float(xm)
    if not (math.isfinite(xf) and math.isfinite(m)):
        return False
    return abs(xf - m) <= 1e-12 * abs(m)


def _agree(got, want):
    return abs(got - want) <= 1e-10 * abs(want)


SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@SETTINGS
@given(programs(), st.sampled_from([1.0, -2.5, 0.5, 3.0]))
def test_random_dags_match_reference(case, seed):
    prog, styles = case
    with mpmath.workdps(50):
        vf, gf = reference(prog, seed, FloatBackend)
        vm, gm = reference(prog, seed, MpBackend)
    assume(all(_well_conditioned(a, b) for a, b in zip(vf, vm)))
    assume(all(_well_conditioned(a, b) for a, b in zip(gf, gm)))

    vs = run_pyad(prog, styles)
    vs[-1].backward(seed)
    for k, v in enumerate(vs):
        assert isinstance(v, Var)
        assert _agree(v.val, vf[k]), ("value", k, prog[k], v.val, vf[k])
    for k, v in enumerate(vs):
        assert _agree(v.grad, gf[k]), ("grad", k, prog[k], v.grad, gf[k])


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(programs(max_ops=15))
def test_backward_is_linear_and_functional_api_agrees(case):
    """Two backward passes give exactly twice the gradients; zero_grad then
    backward gives them once again; pyad.value_and_grad over the leaves
    gives bit-identical results to the direct backward."""
    prog, styles = case
    vs = run_pyad(prog, styles)
    out = vs[-1]
    leaves = [v for node, v in zip(prog, vs) if node[0] == "leaf"]
    out.backward()
    once = [v.grad for v in vs]
    assume(all(math.isfinite(g) and abs(g) < 1e300 for g in once))
    out.backward()
    assert [v.grad for v in vs] == [2 * g for g in once]
    out.zero_grad()
    assert all(v.grad == 0.0 for v in leaves)
    out.backward()
    assert [v.grad for v in vs] == once

    leaf_values = [node[1] for node in prog if node[0] == "leaf"]

    def f(*args):
        return run_pyad(prog, styles, leaf_args=args)[-1]

    value, grads = pyad.value_and_grad(f, argnums=tuple(range(len(leaves))))(*leaf_values)
    assert value == out.val
    assert list(grads) == [v.grad for v in leaves]
