"""Fuzzing the compiled-function loader (issue 5), beyond the mutated
pickles and single-element array mutations of tests/test_compile.py:

  * every truncation of a pickle, and every byte of it replaced by each of
    a few values;
  * the unpickled state with each field replaced by values of every type;
  * arbitrary programs given straight to the C validator
    (pyad_program_new): mostly well-formed, with random corruptions. Each
    is either refused with ValueError (MalformedProgramError) or accepted;
    an accepted program is replayed (one point, a batch, two workers) on
    special values and must equal a pure-Python interpretation of the same
    arrays bit for bit (values, gradients, guard outcomes).

Nothing may crash: under .ci/sanitize any out-of-bounds access is a report.
Budget as tests/test_fuzz_ops.py (PYAD_FUZZ_EXAMPLES, PYAD_FUZZ_RANDOM).
"""

import math
import os
import pickle

import numpy as np
import program_ref
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import pyad
from pyad._lib import lib
from pyad.compiled import _load
from pyad.program import FIELDS as _FIELDS
from pyad.program import Program as _Program

EXAMPLES = int(os.environ.get("PYAD_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("PYAD_FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck),
)
OP = pyad.optable.CODE
NAMES = {i: n for n, i in OP.items()}
INPUT, CONST = lib.PYAD_NODE_INPUT, lib.PYAD_NODE_CONST


def _compiled():
    f = pyad.compile(
        lambda x, y: (
            (x * y + pyad.exp(x))
            if x > 0
            else pyad.where(pyad.lt(y, 1.0), pyad.sum([x, y, 3.0]), x / y)
        )
    )
    f(1.0, 2.0)
    f(-1.0, 2.0)
    return f


def _exercise(obj):
    """Call what a load gave; exceptions are fine, crashes are not."""
    if not isinstance(obj, pyad.Compiled) or obj.n_in is None:
        return
    for args in ([0.75] * obj.n_in, [np.array([0.5, -1.0, math.nan])] * obj.n_in):
        try:
            obj.jacobian(*args)
        except Exception:
            pass


def test_every_truncation_and_byte_of_a_pickle():
    data = pickle.dumps(_compiled())
    loaded = 0
    for cut in range(len(data)):
        # a truncated pickle may fail in pickle itself or in our loader
        with pytest.raises(Exception):  # noqa: B017
            pickle.loads(data[:cut])
    for i in range(len(data)):
        for byte in (0x00, 0xFF, data[i] ^ 0x01, data[i] ^ 0x80):
            b = bytearray(data)
            b[i] = byte
            try:
                obj = pickle.loads(bytes(b))
            except Exception:
                continue
            loaded += 1
            _exercise(obj)
    assert loaded > 0


WEIRD = [
    None,
    True,
    -1,
    0,
    2**32,
    2**64,
    -(2**63),
    1.5,
    math.nan,
    "x",
    b"",
    b"\x00" * 7,
    [],
    {},
    [None],
    {"a": 1},
    (1,),
    object(),
]


def test_state_fields_of_every_type():
    state = _compiled().__reduce__()[1][0]
    tried = 0
    for key in list(state):
        for bad in WEIRD:
            s = dict(state, **{key: bad})
            tried += 1
            try:
                obj = _load(s)
            except ValueError:
                continue
            _exercise(obj)
    for name, _ in _FIELDS:  # array fields of a trace
        for bad in WEIRD:
            tr = dict(state["traces"][0], **{name: bad})
            with pytest.raises(ValueError):
                _load(dict(state, traces=[tr]))
    for s in (
        {**state, "traces": [None]},
        {**state, "traces": [{}]},
        {**state, "traces": state["traces"] * 40},
        {k: v for k, v in state.items() if k != "function"},
    ):
        with pytest.raises(ValueError):
            _load(s)
    assert tried == len(state) * len(WEIRD)


# ---- arbitrary programs straight to the C validator ----------------------------

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e308, -1e308, 1.0, -2.5, 0.5, 3.0]
OPCODES = sorted(OP.values())


