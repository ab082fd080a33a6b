"""Lifetime of nodes: every node is freed when no Var needs it, whatever the
order Vars die in; survivors keep their values and gradients while the tape
pops, compacts and shrinks around them; a training loop runs in constant
memory."""

import gc
import math
import os
import random

import pytest
from support import tape_state

import pyad
from pyad import Var
from pyad._lib import lib


def live():
    return tape_state()[0]


# ---- exact accounting --------------------------------------------------------


def test_node_accounting():
    start = live()
    a = Var(1.0)
    assert live() == start + 1
    b = a * 2.0  # the constant is a leaf node too
    assert live() == start + 3
    c = b + a
    assert live() == start + 4
    del a  # still used by b and c
    assert live() == start + 4
    assert c.val == 3.0
    del c
    assert live() == start + 3
    del b
    assert live() == start


def test_pyad_sum_records_one_node():
    vs = [Var(float(i)) for i in range(50)]
    before = live()
    s = pyad.sum(vs)
    assert live() == before + 1
    t = pyad.sum(vs + [1.0, 2.0])  # plus one constant leaf per number
    assert live() == before + 4
    del s, t
    assert live() == before


def test_dead_vars_are_batched_and_flushed_by_live_nodes():
    start = live()
    vs = [Var(float(i)) for i in range(100)]
    keep = Var(0.0)  # so the dead ones are not at the end
    del vs
    # fewer than a batch died: C has not been told yet, live_nodes() flushes
    assert lib.pyad_live_nodes() >= start + 1
    assert pyad.live_nodes() == start + 1
    del keep
    assert live() == start


def _build():
    """A graph with shared subexpressions: name -> Var, leaves first."""
    g = {}
    g["x"], g["y"], g["z"] = Var(0.5), Var(-1.25), Var(2.0)
    g["xy"] = g["x"] * g["y"]
    g["s"] = pyad.sin(g["xy"]) + g["z"]
    g["t"] = g["s"] * g["s"] - 3.0 * g["xy"]
    g["u"] = pyad.sum([g["t"], g["x"], 1.0, g["s"]])
    g["w"] = pyad.exp(-g["u"]) / (1.0 + g["z"] ** 2)
    g["v"] = abs(g["w"] - g["t"])
    return g


def _expected_w_grads():
    g = _build()
    g["w"].backward()
    return g["w"].val, g["x"].grad, g["y"].grad, g["z"].grad


ORDERS = {
    "interior_first": ["v", "w", "u", "t", "s", "xy", "z", "y", "x"],
    "leaves_first": ["x", "y", "z", "xy", "s", "t", "u", "w", "v"],
    "creation_order": ["x", "y", "z", "xy", "s", "t", "u", "v", "w"],
}
for _seed in range(6):
    _names = list(ORDERS["creation_order"])
    random.Random(_seed).shuffle(_names)
    ORDERS[f"random{_seed}"] = _names


def _check_w(g, want):
    """w's graph still works and gives the same numbers, whichever of its
    Vars died (no reference to any Var outlives this call)."""
    leaves = [g.get(n) for n in ("x", "y", "z")]
    for v in leaves:
        if v is not None:
            v.grad = 0.0
    g["w"].backward()
    assert g["w"].val == want[0]
    for v, gw in zip(leaves, want[1:]):
        if v is not None:
            assert v.grad == gw


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_all_nodes_freed_in_any_deletion_order(order):
    start = tape_state()
    want = _expected_w_grads()
    assert live() == start[0]
    g = _build()
    built = live()
    assert built > start[0]
    names = ORDERS[order]
    for name in names:
        del g[name]
        gc.collect()
        now = live()
        assert start[0] <= now <= built
        if "w" in g:
            _check_w(g, want)
    assert not g
    assert tape_state() == start


def _layers(xs, depth):
    layers = [xs]
    for _ in range(depth):
        prev = layers[-1]
        layers.append([pyad.tanh(prev[i] * prev[(i + 7) % 50] + 0.1) for i in range(50)])
    return layers


def test_dropping_everything_returns_to_start_for_big_graphs():
    start = tape_state()
    rng = random.Random(1)
    xs = [Var(rng.random()) for _ in range(50)]
    layers = _layers(xs, 40)
    out = pyad.sum(layers[-1])
    out.backward()
    assert all(math.isfinite(v.grad) and v.grad != 0.0 for v in xs)
    del layers, out
    assert live() == start[0] + 50
    del xs
    assert tape_state() == start


def test_arrays_shrink_after_a_big_graph_dies():
    start_bytes = lib.pyad_bytes_reserved()
    x = Var(1.0)
    y = x
    for _ in range(300_000):
        y = y * 1.0000001
    big = lib.pyad_bytes_reserved()
    assert big > start_bytes + 300_000 * 8
    del y
    tape_state()
    # the capacity halves at each release while the tape is under a quarter
    # full: a few more releases bring it back down
    for _ in range(20):
        Var(0.0)
        tape_state()
    assert lib.pyad_bytes_reserved() < big / 16
    del x


