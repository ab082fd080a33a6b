"""The higher-order methods of compiled functions (f.hvp, f.hessian, sparse
Hessians and Jacobians, f.jvp, f.vjp, the patterns) and gufunc signatures.

References: the eager transforms (pyad.hessian, hvp, jvp, vjp, which
tests/test_higher_graphs.py checks against mpmath and JAX), JAX float64
where jax is installed, and dense/sparse/batch/point cross-checks.
"""

import math
import pickle

import numpy as np
import pytest
from higher_ref import as_pyad, random_program

import pyad
from pyad.errors import GuardMissError, PyadFloatingPointError

try:
    import jax

    jax.config.update("jax_enable_x64", True)
    HAVE_JAX = True
except ImportError:  # CI installs only the test extras
    HAVE_JAX = False


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def close(a, b, rel=1e-12):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rel * scale))


# ---- against the eager transforms, on random graphs of every op ----------------


def _cases(count, seed=11):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.integers(2, 5))
        steps, _ = random_program(rng, n, int(rng.integers(3, 9)))
        x = rng.uniform(0.3, 1.7, n)
        v = rng.uniform(-1, 1, n)
        f = as_pyad(steps)
        try:
            with pyad.errstate(divide="raise", invalid="raise", over="raise"):
                H = pyad.hessian(f)(x)
        except (FloatingPointError, ArithmeticError, TypeError, ValueError):
            continue
        if not np.all(np.isfinite(H)) or not np.isfinite(pyad.grad(f)(x)).all():
            continue
        out.append((steps, x, v))
    return out


CASES = _cases(40)


@pytest.mark.parametrize("case", CASES, ids=[f"graph{i}" for i in range(len(CASES))])
def test_compiled_methods_match_the_eager_transforms(case):
    steps, x, v = case
    f = as_pyad(steps)
    c = pyad.compile(f, signature="(n)->()")
    H = c.hessian(x)
    assert close(H, pyad.hessian(f)(x))
    assert np.array_equal(H, H.T)  # exactly symmetric
    assert close(c.grad(x), pyad.grad(f)(x))
    hv = c.hvp(x, v)
    assert close(hv, pyad.hvp(f, x, v))
    assert close(hv, H @ v, 1e-11)
    out, tangent = c.jvp(x, v)
    ref_out, ref_tangent = pyad.jvp(f, (x,), (v,))
    assert close(out, ref_out) and close(tangent, ref_tangent)
    out, cot = c.vjp(x, 2.5)
    assert close(cot, pyad.vjp(f, x)[1](2.5)[0])
    S = c.hessian(x, sparse=True)
    assert np.array_equal(S.toarray(), np.where(c.hessian_sparsity().to_dense(), H, 0.0))
    assert close(S.toarray(), H)  # entries outside the pattern are 0
    J = c.jacobian(x, sparse=True)
    assert close(J.toarray(), c.jacobian(x).reshape(1, -1))


@pytest.mark.skipif(not HAVE_JAX, reason="jax is not installed (CI installs the test extras)")
def test_compiled_hessian_and_hvp_match_jax():
    import jax.numpy as jnp

    def g(x, np_=np):
        return rosen(x) + (np_.tanh(x) * np_.exp(-x * x)).sum() + np_.log1p(x[0] ** 2) * x[-1]

    jg = lambda x: g(x, jnp)  # noqa: E731
    rng = np.random.default_rng(3)
    hess = jax.jit(jax.hessian(jg))
    hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(jg), (x,), (v,))[1])
    tangent = jax.jit(lambda x, v: jax.jvp(jg, (x,), (v,))[1])
    for n in (2, 12):
        c = pyad.compile(lambda x: g(x), signature="(n)->()")  # n is fixed by a first call
        x, v = rng.uniform(-1.2, 1.2, n), rng.normal(size=n)
        xj, vj = jnp.array(x), jnp.array(v)
        H = np.asarray(hess(xj))
        assert close(c.hessian(x), H)
        assert close(c.hessian(x, sparse=True).toarray(), H)
        assert close(c.hvp(x, v), np.asarray(hvp(xj, vj)))
        assert close(c.jvp(x, v)[1], float(tangent(xj, vj)))


# ---- batches ---------------------------------------------------------------------