@st.composite
def raw_programs(draw):
    """Program arrays: well-formed by construction, then perhaps corrupted."""
    n_nodes = draw(st.integers(0, 9))
    node_op, arg_start, args, value = [], [0], [], []
    for k in range(n_nodes):
        kinds = ["input", "const"] + (["op"] * 3 if k else [])
        kind = draw(st.sampled_from(kinds))
        value.append(draw(st.sampled_from(SPECIAL)))
        if kind == "op":
            op = draw(st.sampled_from(OPCODES))
            arity = lib.pyad_op_arity(op)
            if arity < 0:
                arity = draw(st.integers(1, 4))
            node_op.append(op)
            args += [draw(st.integers(0, k - 1)) for _ in range(arity)]
        else:
            node_op.append(INPUT if kind == "input" else CONST)
        arg_start.append(len(args))
    inputs = [k for k in range(n_nodes) if node_op[k] == INPUT]
    input_slot = draw(st.permutations(inputs)) if inputs else []
    n_out = draw(st.integers(1 if n_nodes else 0, 2)) if n_nodes else 0
    output_slot = [draw(st.integers(0, n_nodes - 1)) for _ in range(n_out)]
    n_guards = draw(st.integers(0, 2)) if n_nodes else 0
    g = {"guard_kind": [], "guard_a": [], "guard_b": [], "guard_c": [], "guard_outcome": []}
    for _ in range(n_guards):
        g["guard_kind"].append(draw(st.integers(0, 5)))
        g["guard_a"].append(draw(st.integers(0, n_nodes - 1)))
        g["guard_b"].append(draw(st.integers(-1, n_nodes - 1)))
        g["guard_c"].append(draw(st.sampled_from(SPECIAL)))
        g["guard_outcome"].append(draw(st.integers(0, 1)))
    arrays = {
        "node_op": node_op,
        "node_value": value,
        "arg_start": arg_start,
        "args": args,
        "input_slot": list(input_slot),
        "output_slot": output_slot,
        **g,
    }
    arrays = {name: np.array(arrays[name], dtype=dtype) for name, dtype in _FIELDS}
    corrupt = draw(st.integers(0, 3))  # 0: leave it well-formed
    for _ in range(corrupt):
        name = draw(st.sampled_from([n for n, _ in _FIELDS]))
        a = arrays[name]
        how = draw(st.sampled_from(["set", "set", "drop", "dup"]))
        if how == "set" and a.size:
            i = draw(st.integers(0, a.size - 1))
            if a.dtype == np.float64:
                a[i] = draw(st.sampled_from(SPECIAL))
            else:
                info = np.iinfo(a.dtype)
                a[i] = draw(
                    st.sampled_from(
                        [
                            0,
                            1,
                            info.max,
                            info.min,
                            min(int(a[i]) + 1, info.max),
                            max(int(a[i]) - 1, info.min),
                            n_nodes,
                            n_nodes - 1 if n_nodes else 0,
                            99,
                        ]
                    )
                )
        elif how == "drop" and a.size:
            arrays[name] = a[:-1].copy()
        else:
            arrays[name] = np.concatenate([a, a[:1]]) if a.size else a
    return arrays, n_out, corrupt


@FUZZ
@given(raw=raw_programs(), data=st.data())
def test_fuzz_raw_programs(raw, data):
    arrays, n_out, corrupt = raw
    try:
        prog = _Program(arrays, n_out)
    except ValueError as e:
        assert isinstance(e, pyad.MalformedProgramError) or "program arr" in str(e)
        assert corrupt, "a well-formed program was refused"
        event("refused")
        return
    event("accepted" + (" (corrupted)" if corrupt else ""))
    n = prog.n_in
    points = data.draw(st.lists(st.tuples(*[st.sampled_from(SPECIAL)] * n), min_size=1, max_size=4))
    program_ref.check_replay(prog, points)
