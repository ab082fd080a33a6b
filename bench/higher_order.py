"""Higher-order derivatives (issue 11). Run from the repository root:

    python bench/higher_order.py            # all sections
    python bench/higher_order.py eager      # or: programs, programs_square,
                                            # compiled, sparse

1. eager: pyad.hessian of the extended Rosenbrock function (n = 100), whole
   call (record, freeze, pattern, colouring, Hessian in C), next to
   torch.func.hessian, jax.hessian (without jit; jax.jit for reference) and
   HIPS autograd.hessian, each on its own array type.
2. programs: on the frozen Rosenbrock program (n = 100), the C entry points
   called directly with buffers made beforehand: gradient (replay of
   pyad.compile, and the lane engine's vjp), jvp, hvp, dense Hessian (n
   lanes) and coloured Hessian (3 lanes); CasADi SX Functions of gradient,
   jtimes and hessian beside them when casadi is installed.
3. compiled: the same through the public API of pyad.compile(rosen,
   signature="(n)->()") -- f.grad, f.hvp, f.hessian (dense result, coloured
   in C), f.hessian(sparse=True) -- per call, Python included, next to
   CasADi SX Functions called from Python and jax.jit.
4. sparse: a banded (pentadiagonal) function of 10,000 variables: its
   pattern, colours, and the coloured Hessian against one hvp, through the
   frozen program and through f.hessian(x, sparse=True) / f.hvp.

Times are CPU time of this process (time.process_time: robust to the other
load of a shared machine; single-threaded), medians of interleaved repeats;
the ratios within one run are the figures to quote.
"""

import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pyad  # noqa: E402  (this worktree's pyad, not an installed one)
from pyad._lib import ffi, lib  # noqa: E402
from pyad._transform import make_leaves  # noqa: E402
from pyad.frozen import freeze  # noqa: E402

warnings.simplefilter("ignore")


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosen_square(x):
    """The same with np.square (the registry's square op, not pow)."""
    return (100 * np.square(x[1:] - np.square(x[:-1])) + np.square(1 - x[:-1])).sum()


def measure(cases, repeats=9):
    """{name: median seconds per call}; cases: name -> (fn, calls per sample)."""
    for fn, _ in cases.values():
        fn()
    samples = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (fn, k) in cases.items():
            t0 = time.process_time()
            for _ in range(k):
                fn()
            samples[name].append((time.process_time() - t0) / k)
    return {name: statistics.median(s) for name, s in samples.items()}


def table(res, base, unit=1e-6, label="us"):
    for name, t in res.items():
        print(f"  {name:42s} {t / unit:10.2f} {label}   {t / res[base]:7.2f}x {base}")


def eager(n=100):
    x0 = np.linspace(-1.2, 1.1, n)
    ph = pyad.hessian(rosen)
    cases = {"pyad.hessian": (lambda: ph(x0), 20)}
    try:
        import torch

        torch.set_num_threads(1)
        tx, th = torch.tensor(x0), torch.func.hessian(rosen)
        assert np.allclose(th(tx).numpy(), ph(x0), rtol=1e-12, atol=1e-9)
        cases["torch.func.hessian"] = (lambda: th(tx), 4)
    except ImportError:
        pass
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jx, jh, jj = jax.numpy.array(x0), jax.hessian(rosen), jax.jit(jax.hessian(rosen))
        cases["jax.hessian (no jit)"] = (lambda: jh(jx).block_until_ready(), 1)
        cases["jax.jit(jax.hessian) (compiled, for reference)"] = (
            lambda: jj(jx).block_until_ready(),
            50,
        )
    except ImportError:
        pass
    try:
        import autograd

        ah = autograd.hessian(rosen)
        cases["autograd.hessian"] = (lambda: ah(x0), 1)
    except ImportError:
        pass
    print(f"1. eager Hessian, extended Rosenbrock n = {n} (CPU time per call)")
    table(measure(cases), "pyad.hessian", 1e-3, "ms")


