"""Fuzzing the op table, eager recording and compiled replay (issue 5).

Random programs (sequences of every op, operands drawn from earlier nodes
and from constants) are run on random operands, with a large share of
special values (nan, +-inf, +-0, subnormals, the largest floats, negative
numbers), through

  * eager recording + backward,
  * pyad.compile: one point, and a batch (with and without workers),
  * pyad_eval (an op applied to plain numbers),

and compared bit for bit (every nan equal to every nan) with the
pure-Python reference in tests/hardening_ref.py. Under
pyad.errstate(all="raise") eager and compiled evaluation must agree on
whether an op raises.

The CI budget is PYAD_FUZZ_EXAMPLES (default 300) examples per test, with
a fixed seed (derandomized); a long run draws fresh examples:

    PYAD_FUZZ_EXAMPLES=20000 PYAD_FUZZ_RANDOM=1 python -m pytest -q tests/test_fuzz_ops.py
"""

import math
import os

import hardening_ref as ref
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyad
from pyad import Var

EXAMPLES = int(os.environ.get("PYAD_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("PYAD_FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck),
)

SPECIAL = [
    math.nan,
    -math.nan,
    math.inf,
    -math.inf,
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    -1e-310,
    1e-300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1e308,
    -1e300,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    -2.0,
    3.0,
    -3.0,
    0.1,
    709.8,
    710.0,
    -745.2,
    1e16,
    -20.0,
    36.0,
]
values = st.one_of(
    st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True), st.floats(-8.0, 8.0)
)
OPNAMES = sorted(ref.OPS)


@st.composite
def programs(draw, max_steps=10):
    n_in = draw(st.integers(1, 3))
    steps, n = [], n_in
    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(OPNAMES))
        arity = ref.OPS[op][0]
        if arity < 0:
            arity = draw(st.integers(1, 5))
        refs = []
        for _ in range(arity):
            if arity > 1 and draw(st.integers(0, 3)) == 0:
                refs.append(("c", draw(values)))
            else:
                refs.append(("n", draw(st.integers(0, n - 1))))
        if all(k == "c" for k, _ in refs):
            refs[0] = ("n", draw(st.integers(0, n - 1)))
        steps.append((op, refs))
        n += 1
    return n_in, steps


_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


def make_fn(steps, all_live=False):
    """The program as a Python function of Vars, written with pyad's
    operators and functions (constants as plain floats). It returns the
    last node, or with all_live the sum of every step's node (so that no
    step is dead code, which replay does not evaluate)."""

    def fn(*xs):
        nodes = list(xs)
        for op, refs in steps:
            args = [nodes[r] if k == "n" else r for k, r in refs]
            if op in _BINARY:
                y = _BINARY[op](*args)
            elif op == "neg":
                y = -args[0]
            elif op == "abs":
                y = abs(args[0])
            elif op in ("sum", "logsumexp"):
                y = getattr(pyad, op)(args)
            elif op == "dot":
                k = len(args) // 2
                y = pyad.dot(args[:k], args[k : 2 * k], args[-1] if len(args) % 2 else None)
            else:
                y = getattr(pyad, op)(*args)
            nodes.append(y)
        if all_live:
            return pyad.sum(nodes[len(xs) :])
        return nodes[-1]

    return fn


def same(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def assert_same(got, want, what):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert same(float(g), float(w)), f"{what}: got {list(got)}, want {list(want)}"


def eager(fn, xs):
    leaves = [Var(x) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.val, [v.grad for v in leaves]


@FUZZ
@given(prog=programs(), data=st.data())
def test_fuzz_programs_eager_compiled_reference(prog, data):
    n_in, steps = prog
    fn = make_fn(steps)
    points = data.draw(st.lists(st.tuples(*[values] * n_in), min_size=1, max_size=5))
    want = [ref.evaluate(n_in, steps, p) for p in points]
    f = pyad.compile(fn)
    for p, (wv, wg) in zip(points, want):
        ev, eg = eager(fn, p)
        assert_same([ev] + eg, [wv] + wg, f"eager at {p} of {steps}")
        cv, cg = f.value_and_grad(*p)
        assert_same([cv] + list(cg), [wv] + wg, f"compiled at {p} of {steps}")
    assert f.traces == 1  # no Python control flow: no guards
    cols = [np.array([p[i] for p in points]) for i in range(n_in)]
    for workers in (None, 2):
        V, G = f.value_and_grad(*cols, workers=workers)
        for k, (wv, wg) in enumerate(want):
            assert_same(
                [V[k]] + list(G[k]),
                [wv] + wg,
                f"batch (workers={workers}) at {points[k]} of {steps}",
            )


@FUZZ
@given(prog=programs(max_steps=6), data=st.data())
def test_fuzz_errstate_eager_and_compiled_agree(prog, data):
    """With IEEE exceptions set to raise, eager recording and replay raise
    for the same points (or give the same numbers). Every step feeds the
    output: a step whose value nothing uses is recorded (and may raise)
    eagerly, but is not part of the compiled program."""
    n_in, steps = prog
    fn = make_fn(steps, all_live=True)
    f = pyad.compile(fn)
    points = data.draw(st.lists(st.tuples(*[values] * n_in), min_size=1, max_size=4))
    f(*points[0])  # trace in the default (ignore) mode
    kind = data.draw(st.sampled_from(["all", "divide", "over", "invalid", "under"]))
    with pyad.errstate(**{kind: "raise"}):
        for p in points:
            try:
                e = eager(fn, p)
            except FloatingPointError:
                e = "raised"
            try:
                c = f.value_and_grad(*p)
                c = (c[0], list(c[1]))
            except FloatingPointError:
                c = "raised"
            assert (e == "raised") == (c == "raised"), (p, steps, e, c)
            if e != "raised":
                assert_same([c[0]] + c[1], [e[0]] + e[1], f"errstate {kind} at {p}")


@FUZZ
@given(op=st.sampled_from(OPNAMES), data=st.data())
def test_fuzz_ops_on_numbers_and_vars(op, data):
    """Each op on plain numbers (pyad_eval), and on Var operands with
    constants on either side, equals the reference."""
    arity = ref.OPS[op][0]
    n = data.draw(st.integers(1, 6)) if arity < 0 else arity
    xs = data.draw(st.lists(values, min_size=n, max_size=n))
    want = ref.OPS[op][1](xs)
    if op in _BINARY:
        got = _BINARY[op](Var(xs[0]), xs[1]).val
        assert same(_BINARY[op](xs[0], Var(xs[1])).val, want)
    elif op in ("neg", "abs"):
        got = (-Var(xs[0]) if op == "neg" else abs(Var(xs[0]))).val
    elif op in ("sum", "logsumexp"):
        got = getattr(pyad, op)(xs)
    elif op == "dot":
        k = len(xs) // 2
        got = pyad.dot(xs[:k], xs[k : 2 * k], xs[-1] if len(xs) % 2 else None)
    else:
        got = getattr(pyad, op)(*xs)
    assert same(float(got), want), (op, xs, got, want)
