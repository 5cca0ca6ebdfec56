"""What detection costs a model: the same model scored on detected vs annotated beat positions.

Issue #15's last goal: on DS2, the per-class Se/+P of a model from beats cut at the ``qrs``
detector's peaks within 1 point of those from beats cut at the reference annotations
(``ecg evaluate-records CHECKPOINT DS2 --detector qrs`` vs ``--detector reference``).
This script runs both, prints the gap table (qrs minus reference, per class) and, per
class, the records where the two differ most (beats compared and correctly called).

Usage (from the checkout root, with the PhysioNet mirror)::

    PYTHONPATH=. python benchmarks/detection_gap.py ecgnet/pretrained/mitbih-interpatient.pt \\
        [--records DS2] [--mirror http://127.0.0.1:8765/] [--threads 1] [--json gap.json] \\
        [--swap 202 214 --true N --called F] [--positions]

``--swap`` asks, per record, which of a model's inputs makes beats of class ``--true``
called ``--called`` at detected peaks and not at the annotations (:func:`input_swaps`):
each input part (the beat's samples, its RR features, its record features, the record's
median beat) taken from the detected beats while the rest stays at the annotations.

``--positions`` (no model run; give any checkpoint name) only measures where the ``qrs``
peaks fall from the annotations, before and after both are snapped to one fiducial
(:func:`position_offsets`). Both runs cut beats with the checkpoint's recipe parameters:
a model trained on ``--snap-peaks`` beats gets snapped annotations and snapped peaks.

A model name (``mitbih-interpatient``) stands for its shipped weights.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

DETECTORS = ("qrs", "reference")
"""Detected positions first, then the annotated ones they are compared with."""


def checkpoint_path(spec: str) -> Path:
    """A checkpoint file, or the weights of a shipped model named ``spec``."""
    if Path(spec).is_file():
        return Path(spec)
    from ecgnet.pretrained import weights_path

    return weights_path(spec)


def gap_rows(detected: dict, annotated: dict) -> List[Dict[str, float]]:
    """Per class: Se and +P (%) of both and their difference (detected minus annotated).

    Parameters
    ----------
    detected, annotated : dict
        ``RecordsEvaluation.aami()`` of the two runs.

    Examples
    --------
    >>> a = {"V": {"Se": 80.0, "+P": 70.0}}
    >>> gap_rows(a, {"V": {"Se": 81.5, "+P": 69.0}})[0]["se_gap"]
    -1.5
    """
    rows = []
    for name in annotated:
        d, a = detected[name], annotated[name]
        rows.append({"class": name, "se_qrs": d["Se"], "ppv_qrs": d["+P"], "se_ref": a["Se"],
                     "ppv_ref": a["+P"], "se_gap": round(d["Se"] - a["Se"], 2),
                     "ppv_gap": round(d["+P"] - a["+P"], 2)})
    return rows


def record_losses(detected: List[dict], annotated: List[dict], class_names: Sequence[str],
                  top: int = 5) -> Dict[str, List[dict]]:
    """Per class, the records whose correctly called beats differ most between the runs.

    Each entry: ``record``, ``compared`` and ``correct`` beats of that class with detected
    positions and with annotated ones, and ``lost`` (annotated correct minus detected
    correct, beats; positive: detection costs beats there). Records with none of the class
    are left out; the ``top`` largest ``|lost|`` are kept, largest first.
    """
    out: Dict[str, List[dict]] = {}
    by_name = {r["record"]: np.asarray(r["confusion"]) for r in annotated}
    for c, name in enumerate(class_names):
        rows = []
        for r in detected:
            d, a = np.asarray(r["confusion"]), by_name[r["record"]]
            if a[c].sum() == 0 and d[c].sum() == 0:
                continue
            rows.append({"record": r["record"], "compared_qrs": int(d[c].sum()),
                         "correct_qrs": int(d[c, c]), "compared_ref": int(a[c].sum()),
                         "correct_ref": int(a[c, c]), "lost": int(a[c, c] - d[c, c])})
        rows.sort(key=lambda x: -abs(x["lost"]))
        out[name] = rows[:top]
    return out


PARTS = ("beat", "rr", "record", "median")
"""The input parts of :func:`input_swaps`, in the order of :func:`ecgnet.data.model_inputs`."""


def nearest(detected: np.ndarray, annotated: np.ndarray) -> np.ndarray:
    """Index of the detected peak nearest each annotated one (both ascending, samples).

    Examples
    --------
    >>> nearest(np.array([10, 52, 99]), np.array([11, 50, 100])).tolist()
    [0, 1, 2]
    """
    idx = np.clip(np.searchsorted(detected, annotated), 1, len(detected) - 1)
    left = np.abs(annotated - detected[idx - 1]) <= np.abs(detected[idx] - annotated)
    return np.where(left, idx - 1, idx)


def input_swaps(checkpoint: Path, record: str, true: str, called: str, mirror=None,
                data_dir=None, tolerance_s: float = 0.15) -> Dict[str, int]:
    """How many ``true`` beats of ``record`` the model calls ``called``, by input origin.

    Each annotated beat is paired with the nearest ``qrs`` beat within ``tolerance_s``;
    ``reference`` and ``qrs`` count the calls with all inputs from one side,
    ``qrs <part>`` with only that part (:data:`PARTS`) from the detected beat.
    ``offset_<d>`` counts the pairs whose peak is ``d`` samples after the annotation.
    """
    from ecgnet.checkpoint import load_model
    from ecgnet.inference import predict_proba
    from ecgnet.models import median_columns, record_columns, rr_columns
    from ecgnet.predict import predict

    loaded = load_model(checkpoint)
    model, names = loaded[0], tuple(loaded[1]["class_names"])
    t, c = names.index(true), names.index(called)
    runs = {d: predict(checkpoint, f"mitdb/1.0.0/{record}", mirror=mirror, data_dir=data_dir,
                       detector=d, model=loaded) for d in DETECTORS}
    q, a = runs["qrs"], runs["reference"]
    m = nearest(q.sample, a.sample)
    pair = (np.abs(q.sample[m] - a.sample) <= tolerance_s * q.fs) & (a.reference == t)
    k, j, med = rr_columns(model), record_columns(model), median_columns(model)
    cuts = np.cumsum([0, k, j, med])

    def parts(p, rows):
        extra = p.extra_inputs[rows]
        return [p.beats[rows]] + [extra[:, cuts[i]:cuts[i + 1]] for i in range(3)]

    ref, det = parts(a, np.flatnonzero(pair)), parts(q, m[pair])
    out = {}
    for name, chosen in [("reference", ref), ("qrs", det)] + [
            (f"qrs {PARTS[i]}", ref[:i] + [det[i]] + ref[i + 1:]) for i in range(4)]:
        x = np.ascontiguousarray(np.concatenate(chosen, axis=1), np.float32)
        out[name] = int((predict_proba(model, x).argmax(axis=1) == c).sum())
    offsets, counts = np.unique(q.sample[m[pair]] - a.sample[pair], return_counts=True)
    out.update({f"offset_{o}": int(n) for o, n in zip(offsets, counts)})
    return out


def position_offsets(records: Sequence[str], mirror=None, data_dir=None,
                     tolerance_s: float = 0.15) -> Dict[str, Dict[int, int]]:
    """Where the ``qrs`` peaks fall from the annotations, before and after snapping.

    Per record (and ``"all"``): each beat annotation paired with the nearest ``qrs`` peak
    within ``tolerance_s``; ``before`` counts ``peak - annotation`` (samples), ``after``
    the same for both snapped (:func:`ecgseg.detectors.qrs.snap_peaks`, what the Kaggle
    recipe's ``snap_peaks`` cuts at). No model: the figure that says whether one fiducial
    for every peak source can close the gap.
    """
    from ecgnet.evaluate_records import expand_records
    from ecgnet.predict_input import resolve_input
    from ecgseg.detectors.qrs import detect_qrs, snap_peaks
    from ecgseg.detectors.reference import detect_reference
    from ecgseg.records import read_lead

    out: Dict[str, Dict[str, Dict[int, int]]] = {}
    pooled: Dict[str, List[np.ndarray]] = {"before": [], "after": []}
    for spec in expand_records(records):
        src = resolve_input(spec, data_dir=data_dir, mirror=mirror)
        lead = read_lead(src.path, src.db, channel=0)
        ann = detect_reference(lead.signal, lead.fs,
                               annotations=src.db.read_reference(src.path))
        qrs = detect_qrs(lead.signal, lead.fs)
        m = nearest(qrs, ann)
        pair = np.abs(qrs[m] - ann) <= tolerance_s * lead.fs
        diffs = {"before": qrs[m][pair] - ann[pair],
                 "after": (snap_peaks(lead.signal, lead.fs, qrs)[m][pair]
                           - snap_peaks(lead.signal, lead.fs, ann)[pair])}
        out[src.name] = {k: dict(zip(*(u.tolist() for u in np.unique(v, return_counts=True))))
                         for k, v in diffs.items()}
        for k, v in diffs.items():
            pooled[k].append(v)
    out["all"] = {k: dict(zip(*(u.tolist() for u in np.unique(np.concatenate(v),
                                                               return_counts=True))))
                  for k, v in pooled.items()}
    return out


def offsets_markdown(offsets: Dict[str, Dict[str, Dict[int, int]]]) -> str:
    """Per record: share of pairs at the same sample, and within 1, 2, 5 samples, before
    and after snapping."""
    lines = ["| record | pairs | same sample before / after % | within 1 | within 2 | "
             "6 or more apart after |", "|---|---|---|---|---|---|"]
    for name, d in offsets.items():
        def share(which, within):
            h = d[which]
            return 100.0 * sum(n for o, n in h.items() if abs(o) <= within) / sum(h.values())

        n = sum(d["before"].values())
        far = sum(c for o, c in d["after"].items() if abs(o) >= 6)
        lines.append(f"| {name} | {n} | {share('before', 0):.2f} / {share('after', 0):.2f} | "
                     f"{share('before', 1):.2f} / {share('after', 1):.2f} | "
                     f"{share('before', 2):.2f} / {share('after', 2):.2f} | {far} |")
    return "\n".join(lines)


def markdown(checkpoint: str, runs: dict, rows: List[dict], losses: Dict[str, List[dict]]) -> str:
    """The report: detector line, accuracies, gap table, records per class."""
    det = runs["qrs"]["detection"]
    lines = [f"Checkpoint `{checkpoint}`, {len(runs['qrs']['records'])} records. Detector "
             f"`qrs` vs reference beats: Se {100 * det['sensitivity']:.2f} %, +P "
             f"{100 * det['positive_predictivity']:.2f} % ({det['matched']} of "
             f"{det['reference_beats']} beats found). Accuracy {100 * runs['qrs']['accuracy']:.2f}"
             f" % (qrs, {runs['qrs']['compared']} beats) vs "
             f"{100 * runs['reference']['accuracy']:.2f} % (reference positions, "
             f"{runs['reference']['compared']} beats).", "",
             "| class | Se % qrs | +P % qrs | Se % reference | +P % reference | Se gap | +P gap |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['class']} | {r['se_qrs']:.2f} | {r['ppv_qrs']:.2f} | "
                     f"{r['se_ref']:.2f} | {r['ppv_ref']:.2f} | {r['se_gap']:+.2f} | "
                     f"{r['ppv_gap']:+.2f} |")
    lines += ["", "Records where a class's correctly called beats differ most (compared/correct, "
              "qrs vs reference; lost = reference correct minus qrs correct):", ""]
    for name, recs in losses.items():
        text = ", ".join(f"{x['record']} {x['compared_qrs']}/{x['correct_qrs']} vs "
                         f"{x['compared_ref']}/{x['correct_ref']} ({x['lost']:+d})" for x in recs)
        lines.append(f"- {name}: {text or 'none'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="best.pt of ecg train, or a shipped model's name")
    parser.add_argument("--records", nargs="+", default=["DS2"])
    parser.add_argument("--mirror", default=os.environ.get("ECG_PHYSIONET_URL"))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="Also write both runs here.")
    parser.add_argument("--swap", nargs="+", default=None, metavar="RECORD",
                        help="Only the input-swap table of these records (input_swaps).")
    parser.add_argument("--positions", action="store_true",
                        help="Only where qrs peaks fall from the annotations, before and after "
                             "snapping (position_offsets; no model is run).")
    parser.add_argument("--true", default="N")
    parser.add_argument("--called", default="F")
    args = parser.parse_args(argv)
    import torch

    from ecgnet.evaluate_records import evaluate_records

    torch.set_num_threads(args.threads)
    if args.positions:
        offsets = position_offsets(args.records, args.mirror, args.data_dir)
        print(offsets_markdown(offsets), flush=True)
        print("all pairs, qrs peak minus annotation (samples: pairs): before "
              f"{offsets['all']['before']}; after {offsets['all']['after']}")
        if args.json is not None:
            args.json.write_text(json.dumps(offsets, indent=1))
        return
    path = checkpoint_path(args.checkpoint)
    if args.swap:
        print(f"| record | {args.true} beats called {args.called}: reference | qrs | "
              + " | ".join(f"qrs {p} only" for p in PARTS) + " | peak - annotation |")
        print("|---" * (4 + len(PARTS)) + "|")
        for record in args.swap:
            got = input_swaps(path, record, args.true, args.called, args.mirror, args.data_dir)
            offs = ", ".join(f"{k[7:]}: {v}" for k, v in got.items() if k.startswith("offset_"))
            print(f"| {record} | {got['reference']} | {got['qrs']} | "
                  + " | ".join(str(got[f'qrs {p}']) for p in PARTS) + f" | {offs} |", flush=True)
        return
    evals = {d: evaluate_records(path, args.records, detector=d, data_dir=args.data_dir,
                                 mirror=args.mirror) for d in DETECTORS}
    runs = {d: ev.to_dict() for d, ev in evals.items()}
    rows = gap_rows(evals["qrs"].aami(), evals["reference"].aami())
    losses = record_losses(runs["qrs"]["records"], runs["reference"]["records"],
                           evals["qrs"].class_names)
    print(markdown(args.checkpoint, runs, rows, losses), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps({"gap": rows, "records": losses, "runs": runs},
                                        indent=1, default=float))


if __name__ == "__main__":
    main()