def frozen_rosen(n, f=rosen):
    xv = pyad._arrays.var_array(make_leaves(np.linspace(-1.2, 1.1, n).tolist()), (n,))
    return freeze(list(xv), [f(xv)])


def programs(n=100, f=rosen):
    prog = frozen_rosen(n, f)
    p, x0 = prog.ptr, np.linspace(-1.2, 1.1, n)
    x, v = ffi.from_buffer("double[]", x0), ffi.new("double[]", [1.0] * n)
    info, vals = ffi.new("pyad_fail_info *"), ffi.new("double[1]")
    g, hv, H = ffi.new("double[]", n), ffi.new("double[]", n), ffi.new("double[]", n * n)
    ew = ffi.new("double[]", prog.program.work_size)
    W, work = prog.work_size, ffi.new("double[]", prog.work_size)
    pat = prog.hessian_pattern()
    hval = ffi.new("double[]", pat.nnz)
    rp, col = ffi.from_buffer("int64_t[]", pat.row_ptr), ffi.from_buffer("int64_t[]", pat.col)
    color = ffi.from_buffer("int32_t[]", pat.color)
    cases = {
        "gradient (replay, pyad_program_eval)": (
            lambda: lib.pyad_program_eval(p, x, n, vals, 1, g, n, ew, prog.program.work_size, info),
            2000,
        ),
        "gradient (lanes, pyad_program_vjp)": (
            lambda: lib.pyad_program_vjp(p, x, ffi.NULL, vals, g, work, W, info),
            2000,
        ),
        "jvp": (lambda: lib.pyad_program_jvp(p, x, v, vals, hv, work, W, info), 2000),
        "hvp (forward-over-reverse)": (
            lambda: lib.pyad_program_hvp(p, x, ffi.NULL, v, vals, g, hv, work, W, info),
            2000,
        ),
        f"hessian, coloured ({pat.n_colors} colours), CSR": (
            lambda: lib.pyad_program_hessian_sparse(
                p, x, ffi.NULL, rp, col, pat.nnz, color, pat.n_colors, vals, g, hval, info
            ),
            500,
        ),
        f"hessian, dense ({n} lanes)": (
            lambda: lib.pyad_program_hessian(p, x, ffi.NULL, vals, g, H, info),
            20,
        ),
    }
    try:
        if f is not rosen:
            raise ImportError  # CasADi once, with the first variant
        import casadi as ca

        X = ca.SX.sym("x", n)
        F = rosen_casadi(X)
        V = ca.SX.sym("v", n)
        cg = ca.Function("g", [X], [ca.gradient(F, X)])
        chv = ca.Function("hv", [X, V], [ca.jtimes(ca.gradient(F, X), X, V)])
        ch = ca.Function("h", [X], [ca.hessian(F, X)[0]])
        cx, cv = ca.DM(x0), ca.DM(np.ones(n))
        assert np.allclose(np.array(ch(cx)), prog.hessian(x0)[2], rtol=1e-12, atol=1e-9)
        cases["CasADi SX gradient"] = (lambda: cg(cx), 500)
        cases["CasADi SX jtimes (hvp)"] = (lambda: chv(cx, cv), 500)
        cases["CasADi SX hessian"] = (lambda: ch(cx), 500)
    except ImportError:
        pass
    print(f"2. compiled program, extended Rosenbrock ({f.__name__}) n = {n}: "
          f"{prog.program.n_ops} ops (C entry points called directly; CPU time)")  # fmt: skip
    table(measure(cases), "gradient (replay, pyad_program_eval)")


