"""6. The "fastest autograd" workload (fastest_autograd.py): 10,000 ops,
value + gradient w.r.t. 100 leaves, on every implementation. report.py gives
ns per op and the ratios pyad compiled / hand-fused C and / CasADi.

Before an implementation is timed it is checked against pyad eager: at
CHECK_OPS (where the leaf gradients are nonzero) and at the full size, to
1e-12 relative. The fused C reference is also checked node by node: every
adjoint of the 17,600 nodes, to 1e-10 relative (its fused softmax backward
rounds differently from pyad's per-op one, and the differences accumulate
down the graph: ~7e-12 at the far end; adjoints below 1e-290, where the
sweep is in subnormals, only to that absolute size).

"the same C, with pyad's exp and log1p" is fused_ref.c built with pyad's
point kernels (csrc/vmath.h) in place of glibc's: against the fused row it
shows what the kernels cost, and pyad compiled against it what pyad's
interpreter (dispatch per node, values and partials through memory, the
generic sweep) costs.

The setup of pyad compiled (trace), CasADi (building the SX graph and its
Function) and JAX (jit compile) is timed once, as a record: the first call
included. The fused C module is compiled once per source (cached in
bench/.build/); JAX's unrolled graph is compiled in its own process under a
time limit (jax_compile_probe.py), since XLA takes minutes on it.
"""
import functools
import time

import numpy as np
import pytest

import engines
import fastest_autograd as FA
import harness
from harness import measure, record
from test_bench_workloads import probe_compile

GROUP = "6 fastest autograd: 10k ops, value + grad w.r.t. 100 leaves"
SETUP = "6 fastest autograd: setup, once (trace / build / compile)"
LABELS = {"fused-c": "hand-fused C (cffi)",
          "fused-c-pyad-kernels": "the same C, with pyad's exp and log1p",
          "pyad-compiled": "pyad compiled",
          "pyad": "pyad", "casadi": "casadi SX Function",
          "jax-jit": "jax.jit, unrolled graph", "jax-scan": "jax.jit, lax.scan over cycles"}
TIMED_SETUP = ("pyad-compiled", "casadi", "jax-scan")     # the others have none to speak of
NEEDS = {"casadi": "casadi", "jax-jit": "jax", "jax-scan": "jax"}
JAX_PROBE_LIMIT = 20.0      # the unrolled graph does not compile in minutes: don't wait


@functools.lru_cache(maxsize=None)
def reference(n_ops):
    return FA.pyad_eager(FA.leaves(), n_ops)()


def check(label, call, n_ops):
    value, grad = FA.floats(call, call())
    ref_value, ref_grad = reference(n_ops)
    assert abs(value - ref_value) <= 1e-12 * abs(ref_value), \
        f"{label}: value {value!r} != pyad's {ref_value!r} at {n_ops} ops"
    assert FA.agree(grad, ref_grad), f"{label}: gradient disagrees with pyad at {n_ops} ops"


def check_adjoints():
    """The fused reference against the adjoint of every pyad node."""
    xs = FA.leaves()
    ours = np.array(FA.fused(xs, all_adjoints=True)()[2])
    pyads = np.array(FA.pyad_eager(xs, all_adjoints=True)()[2])
    floor = 1e-290
    ok = np.abs(ours - pyads) <= 1e-10 * np.abs(pyads) + floor
    assert ok.all(), f"fused C: {np.count_nonzero(~ok)} node adjoints disagree with pyad's"


def load(key, label):
    if key.startswith("jax"):
        try:
            engines.load("jax-jit")     # float64, cpu, the suite's compile cache
        except pytest.skip.Exception as e:
            record("skipped", GROUP, label, reason=str(e.msg))
            raise
    elif key.startswith("fused-c"):
        try:
            FA.fused_module("pyad" if key == "fused-c-pyad-kernels" else "glibc")
        except Exception as e:      # no C compiler, or no cffi build tools
            reason = f"fused C reference not built: {type(e).__name__}: {e}".splitlines()[0]
            record("skipped", GROUP, label, reason=reason)
            pytest.skip(reason)
    elif key in NEEDS:
        try:
            pytest.importorskip(NEEDS[key], reason=f"{NEEDS[key]} not installed")
        except pytest.skip.Exception as e:
            record("skipped", GROUP, label, reason=str(e.msg))
            raise


@pytest.mark.parametrize("key", list(LABELS))
def test_fastest_autograd(benchmark, key):
    label = LABELS[key]
    load(key, label)
    make, xs = FA.IMPLEMENTATIONS[key], FA.leaves()
    if key == "jax-jit":
        seconds, reason = probe_compile("fastest-autograd", JAX_PROBE_LIMIT)
        if reason:
            record("failed", SETUP, label, reason=reason)
            harness.fail(GROUP, label, reason)
        record("single", SETUP, label, seconds=seconds, note="own process")
    else:
        check(label, make(xs, FA.CHECK_OPS), FA.CHECK_OPS)
    if key == "fused-c":
        check_adjoints()
    t0 = time.perf_counter()
    call = make(xs)
    call()                      # jax.jit compiles here
    if key in TIMED_SETUP:
        record("single", SETUP, label, seconds=time.perf_counter() - t0, note="in process")
    check(label, call, FA.N_OPS)
    harness.NODES["fastest autograd"] = FA.pyad_tape_nodes()
    measure(benchmark, call, GROUP, label, ops=FA.N_OPS, nodes=FA.nodes())
