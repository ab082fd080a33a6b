"""Turn a benchmark run into bench/RESULTS.md and bench/results.png.

    pytest bench/ --benchmark-only      # writes bench/.results/latest.json
    python bench/report.py [RUN.json]

Without an argument: bench/.results/latest.json, else the newest JSON under
.benchmarks/ (from --benchmark-autosave). Every number is a median of one
run; the target ratios are computed from those medians. run_data.py reads
the JSON; issue12.py judges issue 12's targets and lays out their rows.
"""
import json
import re
import sys

import issue12
from run_data import BENCH, COLORS, DEMO, MICRO, PYAD, SCALAR, SEED, WIDE, Run, find_run, fmt


def targets(run):
    """[(what, measured text, goal text, PASS/MISS/n/a)] from the medians."""
    def ratio(group, slow, fast):
        a, b = run.seconds(group, slow), run.seconds(group, fast)
        return a / b if a and b else None

    out = []
    for engine, goal in ((SEED, 20), (MICRO, 40)):
        r = ratio(DEMO, engine, PYAD)
        out.append((f"demo step: pyad eager vs {engine}",
                    r and f"{r:.1f}x faster ({fmt(run.seconds(DEMO, engine))} vs "
                          f"{fmt(run.seconds(DEMO, PYAD))})",
                    f">= {goal}x", r is not None and r >= goal))
    for engine in (SEED, MICRO):     # for insight: micrograd's code as is
        r = ratio(DEMO, engine, SCALAR)
        if r:
            out.append((f"(info) demo step: pyad with scalar ops vs {engine}",
                        f"{r:.1f}x faster ({fmt(run.seconds(DEMO, SCALAR))})", "-", None))
    rec = next((g for g in run.groups if g.startswith("5 record")), None)
    r = rec and ratio(rec, PYAD, "python float")
    out.append(("recording a*b: pyad Var vs Python float",
                r and f"{r:.1f}x the float op ({fmt(run.seconds(rec, PYAD))} vs "
                      f"{fmt(run.seconds(rec, 'python float'))})",
                "<= 15x", r is not None and r <= 15))
    bwd = next((g for g in run.groups if g.startswith("5 backward")), None)
    s, n = bwd and run.seconds(bwd, PYAD), run.nodes.get(bwd)
    ns = s and n and s / n * 1e9
    out.append((f"backward alone, wide graph ({n or '?'} nodes)", ns and f"{ns:.2f} ns/node",
                "<= 10 ns/node", ns is not None and ns <= 10))
    return [(w, m or "not measured", g,
             "info" if ok is None and m else "PASS" if ok else ("MISS" if m else "n/a"))
            for w, m, g, ok in out]


def gc_notes(run):
    """What the gc-off pass shows, in numbers from this run."""
    off = DEMO + " (gc off)"
    out = []
    for engine in (SEED, MICRO):
        on_r = run.seconds(DEMO, engine) and run.seconds(DEMO, PYAD) and \
            run.seconds(DEMO, engine) / run.seconds(DEMO, PYAD)
        off_r = run.seconds(off, engine) and run.seconds(off, PYAD) and \
            run.seconds(off, engine) / run.seconds(off, PYAD)
        if on_r and off_r:
            out.append(f"- Demo step, pyad eager vs {engine}: {on_r:.1f}x faster with the "
                       f"GC on, {off_r:.1f}x with it off.")
    for g in (DEMO, WIDE):
        a, b = run.seconds(g, PYAD), run.seconds(g + " (gc off)", PYAD)
        if a and b:
            out.append(f"- pyad eager, {g[2:]}: {fmt(a)} with the GC on, {fmt(b)} off.")
    objs = run.gc_objects.get(DEMO)
    if objs:
        out.append(f"- {objs:,} GC-tracked objects were alive in the process when pyad's demo "
                   "step started. A full collection walks every tracked object, so the gc-on "
                   "times of engines that allocate many (the seed algorithm, micrograd; pyad's "
                   "Vars are tracked too) grow with what else the process holds.")
    return out


