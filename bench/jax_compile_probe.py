"""Time jax.jit's first call (trace + XLA compile) of one workload, alone in
its own process: an XLA compile cannot be interrupted from Python, and on a
very deep graph it can crash the process. The suite runs this once per large
workload; the compiled program lands in JAX's persistent cache, so the
suite's own first call (still a trace) skips the XLA compile.

    python bench/jax_compile_probe.py WORKLOAD LIMIT_SECONDS

WORKLOAD is a name of workloads.py, or "fastest-autograd" (the unrolled
graph of fastest_autograd.py).

Prints {"compile_s": ...}; exits 3 when the limit passes first.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import engines  # noqa: E402
import workloads  # noqa: E402


def main(name, limit):
    E = engines.load("jax-jit")     # float64, cpu, the shared compile cache
    if name == "fastest-autograd":
        import fastest_autograd as FA
        fn = FA.jax(FA.leaves())    # jit-wrapped: the first call traces and compiles
    else:
        fn = workloads.case(name, E)
    watchdog = threading.Timer(limit, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    watchdog.cancel()
    print(json.dumps({"compile_s": seconds}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
