"""pyad.compile / pyad.Function: replay in C equals eager evaluation."""

import math
import operator
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from program_ref import assert_bits, eager
from support import UNARY_OPS

import pyad
from pyad import Var

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- basics -------------------------------------------------------------------


def test_value_grad_and_types():
    f = pyad.compile(lambda x, y: x * pyad.sin(y) + 1)
    assert f(2.0, 0.0) == 1.0
    g = f.grad(2.0, 0.5)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == (2,)
    v, g2 = f.value_and_grad(2.0, 0.5)
    ev, ej = eager(lambda x, y: x * pyad.sin(y) + 1, [2.0, 0.5])
    assert_bits(v, ev[0])
    assert_bits(g2, ej[0])
    assert_bits(g, ej[0])
    # ints and numpy scalars are accepted as numbers
    assert_bits(
        f(2, np.float32(0.5)),
        eager(lambda x, y: x * pyad.sin(y) + 1, [2.0, float(np.float32(0.5))])[0][0],
    )


def test_tuple_outputs_and_jacobian():
    fn = lambda x, y: (x * y, x + y, pyad.exp(x), 3.0)  # noqa: E731
    f = pyad.compile(fn)
    vals = f(1.5, -2.0)
    assert isinstance(vals, tuple) and len(vals) == 4
    ev, ej = eager(fn, [1.5, -2.0])
    assert_bits(vals, ev)
    assert_bits(f.jacobian(1.5, -2.0), ej)
    v, j = f.value_and_jacobian(1.5, -2.0)
    assert_bits(v, ev) and j.shape == (4, 2)
    xs = np.linspace(-1, 1, 7)
    assert f(xs, 2.0).shape == (7, 4)
    J = f.jacobian(xs, 2.0)
    assert J.shape == (7, 4, 2)
    for i, x in enumerate(xs):
        assert_bits(J[i], eager(fn, [x, 2.0])[1])
    with pytest.raises(TypeError, match="jacobian"):
        f.grad(1.0, 2.0)
    with pytest.raises(TypeError, match="jacobian"):
        f.value_and_grad(1.0, 2.0)


def test_identity_and_constant_outputs():
    f = pyad.compile(lambda x, y: x)
    assert f(3.0, 4.0) == 3.0
    assert_bits(f.grad(3.0, 4.0), [1.0, 0.0])
    c = pyad.compile(lambda x: 2.5)
    assert c(1.0) == 2.5
    assert_bits(c.grad(1.0), [0.0])


def test_var_arguments_call_the_function_eagerly():
    f = pyad.compile(lambda x: x * x)
    x = Var(3.0)
    y = f(x)
    assert isinstance(y, Var) and y.val == 9.0
    y.backward()
    assert x.grad == 6.0
    # a compiled function used inside another one being traced
    g = pyad.compile(lambda x: f(x) + 1)
    assert_bits(g.grad(2.0), [4.0])


def test_constants_are_baked_in_and_data_as_arguments():
    data = [1.0, 2.0]
    f = pyad.compile(lambda a: a * data[0] + data[1])
    assert f(1.0) == 3.0
    data[0] = 10.0
    assert f(1.0) == 3.0  # traced constant, as documented
    g = pyad.compile(lambda a, d0, d1: a * d0 + d1)
    assert g(1.0, 10.0, 2.0) == 12.0


# ---- random DAGs: replay == eager, bit for bit ---------------------------------

UNARY = list(UNARY_OPS)
BINARY = ["add", "sub", "mul", "div", "pow"]
CMP = ["lt", "le", "gt", "ge"]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 1e300, math.inf, -math.inf, math.nan]

values = st.one_of(st.sampled_from(SPECIAL), st.floats(-5, 5, allow_nan=False))


