"""``RESULTS.md`` and ``segment_speed.png`` from the runs of :mod:`ecgseg.bench.segment_speed`."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .cases import FS, Case, ProcessRun

OURS = "paper-all"
FLOOR = "floor"
FRESH = "cli-fresh"
PACKAGES = ("numpy", "numba", "scipy", "wfdb", "h5py", "neurokit2")


@dataclass
class Result:
    """Everything one benchmark run measured."""

    cases: list[Case]
    scale: list[tuple]
    memory: list[ProcessRun]
    startup: float
    workers: int
    records: int
    repeat: int
    identical: dict[str, str]
    command: str
    load: tuple
    peer_note: str

    def case(self, key: str) -> Case | None:
        """The case with this key, or None."""
        return next((c for c in self.cases if c.key == key), None)

    def per_sample(self, key: str) -> float:
        """Median seconds per input sample of a case (NaN when absent)."""
        c = self.case(key)
        return c.seconds / c.samples if c is not None and c.times else float("nan")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _versions() -> str:
    out = []
    for name in PACKAGES:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} (absent)")
    return f"Python {platform.python_version()}, " + ", ".join(out)


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}" if x < 1 else f"{x:.{digits - 1}f}"


def _rate(samples_per_s: float) -> str:
    return "-" if not math.isfinite(samples_per_s) else f"{samples_per_s / 1e6:,.1f} M"


def table_rows(r: Result) -> list[list[str]]:
    """Main table: method, records, seconds, samples/s, ratio to ours, to the floor."""
    ours, floor = r.per_sample(OURS), r.per_sample(FLOOR)
    rows = []
    for c in r.cases:
        if c.group == "scale" or not c.times:
            continue
        rows.append(_row(c.label, c.records, c.seconds, c.cpu_seconds, c.samples,
                         len(c.times), ours, floor))
        for part, times in c.parts.items():
            what = "record decoding" if part == "rdrecord" else "annotation parsing"
            rows.append(_row(f"&nbsp;&nbsp;of which {part} ({what})", c.records,
                             float(np.median(times)), float("nan"), c.samples, len(times),
                             ours, floor))
    rows.append(["fresh interpreter: import the CLI, load the kernels (no record)", "0",
                 _fmt(r.startup), "-", "-", "-", "-", str(r.repeat)])
    return rows


def _row(label, records, seconds, cpu, samples, runs, ours, floor) -> list[str]:
    per = seconds / samples if samples else float("nan")
    return [label, str(records), _fmt(seconds), _fmt(cpu),
            _rate(1 / per if per else float("nan")), _fmt(per / ours), _fmt(per / floor),
            str(runs)]


def goals(r: Result) -> list[tuple[str, str, str]]:
    """(goal, measured, verdict) for each goal of the issue."""
    out = []
    ours, floor = r.per_sample(OURS), r.per_sample(FLOOR)
    v = ours / floor
    out.append(("end to end, all cores, <= 1.5 x the I/O floor", f"{v:.2f} x",
                _ok(v <= 1.5)))
    fresh = r.per_sample(FRESH)
    if math.isfinite(fresh):
        v = fresh / floor
        cpu = r.case(FRESH).cpu_seconds / r.case(FLOOR).cpu_seconds
        out.append(("fresh `ecg segment` process <= 1.5 x wfdb reading the records in a "
                    "running Python", f"{v:.2f} x (CPU s: {cpu:.2f} x)", _ok(v <= 1.5)))
    one = r.per_sample("paper-1")
    for key, name, need in (("nk2", "neurokit2", 50), ("xqrs", "wfdb xqrs_detect", 20)):
        p = r.per_sample(key)
        if math.isfinite(p):
            out.append((f">= {need} x faster than {name} (same records)",
                        f"{p / ours:,.0f} x ({p / one:,.0f} x with 1 worker)",
                        _ok(p / ours >= need)))
    k_ours = r.case("kern-ours")
    ratio = r.per_sample("kern-ref") / r.per_sample("kern-ours")
    out.append(("kernels >= 10 x the NumPy reference", f"{ratio:.1f} x", _ok(ratio >= 10)))
    rate = k_ours.samples / k_ours.seconds
    out.append(("kernels > 100 M input samples/s per core", f"{rate / 1e6:.0f} M/s",
                _ok(rate > 1e8)))
    speedup = r.case("paper-1").seconds / r.case(OURS).seconds
    out.append((f"parallel speed-up with {r.workers} workers >= 1.7 x", f"{speedup:.2f} x",
                _ok(speedup >= 1.7)))
    if len(r.memory) >= 2:
        small, big = r.memory[0], r.memory[-1]
        out.append(("peak RSS bounded by a few records, not the database",
                    f"{small.peak_process_mb:.0f} MB ({small.records} rec.) vs "
                    f"{big.peak_process_mb:.0f} MB ({big.records} rec.)",
                    _ok(big.peak_process_mb <= 1.5 * small.peak_process_mb)))
    return out


def _load_note(r: Result) -> list[str]:
    """Whether the cores were free: the I/O floor spread over the workers vs alone."""
    one, par = r.case(FLOOR), r.case("floor-par")
    if one is None or par is None or not par.times:
        return []
    gain = one.seconds / par.seconds
    ours = r.case(OURS)
    floor_cpu = one.cpu_seconds
    low = ours.cpu_seconds / r.workers
    text = (f"Free cores check: the I/O floor spread over {r.workers} processes ran "
            f"{gain:.2f} x as fast as in one process (ideal {r.workers} x). "
            f"CPU s = user + system time of the benchmark process and its workers. Our "
            f"all-cores run used {ours.cpu_seconds:.2f} CPU s: on {r.workers} idle cores it "
            f"needs at least {low:.2f} s, {low / floor_cpu:.2f} x the I/O floor's "
            f"{floor_cpu:.2f} CPU s (1 worker: {r.case('paper-1').cpu_seconds / floor_cpu:.2f}"
            f" x).")
    if gain < 0.75 * r.workers:
        text += (" The machine was shared during this run (see the load average): the "
                 "parallel rows are limited by the cores other processes took, not by "
                 "the pipeline.")
    return [text]


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def headline(r: Result) -> list[str]:
    """A few lines for the console (and the README)."""
    return [f"{g}: {m} ({v.replace('*', '')})" for g, m, v in goals(r)]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def markdown(r: Result, png_name: str) -> str:
    """The text of RESULTS.md."""
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    (b1, b5, b15), (a1, a5, a15) = r.load
    lines = [
        "# Segmentation speed benchmark",
        "",
        f"Measured {now} on {cpu_model()}, {os.cpu_count()} cores "
        f"({platform.system()} {platform.release()}); {_versions()}.",
        f"Load average (1/5/15 min) before: {b1:.2f} / {b5:.2f} / {b15:.2f}; "
        f"after: {a1:.2f} / {a5:.2f} / {a15:.2f}.",
        "",
        "Command:",
        "",
        f"    {r.command}",
        "",
        f"{r.records} MIT-BIH records ({r.case(FLOOR).samples:,} input samples at "
        f"{FS:g} Hz, {r.case(FLOOR).samples / FS / 3600:.1f} h of ECG), files in the page "
        f"cache. Our rows: median of {r.repeat} interleaved rounds; the peers ran once "
        f"(first round), on {r.case('nk2').records if r.case('nk2') else 0} record(s), "
        f"{r.peer_note}. Ratios compare seconds per input sample, so rows on fewer "
        f"records compare fairly. \"Ours\" = `ecg segment --recipe paper` with "
        f"{r.workers} workers, in-process.",
        "",
        "## Results",
        "",
    ]
    lines += _md_table(["method", "records", "seconds", "CPU s", "samples/s",
                        "ratio to ours", "ratio to I/O floor", "runs"], table_rows(r))
    lines += ["", *_load_note(r)]
    lines += ["", f"![seconds per method]({png_name})", "", "## Goals", ""]
    lines += _md_table(["goal", "measured", "verdict"], [list(g) for g in goals(r)])
    lines += ["", "## Scale (paper recipe, 1 worker, end to end)", ""]
    rows = []
    for what, samples, key in r.scale:
        c = r.case(key)
        hours = samples / FS / 3600
        label = f"{what} records" if isinstance(what, int) else f"1 synthetic record ({what})"
        rows.append([label, f"{hours:.2f}", _fmt(c.seconds), _fmt(c.seconds / hours)])
    lines += _md_table(["input", "hours of ECG", "seconds", "seconds per hour of ECG"], rows)
    lines += ["", "## Peak memory of a fresh `ecg segment` process "
                  f"({r.workers} workers)", ""]
    lines += _md_table(["records", "wall s", "CPU s", "peak RSS, largest process (MB)",
                        "peak RSS, process tree (MB)"],
                       [[str(m.records), _fmt(m.seconds), _fmt(m.cpu_seconds),
                         f"{m.peak_process_mb:.0f}", f"{m.peak_tree_mb:.0f}"]
                        for m in r.memory])
    lines += [
        "",
        "## How it is measured",
        "",
        "* I/O floor: `wfdb.rdrecord(path, channels=[lead], return_res=64)` and "
        "`wfdb.rdann(path, 'atr')` per record, sequentially; its two halves are timed "
        "inside the same runs. The spread-over-cores row includes the process pool's "
        "start-up, like ours.",
        "* Ours, end to end: `ecgseg.pipeline.segment_database` (what `ecg segment` "
        "calls) from the raw files to a finished HDF5 file (lzf): header checks, "
        "sha256 of the source files, reading, resampling, kernels, labels, writing. "
        "Workers fork from the benchmark process, so interpreter start-up is not in "
        "these rows; the fresh-process row (a new `python -m ecg_cli.main segment` on the "
        "same records, interleaved with the other rows: interpreter, imports, numba "
        "cache loading, pool, HDF5) and the start-up row show it. Its goal compares it "
        "with the I/O floor measured inside this already-running process.",
        f"* Paper recipe ours vs NumPy reference (leads in memory): outputs "
        f"{r.identical['paper']} (beats bytes, samples, stats), Kaggle recipe "
        f"{r.identical['kaggle']}, checked on every record before timing.",
        "* Kernels only: `segment_paper` on leads already resampled to 125 Hz, so no "
        "resampling; samples/s counts 125 Hz input samples; one core.",
        "* Peers: neurokit2 `ecg_peaks` + `ecg_segment` (no `ecg_clean`); wfdb "
        "`xqrs_detect` then a crop of 0.25 s before to 0.45 s after each peak. Both "
        "read the lead with wfdb first, run in one process, label nothing and write "
        "no file.",
        "* Peak RSS: psutil polling (10 ms) of a fresh `python -m ecg_cli.main segment` "
        "and its workers; the tree sum counts pages shared after fork once per process.",
        "",
    ]
    return "\n".join(lines)


def chart(r: Result, path: Path) -> None:
    """Log-scale horizontal bar chart of input samples per second per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [c for c in r.cases if c.times and c.group != "scale"]
    colours = {"I/O floor": "#888888", "ours, end to end to HDF5 (in-process)": "#1f77b4",
               "ours, fresh process": "#17becf",
               "in memory, 1 core": "#2ca02c", "peers (1 run)": "#d62728"}
    rates = [c.samples / c.seconds for c in cases]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(cases) + 1.5))
    y = np.arange(len(cases))[::-1]
    ax.barh(y, rates, color=[colours.get(c.group, "#9467bd") for c in cases])
    ax.set_yticks(y, [c.label for c in cases], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(left=10 ** math.floor(math.log10(min(rates) / 2)), right=max(rates) * 4)
    ax.set_xlabel("input samples per second (log scale); label: median seconds")
    from matplotlib.patches import Patch

    groups = list(dict.fromkeys(c.group for c in cases))
    ax.legend(handles=[Patch(color=colours.get(g, "#9467bd"), label=g) for g in groups],
              fontsize=7, loc="best")
    for yi, rate, c in zip(y, rates, cases):
        ax.text(rate, yi, f" {c.seconds:.3g} s", va="center", fontsize=7)
    ax.set_title(f"ECG beat segmentation, {r.records} MIT-BIH records, "
                 f"{cpu_model()} ({os.cpu_count()} cores)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(r: Result, out: Path) -> tuple[Path, Path]:
    """Write ``RESULTS.md`` and ``segment_speed.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "segment_speed.png"
    chart(r, png)
    md = out / "RESULTS.md"
    md.write_text(markdown(r, png.name), encoding="utf-8")
    return md, png
