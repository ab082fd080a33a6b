"""Micro-benchmarks for pyad's targets.

- Recording one binary op: 100 copies of `c = a * b` in straight-line code
  (no loop overhead), for pyad Vars, the other tape engines, plain Python
  floats, and the floor of eager operator overloading (record_floor.py: a
  `__mul__` that makes one `__slots__` object whose `__del__` queues its
  handle, the least an engine whose nodes live in C must do); report.py
  divides the medians.
- Backward alone on the 100k-node wide graph, recorded once: ns per node;
  beside it, the same sweep in plain C and a dense C sweep without reach
  tracking, the floor of any sweep on this layout (sweep_ref.c).
"""
import pytest

import engines
import record_floor
import sweep_ref
import workloads as W
from harness import measure

UNROLL = 100
RECORD_GROUP = f"5 record one binary op a*b (x{UNROLL} unrolled)"
FLOOR = "record floor (slots object + __del__ queue)"
BACKWARD_GROUP = "5 backward only, wide graph 100k nodes"
TAPE = ["pyad", "seed", "micrograd", "torch"]


def unrolled(stmt, n=UNROLL):
    """f(a, b) that runs `stmt` n times, written out: no loop in the timing."""
    src = "def f(a, b):\n" + f"    {stmt}\n" * n + "    return c\n"
    namespace = {}
    exec(compile(src, f"<{n} x {stmt}>", "exec"), namespace)
    return namespace["f"]


@pytest.mark.parametrize("key", ["float", "floor"] + TAPE)
def test_record_binary_op(benchmark, key):
    f = unrolled("c = a * b")
    if key == "float":
        a, b, label = 1.5, 2.5, "python float"
    elif key == "floor":
        cls = record_floor.NewObjectFinalized
        a, b, label = cls(), cls(), FLOOR
        assert type(f(a, b)) is cls
    else:
        E = engines.load(key)
        a, b, label = E.leaf(1.5), E.leaf(2.5), E.name
    measure(benchmark, lambda: f(a, b), RECORD_GROUP, label, ops=UNROLL)


@pytest.mark.parametrize("key", TAPE)
def test_backward_only(benchmark, key):
    E = engines.load(key)
    leaves = [E.leaf(x) for x in W.wide_inputs()]
    y = W.wide(E, leaves)
    if key == "torch":
        def backward():
            y.backward(retain_graph=True)
    else:
        backward = y.backward
    measure(benchmark, backward, BACKWARD_GROUP, E.name, nodes=W.pyad_nodes("wide"))


@pytest.mark.parametrize("kind", ["reach", "dense"])
def test_backward_c_reference(benchmark, kind):
    lib = sweep_ref.built(tuple(W.wide_inputs()))  # checked against pyad's gradients
    label = sweep_ref.REACH if kind == "reach" else sweep_ref.DENSE
    measure(benchmark, getattr(lib, f"sw_backward_{kind}"), BACKWARD_GROUP, label,
            nodes=W.pyad_nodes("wide"))