@st.composite
def programs(draw):
    n_in = draw(st.integers(1, 3))
    steps = []
    n = n_in
    for _ in range(draw(st.integers(1, 14))):
        idx = st.integers(0, n - 1)
        kind = draw(
            st.sampled_from(
                ["un", "bin", "bin", "binc", "cbin", "sum", "where", "cmp", "if", "bool", "max"]
            )
        )
        if kind == "un":
            steps.append((kind, draw(st.sampled_from(UNARY)), draw(idx)))
        elif kind == "bin":
            steps.append((kind, draw(st.sampled_from(BINARY)), draw(idx), draw(idx)))
        elif kind in ("binc", "cbin"):
            steps.append((kind, draw(st.sampled_from(BINARY)), draw(idx), draw(values)))
        elif kind == "sum":
            steps.append((kind, draw(st.lists(st.one_of(idx, values), min_size=1, max_size=4))))
        elif kind == "where":
            steps.append((kind, draw(idx), draw(idx), draw(st.one_of(idx, values))))
        elif kind == "cmp":
            steps.append(
                (kind, draw(st.sampled_from(CMP)), draw(idx), draw(st.one_of(idx, values)))
            )
        elif kind == "if":
            steps.append((kind, draw(idx), draw(st.one_of(idx, values)), draw(idx), draw(idx)))
        elif kind == "bool":
            steps.append((kind, draw(idx), draw(idx), draw(idx)))
        else:
            steps.append((kind, draw(idx), draw(idx)))
        n += 1
    n_out = draw(st.integers(1, 2))
    return n_in, steps, n_out


def make_fn(prog):
    n_in, steps, n_out = prog

    def fn(*xs):
        nodes = list(xs)

        def arg(a):
            return nodes[a] if isinstance(a, int) else a

        for s in steps:
            k = s[0]
            if k == "un":
                y = (
                    getattr(pyad, s[1])(nodes[s[2]])
                    if s[1] not in ("neg", "abs")
                    else (-nodes[s[2]] if s[1] == "neg" else abs(nodes[s[2]]))
                )
            elif k in ("bin", "binc", "cbin"):
                a, b = nodes[s[2]], arg(s[3]) if k != "bin" else nodes[s[3]]
                if k == "cbin":
                    a, b = b, a
                y = {
                    "add": operator.add,
                    "sub": operator.sub,
                    "mul": operator.mul,
                    "div": operator.truediv,
                    "pow": operator.pow,
                }[s[1]](a, b)
            elif k == "sum":
                y = pyad.sum([arg(a) for a in s[1]])
            elif k == "where":
                y = pyad.where(nodes[s[1]], nodes[s[2]], arg(s[3]))
            elif k == "cmp":
                y = getattr(pyad, s[1])(nodes[s[2]], arg(s[3]))
            elif k == "if":
                y = nodes[s[3]] * 2.0 if nodes[s[1]] > arg(s[2]) else nodes[s[4]] - 1.0
            elif k == "bool":
                y = nodes[s[2]] + 1.0 if nodes[s[1]] else nodes[s[3]]
            else:
                y = max(nodes[s[1]], nodes[s[2]])
            if not isinstance(y, Var):
                y = Var(y)
            nodes.append(y)
        return nodes[-1] if n_out == 1 else (nodes[-1], nodes[-2])

    return fn


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(prog=programs(), data=st.data())
def test_random_dags_bit_identical(prog, data):
    n_in = prog[0]
    fn = make_fn(prog)
    f = pyad.compile(fn)
    points = data.draw(st.lists(st.tuples(*[values] * n_in), min_size=1, max_size=6))
    ref = [eager(fn, p) for p in points]
    for p, (ev, ej) in zip(points, ref):
        v, j = f.value_and_jacobian(*p)
        assert_bits(v, ev, f"values at {p}")
        assert_bits(j, ej, f"jacobian at {p}")
    cols = [np.array([p[i] for p in points], dtype=np.float64) for i in range(n_in)]
    g = pyad.compile(fn)  # fresh: the batch does its own tracing
    V, J = g.value_and_jacobian(*cols)
    for k, (ev, ej) in enumerate(ref):
        assert_bits(V[k], ev, f"batch values at {points[k]}")
        assert_bits(J[k], ej, f"batch jacobian at {points[k]}")
    V2, J2 = f.value_and_jacobian(*cols, workers=2)
    assert_bits(V2, V)
    assert_bits(J2, J)


# ---- Function from an eager graph --------------------------------------------------


