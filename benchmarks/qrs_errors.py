"""Every error of the ``qrs`` detector on chosen MIT-BIH records, and the step that made it.

Each record's lead (MLII where present, as ``ecg bench detectors``) is run through
:func:`ecgseg.detectors.qrs.qrs_trace`; detections are matched one to one to the beat
annotations (150 ms). For each false detection (FP) and each missed beat (FN) the script
prints its position, the AAMI class of the nearest beat, the RR context and the decision
of the detector's step 5 on the envelope candidate involved, and sorts it into a cause:

FP causes
    ``search-back`` (taken back in a long RR interval: a pause), ``threshold, 0.2-0.45 s
    after a QRS`` (above the detection threshold where T waves are: a T wave the slope
    test let through, or noise), ``threshold, elsewhere`` (noise above the threshold);
    ``(first minute)`` added in the first 60 s, while the levels settle.
FN causes
    ``no candidate`` (no envelope peak within 150 ms: merged with a neighbour's),
    ``refractory``, ``t-wave`` (rejected by the slope test), ``below threshold``
    (a candidate, too small, and no search-back took it), ``taken, then merged``
    (chosen, but its R peak merged with a neighbour's or matched elsewhere).

Usage (from the checkout root)::

    PYTHONPATH=. python benchmarks/qrs_errors.py 232 202 210 [--mitdb DIR] [--plot DIR]
        [--list] [--json FILE] [--params '{"searchback_rr": 1.66}']

``--plot DIR`` draws 4 s of signal around each error (at most ``--max-plots`` per record)
with the annotations, detections, candidates and their decisions.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MITDB = ROOT.parent / "shared" / "physionet" / "files" / "mitdb" / "1.0.0"
TOLERANCE_S = 0.15


def record_errors(name: str, signal: np.ndarray, fs: float, ann_sample: np.ndarray,
                  ann_class: np.ndarray, params=None) -> Dict[str, object]:
    """FP and FN of ``qrs`` on one record with their causes.

    Parameters
    ----------
    signal : ndarray, float (n,)
        The lead, mV.
    fs : float
        Hz.
    ann_sample, ann_class : ndarray (k,)
        Beat annotations (samples, ascending) and their AAMI class letters.

    Returns
    -------
    dict
        ``fp`` and ``fn``: lists of dicts (``sample``, ``time_s``, ``cause``, ...);
        ``trace``: the :class:`~ecgseg.detectors.qrs.QrsTrace`.
    """
    from ecgseg.detectors.qrs import DECISION_NAMES, QrsParams, qrs_trace
    from ecgseg.matching import _match_flags

    params = params or QrsParams()
    tr = qrs_trace(signal, fs, params)
    peaks = tr.peaks
    tol = int(round(TOLERANCE_S * fs))
    det_ok = _match_flags(peaks, ann_sample, np.int64(tol)).astype(bool)
    ref_ok = _match_flags(ann_sample, peaks, np.int64(tol)).astype(bool)
    chosen_pos = tr.candidates[tr.chosen]
    fp, fn = [], []
    for p in peaks[~det_ok]:
        k = int(np.argmin(np.abs(chosen_pos - p))) if chosen_pos.size else -1
        cand = int(tr.chosen[k]) if k >= 0 else -1
        decision = DECISION_NAMES[int(tr.decision[cand])] if cand >= 0 else "?"
        prev_det = peaks[peaks < p]
        since = (p - prev_det[-1]) / fs if prev_det.size else np.inf
        j = np.searchsorted(ann_sample, p)
        prev_ann = (p - ann_sample[j - 1]) / fs if j > 0 else np.inf
        next_ann = (ann_sample[j] - p) / fs if j < ann_sample.size else np.inf
        if decision == "search-back":
            cause = "search-back"
        elif 0.2 <= since <= 0.45:
            cause = "threshold, 0.2-0.45 s after a QRS"
        else:
            cause = "threshold, elsewhere"
        if p < 60.0 * fs:
            cause += " (first minute)"
        fp.append({"sample": int(p), "time_s": round(p / fs, 2), "cause": cause,
                   "decision": decision, "since_detection_s": round(float(since), 3),
                   "after_beat_s": round(float(prev_ann), 3),
                   "before_beat_s": round(float(next_ann), 3),
                   "amplitude": float(tr.amplitude[cand]) if cand >= 0 else np.nan,
                   "threshold": float(tr.threshold[cand]) if cand >= 0 else np.nan})
    for a, c in zip(ann_sample[~ref_ok], ann_class[~ref_ok]):
        near = np.flatnonzero(np.abs(tr.candidates - a) <= tol)
        prev_det = peaks[peaks < a]
        since = (a - prev_det[-1]) / fs if prev_det.size else np.inf
        j = np.searchsorted(ann_sample, a)
        rr_prev = (a - ann_sample[j - 1]) / fs if j > 0 else np.inf
        if near.size == 0:
            cause, decision, cand = "no candidate", "-", -1
        else:
            cand = int(near[np.argmin(np.abs(tr.candidates[near] - a))])
            chosen_near = [i for i in near if i in set(tr.chosen.tolist())]
            if chosen_near:
                cause, decision = "taken, then merged", "qrs"
            else:
                decision = DECISION_NAMES[int(tr.decision[cand])]
                cause = {"noise": "below threshold", "not reached": "below threshold"}.get(
                    decision, decision)
        fn.append({"sample": int(a), "time_s": round(a / fs, 2), "class": str(c),
                   "cause": cause, "decision": decision,
                   "since_detection_s": round(float(since), 3), "rr_prev_s": round(float(rr_prev), 3),
                   "amplitude": float(tr.amplitude[cand]) if cand >= 0 else np.nan,
                   "threshold": float(tr.threshold[cand]) if cand >= 0 else np.nan,
                   "slope": float(tr.slope[cand]) if cand >= 0 else np.nan})
    return {"record": name, "fp": fp, "fn": fn, "trace": tr}


def load_record(mitdb: Path, name: str):
    """(mV float64 (n,), fs, beat samples int64 (k,), AAMI letters (k,)) of one record."""
    import wfdb

    from ecgseg.bench.detectors import mlii_channel
    from ecgseg.labels import AAMI_CLASSES, aami_label

    header = wfdb.rdheader(str(mitdb / name))
    rec = wfdb.rdrecord(str(mitdb / name), channels=[mlii_channel(header)])
    ann = wfdb.rdann(str(mitdb / name), "atr")
    lab = aami_label(ann.symbol)
    keep = lab >= 0
    return (np.ascontiguousarray(rec.p_signal[:, 0]), float(rec.fs),
            ann.sample[keep].astype(np.int64), np.array(AAMI_CLASSES)[lab[keep]])


def plot_error(path: Path, title: str, signal, fs, centre, ann_sample, ann_class, tr,
               seconds: float = 4.0) -> None:
    """4 s of signal around ``centre``: annotations (letters), detections (red), candidates
    (ticks, labelled with their decision) and the band-passed signal beneath."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecgseg.detectors.qrs import DECISION_NAMES

    half = int(seconds / 2 * fs)
    lo, hi = max(0, centre - half), min(signal.size, centre + half)
    t = np.arange(lo, hi) / fs
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    ax.plot(t, signal[lo:hi], lw=0.8, color="k")
    for s, c in zip(ann_sample, ann_class):
        if lo <= s < hi:
            ax.annotate(c, (s / fs, signal[s]), xytext=(0, 8), textcoords="offset points",
                        ha="center", color="tab:blue")
    for p in tr.peaks[(tr.peaks >= lo) & (tr.peaks < hi)]:
        ax.plot(p / fs, signal[p], "rv")
    ax.axvline(centre / fs, color="tab:orange", lw=0.8, ls="--")
    ax.set_title(title, fontsize=9)
    env = tr.envelope[lo:hi]
    bx.plot(t, np.sqrt(env), lw=0.8, color="tab:green", label="sqrt(envelope)")
    for i in np.flatnonzero((tr.candidates >= lo) & (tr.candidates < hi)):
        c = tr.candidates[i]
        bx.plot(c / fs, tr.amplitude[i], "k|", ms=10)
        bx.annotate(f"{DECISION_NAMES[int(tr.decision[i])]}\nth {tr.threshold[i]:.2g}",
                    (c / fs, tr.amplitude[i]), fontsize=6, xytext=(2, 2),
                    textcoords="offset points")
    bx.set_xlabel("s")
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records", nargs="+")
    ap.add_argument("--mitdb", type=Path, default=DEFAULT_MITDB)
    ap.add_argument("--plot", type=Path, default=None, help="folder for one PNG per error")
    ap.add_argument("--max-plots", type=int, default=12)
    ap.add_argument("--list", action="store_true", help="print every error, not only the counts")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--params", default="{}",
                    help='QrsParams fields to override, JSON (e.g. \'{"searchback_rr": 1.66}\')')
    args = ap.parse_args(argv)
    from ecgseg.detectors.qrs import QrsParams

    params = QrsParams(**json.loads(args.params))
    rows: List[dict] = []
    print("| record | FP | FP causes | FN | FN causes (class) |")
    print("|---|---|---|---|---|")
    for name in args.records:
        x, fs, samples, classes = load_record(args.mitdb, name)
        got = record_errors(name, x, fs, samples, classes, params)
        fpc = Counter(e["cause"] for e in got["fp"])
        fnc = Counter(f"{e['cause']} ({e['class']})" for e in got["fn"])
        print(f"| {name} | {len(got['fp'])} | "
              + ", ".join(f"{k} {v}" for k, v in fpc.most_common()) + f" | {len(got['fn'])} | "
              + ", ".join(f"{k} {v}" for k, v in fnc.most_common()) + " |", flush=True)
        if args.list:
            for kind in ("fp", "fn"):
                for e in got[kind]:
                    print(f"    {name} {kind} " + " ".join(f"{k}={v}" for k, v in e.items()))
        if args.plot is not None:
            args.plot.mkdir(parents=True, exist_ok=True)
            errors = [("fp", e) for e in got["fp"]] + [("fn", e) for e in got["fn"]]
            for kind, e in errors[:args.max_plots]:
                plot_error(args.plot / f"{name}_{kind}_{e['sample']}.png",
                           f"{name} {kind.upper()} at {e['time_s']} s: {e['cause']}",
                           x, fs, e["sample"], samples, classes, got["trace"])
        rows.append({k: v for k, v in got.items() if k != "trace"})
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
