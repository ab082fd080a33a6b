"""Workloads 1-4 on every engine. Each test: one engine on one workload.

A first call is checked against pyad's value and gradients; an engine that
fails (RecursionError, MemoryError, over 60 s, or a crash) is recorded as
failed and the test xfails with the reason (see harness.py).
"""
import functools
import signal
import subprocess
import sys

import pytest

import engines
import harness
import workloads as W
from harness import measure, record

ENGINES = ["pyad", "pyad-compiled", "seed", "micrograd", "torch",
           "jax", "jax-jit", "autograd"]
GC_OFF = ["pyad", "seed", "micrograd", "torch"]     # the gc-off insight pass
OPS = {"gist": ("exp", "log", "sin", "cos", "sigmoid", "relu"), "demo": ("relu",)}
BIG = {"demo", "wide", "chain"}    # JAX compiles these in its own process
SHARING_KS = (5, 8, 10, 12, 15, 20, 25, 100, 1000)
SHARING_LIMIT = 3.0                # seconds per call: "a few seconds"
FIRST_CALL = {"jax-jit": "jax.jit compile (first call)",
              "pyad-compiled": "pyad compiled: trace (first call)"}

GROUP = {
    "gist": "1 gist expression",
    "demo": "2 demo train step",
    "wide": "3 wide graph, 100k nodes",
    "chain": "3 chain, 100k deep",
}


def group(name, gc_off=False):
    g = GROUP.get(name) or f"4 sharing y=y*y+y, k={name.split('-')[1]}"
    return g + (" (gc off)" if gc_off else "")


@functools.lru_cache(maxsize=None)
def reference(name):
    """pyad's result of the first call: what every engine must match."""
    return W.case(name, engines.load("pyad"))()


@functools.lru_cache(maxsize=None)
def nodes(name):
    harness.NODES[name] = n = W.pyad_nodes(name)
    return n


def load(key, grp):
    try:
        return engines.load(key)
    except pytest.skip.Exception as e:
        record("skipped", grp, key, reason=str(e.msg))
        raise


def probe_compile(name, limit=harness.LIMIT):
    """(seconds, failure reason) of jax.jit's first call, in its own process."""
    cmd = [sys.executable, str(W.__file__).replace("workloads.py", "jax_compile_probe.py"),
           name, str(limit)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit + 120)
    except subprocess.TimeoutExpired:
        return None, f"compile over {limit:g} s"
    if p.returncode == 3:
        return None, f"compile over {limit:g} s"
    if p.returncode < 0:
        return None, f"crashed ({signal.Signals(-p.returncode).name})"
    if p.returncode:
        return None, "error: " + (p.stderr.strip().splitlines() or ["?"])[-1][:120]
    import json
    return json.loads(p.stdout.strip().splitlines()[-1])["compile_s"], None


def first_call_case(name, key, E, grp):
    """Engines that compile (jax.jit, pyad.compile): time the first call
    (trace + compile) as its own record, then hand back the compiled case
    and what its next call must match."""
    label = FIRST_CALL[key]
    if key == "jax-jit" and name in BIG:
        seconds, reason = probe_compile(name)
        fn, expect = W.case(name, E), reference(name)
    else:
        fn, expect = W.case(name, E), None
        result, seconds, reason = harness.attempt(fn)
        assert reason or harness.close(result, reference(name)), f"{label} disagrees with pyad"
    if reason:
        record("failed", grp, label, reason=reason)
        harness.fail(grp, E.name, reason)
    record("single", grp, label, seconds=seconds,
           note="own process" if key == "jax-jit" and name in BIG else "in process")
    return fn, expect, seconds


def run(benchmark, name, key, gc_off=False, limit=harness.LIMIT, series=None):
    grp = group(name, gc_off)
    E = load(key, grp)
    missing = E.missing(OPS.get(name, ()))
    if missing:
        harness.not_applicable(grp, E.name, "has no " + "/".join(missing))
    if series:
        harness.skip_if_failed_before(grp, E.name, series)
    info = dict(nodes=nodes(name), workload=name)
    if key in FIRST_CALL:
        fn, expect, info["first_call_s"] = first_call_case(name, key, E, grp)
    else:
        fn, expect = W.case(name, E), reference(name)
    single = E.slow and name in BIG        # many seconds per call: measure one
    measure(benchmark, fn, grp, E.name, limit=limit, expect=expect, series=series,
            gc_off=gc_off, single=single, **info)


@pytest.mark.parametrize("key", ENGINES)
def test_gist(benchmark, key):
    run(benchmark, "gist", key)


@pytest.mark.parametrize("key,gc_off", [(k, False) for k in ENGINES + ["pyad-scalar"]] +
                         [(k, True) for k in GC_OFF])
def test_demo_step(benchmark, key, gc_off):
    run(benchmark, "demo", key, gc_off)


@pytest.mark.parametrize("key,gc_off", [(k, False) for k in ENGINES] +
                         [(k, True) for k in GC_OFF])
def test_wide(benchmark, key, gc_off):
    run(benchmark, "wide", key, gc_off)


@pytest.mark.parametrize("key", ENGINES)
def test_chain(benchmark, key):
    run(benchmark, "chain", key)


@pytest.mark.parametrize("key,k", [(e, k) for e in ENGINES for k in SHARING_KS])
def test_sharing(benchmark, key, k):
    run(benchmark, f"sharing-{k}", key, limit=SHARING_LIMIT, series="sharing")
