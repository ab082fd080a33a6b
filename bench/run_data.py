"""One benchmark run's JSON read into cells: (group, engine) -> median.

Shared by report.py (tables and chart) and issue12.py (issue 12's targets).
A row measured with extra_info ops=k (and per="op" or "point") is divided
by k and its group is named "<group> — per op" (or "— per point"); records
(failures, one-shot timings) made under the undivided name join that row.
"""
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = ["pyad", "pyad, scalar ops", "pyad compiled", "pyad compiled: trace (first call)",
         "seed algorithm (pure Python)", "micrograd",
         "torch (0-d float64)", "jax eager", "jax.jit (steady state)",
         "jax.jit compile (first call)", "autograd (HIPS)", "python float"]
COLORS = dict(zip(ORDER, ["#d62728", "#e377c2", "#ff7f0e", "#ffbb78", "#7f7f7f", "#8c564b",
                          "#1f77b4", "#2ca02c", "#98df8a", "#bcbd22", "#9467bd", "#17becf"]))
DEMO, WIDE = "2 demo train step", "3 wide graph, 100k nodes"
PYAD, SCALAR, SEED, MICRO = ORDER[0], ORDER[1], ORDER[4], ORDER[5]
MAIN = "12345"          # groups of the engine-by-workload tables; 6+ are issue 12's


def find_run(argv):
    if len(argv) > 1:
        return Path(argv[1])
    latest = BENCH / ".results" / "latest.json"
    if latest.exists():
        return latest
    runs = sorted((BENCH.parent / ".benchmarks").glob("**/*.json"),
                  key=lambda p: p.stat().st_mtime)
    if not runs:
        sys.exit("no run found: run `pytest bench/ --benchmark-only` first")
    return runs[-1]


def natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def fmt(s):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


class Run:
    """Cells (group, engine) -> dict(status, seconds, text[, call]) of one
    run; `call` is the undivided median of a per-op row."""

    def __init__(self, data):
        self.data = data
        self.meta = data.get("pyad_bench", {})
        self.cells, self.nodes, self.skipped, self.gc_objects = {}, {}, {}, {}
        self.info = {}          # group -> extra_info of its first row
        self.units = {}         # divided group -> (its undivided name, "op"/"point", count)
        for b in data["benchmarks"]:
            info = b.get("extra_info", {})
            if info.get("failed"):
                continue            # the failure itself is in the records
            group, engine = b["group"], info.get("engine", b["name"])
            self.info.setdefault(group, info)
            call = b["stats"]["median"]
            median = call / info.get("ops", 1)
            if info.get("ops"):
                per = info.get("per", "op")
                self.units[group + f" — per {per}"] = (group, per, info["ops"])
                group += f" — per {per}"
            single = info.get("rounds_note") == "single run"
            self.cells[group, engine] = dict(
                status="single" if single else "ok", seconds=median, call=call,
                text=fmt(median) + (" (1 run)" if single else ""))
            if info.get("gc_tracked_objects") and engine == PYAD:
                self.gc_objects[group] = info["gc_tracked_objects"]
            if info.get("nodes"):
                self.nodes[group] = info["nodes"]
        divided = {plain: g for g, (plain, _, _) in self.units.items()}
        for r in self.meta.get("records", []):
            g, e = divided.get(r["group"], r["group"]), r["engine"]
            if r["kind"] == "skipped":
                self.skipped.setdefault(e, r["reason"])
            elif r["kind"] == "failed":
                self.cells[g, e] = dict(status="failed", seconds=None,
                                        text="failed: " + r["reason"])
            elif r["kind"] == "n/a":
                self.cells[g, e] = dict(status="n/a", seconds=None,
                                        text="n/a: " + r["reason"])
            elif r["kind"] == "single":
                self.cells[g, e] = dict(status="single", seconds=r["seconds"],
                                        text=fmt(r["seconds"]) + " (1 run)")
        self.groups = sorted({g for g, _ in self.cells}, key=natural)
        self.main_groups = [g for g in self.groups if g[0] in MAIN]
        engines = {e for g, e in self.cells if g[0] in MAIN}
        self.engines = [e for e in ORDER if e in engines] + sorted(engines - set(ORDER))

    def seconds(self, group, engine):
        cell = self.cells.get((group, engine))
        return cell and cell["seconds"]

    def group(self, prefix):
        """The first group whose name starts with prefix, or None."""
        return next((g for g in self.groups if g.startswith(prefix)), None)

    def engines_of(self, group):
        """Engines with a cell in group, in table order."""
        found = [e for g, e in self.cells if g == group]
        return [e for e in ORDER if e in found] + [e for e in found if e not in ORDER]