def compiled(n=100):
    x0, v0 = np.linspace(-1.2, 1.1, n), np.ones(n)
    cases = {}
    for name, fn in (("x ** 2", rosen), ("np.square", rosen_square)):
        f = pyad.compile(fn, signature="(n)->()")
        assert np.allclose(f.hessian(x0), pyad.hessian(rosen)(x0), rtol=1e-13, atol=1e-10)
        cases[f"f.grad ({name})"] = (lambda f=f: f.grad(x0), 1000)
        cases[f"f.hvp ({name})"] = (lambda f=f: f.hvp(x0, v0), 1000)
        cases[f"f.hessian ({name})"] = (lambda f=f: f.hessian(x0), 300)
        cases[f"f.hessian(sparse=True) ({name})"] = (lambda f=f: f.hessian(x0, sparse=True), 300)
    try:
        import casadi as ca

        X, V = ca.SX.sym("x", n), ca.SX.sym("v", n)
        F = rosen_casadi(X)
        cg = ca.Function("g", [X], [ca.gradient(F, X)])
        chv = ca.Function("hv", [X, V], [ca.jtimes(ca.gradient(F, X), X, V)])
        ch = ca.Function("h", [X], [ca.hessian(F, X)[0]])
        assert np.allclose(np.array(ch(x0)), pyad.hessian(rosen)(x0), rtol=1e-12, atol=1e-9)
        cases["CasADi SX gradient (numpy in, DM out)"] = (lambda: cg(x0), 500)
        cases["CasADi SX jtimes (hvp)"] = (lambda: chv(x0, v0), 500)
        cases["CasADi SX hessian"] = (lambda: ch(x0), 500)
    except ImportError:
        pass
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jx, jv = jax.numpy.array(x0), jax.numpy.array(v0)
        jg = jax.jit(jax.grad(rosen))
        jhv = jax.jit(lambda x, v: jax.jvp(jax.grad(rosen), (x,), (v,))[1])
        jh = jax.jit(jax.hessian(rosen))
        cases["jax.jit(grad)"] = (lambda: jg(jx).block_until_ready(), 300)
        cases["jax.jit(hvp)"] = (lambda: jhv(jx, jv).block_until_ready(), 300)
        cases["jax.jit(hessian)"] = (lambda: jh(jx).block_until_ready(), 300)
    except ImportError:
        pass
    print(f"3. compiled functions, public API, extended Rosenbrock n = {n} (CPU time per call)")
    table(measure(cases), "f.grad (x ** 2)")


def rosen_casadi(X):
    n = X.shape[0]
    return sum(100 * (X[i + 1] - X[i] ** 2) ** 2 + (1 - X[i]) ** 2 for i in range(n - 1))


def banded(x):
    """Pentadiagonal Hessian: couples x[i], x[i+1], x[i+2]."""
    t = x[:-2] - 2 * x[1:-1] + x[2:]
    return (np.exp(0.1 * t) + t**4).sum() + (x**4).sum()


def sparse(n=10_000):
    xv = pyad._arrays.var_array(make_leaves(np.linspace(-1, 1, n).tolist()), (n,))
    prog = freeze(list(xv), [banded(xv)])
    x0 = np.linspace(-1, 1, n)
    t0 = time.process_time()
    prog._patterns.clear()
    pat = prog.hessian_pattern()
    t_pattern = time.process_time() - t0
    cases = {
        "gradient (pyad_program_vjp)": (lambda: prog.vjp(x0), 20),
        "one hvp": (lambda: prog.hvp(x0, x0), 20),
        f"sparse Hessian ({pat.n_colors} colours, {pat.nnz} entries)": (
            lambda: prog.hessian_sparse(x0),
            5,
        ),
    }
    f = pyad.compile(banded, signature="(n)->()")
    assert np.allclose(f.hessian(x0, sparse=True).data, prog.hessian_sparse(x0)[2], rtol=0)
    cases["f.hvp"] = (lambda: f.hvp(x0, x0), 20)
    cases["f.hessian(x, sparse=True)"] = (lambda: f.hessian(x0, sparse=True), 5)
    res = measure(cases, 7)
    print(f"4. banded function of {n} variables: {prog.program.n_ops} ops; pattern and "
          f"colouring {t_pattern * 1e3:.1f} ms (once); {pat.n_colors} colours "
          f"(a dense Hessian would take {n} hvps)")  # fmt: skip
    table(res, "one hvp", 1e-3, "ms")


def programs_square():
    programs(f=rosen_square)


if __name__ == "__main__":
    which = sys.argv[1:] or ["eager", "programs", "programs_square", "compiled", "sparse"]
    for name in which:
        globals()[name]()
        print()
