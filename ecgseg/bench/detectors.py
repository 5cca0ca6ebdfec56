"""R-peak detectors on MIT-BIH: accuracy and speed, ours (``qrs``) against the open ones.

Usage::

    ecg bench detectors [--records 100,119,208] [--skip xqrs,neurokit2] [--repeat 3]
        [--mitdb DIR] [--threads 1] [--out FILE.md]
    python benchmarks/detector_bench.py ...   # from the checkout: ../shared mirror,
                                              # writes benchmarks/DETECTOR_RESULTS.md

``ecg bench detectors`` reads ``<data-dir>/physionet/mitdb/1.0.0`` (``ecg download --db
mitdb``) and writes ``<data-dir>/bench/DETECTOR_RESULTS.md`` unless told otherwise.

On every record (default all 48), lead MLII (102 and 104 have none: signal 0, V5; 114:
signal 1), in mV as wfdb reads it: each detector finds R peaks, matched one to one
(:func:`ecgseg.matching.score_detections`, 150 ms) against the record's beat annotations
(symbols with an AAMI class, :func:`ecgseg.labels.aami_label` >= 0), pooled over records:
Se, +P, FN, FP and the six records with most errors (FN + FP). The table also gives Se and
+P scored as ANSI/AAMI EC57 prescribes, with ventricular flutter/fibrillation episodes
(reference ``[`` to ``]``; in MIT-BIH only record 207's) left out: detections there that
match no beat are not counted (``score_detections(..., excluded=...)``, as PhysioNet's
``bxb`` does). ``--records-table`` adds every detector's per-record FN/FP.

Speed: detection only, signal already in memory; every round runs every detector on a
record before moving to the next record (interleaved, so load on the machine hits all
alike); a record's time is the fastest of ``--repeat`` rounds (``xqrs``, pure Python, runs
once); throughput is input samples per second, and the ratio is to ``qrs``. ``paper`` is
the paper recipe's peaks (``segment_paper``, which also resamples and cuts beats: it is
not a detector, listed for reference). Numba kernels are compiled before timing. The
figures are whatever this machine measured; nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

from ..atomic import atomic_path



def parse_args(argv=None, *, prog: str | None = None, default_mitdb: Path | None = None,
               default_out: Path | None = None):
    """Options; the defaults come from the data folder unless the caller gives its own."""
    from ..config import data_dir

    if default_mitdb is None:
        default_mitdb = data_dir() / "physionet" / "mitdb" / "1.0.0"
    if default_out is None:
        default_out = data_dir() / "bench" / "DETECTOR_RESULTS.md"
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("--records", default="", help="comma-separated record names (default: all)")
    ap.add_argument("--skip", default="", help="comma-separated detectors to leave out")
    ap.add_argument("--repeat", type=int, default=3, help="timing rounds (fastest kept)")
    ap.add_argument("--mitdb", type=Path,
                    default=default_mitdb,
                    help="folder of the MIT-BIH records")
    ap.add_argument("--threads", type=int, default=1, help="numba / BLAS threads")
    ap.add_argument("--out", type=Path, default=default_out)
    ap.add_argument("--records-table", action="store_true",
                    help="also write the per-record FN/FP of every detector")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def mlii_channel(record) -> int:
    """Index of MLII in the record's signals (signal 0 when it has none)."""
    names = list(record.sig_name)
    return names.index("MLII") if "MLII" in names else 0


def load(mitdb: Path, names):
    """{name: (mV float64 (n,), reference beats int64 (k,), lead name, VF episodes int64 (m, 2))}."""
    import numpy as np
    import wfdb

    from ecgseg.labels import aami_label
    from ecgseg.matching import ventricular_flutter_episodes

    out = {}
    for name in names:
        header = wfdb.rdheader(str(mitdb / name))
        ch = mlii_channel(header)
        rec = wfdb.rdrecord(str(mitdb / name), channels=[ch])
        ann = wfdb.rdann(str(mitdb / name), "atr")
        ref = ann.sample[aami_label(ann.symbol) >= 0].astype(np.int64)
        out[name] = (np.ascontiguousarray(rec.p_signal[:, 0]), ref, header.sig_name[ch],
                     ventricular_flutter_episodes(ann.sample, ann.symbol))
    return out


def detectors(skip):
    """{name: callable(signal, fs) -> int64 peaks}, ours first."""
    import numpy as np

    from ecgseg.detectors import external
    from ecgseg.detectors.qrs import detect_qrs, warm_up
    from ecgseg.recipes.paper import segment_paper

    warm_up()
    table = {
        "qrs": detect_qrs,
        "sleepecg": external.sleepecg_peaks,
        "neurokit2": external.neurokit2_peaks,
        "xqrs": external.xqrs_peaks,
        "paper": lambda x, fs: np.unique(segment_paper(x, fs).sample),
    }
    out = {}
    for name, fn in table.items():
        if name in skip:
            continue
        try:
            fn(np.sin(np.linspace(0, 60, 3600)) ** 15, 360.0)  # import and compile before timing
        except Exception as exc:  # a missing library: leave it out, say so
            print(f"{name}: left out ({exc})", file=sys.stderr)
            continue
        out[name] = fn
    return out


