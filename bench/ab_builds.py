"""Side-by-side timing of two (or more) builds of pyad's C core, in one
process: each build's shared library is loaded as a plain C library (cffi
dlopen of a copy; the Python module's init is never run), the same programs
are made in each from the arrays of a pyad.compile trace, and point replay
(values only, and values with the gradient) is timed in interleaved rounds.
Printed: each build's median time relative to the first build's.

    cp pyad/_pyad_cffi.abi3.so /tmp/before.so
    ... change csrc/, rebuild ...
    python bench/ab_builds.py /tmp/before.so pyad/_pyad_cffi.abi3.so

Separate processes see the machine at different moments (and with a
different code layout); here every round times each build in turn, so
the ratios are measured side by side. The programs come from the pyad
importable here; op codes are stable, so any build of the same op list
accepts them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import cffi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fastest_autograd as FA  # noqa: E402

import pyad  # noqa: E402

CDEF = """
typedef struct pyad_program pyad_program;
typedef struct { int64_t point, node, guard; } pyad_fail_info;
int pyad_program_new(const int32_t *, const double *, const uint32_t *, size_t,
                     const uint32_t *, size_t, const uint32_t *, size_t,
                     const uint32_t *, size_t, const int32_t *, const uint32_t *,
                     const int64_t *, const double *, const uint8_t *, size_t,
                     pyad_program **);
void pyad_program_free(pyad_program *);
size_t pyad_program_work_size(const pyad_program *);
int pyad_program_eval(const pyad_program *, const double *, size_t, double *, size_t,
                      double *, size_t, double *, size_t, pyad_fail_info *);
"""
# program array -> its C type (the rest are uint32_t)
TYPES = {"node_op": "int32_t *", "node_value": "double *", "guard_kind": "int32_t *",
         "guard_b": "int64_t *", "guard_c": "double *", "guard_outcome": "uint8_t *"}


def chain(op, n=5000, width=10):
    """n ops, each of two recent nodes: a latency-bound graph of one op."""
    def f(*xs):
        nodes = list(xs)
        for _ in range(n):
            nodes.append(op(nodes[-10], nodes[-7]))
        return pyad.sum(nodes[-10:])
    return f, [0.3 + 0.01 * i for i in range(width)]


def workloads():
    """(name, function, point) of the graphs timed."""
    yield "fastest autograd", FA.pyad_function(), FA.leaves()
    # 6,000 ops: no adjoint is subnormal yet (past ~8,000 ops a band of
    # them costs microcode assists in every implementation)
    yield "fastest a. 6000", FA.pyad_function(6000), FA.leaves()
    yield ("tanh chain", *chain(lambda a, b: pyad.tanh(a * 0.5)))
    yield ("softplus chain", *chain(lambda a, b: pyad.softplus(a)))
    yield ("exp chain", *chain(lambda a, b: pyad.exp(a * 0.1)))
    yield ("div chain", *chain(lambda a, b: a / (b + 2.0)))
    yield ("mul chain", *chain(lambda a, b: a * b))


class Build:
    """One build's C library, and programs made with it."""

    def __init__(self, path: str, tmp: str, i: int) -> None:
        copy = os.path.join(tmp, f"build{i}.so")   # dlopen once per file
        shutil.copy(path, copy)
        self.ffi = cffi.FFI()
        self.ffi.cdef(CDEF)
        self.lib = self.ffi.dlopen(copy)

    def calls(self, arrays, point):
        """(values call, value-and-gradient call) of the program."""
        ffi, lib, a = self.ffi, self.lib, arrays

        def ptr(name):
            return ffi.cast(TYPES.get(name, "uint32_t *"), a[name].ctypes.data)

        out = ffi.new("pyad_program **")
        st = lib.pyad_program_new(
            ptr("node_op"), ptr("node_value"), ptr("arg_start"), a["node_op"].size,
            ptr("args"), a["args"].size, ptr("input_slot"), a["input_slot"].size,
            ptr("output_slot"), a["output_slot"].size, ptr("guard_kind"), ptr("guard_a"),
            ptr("guard_b"), ptr("guard_c"), ptr("guard_outcome"), a["guard_kind"].size, out)
        if st != 0:
            raise RuntimeError(f"pyad_program_new: status {st}")
        p = ffi.gc(out[0], lib.pyad_program_free)
        n_in, ws = len(point), lib.pyad_program_work_size(p)
        x, v = ffi.new("double[]", point), ffi.new("double[]", 1)
        g, w = ffi.new("double[]", max(n_in, 1)), ffi.new("double[]", ws)
        info = ffi.new("pyad_fail_info *")
        run = lib.pyad_program_eval

        def values():
            return run(p, x, n_in, v, 1, ffi.NULL, 0, w, ws, info)

        def value_and_grad():
            return run(p, x, n_in, v, 1, g, n_in, w, ws, info)
        return values, value_and_grad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs="+", help="shared libraries (the first is the base)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=5, help="calls per timing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        builds = [Build(b, tmp, i) for i, b in enumerate(args.builds)]
        print("median time / first build's (values only, value and gradient)")
        for name, fn, point in workloads():
            f = pyad.compile(fn)
            f(*point)
            arrays = f._traces[0].arrays
            calls = [b.calls(arrays, point) for b in builds]
            times = [[[], []] for _ in calls]
            for _ in range(args.rounds):
                for i, pair in enumerate(calls):
                    for j, call in enumerate(pair):
                        t = time.perf_counter()
                        for _ in range(args.calls):
                            call()
                        times[i][j].append((time.perf_counter() - t) / args.calls)
            base = [statistics.median(t) for t in times[0]]
            rel = [[statistics.median(t[j]) / base[j] for j in (0, 1)] for t in times]
            cells = "  ".join(f"[{i}] {r[0]:.3f} {r[1]:.3f}" for i, r in enumerate(rel))
            print(f"{name:17s} {cells}   (first: {base[0] * 1e6:.0f} / {base[1] * 1e6:.0f} us)")


if __name__ == "__main__":
    main()