def markdown(run, tgts, tgts12, png):
    meta, m = run.meta, run.meta.get("machine", {})
    versions = meta.get("versions", {})
    commit = run.data.get("commit_info", {})
    lines = ["# pyad benchmark results", "",
             f"Run {run.data.get('datetime', '?')[:19]}, pyad commit "
             f"`{commit.get('id', '?')[:10]}`{' (dirty tree)' if commit.get('dirty') else ''}, "
             f"suite took {meta.get('suite_seconds', 0) / 60:.1f} min. "
             "Reproduce: `pytest bench/ --benchmark-only && python bench/report.py`.", "",
             "## Machine", "",
             f"- CPU: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores "
             "(shared, noisy machine: compare ratios within this run, not across runs)",
             f"- Python: {m.get('python', '?')} on {m.get('platform', '?')}",
             f"- Garbage collector: {meta.get('gc', 'on')}",
             "- Engines: " + ", ".join(f"{k} {v}" for k, v in versions.items()), "",
             "## Issue 12 targets (ratios of medians of this run)", "",
             "| target | measured | goal | result |", "|---|---|---|---|"]
    lines += [f"| {w} | {mes} | {g} | **{res}** |" for w, mes, g, res in tgts12]
    lines += ["", "Where a target is MISSED, the time goes elsewhere than the goal allows; "
              "the rows below show by how much. The machine is shared: the absolute times "
              "move between runs, the ratios less.", "",
              "## Earlier targets", "",
              "| target | measured | goal | result |", "|---|---|---|---|"]
    lines += [f"| {w} | {mes} | {g} | **{res}** |" for w, mes, g, res in tgts]
    lines += ["", "## Median time per call", "",
              "One call = value + gradient (workloads 1, 3, 4) or one training step "
              "(2: forward, backward, SGD update). Row 5a is per recorded op. "
              "`failed:` = the engine raised, crashed or took over "
              f"{meta.get('limit_s', 60):g} s (sharing DAG: 3 s); `(1 run)` = measured once.", "",
              "| workload | nodes (pyad) | " + " | ".join(run.engines) + " |",
              "|---|---:|" + "---:|" * len(run.engines)]
    for g in run.main_groups:
        cells = [run.cells.get((g, e), {}).get("text", "") for e in run.engines]
        lines.append(f"| {g} | {run.nodes.get(g, '')} | " + " | ".join(cells) + " |")
    lines += ["", "## Relative to pyad eager (median / pyad's median)", "",
              "| workload | " + " | ".join(run.engines) + " |",
              "|---|" + "---:|" * len(run.engines)]
    for g in run.main_groups:
        base = run.seconds(g, PYAD)
        cells = [f"{run.seconds(g, e) / base:.3g}x" if base and run.seconds(g, e) else ""
                 for e in run.engines]
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines += ["", "## Issue 12: side by side", "",
              "Each table is one group of this run; the last column divides every median by "
              "the reference row's. Every implementation was checked against pyad eager "
              "before it was timed (see the test files).", ""]
    lines += issue12.tables(run)
    lines += ["## Notes", "",
              "- The seed algorithm engine is bench/seed_engine.py: our own code, written the "
              "way the seed gist works (one object per node, recursive backward over every path).",
              "- jax.jit compile = the first call (trace + XLA compile), timed once; for the "
              "demo step and the 100k-node graphs in a separate process, because an XLA compile "
              "cannot be interrupted and can crash; the steady-state row follows only a compile that finished.",
              "- pyad compiled = `pyad.compile`: the first call traces the function (timed once, "
              "as its own column), later calls replay the frozen program in C.",
              "- The gc-off rows are the same work with the garbage collector disabled, for insight.",
              "- Order: pyad, the seed algorithm and micrograd run first, before torch, jax and "
              "autograd are imported, so the garbage collector sees a process like theirs would be."]
    lines += issue12.notes(run)
    lines += gc_notes(run)
    for engine, reason in run.skipped.items():
        lines.append(f"- {engine}: not run: {reason}")
    lines += ["", f"![results]({png.name})", ""]
    return "\n".join(lines)


