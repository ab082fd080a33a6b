"""Batch replay with the two lanes forms of the kernels (csrc/kernels.h).

A batch runs each op with the lanes forms (nan outside a kernel's ordinary
range, those points recomputed with the point form) until more than an
eighth of a block's points need that, then with the exact lanes forms for
the rest of the batch. Whatever the mix of arguments and the order of the
blocks, every point must come out as eager recording gives it, bit for bit.
The ops come from the C table: every op of 1 to 3 operands.
"""

import math

import numpy as np
import pytest
from support import same_float

import pyad
from pyad import Var
from pyad._lib import lib
from pyad.optable import OPS

BLOCK = 16  # points per block, forced small so that a batch spans blocks

# Arguments outside some kernel's ordinary range: zeros, tiny, subnormal,
# past exp's and tanh's ranges, past the trig reduction, not finite.
RARE = [0.0, -0.0, 1e-20, -3e-9, 1e-310, 25.0, -30.0, 800.0]
RARE += [-800.0, 2.0**21, -1e30, math.inf, -math.inf, math.nan, 1e-7, -1.0]
# Ordinary arguments of every kernel.
ORDINARY = [0.3, -0.7, 1.5, -2.25, 0.11, 3.0, -0.45, 2.0]
ORDINARY += [0.9, -1.3, 0.6, 1.1, -2.9, 0.25, 4.5, -0.05]

FIXED = [op for op in OPS if 1 <= op.arity <= 3]


def _columns(arity, layout):
    """arity columns of 3 blocks: rare, ordinary and mixed points, in the
    order `layout` gives; each column a different rotation."""
    blocks = {
        "rare": RARE,
        "ordinary": ORDINARY,
        "mixed": [r if i % 3 == 0 else o for i, (r, o) in enumerate(zip(RARE, ORDINARY))],
    }
    base = [x for name in layout for x in blocks[name]]
    return [np.array(base[k:] + base[:k]) for k in range(0, 5 * arity, 5)]


@pytest.fixture
def small_blocks():
    assert lib.pyad_program_set_block(BLOCK) == 0
    yield
    lib.pyad_program_set_block(0)


@pytest.mark.parametrize(
    "layout",
    [("rare", "ordinary", "mixed"), ("ordinary", "mixed", "rare")],
    ids=["rare-first", "ordinary-first"],
)
@pytest.mark.parametrize("op", FIXED, ids=[op.name for op in FIXED])
def test_batch_equals_eager_across_blocks(op, layout, small_blocks):
    fn = getattr(pyad, op.name)
    cols = _columns(op.arity, layout)
    c = pyad.compile(lambda *xs: fn(*xs))
    with np.errstate(all="ignore"):
        V, G = c.value_and_grad(*cols, workers=1)
        values_only = c(*cols, workers=1)
    for i in range(len(cols[0])):
        xs = [Var(float(col[i])) for col in cols]
        y = fn(*xs)
        y = y if isinstance(y, Var) else Var(y)
        y.backward()
        want = [y.val] + [x.grad for x in xs]
        got = [V[i]] + list(np.atleast_1d(G[i]))
        assert all(same_float(float(a), float(b)) for a, b in zip(got, want)), (
            op.name,
            [float(col[i]) for col in cols],
            got,
            want,
        )
        assert same_float(float(values_only[i]), y.val), (op.name, i)


def test_a_kernel_chain_on_mostly_rare_points(small_blocks):
    """exp of values that mostly underflow (a Gaussian of far points): the
    blocks switch to the exact forms and still give eager's bits."""
    f = pyad.compile(lambda d, s: pyad.exp(-(d * d) / (2.0 * s * s)) * pyad.tanh(d))
    rng = np.random.default_rng(3)
    d = np.concatenate([rng.uniform(40.0, 60.0, 5 * BLOCK), rng.uniform(-2.0, 2.0, 3 * BLOCK)])
    s = np.full(d.shape, 1.0)
    V, G = f.value_and_grad(d, s, workers=1)
    for i in range(len(d)):
        a, b = Var(float(d[i])), Var(1.0)
        y = pyad.exp(-(a * a) / (2.0 * b * b)) * pyad.tanh(a)
        y.backward()
        assert same_float(V[i], y.val) and same_float(G[i][0], a.grad), i
        assert same_float(G[i][1], b.grad), i


WIDTHS = [(n, None) for n in range(1, 6)] + [(n, k) for n in range(2, 6) for k in (0, n - 1)]


@pytest.mark.parametrize(("n", "skip"), WIDTHS, ids=[f"{n}-inputs-unused-{k}" for n, k in WIDTHS])
def test_batch_gradients_of_every_width(n, skip, small_blocks):
    """A block's gradients are written point by point, input by input
    (csrc/batch.c grads_out: unrolled for 1 to 4 inputs that the sweep all
    reached, a general loop otherwise). Each point's Jacobian, for 1 to 5
    inputs, one of them unused (its column 0.0), two outputs (rows of the
    Jacobian side by side), zeros among the arguments (-0.0 partials come
    out as +0.0, as eager's gradients do): bit for bit eager's."""

    def fn(*xs):
        used = [(k, x) for k, x in enumerate(xs) if k != skip]
        first = used[0][1] * pyad.sin(used[-1][1])
        second = used[-1][1] * 0.5
        for k, x in used:
            first = first + x * (k + 1.5)
            second = second * x
        return first, second

    rng = np.random.default_rng(n)
    cols = [rng.uniform(-2.0, 2.0, 3 * BLOCK + 5) for _ in range(n)]
    for col in cols:
        col[::7] = -0.0
        col[3::11] = 0.0
    c = pyad.compile(fn)
    V, J = c.value_and_jacobian(*cols, workers=1)
    assert J.shape == (len(cols[0]), 2, n)
    for i in range(len(cols[0])):
        for o in range(2):
            xs = [Var(float(col[i])) for col in cols]
            y = fn(*xs)[o]
            y.backward()
            assert same_float(float(V[i][o]), y.val), (i, o)
            want = [x.grad for x in xs]
            got = [float(g) for g in J[i][o]]
            assert all(same_float(a, b) for a, b in zip(got, want)), (n, skip, i, o, got, want)