def test_function_from_eager_graph():
    x, y = Var(1.0), Var(2.0)
    w = Var(0.5)  # not an input: a baked-in constant
    z = x * y + pyad.sin(x) * w
    f = pyad.Function(inputs=[x, y], outputs=z)
    fn = lambda a, b: a * b + pyad.sin(a) * 0.5  # noqa: E731
    for p in [(3.0, 4.0), (-1.0, 0.0), (0.25, 8.0)]:
        ev, ej = eager(fn, p)
        assert_bits(f(*p), ev[0])
        assert_bits(f.grad(*p), ej[0])
    v = f(np.array([3.0, -1.0]), 4.0)
    assert_bits(v, [eager(fn, (3.0, 4.0))[0][0], eager(fn, (-1.0, 4.0))[0][0]])
    g = pyad.Function([x, y], (z, x * y))
    assert g.jacobian(1.0, 2.0).shape == (2, 2)
    with pytest.raises(ValueError, match="distinct"):
        pyad.Function([x, x], z)
    with pytest.raises(TypeError):
        pyad.Function([x, 1.0], z)
    with pytest.raises(TypeError):
        pyad.Function([x], 3.0)
    with pytest.raises(TypeError, match="Python function"):
        f(Var(1.0), Var(2.0))


def test_function_interior_input_is_free():
    x = Var(2.0)
    h = x * 3.0  # interior node used as an input
    z = h * h
    f = pyad.Function([h], z)
    assert f(5.0) == 25.0
    assert_bits(f.grad(5.0), [10.0])


# ---- batches and workers ------------------------------------------------------------------


def test_workers_equal_single_thread():
    def fn(x, y):
        z = pyad.tanh(x * y) + pyad.sum([x, y, x * x])
        return pyad.where(pyad.gt(z, 0.0), z, pyad.exp(z)) if x > -0.5 else z * y

    f = pyad.compile(fn)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(5001)
    y = rng.standard_normal(5001)
    v1, g1 = f.value_and_grad(x, y)
    for w in (2, 3, 8):
        vw, gw = f.value_and_grad(x, y, workers=w)
        assert_bits(vw, v1)
        assert_bits(gw, g1)
    for i in rng.integers(0, 5001, 20):
        ev, ej = eager(fn, [x[i], y[i]])
        assert_bits(v1[i], ev[0])
        assert_bits(g1[i], ej[0])


def test_batch_broadcast_empty_and_views():
    f = pyad.compile(lambda x, y: x * y)
    x = np.arange(10, dtype=np.float64)
    assert_bits(f(x, 2.0), x * 2.0)
    assert_bits(f(x[::2], np.float64(3.0)), x[::2] * 3.0)  # non-contiguous view
    assert_bits(f(x, np.array(2.0)), x * 2.0)  # 0-d array is a number
    assert f(np.empty(0), 1.0).shape == (0,)
    assert f.grad(np.empty(0), 1.0).shape == (0, 2)


def test_argument_errors():
    f = pyad.compile(lambda x, y: x + y)
    f(1.0, 2.0)
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        f(1.0)
    with pytest.raises(TypeError, match="takes 2 arguments, got 3"):
        f.grad(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="float64"):
        f(np.arange(3), 1.0)
    with pytest.raises(TypeError, match="float64"):
        f(np.ones(3, dtype=np.float32), 1.0)
    with pytest.raises(ValueError, match="1-D"):
        f(np.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="same length"):
        f(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="real number"):
        f("a", 1.0)
    with pytest.raises(TypeError, match="real number"):
        f([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="workers"):
        f(np.ones(3), 1.0, workers=0)
    with pytest.raises(TypeError, match="callable"):
        pyad.compile(3)
    bad = pyad.compile(lambda x: "nope")
    with pytest.raises(TypeError, match="must return"):
        bad(1.0)


# ---- errstate -------------------------------------------------------------------------------


def test_errstate_scalar_matches_eager():
    f = pyad.compile(lambda x: pyad.log(x) + 1.0)
    f(1.0)
    assert f(0.0) == -math.inf  # default: IEEE, no exception
    with pyad.errstate(divide="raise"):
        with pytest.raises(pyad.PyadFloatingPointError, match="divide by zero.*log"):
            f(0.0)
        with pytest.raises(FloatingPointError):
            eager(lambda x: pyad.log(x) + 1.0, [0.0])
        assert f(2.0) == math.log(2.0) + 1.0
    with pyad.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError, match="invalid"):
            f(-1.0)
    g = pyad.compile(lambda x: 1.0 / x)
    with pyad.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            g(0.0)  # first call: raised while tracing


