"""The meaning of a compiled program's arrays, in Python, and a check of
replay against it (tests/test_fuzz_loader.py, tests/test_compile.py): the
ops' values and partials come from the pure-Python reference,
tests/hardening_ref.py. Also eager evaluation as the compiled tests'
reference, and bit-for-bit comparison (tests/test_compile*.py)."""

import math
import struct

import numpy as np
from hardening_ref import NAMES, OPS

from pyad import Var
from pyad._lib import lib
from pyad.replay import eval_batch


def _guard_holds(kind, a, b, c):
    if kind == 0:
        return a < b
    if kind == 1:
        return a <= b
    if kind == 2:
        return a > b
    if kind == 3:
        return a >= b
    if kind == 4:
        return a != b
    return struct.pack("<d", a) == struct.pack("<d", c)


def interpret(A, x):
    """The program's meaning, in Python: (guards hold, values, Jacobian)."""
    ops, starts, args = A["node_op"], A["arg_start"], A["args"]
    n = ops.size
    v = [float(t) for t in A["node_value"]]
    for i, s in enumerate(A["input_slot"]):
        v[int(s)] = float(x[i])
    for k in range(n):
        if ops[k] >= 0:
            v[k] = OPS[NAMES[int(ops[k])]][1]([v[int(a)] for a in args[starts[k] : starts[k + 1]]])
    holds = True
    for g in range(A["guard_kind"].size):
        b = v[int(A["guard_b"][g])] if A["guard_b"][g] >= 0 else float(A["guard_c"][g])
        ok = _guard_holds(
            int(A["guard_kind"][g]), v[int(A["guard_a"][g])], b, float(A["guard_c"][g])
        )
        holds = holds and ok == bool(A["guard_outcome"][g])
    jac = []
    for out in A["output_slot"]:
        out = int(out)
        adj = [-0.0] * n
        reached = [False] * n
        adj[out] += 1.0
        reached[out] = True
        for k in range(out, -1, -1):
            if ops[k] < 0 or not reached[k]:
                continue
            operands = [int(a) for a in args[starts[k] : starts[k + 1]]]
            xs = [v[a] for a in operands]
            d = OPS[NAMES[int(ops[k])]][2](xs, v[k])
            for a, de in zip(operands, d):
                adj[a] += adj[k] * de
                reached[a] = True
        jac.append([0.0 + (adj[int(s)] if s <= out else -0.0) for s in A["input_slot"]])
    return holds, [v[int(o)] for o in A["output_slot"]], jac


def same(a, b):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def all_same(got, want):
    got, want = np.ravel(np.asarray(got, dtype=float)), np.ravel(np.asarray(want, dtype=float))
    return got.size == want.size and all(same(a, b) for a, b in zip(got, want))


def check_replay(prog, points):
    """Replay prog (a pyad.program.Program) at each point, alone and as a
    batch (one thread and two workers), and assert that it gives what
    interpret() says, bit for bit: guard outcomes, values, Jacobian."""
    A = prog.arrays
    want = [interpret(A, p) for p in points]
    for p, (holds, wv, wj) in zip(points, want):
        st_, vals, grads, info = prog.eval(list(p), True)
        if not holds:
            assert st_ == lib.PYAD_ERR_GUARD and info[2] >= 0
            continue
        assert st_ == 0
        assert all_same(vals, wv) and all_same(grads, wj), (p, vals, wv, grads, wj)
    cols = [np.array([p[i] for p in points]) for i in range(prog.n_in)]
    for workers in (None, 2):
        st_, info, V, G, fail = eval_batch(prog, cols, len(points), True, workers)
        assert st_ == 0
        for k, (holds, wv, wj) in enumerate(want):
            assert bool(fail[k]) == (not holds)
            if holds:
                assert all_same(V[k], wv) and all_same(G[k], wj)


# ---- eager evaluation, the reference of the compiled tests ----------------


def eager(fn, xs):
    """(values, Jacobian) by eager recording + backward, one row per output."""
    leaves = [Var(x) for x in xs]
    out = fn(*leaves)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    vals = [o.val if isinstance(o, Var) else float(o) for o in outs]
    jac = []
    for k in range(len(outs)):
        leaves = [Var(x) for x in xs]
        out = fn(*leaves)
        o = list(out)[k] if isinstance(out, (tuple, list)) else out
        if isinstance(o, Var):
            o.backward()
            jac.append([v.grad for v in leaves])
        else:
            jac.append([0.0] * len(xs))
    return np.array(vals, dtype=np.float64), np.array(jac, dtype=np.float64).reshape(
        len(outs), len(xs)
    )


def bits_equal(a, b):
    """Equal bit for bit (signed zeros too); any nan equals any nan."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(nan | (a.view(np.int64) == b.view(np.int64))))


def assert_bits(a, b, msg=""):
    assert bits_equal(a, b), f"{msg}\nreplay: {a!r}\neager:  {b!r}"


def branchy(x):
    return x * x if x > 0 else -x
