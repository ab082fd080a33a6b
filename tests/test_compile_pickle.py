"""Pickled compiled functions: a round trip in another process, the loader
refusing malformed state, and fuzzed pickles and program arrays that never
crash. (pyad.compile itself: test_compile.py.)"""

import math
import os
import pickle
import random
import subprocess
import sys
import textwrap

import numpy as np
import program_ref
import pytest
from program_ref import assert_bits, branchy, eager

import pyad
from pyad import Var
from pyad.compiled import _load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- pickling ---------------------------------------------------------------------------


def test_pickle_round_trip_in_another_process(tmp_path):
    f = pyad.compile(branchy)
    f(2.0)
    f(-2.0)  # two traces
    g = pyad.compile(lambda x, y: (pyad.exp(x) * y, x - y))
    g(0.5, 2.0)
    path = tmp_path / "f.pkl"
    path.write_bytes(pickle.dumps((f, g)))
    pts = [3.0, -4.0, 0.0, 1e-3]
    script = textwrap.dedent(f"""
        import pickle, sys
        import numpy as np
        import pyad
        f, g = pickle.loads(open({str(path)!r}, "rb").read())
        pts = {pts!r}
        out = [f.value_and_grad(x) for x in pts]
        out.append(f.value_and_grad(np.array(pts)))
        out.append(g.value_and_jacobian(1.5, -2.0))
        try:
            f2 = pickle.loads(pickle.dumps(pyad.compile(lambda x: x * float(x))))
        except Exception as e:
            print("unexpected", e)
        sys.stdout.buffer.write(pickle.dumps(out))
    """)
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    out = pickle.loads(r.stdout)
    for (v, gr), x in zip(out, pts):
        ev, ej = eager(branchy, [x])
        assert_bits(v, ev[0])
        assert_bits(gr, ej[0])
    v, gr = out[len(pts)]
    assert_bits(v, [f(x) for x in pts])
    assert_bits(gr, np.array([f.grad(x) for x in pts]))
    v, j = out[-1]
    assert_bits(v, g(1.5, -2.0))
    assert_bits(j, g.jacobian(1.5, -2.0))


def test_unpickled_without_function_raises_on_guard_miss():
    f = pyad.compile(branchy)
    f(2.0)
    h = pickle.loads(pickle.dumps(f))
    assert h(3.0) == 9.0
    assert_bits(h(np.array([1.0, 2.0])), [1.0, 4.0])
    with pytest.raises(pyad.GuardMissError, match="attach"):
        h(-1.0)
    with pytest.raises(pyad.GuardMissError):
        h(np.array([1.0, -1.0]))
    h.attach(branchy)
    assert h(-1.0) == 1.0
    # a Function pickles too
    x = Var(1.0)
    F = pyad.Function([x], pyad.exp(x) * x)
    F2 = pickle.loads(pickle.dumps(F))
    assert isinstance(F2, pyad.Function)
    assert_bits(F2.grad(0.3), F.grad(0.3))


def _state(f):
    return f.__reduce__()[1][0]


def test_loader_rejects_malformed_arrays():
    f = pyad.compile(lambda x, y: pyad.sum([x * y, pyad.sin(x), y, 2.0]) if x > y else x - y)
    f(2.0, 1.0)
    base = _state(f)
    t = base["traces"][0]

    def mutated(name, fn):
        s = dict(base)
        tr = dict(t)
        arr = np.frombuffer(tr[name], dtype=dict(pyad.program.FIELDS)[name]).copy()
        tr[name] = fn(arr)
        s["traces"] = [tr]
        return s

    bad = [
        mutated("node_op", lambda a: (a.__setitem__(-1, 99), a)[1].tobytes()),
        mutated("node_op", lambda a: (a.__setitem__(-1, -3), a)[1].tobytes()),
        mutated("node_op", lambda a: a[:-1].tobytes()),
        mutated("args", lambda a: (a.__setitem__(0, 10**6), a)[1].tobytes()),
        mutated("args", lambda a: (a.__setitem__(-1, len(a) + 50), a)[1].tobytes()),
        mutated("arg_start", lambda a: (a.__setitem__(-1, a[-1] + 1), a)[1].tobytes()),
        mutated("arg_start", lambda a: a[::-1].copy().tobytes()),
        mutated("input_slot", lambda a: (a.__setitem__(0, a[1]), a)[1].tobytes()),
        mutated("output_slot", lambda a: (a.__setitem__(0, 2**31), a)[1].tobytes()),
        mutated("guard_a", lambda a: (a.__setitem__(0, 2**32 - 1), a)[1].tobytes()),
        mutated("guard_b", lambda a: (a.__setitem__(0, -5), a)[1].tobytes()),
        mutated("guard_kind", lambda a: (a.__setitem__(0, 17), a)[1].tobytes()),
        mutated("guard_outcome", lambda a: (a.__setitem__(0, 2), a)[1].tobytes()),
        mutated("guard_c", lambda a: a.tobytes()[:-1]),
        mutated("args", lambda a: "not bytes"),
        dict(base, version=99),
        dict(base, n_in=-1),
        dict(base, n_in=3),
        dict(base, n_out=2),
        dict(base, traces="x"),
        dict(base, cache_size=0),
        {"version": 1},
        None,
    ]
    for s in bad:
        with pytest.raises(ValueError):
            _load(s)
    # an operand pointing at itself or later is an out-of-order (cyclic) tape
    arrays = {k: np.frombuffer(v, dtype=dict(pyad.program.FIELDS)[k]).copy() for k, v in t.items()}
    last = int(arrays["arg_start"][-2])
    arrays["args"][last] = len(arrays["node_op"]) - 1
    with pytest.raises(ValueError):
        _load(dict(base, traces=[{k: v.tobytes() for k, v in arrays.items()}]))