def test_errstate_batch_reports_first_failing_point():
    f = pyad.compile(lambda x: pyad.log(x) * 2.0)
    xs = np.array([1.0, 2.0, 0.0, 3.0, -1.0, 0.0])
    v = f(xs)  # ignore: inf/nan as eager
    assert_bits(v, [eager(lambda x: pyad.log(x) * 2.0, [x])[0][0] for x in xs])
    with pyad.errstate(divide="raise"):
        with pytest.raises(FloatingPointError, match="batch point 2"):
            f(xs)
    with pyad.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError, match="batch point 4"):
            f.value_and_grad(xs)
    big = np.ones(1000)
    big[700] = 0.0
    big[900] = 0.0
    with pyad.errstate(divide="raise"):
        for w in (None, 2, 4):
            with pytest.raises(FloatingPointError, match="batch point 700"):
                f(big, workers=w)


def test_errstate_guard_missed_points_are_not_blamed():
    fn = lambda x: pyad.log(x) if x > 0 else -x  # noqa: E731
    f = pyad.compile(fn)
    f(1.0)
    xs = np.array([1.0, 0.0, -2.0, 3.0])
    with pyad.errstate(divide="raise", invalid="raise"):
        v = f(xs)  # the log branch never sees <= 0
        assert_bits(v, [0.0, -0.0, 2.0, math.log(3.0)])
        assert f(0.0) == -0.0
    f2 = pyad.compile(lambda x: pyad.log(x - 1.0) if x > 0 else pyad.log(x + 5.0))
    f2(3.0)
    with pyad.errstate(divide="raise"):
        # point 1 (x = -5) misses the guard and fails on re-trace; point 2
        # (x = 1) fails in replay; the first failing point is reported
        with pytest.raises(FloatingPointError) as e:
            f2(np.array([3.0, -5.0, 1.0]))
        assert "batch point 1" in "".join(getattr(e.value, "__notes__", [])) + str(e.value)


# ---- the worked example of docs/compile.md ---------------------------------------------------


def test_docs_least_squares_example():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4, 200)
    y = 2.5 * np.exp(-1.3 * t) + 0.5 + 0.01 * rng.standard_normal(t.size)
    sq = pyad.compile(lambda a, b, c, ti, yi: (a * pyad.exp(-b * ti) + c - yi) ** 2)

    def loss(p):
        a, b, c = p
        v, g = sq.value_and_grad(a, b, c, t, y)
        return v.sum(), g[:, :3].sum(axis=0)

    res = optimize.minimize(loss, x0=[1.0, 1.0, 0.0], jac=True, method="BFGS")
    assert res.success
    assert np.allclose(res.x, [2.5, 1.3, 0.5], atol=0.02)
    assert sq.traces == 1


@pytest.mark.parametrize("every", [1, 7, 50])
def test_replay_starts_from_the_inputs_and_constants_wherever_they_are(every):
    """Point replay copies only the values of the nodes that are not ops
    (pyad_program_load_leaves): constants among the ops, one every `every`
    ops (many runs of them: one plain copy; few: one copy per run), and the
    work buffer reused by later calls with other inputs. The first output's
    sweep is not dense (t lies below it), the second's is."""

    def fn(x, y):
        t = pyad.exp(x) * y
        s = x
        for i in range(300):
            s = s * y + (float(i) if i % every == 0 else x)
            s = pyad.sin(s)
        return s, t * s

    f = pyad.compile(fn)
    for xs in ([0.3, 0.7], [1.5, -0.2], [0.3, 0.7]):
        vals, jac = f.value_and_jacobian(*xs)
        ref_vals, ref_jac = eager(fn, xs)
        assert_bits(list(vals), ref_vals)
        assert_bits(np.asarray(jac).tolist(), ref_jac)
        assert_bits(list(f(*xs)), ref_vals)


def test_doctests_of_the_module():
    import doctest

    import pyad.compiled

    assert doctest.testmod(pyad.compiled).failed == 0
