"""The worked examples of docs/higher-order.md ("Worked examples: scipy"),
each checked against an independent reference: scipy's own Rosenbrock
derivatives, finite differences, a closed-form Hessian, a known minimum.
"""

import numpy as np
import pytest

import pyad

optimize = pytest.importorskip("scipy.optimize")  # a test dependency


def ext_rosen(x):
    """Extended Rosenbrock: n/2 independent pairs (a banded Hessian)."""
    a, b = x[0::2], x[1::2]
    return (100 * (b - a**2) ** 2 + (1 - a) ** 2).sum()


def test_trust_constr_with_the_sparse_hessian_of_10000_variables():
    n = 10_000
    f = pyad.compile(ext_rosen, signature="(n)->()")
    x0 = np.tile([-1.2, 1.0], n // 2)
    pattern = f.hessian_sparsity(x0)
    assert pattern.shape == (n, n) and pattern.nnz == 2 * n and pattern.n_colors == 2
    # the sparse Hessian against central differences of the gradient
    rng = np.random.default_rng(0)
    H = f.hessian(x0, sparse=True)
    for _ in range(3):
        v, h = rng.normal(size=n), 1e-6
        fd = (f.grad(x0 + h * v) - f.grad(x0 - h * v)) / (2 * h)
        assert np.abs(H @ v - fd).max() <= 1e-6 * np.abs(fd).max()
    assert np.allclose(H @ v, f.hvp(x0, v), rtol=1e-13, atol=1e-10)
    r = optimize.minimize(
        f,
        x0,
        jac=f.grad,
        hess=lambda x: f.hessian(x, sparse=True),
        method="trust-constr",
        options={"gtol": 1e-8},
    )
    assert r.fun < 1e-12 and np.abs(r.x - 1).max() < 1e-8  # the minimum is at x = 1


def test_newton_cg_with_hessp_against_scipys_rosenbrock():
    # scipy.optimize.rosen is the chained Rosenbrock function: scipy's own
    # rosen_der and rosen_hess_prod are the reference
    def chained(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    f = pyad.compile(chained, signature="(n)->()")
    rng = np.random.default_rng(1)
    x, p = rng.uniform(-1, 1, 1000), rng.normal(size=1000)
    assert np.allclose(f.grad(x), optimize.rosen_der(x), rtol=1e-13, atol=1e-12)
    assert np.allclose(f.hvp(x, p), optimize.rosen_hess_prod(x, p), rtol=1e-13, atol=1e-11)
    x0 = np.full(1000, 0.5)
    r = optimize.minimize(
        f, x0, jac=f.grad, hessp=f.hvp, method="Newton-CG", options={"xtol": 1e-10}
    )
    ref = optimize.minimize(
        optimize.rosen, x0, jac=optimize.rosen_der, hessp=optimize.rosen_hess_prod,
        method="Newton-CG", options={"xtol": 1e-10},
    )  # fmt: skip
    assert r.success and np.abs(r.x - 1).max() < 1e-10
    assert r.nit == ref.nit and np.allclose(r.x, ref.x, rtol=0, atol=1e-12)


def laplace_data():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(200), rng.normal(size=(200, 2))])
    w_true = np.array([-0.5, 1.5, -2.0])
    y = (rng.random(200) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    return X, y


def test_laplace_approximation_of_a_logistic_regression():
    X, y = laplace_data()
    prior = 1.0 / 10.0**2  # a Gaussian prior N(0, 10^2) on each weight

    def neg_log_posterior(w):
        z = X @ w
        return (np.log1p(np.exp(z)) - y * z).sum() + 0.5 * prior * (w * w).sum()

    f = pyad.compile(neg_log_posterior, signature="(d)->()")
    r = optimize.minimize(f, np.zeros(3), jac=f.grad, hess=f.hessian, method="trust-exact")
    assert r.success and np.abs(f.grad(r.x)).max() < 1e-8
    cov = np.linalg.inv(f.hessian(r.x))  # the Laplace approximation's covariance
    # the closed form: H = X^T diag(p (1 - p)) X + prior I
    p = 1 / (1 + np.exp(-X @ r.x))
    H_ref = X.T @ (X * (p * (1 - p))[:, None]) + prior * np.eye(3)
    assert np.allclose(f.hessian(r.x), H_ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(cov, np.linalg.inv(H_ref), rtol=1e-10)
    assert np.all(np.abs(r.x - [-0.5, 1.5, -2.0]) < 3 * np.sqrt(np.diag(cov)))


def test_the_examples_of_docs_higher_order_md():
    import doctest
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
    path = os.path.join(path, "higher-order.md")
    if not os.path.exists(path):
        pytest.skip("docs/ is not next to the tests (installed package)")
    result = doctest.testfile(path, module_relative=False)
    assert result.failed == 0 and result.attempted > 10