# ---- survivors keep their numbers while the tape compacts around them -----


def _chain_with_side_branches(n, keep_every):
    """y_{i+1} = sin(y_i) + x, with a side branch 2 exp(-y^2) - 1 at every
    step that dies at once unless kept. Forward-mode values and derivatives
    in plain floats go along."""
    x = Var(0.7)
    y, fy, dy = x, 0.7, 1.0
    kept_chain, kept_side = [], []
    for i in range(n):
        side = pyad.exp(-(y * y)) * 2.0 - 1.0
        fside = math.exp(-(fy * fy)) * 2.0 - 1.0
        dside = -4.0 * fy * math.exp(-(fy * fy)) * dy
        if i % keep_every == 0:
            kept_side.append((side, fside, dside))
        y = pyad.sin(y) + x
        fy, dy = math.sin(fy) + 0.7, math.cos(fy) * dy + 1.0
        if i % keep_every == keep_every // 2:
            kept_chain.append((y, fy, dy))
    return x, y, (fy, dy), kept_chain, kept_side


def test_survivors_after_compaction():
    start = tape_state()
    x, y, (fy, dy), kept_chain, kept_side = _chain_with_side_branches(20_000, 1000)
    # most side nodes died in the middle of the tape: it was compacted on
    # the way, so it stays within a small factor of the live nodes
    n_live, length = tape_state()
    assert n_live - start[0] < 20_000 * 2 + 20 * 7 + 10
    assert length <= 2 * n_live + 4096 + start[1]
    assert y.val == fy
    y.backward()
    assert math.isclose(x.grad, dy, rel_tol=1e-9)
    g_x = x.grad
    chain_grads = [v.grad for v, _, _ in kept_chain]
    # keep computing with the survivors: more garbage, more compaction
    for _ in range(5):
        junk = [pyad.cos(v) * 3.0 for v, _, _ in kept_chain for _ in range(200)]
        del junk
        extra = [Var(1.0) for _ in range(3000)]
        tail = x * 1.0
        del extra, tail
    assert x.grad == g_x
    assert [v.grad for v, _, _ in kept_chain] == chain_grads
    assert y.val == fy
    for v, fv, _ in kept_chain:
        assert v.val == fv
    for v, fv, _ in kept_side:
        assert v.val == fv
    # the same sweep again gives bit-identical gradients
    y.zero_grad()
    y.backward()
    assert x.grad == g_x
    # drop the end of the chain: its nodes are popped, the survivors work
    del y
    for v, fv, dv in kept_chain + kept_side:
        x.grad = 0.0
        v.backward()
        assert math.isclose(x.grad, dv, rel_tol=1e-9)
        z = v * v + x
        z.backward()
        assert z.val == fv * fv + 0.7
    del kept_chain, kept_side, v, z
    assert live() == start[0] + 1
    del x
    assert tape_state()[0] == start[0]


# ---- a training loop runs in constant memory ---------------------------------


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_training_loop_memory_is_flat():
    rng = random.Random(0)
    data = []
    for _ in range(20):
        x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        data.append((x1, x2, 1.5 * x1 - 2.0 * x2 + 0.5))
    w1, w2, b = Var(0.0), Var(0.0), Var(0.0)
    params = (w1, w2, b)
    lr = 0.1
    checkpoints = []
    loss = None
    for step in range(4000):
        loss = pyad.sum([(w1 * x1 + w2 * x2 + b - y) ** 2 for x1, x2, y in data]) / len(data)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.val = p.val - lr * p.grad
        if step >= 1000 and step % 500 == 0:
            checkpoints.append((pyad.live_nodes(), lib.pyad_bytes_reserved(), _rss_bytes()))
    assert loss.val < 1e-20
    assert math.isclose(w1.val, 1.5, rel_tol=1e-9)
    assert math.isclose(w2.val, -2.0, rel_tol=1e-9)
    assert math.isclose(b.val, 0.5, rel_tol=1e-9)
    lives = {c[0] for c in checkpoints}
    assert len(lives) == 1, checkpoints
    # Bounded, not growing: the tape's capacity follows how many dead nodes
    # wait for the next sync of the record buffer (pyad/_lib.py), so it
    # moves between checkpoints, but the second half never exceeds the first.
    reserved = [c[1] for c in checkpoints]
    assert max(reserved[3:]) <= max(reserved[:3]) <= 4 * min(reserved), reserved
    rss = [c[2] for c in checkpoints]
    assert rss[-1] - rss[0] < 2 * 1024 * 1024, rss
