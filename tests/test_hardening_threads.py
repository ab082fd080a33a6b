"""Threads (issue 5): 8 threads x 1,000 iterations, each iteration building
a graph, running backward, freezing it with pyad.Function (export +
pyad_program_new) and replaying it, plus a shared compiled function with a
guard (traced concurrently on first use, replayed and re-traced from every
thread; threads that trace the same outcome at once may each add a trace)
and, every 100 iterations, a batch replay with workers. Results
must equal, bit for bit, what one thread computes for the same seeds, and
every node must be freed at the end.

PYAD_THREAD_ITERS sets the iterations (default 1000)."""

import math
import os
import random

import numpy as np
from hostile import run_threads
from support import tape_state

import pyad
from pyad import Var

THREADS = 8
ITERS = int(os.environ.get("PYAD_THREAD_ITERS", "1000"))


def shared_fn(x, y):
    z = pyad.tanh(x * y) + pyad.sum([x, y, 1.0])
    return z * x if z > 0 else pyad.exp(z) - y  # a guard: two traces


def _graph(rng, xs):
    y = xs[0]
    for _ in range(12):
        a = xs[rng.randrange(len(xs))]
        op = rng.randrange(6)
        if op == 0:
            y = y * a + 0.5
        elif op == 1:
            y = pyad.tanh(y) - a
        elif op == 2:
            y = pyad.sin(y * a)
        elif op == 3:
            y = pyad.sigmoid(y) + pyad.softplus(a)
        elif op == 4:
            y = pyad.where(pyad.gt(y, a), y / (1.0 + a * a), -y)
        else:
            y = pyad.sum([y, a, a * y, 1.0]) / 3.0
    return y


def _work(seed, f, iters):
    rng = random.Random(seed)
    out = []
    for i in range(iters):
        xs = [Var(rng.uniform(-2.0, 2.0)) for _ in range(3)]
        y = _graph(rng, xs)
        y.backward()
        eager = (y.val, tuple(v.grad for v in xs))
        F = pyad.Function(xs, y)  # export + program_new
        p = [rng.uniform(-2.0, 2.0) for _ in range(3)]
        v, g = F.value_and_grad(*p)
        sv, sg = f.value_and_grad(p[0], p[1])  # shared, guarded
        rec = [eager, v, tuple(g), sv, tuple(sg)]
        if i % 100 == 0:
            xb = np.array([rng.uniform(-2.0, 2.0) for _ in range(64)])
            bv, bg = f.value_and_grad(xb, p[1], workers=2)
            rec.append((bv.tobytes(), bg.tobytes()))
        out.append(rec)
    return out


def test_8_threads_build_backward_replay_equal_single_thread():
    start = tape_state()
    seeds = list(range(100, 100 + THREADS))
    f1 = pyad.compile(shared_fn)
    sequential = {s: _work(s, f1, ITERS) for s in seeds}
    f8 = pyad.compile(shared_fn)  # fresh: traced by the threads
    results = {}
    # pyflakes misreads the names used by these lambdas
    run_threads([lambda s=s: results.__setitem__(s, _work(s, f8, ITERS)) for s in seeds])  # noqa: F821
    for s in seeds:
        assert len(results[s]) == ITERS
        for i, (a, b) in enumerate(zip(results[s], sequential[s])):
            assert a == b or _nan_equal(a, b), (s, i, a, b)
    # spot-check the shared function against eager evaluation
    for x, y in ((0.5, 1.5), (-1.0, 0.25), (1.75, -1.5)):
        vx, vy = Var(x), Var(y)
        e = shared_fn(vx, vy)
        e.backward()
        v, g = f8.value_and_grad(x, y)
        assert v == e.val and tuple(g) == (vx.grad, vy.grad)
    # two guard outcomes: two traces, one more per thread that traced the
    # same outcome at the same moment (tracing does not hold a lock)
    assert 2 <= f8.traces <= 2 * THREADS
    del f1, f8, sequential, results, vx, vy, e
    assert tape_state()[0] == start[0]


def _nan_equal(a, b):
    """== on the records, with nan == nan."""
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(x == y or _nan_equal(x, y) for x, y in zip(a, b))
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