def short(cell):
    """What a bar without a time says: the failure reason, or n/a."""
    if cell["status"] == "n/a":
        return "n/a"
    reason = cell["text"].removeprefix("failed: ")
    return "not run" if reason.startswith("not run") else reason


def chart(run, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("Workloads 1-3: time per call", lambda g: g[0] in "123"),
              ("Workload 4: sharing DAG y = y*y + y, k times (linear vs exponential)",
               lambda g: g[0] == "4"),
              ("Micro-benchmarks", lambda g: g[0] == "5"),
              ("Issue 12: fastest autograd (per op), per-call overhead (per call), "
               "batch (per point)", lambda g: g[0] in "78" or g.startswith(issue12.REPLAY))]
    everyone = list(dict.fromkeys(run.engines + [e for _, e in sorted(run.cells)]))
    fig, axes = plt.subplots(len(panels), 1, figsize=(16, 23))
    for ax, (title, keep) in zip(axes, panels):
        groups = [g for g in run.groups if keep(g)]
        engines = [e for e in everyone if any((g, e) in run.cells for g in groups)]
        times = [run.seconds(g, e) for g in groups for e in engines if run.seconds(g, e)]
        floor, top = (min(times) / 300, max(times) * 30) if times else (1e-9, 1.0)
        for i, g in enumerate(groups):
            # workloads 1-5: one slot per engine of the panel, so an engine
            # sits at the same place in every group; issue 12's groups each
            # have their own engines: only those, side by side
            slots = engines if g[0] in "12345" else [e for e in engines if (g, e) in run.cells]
            width = 0.84 / max(1, len(slots))
            for j, e in enumerate(slots):
                cell, x = run.cells.get((g, e)), i - 0.42 + (j + 0.5) * width
                if not cell:
                    continue
                if cell["seconds"]:
                    ax.bar(x, cell["seconds"], width, color=issue12.color(e, COLORS), label=e,
                           hatch="//" if cell["status"] == "single" else None)
                    ax.text(x, cell["seconds"] * 1.15, fmt(cell["seconds"]), rotation=90,
                            ha="center", va="bottom", fontsize=6.5)
                else:
                    color = "#c00000" if cell["status"] == "failed" else "#888"
                    ax.plot(x, floor * 1.5, marker="x", color=color)
                    ax.text(x, floor * 2.2, short(cell), rotation=90, ha="center",
                            va="bottom", fontsize=7, color=color)
        ax.set_yscale("log")
        ax.set_ylim(floor, top)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([re.sub(r"^\d\w? ", "", g).replace(" (", "\n(").replace(", k=", "\nk=")
                            .replace(": ", ":\n").replace(" — ", "\n") for g in groups],
                           fontsize=8)
        ax.set_ylabel("seconds (log scale)")
        ax.set_title(title)
        ax.grid(axis="y", which="major", alpha=0.3)
    handles = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    order = [e for e in everyone if e in handles]
    fig.legend([handles[e] for e in order], order, loc="upper center", ncol=5,
               fontsize=9, bbox_to_anchor=(0.5, 0.975))
    fig.suptitle("pyad vs other autodiff engines: median time, lower is better "
                 "(hatched = measured once; red x = failed)", fontsize=13, y=0.995)
    fig.tight_layout(rect=(0, 0, 1, 0.935))
    fig.savefig(path, dpi=110)


def main(argv):
    path = find_run(argv)
    run = Run(json.loads(path.read_text()))
    tgts, tgts12 = targets(run), issue12.verdicts(issue12.targets(run))
    png, md = BENCH / "results.png", BENCH / "RESULTS.md"
    md.write_text(markdown(run, tgts, tgts12, png))
    chart(run, png)
    print(f"read {path}")
    for w, mes, g, res in tgts12 + tgts:
        print(f"{res:6}  {w}: {mes} (goal {g})")
    print(f"wrote {md} and {png}")


if __name__ == "__main__":
    main(sys.argv)
