"""python -m pyad: run the seed gist's example, check it, time it.

The example and its expected numbers come from the gist pyad grew from;
the gradients are checked against central finite differences, and the
timing line compares pyad (value and gradient) with the same expression
evaluated on plain Python floats (value only).
"""

from __future__ import annotations

import argparse
import math
import sys
import timeit
from typing import Any

import pyad
from pyad import Var, cos, exp, log, relu, sigmoid, sin

GIST = {
    "y": 0.44533482351666853,
    "a": 0.4925564216709931,
    "b": 0.3107593846787471,
    "c": 0.06870937895756869,
}


def example(a: Any, b: Any, c: Any) -> Any:  # Vars, or floats
    """The gist's expression; works on Vars and on plain floats."""
    return relu(log(sin(a * b) - exp(c) + 5) ** a / b * cos(c) + sigmoid(a))


def example_floats(a: float, b: float, c: float) -> float:
    """The same expression written with math, the pure-Python baseline."""
    s = math.exp(a) / (math.exp(a) + 1)
    # (ignore: typeshed types float ** float as Any; kept as is, it is the timed baseline)
    return max(math.log(math.sin(a * b) - math.exp(c) + 5) ** a / b * math.cos(c) + s, 0.0)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pyad",
        description="Run the seed gist's example with pyad: value, gradients "
        "checked against the gist and finite differences, timing.",
    )
    parser.add_argument(
        "--repeat", type=int, default=2000, help="evaluations per timing sample (default 2000)"
    )
    args = parser.parse_args(argv)

    a, b, c = Var(2), Var(5), Var(-3)
    y = example(a, b, c)
    y.backward()
    got = {"y": y.val, "a": a.grad, "b": b.grad, "c": c.grad}
    print(f"pyad {pyad.__version__}: the seed gist's example at a, b, c = 2, 5, -3")
    ok = True
    for name, value in got.items():
        label = "y.val " if name == "y" else f"{name}.grad"
        rel = abs(value - GIST[name]) / abs(GIST[name])
        ok &= rel <= 1e-14
        print(f"  {label} = {value!r:<22} gist {GIST[name]!r:<22} rel. diff {rel:.1e}")
    fd_ok = pyad.gradcheck(example, 2.0, 5.0, -3.0)
    print(f"  gradients vs central finite differences: {'ok' if fd_ok else 'MISMATCH'}")

    def pyad_call() -> float:
        a, b, c = Var(2.0), Var(5.0), Var(-3.0)
        example(a, b, c).backward()
        return float(a.grad)

    def float_call() -> float:
        return example_floats(2.0, 5.0, -3.0)

    t_pyad = min(timeit.repeat(pyad_call, number=args.repeat, repeat=5)) / args.repeat
    t_float = min(timeit.repeat(float_call, number=args.repeat, repeat=5)) / args.repeat
    print(
        f"  timing: pyad value+gradient {t_pyad * 1e6:.2f} us per call; "
        f"plain Python floats, value only, {t_float * 1e6:.2f} us "
        f"({t_pyad / t_float:.1f}x)"
    )
    return 0 if ok and fd_ok else 1


if __name__ == "__main__":
    sys.exit(main())
