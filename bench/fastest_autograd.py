"""The "fastest autograd" workload (after A. Rogozhnikov's 2023 benchmark),
written once for every implementation that the replay target is measured
with. Our own code: the workload is defined from its description.

The workload
------------
Start from N_LEAVES = 100 leaves in a list `n`. Then run N_OPS = 10,000 ops;
op i does, by i % 4:

    0  softplus:  append softplus(n[-10])                       (1 node)
    1  sum:       append n[-30] + n[-25] + n[-20] + n[-15],
                  i.e. sum(n[-30:-10:5]), added left to right   (1 node)
    2  product:   append n[-20] * n[-10]                        (1 node)
    3  softmax:   e_k = exp(n[-4 + k]) for k = 0..3, s = e_0 + e_1 + e_2 + e_3;
                  append e_0/s, e_1/s, e_2/s, e_3/s             (4 nodes)

All indices are taken before the op appends, so each cycle of four ops
appends 7 nodes: 100 + 2,500 * 7 = 17,600 nodes in `n`. The output is the
last node (the last softmax output); the gradient is d output / d leaf for
the 100 leaves. "ns per op" divides a call by the 10,000 ops. softplus is
log(1 + exp(x)) in the overflow-free form max(x, 0) + log1p(exp(-|x|)), the
softmax has no max shift (every value stays in (-1, 4)).

On pyad's tape a cycle is 12 nodes (softplus, sum, mul, 4 exp, 1 sum,
4 div): 30,000 ops after the leaves.

A property to know: the adjoints shrink by ~1e-20 per 1,000 nodes going
back, so at 10,000 ops the gradient w.r.t. every leaf is exactly 0.0 (and
the reverse pass runs through subnormals near the start, in every
implementation alike). The timed size is still the benchmark's; every
implementation is therefore also checked at CHECK_OPS = 100 ops, where the
leaf gradients are nonzero, and the fused C reference is checked against
the adjoint of every pyad node at the full size.

Implementations (each a function of the leaves, returning a zero-argument
callable that gives the value and the gradient):

    pyad_eager     Vars, then y.backward()
    pyad_compiled  pyad.compile of the same function, value_and_grad with
                   100 scalar arguments (point replay)
    fused          fused_ref.c, compiled here with cffi into bench/.build/
    fused_pyad_kernels  the same with pyad's exp and log1p (csrc/vmath.h)
                   for glibc's: the kernels' share of the gap
    casadi         an SX Function of value and gradient, called with an array
    jax            jax.jit(jax.value_and_grad(f)) in float64 (a separate
                   process times its compile; see jax_compile_probe.py)

Quick look without the suite (checks, then best-of-5 ns per op):

    python bench/fastest_autograd.py [pyad-compiled fused-c casadi jax-scan ...]
"""
import functools
import sys
from pathlib import Path

import numpy as np

import cbuild

N_LEAVES = 100
N_OPS = 10_000
CHECK_OPS = 100
WINDOW = 30             # n[-30] is the furthest back any op reads
BENCH = Path(__file__).resolve().parent
C_SOURCE = BENCH / "fused_ref.c"
CFLAGS = ["-O3", "-std=c11", "-ffp-contract=off"]   # as csrc/ffibuild.py builds pyad


def leaves():
    return np.random.default_rng(12).uniform(-1.0, 1.0, N_LEAVES).tolist()


def nodes(n_ops=N_OPS, n_leaves=N_LEAVES):
    """Length of the list n at the end (the docstring's count)."""
    return n_leaves + n_ops // 4 * 7 + n_ops % 4


def run(n, n_ops, softplus, exp, total):
    """Append the n_ops ops to the list n (in place) and return it.
    total(list) is a left-to-right sum (pyad.sum is one n-ary node)."""
    append = n.append
    for i in range(n_ops):
        op = i % 4
        if op == 0:
            append(softplus(n[-10]))
        elif op == 1:
            append(total(n[-30:-10:5]))
        elif op == 2:
            append(n[-20] * n[-10])
        else:
            e = [exp(x) for x in n[-4:]]
            s = total(e)
            n.extend([x / s for x in e])
    return n


