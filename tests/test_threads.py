"""Threads: independent graphs built and differentiated at once give
bit-identical results to a sequential run; a shared leaf works from several
threads; errstate is per thread."""

import math
import random
import threading

from hostile import run_threads
from support import tape_state

import pyad
from pyad import Var

N_THREADS = 4


def _work(seed, iters=800):
    rng = random.Random(seed)
    out = []
    for _ in range(iters):
        xs = [Var(rng.uniform(-2.0, 2.0)) for _ in range(5)]
        y = xs[0]
        for _ in range(40):
            a = xs[rng.randrange(5)]
            op = rng.randrange(5)
            if op == 0:
                y = y * a + 0.5
            elif op == 1:
                y = pyad.tanh(y) - a
            elif op == 2:
                y = pyad.sin(y * a)
            elif op == 3:
                y = pyad.sigmoid(y) + pyad.softplus(a)
            else:
                y = pyad.sum([y, a, a * y, 1.0]) / 3.0
        y.backward()
        out.append((y.val, tuple(x.grad for x in xs)))
    return out


def _junk(stop):
    """Makes garbage in the middle of the tape (so it compacts) and frees
    big graphs, while the workers run."""
    while not stop.is_set():
        keep = Var(1.0)
        junk = [keep * float(i) for i in range(5000)]
        tail = keep + 1.0
        del junk
        z = tail * 2.0
        z.backward()
        del keep, tail, z


def test_parallel_graphs_match_sequential_bit_for_bit():
    start = tape_state()
    seeds = list(range(N_THREADS))
    sequential = {s: _work(s) for s in seeds}
    assert tape_state()[0] == start[0]
    results = {}
    stop = threading.Event()
    junk = threading.Thread(target=_junk, args=(stop,))
    junk.start()
    try:
        run_threads([lambda s=s: results.__setitem__(s, _work(s)) for s in seeds])
    finally:
        stop.set()
        junk.join()
    for s in seeds:
        assert results[s] == sequential[s], s  # == on floats: bitwise
    assert tape_state()[0] == start[0]


def test_shared_leaf_from_several_threads():
    start = tape_state()
    shared = Var(1.5)
    iters = 2000
    seen_vals = []

    def use(c):
        def run():
            for _ in range(iters):
                # pyflakes misreads the `del shared` below, which runs after the threads
                y = shared * shared * float(c)  # noqa: F821
                y.backward()
                seen_vals.append(shared.val)  # noqa: F821  (as above)

        return run

    run_threads([use(c) for c in range(1, N_THREADS + 1)])
    # each backward adds 2 * 1.5 * c exactly; integer sums are exact
    assert shared.grad == 3.0 * iters * sum(range(1, N_THREADS + 1))
    assert set(seen_vals) == {1.5}
    del shared
    assert tape_state()[0] == start[0]


def test_errstate_is_per_thread():
    entered, go = threading.Event(), threading.Event()
    results = {}

    def raiser():
        with pyad.errstate(divide="raise"):
            results["inside"] = pyad.geterr()["divide"]
            entered.set()
            go.wait(timeout=30)
            try:
                pyad.log(Var(0.0))
                results["raiser"] = "no exception"
            except FloatingPointError:
                results["raiser"] = "raised"

    t = threading.Thread(target=raiser)
    t.start()
    assert entered.wait(timeout=30)
    # this thread is not affected by the other's errstate
    assert pyad.geterr()["divide"] == "ignore"
    assert pyad.log(Var(0.0)).val == -math.inf
    assert pyad.log(0.0) == -math.inf
    go.set()
    t.join(timeout=30)
    assert results == {"inside": "raise", "raiser": "raised"}

    # and the other way round: a new thread starts with the default mode
    out = {}

    def plain():
        out["mode"] = pyad.geterr()
        out["val"] = (1 / Var(0.0)).val

    with pyad.errstate(divide="raise", invalid="raise", over="raise"):
        t = threading.Thread(target=plain)
        t.start()
        t.join(timeout=30)
        assert pyad.geterr()["divide"] == "raise"
    assert out["mode"]["divide"] == "ignore" and out["val"] == math.inf


def test_many_threads_creating_and_dropping_vars():
    start = tape_state()

    def churn():
        for i in range(3000):
            a = Var(float(i))
            b = a * a
            c = [Var(1.0) for _ in range(3)]
            del a, c
            assert b.val == float(i) * float(i)

    run_threads([churn] * 8)
    assert tape_state()[0] == start[0]