def test_batches_equal_each_point_bit_for_bit_with_any_workers():
    c = pyad.compile(rosen, signature="(n)->()")
    rng = np.random.default_rng(5)
    X, V = rng.uniform(-2, 2, (37, 6)), rng.normal(size=(37, 6))
    for workers in (None, 3):
        H = c.hessian(X, workers=workers)
        hv = c.hvp(X, V, workers=workers)
        hv_shared = c.hvp(X, V[0], workers=workers)
        out, t = c.jvp(X, V, workers=workers)
        _, w = c.vjp(X, np.full(37, 2.0), workers=workers)
        S = c.hessian(X, sparse=True, workers=workers)
        assert H.shape == (37, 6, 6) and hv.shape == (37, 6) and t.shape == (37,)
        for j in (0, 17, 36):
            assert np.array_equal(H[j], c.hessian(X[j]))
            assert np.array_equal(hv[j], c.hvp(X[j], V[j]))
            assert np.array_equal(hv_shared[j], c.hvp(X[j], V[0]))
            assert t[j] == c.jvp(X[j], V[j])[1] and out[j] == c(X[j])
            assert np.array_equal(w[j], c.vjp(X[j], 2.0)[1])
            assert np.array_equal(S[j].toarray(), c.hessian(X[j], sparse=True).toarray())
    # n = 20: the dense Hessian is coloured (3 colours) at one point and in a batch
    c20 = pyad.compile(rosen, signature="(n)->()")
    X20 = rng.uniform(-2, 2, (9, 20))
    H20 = c20.hessian(X20, workers=2)
    assert c20.hessian_sparsity().n_colors == 3
    assert all(np.array_equal(H20[j], c20.hessian(X20[j])) for j in range(9))
    assert np.array_equal(H20, H20.transpose(0, 2, 1))
    assert close(H20[4], pyad.hessian(rosen)(X20[4]))
    # loop shape (2, 3): results keep it
    assert c.hessian(X[:6].reshape(2, 3, 6)).shape == (2, 3, 6, 6)


def test_a_vector_batch_goes_to_c_as_it_is():
    """An (N, n) float64 array reaches C as one block (pointer + stride n),
    not copied element by element in Python."""
    c = pyad.compile(rosen, signature="(n)->()")
    X = np.random.default_rng(0).uniform(size=(1000, 5))
    ops = c._operands([X])
    assert ops.x.N == 1000 and len(ops.x.blocks) == 1
    assert np.shares_memory(ops.x.blocks[0], X)
    keep, ptrs, strides = ops.x.pointers()
    assert list(strides) == [5] * 5
    assert np.array_equal(c(X), [c(x) for x in X])
    assert np.array_equal(c.grad(X)[123], c.grad(X[123]))


# ---- guards and re-tracing ---------------------------------------------------------


def branchy(x):
    if x[0] > 0:
        return x[0] ** 3 * x[1] + x[1] ** 2
    return -x[0] * pyad.exp(x[1])


def test_guards_retrace_for_every_new_method():
    c = pyad.compile(branchy, signature="(n)->()")
    pos, neg = np.array([1.5, 0.5]), np.array([-1.0, 0.3])
    v = np.array([0.3, -0.7])
    for x in (pos, neg, pos, neg):
        assert close(c.hessian(x), pyad.hessian(branchy)(x))
        assert close(c.hvp(x, v), pyad.hvp(branchy, x, v))
        assert close(c.jvp(x, v)[1], pyad.jvp(branchy, (x,), (v,))[1])
        assert close(c.vjp(x, 1.0)[1], pyad.grad(branchy)(x))
        assert close(c.hessian(x, sparse=True).toarray(), pyad.hessian(branchy)(x))
    assert c.traces == 2
    X = np.array([pos, neg, neg, pos, neg])
    H = c.hessian(X)
    S = c.hessian(X, sparse=True)
    for j, x in enumerate(X):
        assert np.array_equal(H[j], c.hessian(x))
        assert np.array_equal(S[j].toarray(), c.hessian(x, sparse=True).toarray())
    assert np.array_equal(c.hvp(X, v)[3], c.hvp(pos, v))
    # the pattern is that of the trace used at the point given
    assert c.hessian_sparsity(pos).nnz == 4 and c.hessian_sparsity(neg).nnz == 3
    assert c.traces == 2