def left_sum(xs):
    s = xs[0]
    for x in xs[1:]:
        s = s + x
    return s


# ---- pyad ----------------------------------------------------------------------

def pyad_function(n_ops=N_OPS):
    import pyad

    def f(*xs):
        return run(list(xs), n_ops, pyad.softplus, pyad.exp, pyad.sum)[-1]
    return f


def pyad_eager(xs, n_ops=N_OPS, all_adjoints=False):
    """(value, [leaf grads]) by recording and backward(); with all_adjoints,
    also the adjoint of every node of the list n (what fused_ref.c holds)."""
    import pyad

    def call():
        vs = [pyad.Var(x) for x in xs]
        n = run(list(vs), n_ops, pyad.softplus, pyad.exp, pyad.sum)
        y = n[-1]
        y.backward()
        out = (y.val, [v.grad for v in vs])
        return out + ([v.grad for v in n],) if all_adjoints else out
    return call


def pyad_tape_nodes(n_ops=N_OPS):
    """Nodes the workload puts on pyad's tape, leaves included."""
    import pyad
    before = pyad.live_nodes()
    y = pyad_function(n_ops)(*[pyad.Var(x) for x in leaves()])
    count = pyad.live_nodes() - before
    del y
    return count


def pyad_compiled(xs, n_ops=N_OPS):
    import pyad
    f = pyad.compile(pyad_function(n_ops))
    vg = f.value_and_grad
    f(*xs)                      # trace now: the calls measured are replays
    return lambda: vg(*xs)


# ---- the hand-fused C reference ---------------------------------------------------

# fused_ref.c with pyad's own point kernels (csrc/vmath.h, the ones every
# pyad evaluator uses) in place of glibc's exp and log1p: the same code
# otherwise, so the ratio of the two fused rows is what the kernels cost and
# pyad compiled / this row is what pyad's interpreter costs.
PYAD_KERNELS = ('#include <math.h>\n#include "vmath.h"\n'
                "#define exp(x) pyad_exp_point(x)\n#define log1p(x) pyad_log1p_point(x)\n")
CSRC = BENCH.parent / "csrc"


@functools.lru_cache(maxsize=None)
def fused_module(kernels="glibc"):
    """Compile fused_ref.c (once per source and flags) and import it;
    kernels="pyad" builds it with pyad's exp and log1p (PYAD_KERNELS)."""
    src = C_SOURCE.read_text()
    flags = list(CFLAGS)
    headers = ""
    if kernels == "pyad":
        # vmath.h and what it includes are part of the source of this build
        src = PYAD_KERNELS + src
        flags += [f"-I{CSRC}"]
        headers = "".join(h.read_text() for h in sorted(CSRC.glob("vmath*.h")))
    return cbuild.module(f"_fused_ref_{kernels}", src,
                         "size_t fa_nodes(size_t, size_t);"
                         "double fa_value_and_grad(const double *, size_t, size_t,"
                         " double *, double *, double *);", flags, headers)


def fused(xs, n_ops=N_OPS, all_adjoints=False, kernels="glibc"):
    """Same inputs and outputs as pyad compiled: a list of floats in,
    (float, gradient array) out; work arrays allocated once."""
    mod = fused_module(kernels)
    ffi, lib = mod.ffi, mod.lib
    n_leaves = len(xs)
    assert n_leaves >= 30, "the ops reach 30 nodes back"
    size = lib.fa_nodes(n_leaves, n_ops)
    x = ffi.new("double[]", n_leaves)
    v, a = ffi.new("double[]", size), ffi.new("double[]", size)
    grad = np.empty(n_leaves)
    g = ffi.from_buffer("double[]", grad)
    run_c = lib.fa_value_and_grad

    def call():
        x[0:n_leaves] = xs
        value = run_c(x, n_leaves, n_ops, v, a, g)
        out = (value, grad.copy())
        return out + (list(ffi.unpack(a, size)),) if all_adjoints else out
    return call


# ---- CasADi and JAX ------------------------------------------------------------

