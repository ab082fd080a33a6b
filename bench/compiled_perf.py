"""Performance of compiled replay (pyad.compile). Run from the repository root:

    python bench/compiled_perf.py

Prints ns per op for scalar replay (forward + backward), batch replay per
point, worker speed-up, and compares value+gradient by replay with the same
function evaluated on plain Python floats.
"""
import math
import random
import sys
import time

# single-thread figures use thread CPU time (robust to other load on the
# machine); worker speed-ups need wall time.

import os

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pyad  # noqa: E402  (this worktree's pyad, not an installed one)
from pyad._lib import lib  # noqa: E402

N_OPS = 10_000


def random_graph(n_in, n_ops, seed=0, ops=("add", "sub", "mul", "div", "tanh", "sin")):
    """A random DAG as a list of steps; operands mostly recent nodes."""
    rng = random.Random(seed)
    steps = []
    n = n_in
    for _ in range(n_ops):
        op = rng.choice(ops)
        a = n - 1 - min(int(rng.expovariate(0.1)), n - 1)
        b = rng.randrange(n)
        steps.append((op, a, b))
        n += 1
    return steps


def make_fn(steps, lib_funcs):
    tanh, sin = lib_funcs

    def fn(*xs):
        nodes = list(xs)
        ap = nodes.append
        for op, a, b in steps:
            x, y = nodes[a], nodes[b]
            if op == "add":
                ap(x + y)
            elif op == "sub":
                ap(x - y)
            elif op == "mul":
                ap(x * y * 0.5)
            elif op == "div":
                ap(x / (y * y + 1.0))
            elif op == "tanh":
                ap(tanh(x))
            else:
                ap(sin(x))
        return nodes[-1]

    return fn


def timeit(f, reps, clock=time.thread_time):
    best = math.inf
    for _ in range(3):
        t = clock()
        for _ in range(reps):
            f()
        best = min(best, (clock() - t) / reps)
    return best


def horner(x, y):
    s = x
    for i in range(5000):
        s = s * y + 0.001 * (i % 7)
    return s


def dense_layers(a, b, c, d):
    xs = [a, b, c, d]
    r = random.Random(0)
    for layer in range(40):
        nxt = []
        for _ in range(8):
            s = xs[0] * r.uniform(-1, 1)
            for x in xs[1:]:
                s = s + x * r.uniform(-1, 1)
            nxt.append(pyad.tanh(s) if layer % 2 else pyad.relu(s))
        xs = nxt
    return pyad.sum(xs)


def main():
    n_in = 4
    xs = [0.3, -0.7, 1.1, 0.5]
    print(f"python {sys.version.split()[0]}")
    for label, ops in [("arith (add/sub/mul/div)", ("add", "sub", "mul", "div")),
                       ("mixed (+ tanh, sin)", ("add", "sub", "mul", "div", "tanh", "sin"))]:
        n_steps = N_OPS // 2
        for _ in range(2):        # size the graph so the program has ~N_OPS ops
            steps = random_graph(n_in, n_steps, ops=ops)
            fn = make_fn(steps, (pyad.tanh, pyad.sin))
            pyfn = make_fn(steps, (math.tanh, math.sin))
            f = pyad.compile(fn)
            f.value_and_grad(*xs)
            n_steps = int(n_steps * N_OPS / f._traces[0].n_ops)
        prog = f._traces[0]
        n_ops = prog.n_ops
        print(f"\n== {label}: {n_ops} ops in the program")
        reps = 2000
        t_vg = timeit(lambda: f.value_and_grad(*xs), reps)
        t_v = timeit(lambda: f(*xs), reps)
        t_py = timeit(lambda: pyfn(*xs), 200)
        t_eager = timeit(lambda: pyad.value_and_grad(fn, argnums=(0, 1, 2, 3))(*xs), 5)
        print(f"scalar value+grad : {t_vg * 1e6:9.1f} us/call  {t_vg / n_ops * 1e9:6.2f} ns/op")
        print(f"scalar value      : {t_v * 1e6:9.1f} us/call  {t_v / n_ops * 1e9:6.2f} ns/op")
        print(f"plain Python floats (value only): {t_py * 1e6:9.1f} us/call "
              f"-> replay value+grad is {t_py / t_vg:5.1f}x faster")
        print(f"eager pyad value+grad: {t_eager * 1e6:9.1f} us/call")
        # 10,000 replays of the 10,000-op graph
        t0 = time.thread_time()
        for _ in range(10_000):
            f.value_and_grad(*xs)
        t = time.thread_time() - t0
        print(f"10,000 x value+grad: {t:.2f} s total, {t / 10_000 / n_ops * 1e9:.2f} ns/op")
        # batches
        rng = np.random.default_rng(0)
        N = 100_000
        cols = [rng.uniform(-1, 1, N) for _ in range(n_in)]
        for mode in ("value", "value+grad"):
            call = (lambda w: f(*cols, workers=w)) if mode == "value" else \
                   (lambda w: f.value_and_grad(*cols, workers=w))
            t0 = timeit(lambda: call(None), 1)
            t1 = timeit(lambda: call(None), 1, time.perf_counter)
            t2 = timeit(lambda: call(2), 1, time.perf_counter)
            print(f"batch {N} {mode:10s}: 1 thread {t0:6.2f} s cpu = {t0 / N / n_ops * 1e9:5.2f} "
                  f"ns/op/point; wall: 1 thread {t1:5.2f} s, 2 workers {t2:5.2f} s "
                  f"(speed-up {t1 / t2:4.2f}x)")

    # structured graphs, as user code makes them: the op sequence is regular,
    # so the replay loop's dispatch is predictable (the random graphs above
    # are the worst case: a branch mispredict on most ops)
    print()
    for name, fn, args in (("chain s = s*y + c", horner, (0.5, 0.9)),
                           ("dense layers (mul/add, tanh/relu)", dense_layers, (0.1, 0.2, 0.3, 0.4))):
        g = pyad.compile(fn)
        g.value_and_grad(*args)
        n = g._traces[0].n_ops
        t = min(timeit(lambda: g.value_and_grad(*args), 2000) for _ in range(3))
        print(f"structured, {name}: {n} ops, value+grad {t / n * 1e9:.2f} ns/op")

    # small function: per-call overhead
    small = pyad.compile(lambda x, y: x * pyad.sin(y) + y * y)
    small(1.0, 2.0)
    t_s = timeit(lambda: small.value_and_grad(1.0, 2.0), 20000)
    t_s0 = timeit(lambda: small(1.0, 2.0), 20000)
    t_sp = timeit(lambda: 1.0 * math.sin(2.0) + 2.0 * 2.0, 20000)
    print(f"\nsmall function (4 ops): value+grad {t_s * 1e6:.2f} us, value {t_s0 * 1e6:.2f} us, "
          f"plain Python {t_sp * 1e6:.2f} us")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        lib.pyad_program_set_block(int(sys.argv[1]))
    main()
