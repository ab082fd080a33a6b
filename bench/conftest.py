"""pytest setup for the benchmark suite (`pytest bench/ --benchmark-only`).

- Without --benchmark-json, the run's JSON goes to bench/.results/latest.json
  (written whole at the end of the run), which `python bench/report.py` reads.
- Failures, engines that lack an op or are not installed, and one-shot
  timings (harness.RECORDS) are saved into that JSON under "pyad_bench",
  with the machine and the engine versions.
- The garbage collector stays on (pytest-benchmark's default); the tests
  marked gc-off turn it off themselves. Heavy engines run last (see below).
"""
import gc
import os
import platform
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / ".results"
sys.path.insert(0, str(BENCH))

import engines  # noqa: E402
import harness  # noqa: E402

_started = time.time()
DISTS = ["pyad", "micrograd", "torch", "jax", "jaxlib", "autograd", "casadi", "numpy", "cffi",
         "pytest-benchmark", "matplotlib"]


class _JsonOut:
    """Stands in for --benchmark-json's file: written to a temporary name
    and renamed, so an interrupted run leaves the last good JSON."""

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        self.tmp = open(self.path.with_suffix(".tmp"), "wb")
        return self.tmp

    def __exit__(self, kind, *_):
        self.tmp.close()
        if kind is None:
            os.replace(self.tmp.name, self.path)

    def __str__(self):
        return str(self.path)


def pytest_configure(config):
    RESULTS.mkdir(exist_ok=True)
    cache = RESULTS / "jax-cache"           # cold for every run: compile
    shutil.rmtree(cache, ignore_errors=True)  # times are measured afresh
    os.environ["PYAD_BENCH_JAX_CACHE"] = str(cache)
    if getattr(config.option, "benchmark_json", None) is None:
        config.option.benchmark_json = _JsonOut(RESULTS / "latest.json")


HEAVY = ("torch", "jax", "autograd", "casadi")


def pytest_collection_modifyitems(items):
    """Run the heavy engines last: until torch/jax/autograd/casadi are imported,
    the process (and so each full GC pass) is as small as a pyad, micrograd
    or seed-algorithm user's would be."""
    def heavy(item):
        callspec = getattr(item, "callspec", None)
        key = callspec.params.get("key", "") if callspec else ""
        return key.split("-")[0] in HEAVY
    items.sort(key=heavy)


def pytest_terminal_summary(terminalreporter):
    if harness.NODES:
        terminalreporter.write_line("node counts on pyad's tape (leaves and constants "
                                    "included): " + ", ".join(
                                        f"{k} {v:,}" for k, v in harness.NODES.items()))
        terminalreporter.write_line("report: python bench/report.py")


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def pytest_benchmark_update_json(config, benchmarks, output_json):
    versions = {d: engines.dist_version(d) for d in DISTS}
    versions["seed algorithm"] = "bench/seed_engine.py"
    output_json["pyad_bench"] = {
        "records": harness.RECORDS,
        "versions": versions,
        "machine": {
            "cpu_model": _cpu_model(),
            "cores": os.cpu_count(),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(),
        },
        "gc": ("on (pytest-benchmark's default), except the gc-off rows"
               if not config.getoption("benchmark_disable_gc") else
               "off everywhere (--benchmark-disable-gc)"),
        "gc_enabled_at_end": gc.isenabled(),
        "suite_seconds": time.time() - _started,
        "limit_s": harness.LIMIT,
    }