def test_new_methods_of_an_unpicklable_retrace_say_why():
    c = pyad.compile(branchy, signature="(n)->()")
    c.hessian(np.array([1.0, 2.0]))
    d = pickle.loads(pickle.dumps(c))
    assert d.signature == "(n)->()"
    assert np.array_equal(d.hessian(np.array([3.0, 1.0])), c.hessian(np.array([3.0, 1.0])))
    with pytest.raises(GuardMissError, match="attach"):
        d.hvp(np.array([-1.0, 2.0]), np.ones(2))
    d.attach(branchy)
    assert close(d.hvp(np.array([-1.0, 2.0]), np.ones(2)), c.hvp(np.array([-1.0, 2.0]), np.ones(2)))


def test_errstate_applies_to_the_new_methods():
    c = pyad.compile(lambda x: (x * np.log(x)).sum(), signature="(n)->()")
    good, bad = np.array([1.0, 2.0]), np.array([1.0, -2.0])
    assert np.isnan(c.hessian(bad)).any()  # IEEE by default
    with pyad.errstate(invalid="raise"):
        assert close(c.hessian(good), np.diag(1 / good))
        for call in (
            lambda: c.hessian(bad),
            lambda: c.hvp(bad, np.ones(2)),
            lambda: c.hessian(bad, sparse=True),
            lambda: c.jvp(bad, np.ones(2)),
            lambda: c.hessian(np.array([good, good, bad]), workers=2),
        ):
            with pytest.raises(PyadFloatingPointError):
                call()


# ---- without a signature: scalars, a 1-D array is a batch ---------------------------------


def test_scalar_functions_get_the_new_methods():
    c = pyad.compile(lambda x, y: x * x * y + pyad.sin(y))
    H = c.hessian(1.0, 2.0)
    assert close(H, [[4.0, 2.0], [2.0, -math.sin(2.0)]])
    assert close(c.hvp(1.0, 2.0, np.array([1.0, 1.0])), H @ [1.0, 1.0])
    xs = np.array([1.0, 2.0, 3.0])
    Hb = c.hessian(xs, 2.0)
    assert Hb.shape == (3, 2, 2) and np.array_equal(Hb[1], c.hessian(2.0, 2.0))
    assert c.hvp(xs, 2.0, np.ones(2)).shape == (3, 2)
    m = pyad.compile(lambda x, y: (x * y, x + y))
    assert m.jvp(2.0, 3.0, np.array([1.0, 0.0])) == ((6.0, 5.0), (3.0, 1.0))
    assert close(m.jacobian(2.0, 3.0, sparse=True).toarray(), m.jacobian(2.0, 3.0))
    with pytest.raises(TypeError, match="one output"):
        m.hessian(2.0, 3.0)
    with pytest.raises(TypeError, match="then v"):
        c.hvp(1.0)


# ---- signatures ---------------------------------------------------------------


def test_signature_shapes_of_results():
    f = pyad.compile(lambda x, s: (x[1:] - x[:-1]) * s, signature="(n),()->(m)")
    x = np.array([1.0, 3.0, 6.0])
    assert f(x, 2.0).tolist() == [4.0, 6.0]
    J = f.jacobian(x, 2.0)
    assert J[0].shape == (2, 3) and J[1].shape == (2,)
    assert f.jacobian_sparsity().shape == (2, 4)
    assert f.jacobian(x, 2.0, sparse=True).toarray().tolist() == [
        [-2.0, 2.0, 0.0, 2.0],
        [0.0, -2.0, 2.0, 3.0],
    ]
    assert f(np.ones((5, 3)), np.arange(5.0)).shape == (5, 2)
    g = pyad.compile(lambda a, b: (a * a).sum() * b, signature="(n),()->()")
    Haa, Hab = g.hessian(np.array([1.0, 2.0]), 3.0)[0]
    assert Haa.tolist() == [[6.0, 0.0], [0.0, 6.0]] and Hab.tolist() == [2.0, 4.0]
    ga, gb = g.grad(np.array([1.0, 2.0]), 3.0)
    assert ga.tolist() == [6.0, 12.0] and gb == 5.0
    assert g.hvp(np.array([1.0, 2.0]), 3.0, (np.zeros(2), 1.0))[0].tolist() == [2.0, 4.0]