def casadi(xs, n_ops=N_OPS):
    import casadi as ca

    def softplus(x):
        return ca.fmax(x, 0.0) + ca.log1p(ca.exp(-ca.fabs(x)))
    x = ca.SX.sym("x", len(xs))
    y = run([x[i] for i in range(len(xs))], n_ops, softplus, ca.exp, left_sum)[-1]
    f = ca.Function("fastest_autograd", [x], [y, ca.gradient(y, x)])
    arg = np.array(xs)

    def call():
        return f(arg)
    call.to_floats = lambda out: (float(out[0]), np.array(out[1]).ravel().tolist())
    return call


def jax_function(n_ops=N_OPS):
    """jit(value_and_grad(f)), float64, f of one array of the leaves."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")

    def f(x):
        return run([x[i] for i in range(x.shape[0])], n_ops, jax.nn.softplus, jnp.exp,
                   left_sum)[-1]
    return jax.jit(jax.value_and_grad(f))


def _jax_call(vg, xs):
    import jax as jx
    arg = jx.device_put(np.array(xs))

    def call():
        v, g = vg(arg)
        g.block_until_ready()
        return v, g
    call.to_floats = lambda out: (float(out[0]), np.asarray(out[1]).tolist())
    return call


def jax(xs, n_ops=N_OPS):
    """The graph unrolled, as the other implementations see it. XLA's
    compile time grows fast with the number of scalar ops (~18 s at 100 ops
    on the reference machine), so the suite probes it in its own process."""
    return _jax_call(jax_function(n_ops), xs)


def jax_scan(xs, n_ops=N_OPS):
    """The way a JAX user would write it so that it compiles: lax.scan over
    the cycles, carrying the last WINDOW nodes (no op reaches further back).
    The same ops in the same order (the body is run() on the window), so the
    same numbers."""
    import jax as jx
    import jax.numpy as jnp
    jax_function(0)             # float64, cpu

    def cycle(w, _):
        n = run([w[i] for i in range(WINDOW)], 4, jx.nn.softplus, jnp.exp, left_sum)
        return jnp.stack(n[-WINDOW:]), None

    def f(x):
        w = x[x.shape[0] - WINDOW:]
        w, _ = jx.lax.scan(cycle, w, None, length=n_ops // 4)
        rest = run([w[i] for i in range(WINDOW)], n_ops % 4, jx.nn.softplus, jnp.exp,
                   left_sum)
        return rest[-1]
    return _jax_call(jx.jit(jx.value_and_grad(f)), xs)


def fused_pyad_kernels(xs, n_ops=N_OPS, all_adjoints=False):
    return fused(xs, n_ops, all_adjoints, kernels="pyad")


IMPLEMENTATIONS = {"pyad": pyad_eager, "pyad-compiled": pyad_compiled, "fused-c": fused,
                   "fused-c-pyad-kernels": fused_pyad_kernels,
                   "casadi": casadi, "jax-jit": jax, "jax-scan": jax_scan}


def floats(call, out):
    """(value, [grads]) as floats from what call() returned."""
    conv = getattr(call, "to_floats", None)
    if conv:
        return conv(out)
    return float(out[0]), [float(d) for d in out[1]]


def agree(a, b, rtol=1e-12):
    """Equal within rtol, relative to the largest magnitude of each list
    (entries far below it, like adjoints of 1e-300, are compared to it)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.max(np.abs(b)), np.finfo(float).tiny)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * scale))


def main(keys):
    import timeit
    xs = leaves()
    ref = pyad_eager(xs)()
    for key in keys or ["fused-c", "fused-c-pyad-kernels", "pyad-compiled", "casadi",
                        "jax-scan"]:
        call = IMPLEMENTATIONS[key](xs)
        value, grad = floats(call, call())
        assert abs(value - ref[0]) <= 1e-12 * abs(ref[0]) and agree(grad, ref[1]), key
        number = max(1, int(0.2 / min(timeit.repeat(call, number=1, repeat=3))))
        best = min(timeit.repeat(call, number=number, repeat=5)) / number
        print(f"{key:14s} {best * 1e6:10.1f} us/call {best / N_OPS * 1e9:8.1f} ns/op")


if __name__ == "__main__":
    main(sys.argv[1:])
