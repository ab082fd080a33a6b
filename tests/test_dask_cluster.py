"""Compiled functions on a real dask.distributed LocalCluster of two
single-threaded worker processes (issue 13): the compiled function and its
Python function travel by pickle, workers re-trace new branches, errors
name the point in the whole batch, results are bit for bit those of numpy;
and docs/dask.md's worked example, at a small size.

One cluster for the module (a few seconds to start); every wait has a
timeout, so a broken cluster fails the tests instead of hanging them."""

import os
import pickle
import re

import numpy as np
import pytest

import pyad

dask = pytest.importorskip("dask")  # the test extra installs them (pyad[dask])
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

WAIT = 120  # seconds: any compute or start-up beyond this is a failure
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


@pytest.fixture(scope="module")
def client():
    with dask.config.set({"distributed.comm.timeouts.connect": "60s"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        c = distributed.Client(cluster, timeout=WAIT)
    try:
        c.wait_for_workers(2, timeout=WAIT)
        yield c
    finally:
        c.close(timeout=WAIT)
        cluster.close(timeout=WAIT)


def compute(c, *lazy):
    """The dask arrays computed on the cluster (one future each)."""
    return [fut.result(timeout=WAIT) for fut in c.compute(list(lazy))]


def make_branchy():
    # a local function: pickled by value (cloudpickle), as a user's script's
    def branchy(x, y):
        if x > 0.5:
            return x * pyad.sin(y) + pyad.exp(-x * y)
        if x > -0.5:
            return pyad.sqrt(x * x + y * y) * x
        return pyad.log1p(x * x) * y - x

    return branchy


def test_value_and_grad_on_the_cluster_is_bit_identical_and_workers_retrace(client):
    f = pyad.compile(make_branchy())
    x = np.linspace(-1.5, 1.5, 3001)
    y = np.cos(np.arange(3001.0))
    f(1.0, 2.0)  # one trace (the first branch) is all the workers get
    assert f.traces == 1
    for cx, cy in [(500, 500), (377, 1000), (3001, 64)]:
        v, g = f.value_and_grad(da.from_array(x, chunks=cx), da.from_array(y, chunks=cy))
        got_v, got_g = compute(client, v, g)
        assert f.traces == 1  # the other branches were traced on the workers, not here
        ref = pyad.compile(make_branchy())
        ref_v, ref_g = ref.value_and_grad(x, y)
        assert np.array_equal(got_v, ref_v) and np.array_equal(got_g, ref_g)
    # the higher-order entry points travel the same way
    t = np.array([1.0, -1.0])
    dx = da.from_array(x, chunks=700)
    (got_h, got_tan) = compute(client, f.hessian(dx, y), f.jvp(dx, y, t)[1])
    ref = pyad.compile(make_branchy())
    assert np.array_equal(got_h, ref.hessian(x, y))
    assert np.array_equal(got_tan, ref.jvp(x, y, t)[1])


def test_a_worker_reuses_what_it_unpickled(client):
    def absolute(x):
        # counts, per process, the traces of the second branch
        if x > 0:
            return x * 1.0
        os.environ["PYAD_TEST_TRACES"] = str(int(os.environ.get("PYAD_TEST_TRACES", "0")) + 1)
        return -x

    f = pyad.compile(absolute)
    f(1.0)
    client.run(lambda: os.environ.pop("PYAD_TEST_TRACES", None))
    x = np.linspace(-1.0, 1.0, 400)
    lazy = f(da.from_array(x, chunks=25))  # 8 chunks of x < 0, on 2 workers
    assert np.array_equal(compute(client, lazy)[0], np.abs(x))
    assert np.array_equal(compute(client, lazy)[0], np.abs(x))  # again: no new trace
    # a copy of f per chunk would trace the branch in each of the 8 chunks
    traced = client.run(lambda: int(os.environ.get("PYAD_TEST_TRACES", "0")))
    assert sorted(traced.values()) in ([0, 1], [1, 1]), traced


def test_errstate_raises_on_the_client_naming_the_point_of_the_whole_batch(client):
    f = pyad.compile(lambda x: pyad.log(x) * x if x > 0.5 else pyad.log(x + 1.0))
    x = np.linspace(0.6, 2.0, 1000)
    x[777] = -1.0  # the second branch (traced on a worker): log(0)
    with pyad.errstate(divide="raise"):
        lazy = f.grad(da.from_array(x, chunks=100))
        with pytest.raises(FloatingPointError) as local:
            pyad.compile(f.fn).grad(x)
    with pytest.raises(FloatingPointError, match=r"at batch point 777$") as remote:
        compute(client, lazy)
    assert str(remote.value) == str(local.value)


def test_a_guard_miss_without_the_python_function_names_the_point(client):
    f = pyad.compile(lambda x: x * x if x > 0 else -x)
    f(1.0)
    g = pickle.loads(pickle.dumps(f))  # no Python function: cannot re-trace
    x = np.ones(1000)
    x[613] = -1.0
    with pytest.raises(pyad.GuardMissError) as e:
        compute(client, g(da.from_array(x, chunks=200)))
    assert "at batch point 613" in " ".join([str(e.value), *getattr(e.value, "__notes__", [])])
    # one without a new branch works, and attach() lets the workers re-trace
    assert np.array_equal(
        compute(client, g(da.from_array(np.abs(x), chunks=200)))[0], np.ones(1000)
    )
    g.attach(f.fn)
    assert np.array_equal(compute(client, g(da.from_array(x, chunks=200)))[0], f(x))


def _example():
    path = os.path.join(DOCS, "dask.md")
    if not os.path.exists(path):
        pytest.skip("docs/dask.md is not next to the tests (installed package)")
    with open(path) as fh:
        text = fh.read()
    section = text[text.index("## Worked example") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)[1]
    shown = re.search(r"```\n(price .*?)\n```", section, re.S)[1]
    return code, shown


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # the module's cluster has it
def test_the_worked_example_of_docs_dask_md(capsys):
    code, shown = _example()
    small = code.replace("N_PATHS = 10_000_000", "N_PATHS = 200_000")
    small = small.replace("CHUNK = 1_000_000", "CHUNK = 40_000")
    assert small.count("200_000") == 1 and small.count("40_000") == 1
    ns = {"__name__": "__main__"}
    exec(compile(small, "docs/dask.md", "exec"), ns)  # starts and closes its own cluster
    printed = capsys.readouterr().out.strip()
    pattern = r"price (\S+)  delta (\S+)  vega (\S+)  (\S+) paths in \S+ s"
    assert re.fullmatch(pattern, shown)  # the docs show what the example prints
    pv, delta, vega, n = re.fullmatch(pattern, printed).groups()
    assert n == "200,000"
    # Black-Scholes: a call at the strike less a call at the cap; within
    # 4 standard errors of 200,000 paths (measured: 0.025, 0.0013, 0.12)
    assert abs(float(pv) - 6.8463) < 0.1
    assert abs(float(delta) - 0.4647) < 0.006
    assert abs(float(vega) - 31.672) < 0.5
    # bit for bit the numpy call on the same draws (the threaded scheduler now)
    z = ns["z"].compute(scheduler="threads")
    v, g = pyad.compile(ns["discounted_payoff"]).value_and_grad(ns["S0"], ns["SIGMA"], z)
    got_v, got_g = dask.compute(ns["value"], ns["grad"], scheduler="threads")
    assert np.array_equal(got_v, v) and np.array_equal(got_g, g)