def test_signature_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="one '->'"):
        pyad.compile(rosen, signature="(n)")
    with pytest.raises(ValueError, match="core shapes in parentheses"):
        pyad.compile(rosen, signature="n->()")
    f = pyad.compile(rosen, signature="(n)->()")
    f(np.ones(4))
    with pytest.raises(ValueError, match=r"core dimension n is 4 \(fixed by the first call"):
        f(np.ones(5))
    with pytest.raises(ValueError, match=r"must have shape \(n,\)"):
        f.hessian(1.0)
    with pytest.raises(TypeError, match="takes 1 argument, got 2"):
        f.grad(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="core dimension n is 4"):
        f.hvp(np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="do not broadcast"):
        f.hvp(np.ones((3, 4)), np.ones((2, 4)))
    g = pyad.compile(lambda x: x.sum(), signature="(n)->(m)")
    with pytest.raises(ValueError, match=r"output 0 has shape \(\), but the signature"):
        g(np.ones(3))
    # a first call whose trace fails fixes nothing
    k = pyad.compile(lambda x: x[3] * x[0], signature="(n)->()")
    with pytest.raises(IndexError):
        k(np.ones(3))
    assert k(np.full(4, 2.0)) == 4.0
    h = pyad.compile(lambda x: x.sum(), signature="(3)->()")
    with pytest.raises(ValueError, match="signature's size"):
        h(np.ones(2))


def test_scipy_minimize_with_compiled_grad_hessian_and_hvp():
    from scipy.optimize import minimize

    f = pyad.compile(rosen, signature="(n)->()")
    x0 = np.full(8, -0.5)
    for method, kw in (("trust-exact", {"hess": f.hessian}), ("Newton-CG", {"hessp": f.hvp})):
        r = minimize(f, x0, jac=f.grad, method=method, **kw)
        assert r.success and r.fun < 1e-8 and np.abs(r.x - 1).max() < 1e-3, (method, r.message)


def test_pickles_keep_the_signature_and_refuse_bad_ones():
    f = pyad.compile(rosen, signature="(n)->()")
    x = np.linspace(-1, 1, 5)
    f(x)
    g = pickle.loads(pickle.dumps(f))
    assert g.signature == "(n)->()" and g.dims == {"n": 5}
    assert np.array_equal(g.hessian(x), f.hessian(x))
    assert np.array_equal(g(np.ones((2, 5))), f(np.ones((2, 5))))
    state = f.__reduce__()[1][0]
    from pyad.compiled import _load

    for bad in ({"signature": "(n->()"}, {"dims": {"n": 4}}, {"dims": {"n": -1}}, {"dims": []}):
        with pytest.raises(ValueError, match="malformed"):
            _load({**state, **bad})
    plain = pyad.compile(lambda x: x * x)
    plain(2.0)
    assert pickle.loads(pickle.dumps(plain)).signature is None


# ---- Ctrl-C in a batch of a higher-order method ------------------------------------


def test_ctrl_c_during_higher_order_batches(tmp_path):
    """A long batch of f.hessian / f.hvp stops soon after Ctrl-C, on the
    calling thread (short C calls) and with workers (cancelled and awaited
    before the buffers go), and the function stays right."""
    from hostile import run_script

    out = run_script(
        tmp_path,
        """
import os, signal, sys, threading, time
import numpy as np
import pyad

def heavy(x):
    z = x[0]
    for i in range(40):
        z = pyad.sin(z * x[1] + 0.1 * i) + pyad.tanh(z) * x[2]
    return z

f = pyad.compile(heavy, signature="(n)->()")
X = np.random.default_rng(0).uniform(-1, 1, (1_000_000, 3))
V = np.ones(3)
for call in (lambda: f.hessian(X), lambda: f.hvp(X, V, workers=2),
             lambda: f.hessian(X, workers=2)):
    t = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    t.start()
    t0 = time.perf_counter()
    try:
        call()
    except KeyboardInterrupt:
        latency = time.perf_counter() - t0 - 0.3
    else:
        sys.exit("the batch ended before the interrupt: make it longer")
    t.join()
    junk = np.full(X.shape[0] * 9, 7.0)  # memory the batch's outputs may reuse
    time.sleep(0.2)
    assert (junk == 7.0).all(), "freed memory was written after the call"
    assert latency < 1.0, latency
H = f.hessian(X[:50], workers=2)
assert all(np.array_equal(H[j], f.hessian(X[j])) for j in (0, 49))
print("ok")
""",
    )
    assert out.strip() == "ok", out
