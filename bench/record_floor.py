"""Where the per-op recording cost goes: the floor of Python operator
overloading, next to pyad's a*b and the seed's node. Each line is `z = x * y` unrolled 100
times (no loop overhead), median of 5 samples; ratios are to the float op.

    python bench/record_floor.py
"""
import statistics
import timeit

from pyad import Var
from seed_engine import Node

_new = object.__new__
_queue = []


class DispatchOnly:
    __slots__ = ("_h",)

    def __mul__(self, other):
        return 1


class NewObject:
    __slots__ = ("_h",)

    def __mul__(self, other):
        v = _new(NewObject)
        v._h = 1
        return v


class NewObjectFinalized:
    """What any eager engine that frees C nodes must at least do."""

    __slots__ = ("_h",)

    def __mul__(self, other):
        v = _new(NewObjectFinalized)
        v._h = 1
        return v

    def __del__(self, _append=_queue.append):
        _append(getattr(self, "_h", None))
        if len(_queue) > 256:
            _queue.clear()


def main():
    cases = {
        "float x*y": (1.5, 2.5),
        "dispatch to __mul__ only": (DispatchOnly(), DispatchOnly()),
        "+ one new slots object": (NewObject(), NewObject()),
        "+ a __del__ that queues": (NewObjectFinalized(), NewObjectFinalized()),
        "the seed's node (pure Python)": (Node(1.5), Node(2.5)),
        "pyad Var a*b (records in C)": (Var(1.5), Var(2.5)),
    }
    stmt = ";".join(["z = x * y"] * 100)
    res = {}
    for name, (x, y) in cases.items():
        samples = [min(timeit.repeat(stmt, globals={"x": x, "y": y}, number=2000, repeat=3))
                   / 200_000 * 1e9 for _ in range(5)]
        res[name] = statistics.median(samples)
    base = res["float x*y"]
    for name, ns in res.items():
        print(f"{name:30s} {ns:7.1f} ns  {ns / base:5.1f}x the float op")


if __name__ == "__main__":
    main()