def run(args):
    import numpy as np

    from ecgseg.matching import score_detections

    names = [n for n in args.records.split(",") if n] or (args.mitdb / "RECORDS").read_text().split()
    skip = {s for s in args.skip.split(",") if s}
    data = load(args.mitdb, names)
    dets = detectors(skip)
    fs = 360.0
    tol = int(round(0.15 * fs))
    best = {d: {n: float("inf") for n in names} for d in dets}
    scores = {}
    ec57 = {}
    for rnd in range(args.repeat):
        for n in names:
            x, ref, _, vf = data[n]
            for d, fn in dets.items():
                if rnd > 0 and d == "xqrs":
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    peaks = fn(x, fs)
                    dt = time.perf_counter() - t0
                best[d][n] = min(best[d][n], dt)
                if rnd == 0:
                    scores[d, n] = score_detections(peaks, ref, tol)
                    ec57[d, n] = score_detections(peaks, ref, tol, excluded=vf)
        print(f"round {rnd + 1}/{args.repeat} done", file=sys.stderr)
    samples = sum(data[n][0].size for n in names)
    rows = []
    for d in dets:
        total = scores[d, names[0]]
        total_ec57 = ec57[d, names[0]]
        for n in names[1:]:
            total = total + scores[d, n]
            total_ec57 = total_ec57 + ec57[d, n]
        per = sorted(((scores[d, n].reference - scores[d, n].matched
                       + scores[d, n].detected - scores[d, n].matched), n) for n in names)[::-1]
        worst = ", ".join(
            f"{n} ({scores[d, n].reference - scores[d, n].matched}/{scores[d, n].detected - scores[d, n].matched})"
            for _, n in per[:6])
        seconds = sum(best[d].values())
        rows.append((d, total, worst, seconds, samples / seconds, total_ec57))
    per_record = {(d, n): scores[d, n] for d in dets for n in names}
    return names, data, rows, per_record


def write(args, names, data, rows, per_record=None):
    ours = next((r for r in rows if r[0] == "qrs"), None)
    leads = {data[n][2] for n in names}
    lines = [
        "# R-peak detectors on MIT-BIH (written by `ecg bench detectors`)",
        "",
        f"Command: `{args.command}`".rstrip(),
        "",
        f"{len(names)} records, leads {', '.join(sorted(leads))} (MLII where present), "
        f"{sum(data[n][0].size for n in names):,} samples at 360 Hz; reference: beat annotations "
        "(AAMI classes), one-to-one matching within 150 ms, pooled. Time: detection only, "
        f"fastest of {args.repeat} interleaved rounds (xqrs: one), {args.threads} thread(s). "
        f"Host: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}.",
        "",
        "| detector | Se % | +P % | FN | FP | EC57 Se % | EC57 +P % | worst records (FN/FP) "
        "| seconds | samples/s | speed vs qrs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d, s, worst, seconds, rate, e in rows:
        ratio = f"{rate / ours[4]:.2f}x" if ours else "-"
        lines.append(f"| {d} | {100 * s.sensitivity:.2f} | {100 * s.positive_predictivity:.2f} | "
                     f"{s.reference - s.matched} | {s.detected - s.matched} | "
                     f"{100 * e.sensitivity:.2f} | {100 * e.positive_predictivity:.2f} | {worst} | "
                     f"{seconds:.2f} | {rate / 1e6:.1f} M | {ratio} |")
    lines += ["", "`paper` is the paper recipe (resampling and beat cutting included): not a "
              "detector, shown for reference. EC57 columns: ventricular flutter/fibrillation "
              "episodes (record 207's `[` ... `]`) left out of the scoring, as ANSI/AAMI EC57 "
              "prescribes (detections there that match no beat are not counted).", ""]
    if per_record and args.records_table:
        dets = [r[0] for r in rows]
        lines += ["Per record, FN/FP:", "",
                  "| record | " + " | ".join(dets) + " |", "|---|" + "---|" * len(dets)]
        for n in names:
            cells = [f"{per_record[d, n].reference - per_record[d, n].matched}/"
                     f"{per_record[d, n].detected - per_record[d, n].matched}" for d in dets]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines.append("")
    text = "\n".join(lines)
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)
    print(text)


def main(argv=None, **defaults):
    """Run the benchmark; ``defaults``: ``prog``, ``default_mitdb``, ``default_out``."""
    args = parse_args(argv, **defaults)
    args.command = " ".join([defaults.get("prog") or "python benchmarks/detector_bench.py",
                             *(sys.argv[1:] if argv is None else argv)])
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    names, data, rows, per_record = run(args)
    write(args, names, data, rows, per_record)


if __name__ == "__main__":
    main()
