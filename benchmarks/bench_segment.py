"""Throughput of the segmentation recipes on all 48 MIT-BIH records, numba vs NumPy.

Usage::

    PYTHONPATH=. python -m benchmarks.bench_segment [--mitdb DIR] [--repeat N]

Records are read first (not timed); each timing is the best of ``--repeat`` runs over
the 48 records already in memory, after a warm-up call (numba compilation or cache
load is not timed). Lead: MLII (signal 0; signal 1 for 114; 102 and 104 have no MLII:
signal 0). Prints throughput in input samples per second and the paper recipe's beat
counts with its detection quality against the ``atr`` beats (150 ms).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import wfdb

from benchmarks import reference_numpy as ref
from ecgseg.labels import aami_label
from ecgseg.matching import nearest_within
from ecgseg.recipes.kaggle import segment_kaggle_mitdb
from ecgseg.recipes.paper import segment_paper
from ecgseg.resample import resample

DEFAULT_MITDB = Path(__file__).resolve().parents[1].parent / "shared/physionet/files/mitdb/1.0.0"
FS = 360.0


def load(mitdb: Path):
    names = (mitdb / "RECORDS").read_text().split()
    mlii, adc0, ann = {}, {}, {}
    for name in names:
        rec = wfdb.rdrecord(str(mitdb / name), physical=False)
        a = wfdb.rdann(str(mitdb / name), "atr")
        ch = 1 if name == "114" else 0
        mlii[name] = np.ascontiguousarray(
            (rec.d_signal[:, ch] - rec.baseline[ch]) / rec.adc_gain[ch], dtype=np.float64)
        adc0[name] = np.ascontiguousarray(rec.d_signal[:, 0])
        ann[name] = (a.sample, a.symbol)
    return names, mlii, adc0, ann


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mitdb", type=Path, default=DEFAULT_MITDB)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    names, mlii, adc0, ann = load(args.mitdb)
    n_in = sum(x.size for x in mlii.values())
    x125 = {n: resample(x, FS, 125.0) for n, x in mlii.items()}
    n_125 = sum(x.size for x in x125.values())
    segment_paper(mlii["100"], FS)  # warm-up (numba compile / cache load)
    segment_kaggle_mitdb(adc0["100"], *ann["100"])

    runs = {
        "paper, numba (with resampling)": (lambda: [segment_paper(mlii[n], FS) for n in names], n_in),
        "paper, numpy (with resampling)": (lambda: [ref.segment_paper(mlii[n], FS) for n in names], n_in),
        "paper, numba (kernels only, 125 Hz in)": (lambda: [segment_paper(x125[n], 125.0) for n in names], n_125),
        "paper, numpy (kernels only, 125 Hz in)": (lambda: [ref.segment_paper(x125[n], 125.0) for n in names], n_125),
        "kaggle mitdb, numba": (lambda: [segment_kaggle_mitdb(adc0[n], *ann[n]) for n in names], n_in),
        "kaggle mitdb, numpy": (lambda: [ref.segment_kaggle_mitdb(adc0[n], *ann[n]) for n in names], n_in),
    }
    results = {}
    for label, (fn, samples) in runs.items():
        seconds, results[label] = best_time(fn, args.repeat)
        print(f"{label:42s} {seconds:8.3f} s  {samples / seconds / 1e6:9.1f} M input samples/s")

    paper = results["paper, numba (with resampling)"]
    total = sum(len(s) for s in paper)
    found = refs = hits = 0
    for name, seg in zip(names, paper):
        sample, symbol = ann[name]
        beats = sample[aami_label(symbol) >= 0]
        beats = beats[beats < seg.stats["windows"] * 3600]
        m = nearest_within(seg.sample, beats, round(0.150 * FS))
        found += np.unique(m[m >= 0]).size
        hits += int((m >= 0).sum())
        refs += beats.size
    kaggle_rows = sum(len(s) for s, _ in results["kaggle mitdb, numba"])
    print(f"paper recipe: {total} beats on 48 records; reference beats in the windows: {refs}; "
          f"sensitivity {found / refs:.3f}, positive predictivity {hits / total:.3f}")
    print(f"kaggle recipe: {kaggle_rows} rows")
    per = {n: len(s) for n, s in zip(names, paper)}
    print("paper beats per record:", " ".join(f"{n}:{c}" for n, c in per.items()))


if __name__ == "__main__":
    main()
