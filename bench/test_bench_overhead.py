"""7. Per-call overhead of compiled functions.

7a  A small scalar function (SMALL_OPS ops, 3 arguments) at one point:
    pyad compiled f(x, y, z) and f.value_and_grad(x, y, z) against the same
    function run by plain Python on floats (value only). Target: the
    compiled value call <= 0.5x plain Python.
7b  Extended Rosenbrock of a 100-element vector, value + gradient (7c:
    value only): CasADi's Function called with a numpy array against pyad
    compiled. pyad's call is pyad.compile(f, signature="(n)->()") with the
    array when pyad.compile takes signature=; otherwise f of 100 scalar
    arguments, and the row's name says so. Target: pyad <= CasADi.

Every result is checked against pyad eager first (1e-12 relative).
"""
import functools
import inspect
import math

import numpy as np
import pytest

import harness
from harness import measure, record

SMALL_POINT = (0.7, -1.3, 0.4)
ROSEN_N = 100
SMALL = "7a per call: small function (~20 ops, 3 args), one point"
ROSEN_VG = f"7b per call: extended Rosenbrock, n={ROSEN_N}, value + grad"
ROSEN_V = f"7c per call: extended Rosenbrock, n={ROSEN_N}, value"
PLAIN = "plain Python floats (value)"


def small(x, y, z, sin, exp, tanh):
    """20 ops (see SMALL_OPS), smooth everywhere."""
    a = x * y + z
    b = sin(a) * exp(z * z * -0.5)
    c = tanh(x - y) / (a * a + 1.0)
    d = b * c - y * z
    return d * d + exp(c) * x


def small_pyad():
    import pyad
    return lambda x, y, z: small(x, y, z, pyad.sin, pyad.exp, pyad.tanh)


def small_python(x, y, z, sin=math.sin, exp=math.exp, tanh=math.tanh):
    """small() written out in one frame, math's functions bound as locals:
    the plain-Python side at its fastest (a call of small() from here would
    add a second frame, ~40 ns, to its time)."""
    a = x * y + z
    b = sin(a) * exp(z * z * -0.5)
    c = tanh(x - y) / (a * a + 1.0)
    d = b * c - y * z
    return d * d + exp(c) * x


@functools.lru_cache(maxsize=None)
def small_ops():
    """Ops the small function records (nodes minus its 3 leaves)."""
    import pyad
    before = pyad.live_nodes()
    xs = [pyad.Var(v) for v in SMALL_POINT]
    y = small_pyad()(*xs)
    n = pyad.live_nodes() - before - len(xs)
    del y
    return n


def rosenbrock(x):
    """sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2, i < n - 1 (any indexable x)."""
    n = len(x) if hasattr(x, "__len__") else x.shape[0]
    s = 0.0
    for i in range(n - 1):
        t = x[i + 1] - x[i] * x[i]
        u = 1.0 - x[i]
        s = s + 100.0 * (t * t) + u * u
    return s


@functools.lru_cache(maxsize=None)
def rosen_nodes():
    """Nodes of the function on pyad's tape, leaves and constants included."""
    import pyad
    before = pyad.live_nodes()
    y = rosenbrock([pyad.Var(v) for v in rosen_point()])
    n = pyad.live_nodes() - before
    del y
    return n


def rosen_point():
    return np.random.default_rng(7).uniform(-1.2, 1.2, ROSEN_N)


@functools.lru_cache(maxsize=None)
def rosen_reference():
    import pyad
    xs = [pyad.Var(v) for v in rosen_point()]
    y = rosenbrock(xs)
    y.backward()
    return y.val, np.array([v.grad for v in xs])


def agrees(value, grad, ref):
    ref_value, ref_grad = ref
    return (abs(value - ref_value) <= 1e-12 * abs(ref_value)
            and np.allclose(np.asarray(grad, float).ravel(), ref_grad, rtol=1e-12, atol=0))


# ---- 7a ----------------------------------------------------------------------

@pytest.mark.parametrize("key", ["python", "compiled-value", "compiled-vg"])
def test_small_call(benchmark, key):
    import pyad
    x, y, z = SMALL_POINT
    leaves = [pyad.Var(v) for v in SMALL_POINT]
    out = small_pyad()(*leaves)
    out.backward()
    ref = (out.val, [v.grad for v in leaves])
    info = dict(nodes=small_ops())
    if key == "python":
        assert small_python(x, y, z) == small(x, y, z, math.sin, math.exp, math.tanh)
        assert abs(small_python(x, y, z) - ref[0]) <= 1e-12 * abs(ref[0])
        return measure(benchmark, small_python, SMALL, PLAIN, call_args=SMALL_POINT, **info)
    f = pyad.compile(small_pyad())
    assert agrees(*f.value_and_grad(x, y, z), ref), "pyad compiled disagrees with eager"
    assert f(x, y, z) == ref[0]
    if key == "compiled-value":
        return measure(benchmark, f, SMALL, "pyad compiled: f(x, y, z)", call_args=SMALL_POINT,
                       **info)
    measure(benchmark, f.value_and_grad, SMALL, "pyad compiled: value_and_grad",
            call_args=SMALL_POINT, **info)


# ---- 7b, 7c --------------------------------------------------------------------

def has_signature():
    import pyad
    try:
        return "signature" in inspect.signature(pyad.compile).parameters
    except (TypeError, ValueError):
        return False


def pyad_rosen():
    """(label, value call, value-and-grad call) of pyad compiled."""
    import pyad
    xv = rosen_point()
    if has_signature():
        f = pyad.compile(rosenbrock, signature="(n)->()")
        label = 'pyad compiled, signature="(n)->()" (array)'
        return label, lambda: f(xv), lambda: f.value_and_grad(xv)
    f = pyad.compile(lambda *xs: rosenbrock(xs))
    xs = xv.tolist()
    label = f"pyad compiled, {ROSEN_N} scalar args (no signature= yet)"
    return label, lambda: f(*xs), lambda: f.value_and_grad(*xs)


def casadi_rosen():
    ca = pytest.importorskip("casadi", reason="casadi not installed")
    x = ca.SX.sym("x", ROSEN_N)
    y = rosenbrock([x[i] for i in range(ROSEN_N)])
    value = ca.Function("rosen", [x], [y])
    both = ca.Function("rosen_vg", [x], [y, ca.gradient(y, x)])
    xv = rosen_point()
    return "casadi Function (array)", lambda: value(xv), lambda: both(xv)


@pytest.mark.parametrize("what", ["vg", "value"])
@pytest.mark.parametrize("key", ["pyad-compiled", "casadi"])
def test_rosenbrock_call(benchmark, key, what):
    grp = ROSEN_VG if what == "vg" else ROSEN_V
    try:
        label, value, both = pyad_rosen() if key == "pyad-compiled" else casadi_rosen()
    except pytest.skip.Exception as e:
        record("skipped", grp, key, reason=str(e.msg))
        raise
    ref = rosen_reference()
    v, g = both()
    assert agrees(float(v), np.array(g), ref), f"{label} disagrees with pyad eager"
    assert abs(float(value()) - ref[0]) <= 1e-12 * abs(ref[0])
    harness.NODES["rosenbrock"] = rosen_nodes()
    measure(benchmark, both if what == "vg" else value, grp, label, args=ROSEN_N,
            nodes=rosen_nodes())
