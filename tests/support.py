"""Shared helpers for the pyad test suite: graph-state snapshots, float
comparisons in ulps, and an mpmath oracle for every unary op."""

import gc
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading

import mpmath
import pytest

import pyad
from pyad._lib import ffi, lib

MP_DPS = 50


def tape_state():
    """(live nodes, tape length): what a failed op must leave unchanged.

    Collects garbage first (an earlier test's traceback may hold Vars in a
    cycle), then live_nodes() flushes the batch of dead Vars; so call this
    before arming anything that counts C allocations."""
    gc.collect()
    return pyad.live_nodes(), lib.pyad_tape_length()


def same_float(a, b):
    """Bitwise-equal floats, treating every nan as equal to every nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def ulps_close(got, want, n):
    """|got - want| <= n ulp(want); exact match required for inf/nan/0."""
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want) or want == 0.0:
        return got == want
    return abs(got - want) <= n * math.ulp(want)


def rel_close(got, want, rel, abs_tol=0.0):
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return abs(got - want) <= rel * abs(want) + abs_tol


# ---- mpmath oracle: value and closed-form derivative of each unary op ----
# Each entry maps an mpf x (exact copy of a float) to (f(x), f'(x)), both
# mpf, evaluated with MP_DPS digits. The formulas are the textbook ones,
# written independently of pyad's C code.


def _mp_sigmoid(x):
    if x >= 0:
        e = mpmath.exp(-x)
        return 1 / (1 + e), e / (1 + e) ** 2
    e = mpmath.exp(x)
    return e / (1 + e), e / (1 + e) ** 2


def _mp_softplus(x):
    return mpmath.log1p(mpmath.exp(x)), _mp_sigmoid(x)[0]


MP_UNARY = {
    "exp": lambda x: (mpmath.exp(x), mpmath.exp(x)),
    "log": lambda x: (mpmath.log(x), 1 / x),
    "sin": lambda x: (mpmath.sin(x), mpmath.cos(x)),
    "cos": lambda x: (mpmath.cos(x), -mpmath.sin(x)),
    "tanh": lambda x: (mpmath.tanh(x), mpmath.sech(x) ** 2),
    "sigmoid": _mp_sigmoid,
    "relu": lambda x: (x if x > 0 else mpmath.mpf(0), mpmath.mpf(1 if x > 0 else 0)),
    "sqrt": lambda x: (mpmath.sqrt(x), 1 / (2 * mpmath.sqrt(x))),
    "log1p": lambda x: (mpmath.log1p(x), 1 / (1 + x)),
    "expm1": lambda x: (mpmath.expm1(x), mpmath.exp(x)),
    "softplus": _mp_softplus,
    "abs": lambda x: (abs(x), mpmath.mpf(mpmath.sign(x))),
    "neg": lambda x: (-x, mpmath.mpf(-1)),
}

# Which real inputs lie inside each op's domain (for the oracle).
DOMAIN = {
    "log": lambda x: x > 0,
    "sqrt": lambda x: x > 0,
    "log1p": lambda x: x > -1,
}


def mp_value_and_derivative(name, x):
    """(f(x), f'(x)) as correctly rounded floats (overflow -> inf)."""
    with mpmath.workdps(MP_DPS):
        y, d = MP_UNARY[name](mpmath.mpf(x))
        return float(y), float(d)


def run_threads(targets, timeout=300):
    """Run each callable in its own thread, all released at once by a
    barrier; fail on any error raised in a thread, or a hung thread."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(fn):
        def run():
            try:
                barrier.wait()
                fn()
            except BaseException as e:  # reported by the main thread
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors


# The unary ops of the C op table (csrc/ops.c), the one list of ops: a new
# row there is picked up by every test that uses these names.
UNARY_OPS = [
    ffi.string(lib.pyad_op_name(i)).decode()
    for i in range(lib.pyad_op_count())
    if lib.pyad_op_arity(i) == 1
]
# ... of which these are module functions (neg and abs are operators).
UNARY_FUNCTIONS = [n for n in UNARY_OPS if n not in ("neg", "abs")]


# Longer variants of the hostile-user tests (tests/test_reliability_*.py).
STRESS = bool(os.environ.get("PYAD_STRESS"))


def run_script(tmp_path, source, timeout=60):
    """Run `source` as a script in a fresh interpreter and return its
    stdout. A crash (a signal, a sanitizer report's exit status) or a hang
    fails the test, not the test run: after `timeout` seconds the script's
    whole process group (it runs in its own session, with any children it
    forked) is killed. The environment is passed through, so under
    .ci/sanitize the child runs with the sanitizers preloaded too."""
    path = tmp_path / "hostile.py"
    path.write_text(textwrap.dedent(source))
    p = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=os.path.dirname(os.path.abspath(__file__)),  # no pyad/ source here
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"hung: killed after {timeout} s\n--- stdout\n{out}\n--- stderr\n{err}")
    if p.returncode < 0:
        name = signal.Signals(-p.returncode).name
        pytest.fail(f"crashed: {name}\n--- stdout\n{out}\n--- stderr\n{err}")
    assert p.returncode == 0, f"exit status {p.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"
    return out