def _exercise(obj):
    """Call whatever a fuzzed load gave; anything but a crash is fine."""
    if not isinstance(obj, pyad.Compiled) or obj.n_in is None:
        return
    n = obj.n_in
    try:
        obj.jacobian(*[0.75] * n)
    except Exception:
        pass
    try:
        obj.jacobian(*[np.array([0.5, -1.0, 2.0])] * n, workers=2)
    except Exception:
        pass


def test_fuzz_mutated_pickles_never_crash():
    """1,500 pickles with 1-6 random bytes changed: each is refused (any
    exception) or loads; whatever loads as a compiled function computes
    exactly what its (mutated) arrays mean, for every trace, at special
    and ordinary points (program_ref.check_replay)."""
    f = pyad.compile(lambda x, y: (x * y + pyad.exp(x)) if x > 0 else pyad.sum([x, y, 3.0]))
    f(1.0, 2.0)
    f(-1.0, 2.0)
    data = pickle.dumps(f)
    rng = random.Random(1234)
    loaded = checked = 0
    for _ in range(1500):
        b = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
        try:
            obj = pickle.loads(bytes(b))
        except Exception:
            continue
        loaded += 1
        if not isinstance(obj, pyad.Compiled):
            continue
        for prog in obj._traces:
            n = prog.n_in
            program_ref.check_replay(prog, [(0.75,) * n, (-1.5,) * n, (math.nan,) * n, (0.0,) * n])
            checked += 1
        _exercise(obj)
    # (seeded: 45 load, 88 traces checked; most mutations break the framing)
    assert loaded >= 30 and checked >= 60, (loaded, checked)


def test_fuzz_mutated_arrays_never_crash():
    f = pyad.compile(lambda x, y: (x * y + pyad.exp(x)) if x > y else pyad.sum([x, y, 3.0]) / x)
    f(2.0, 1.0)
    base = _state(f)
    fields = dict(pyad.program.FIELDS)
    rng = np.random.default_rng(7)
    accepted = 0
    for _ in range(1500):
        tr = dict(base["traces"][0])
        name = rng.choice(list(fields))
        arr = np.frombuffer(tr[name], dtype=fields[name]).copy()
        if arr.size and rng.random() < 0.8:
            i = rng.integers(arr.size)
            if arr.dtype == np.float64:
                arr[i] = rng.choice([0.0, -1.0, np.nan, np.inf, 1e308])
            else:
                info = np.iinfo(arr.dtype)
                arr[i] = rng.choice(
                    [
                        0,
                        1,
                        2,
                        -1 if info.min < 0 else 3,
                        info.max,
                        int(rng.integers(0, 64)),
                        int(arr[i]) + 1,
                    ]
                )
        elif rng.random() < 0.5:
            arr = arr[:-1] if arr.size else arr
        else:
            arr = np.concatenate([arr, arr[:1]])
        tr[name] = arr.tobytes()
        try:
            obj = _load(dict(base, traces=[tr]))
        except ValueError:
            continue
        accepted += 1
        _exercise(obj)
    assert accepted > 0
