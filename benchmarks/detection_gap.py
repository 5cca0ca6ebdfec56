"""What detection costs a model: the same model scored on detected vs annotated beat positions.

Issue #15's last goal: on DS2, the per-class Se/+P of a model from beats cut at the ``qrs``
detector's peaks within 1 point of those from beats cut at the reference annotations
(``ecg evaluate-records CHECKPOINT DS2 --detector qrs`` vs ``--detector reference``).
This script runs both, prints the gap table (qrs minus reference, per class) and, per
class, the records where the two differ most (beats compared and correctly called).

Usage (from the checkout root, with the PhysioNet mirror)::

    PYTHONPATH=. python benchmarks/detection_gap.py ecgnet/pretrained/mitbih-interpatient.pt \\
        [--records DS2] [--mirror http://127.0.0.1:8765/] [--threads 1] [--json gap.json]

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
    args = parser.parse_args(argv)
    import torch

    from ecgnet.evaluate_records import evaluate_records

    torch.set_num_threads(args.threads)
    path = checkpoint_path(args.checkpoint)
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
