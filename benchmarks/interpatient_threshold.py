"""Inter-patient (issue #16): the S decision weight chosen on DS1 validation, scored on DS2.

A network trained with class weights calls S too often on a new patient (S +P 30-40 %).
This script asks whether a stricter S decision, chosen on the run's own DS1 validation
records only (never on DS2), raises S +P on DS2: the prediction becomes
``argmax(p * w)`` with ``w = 1`` for every class but S, and ``w_S`` the value of
:data:`WEIGHTS` that maximises a validation score (``--score``: the F1 of S, or the mean
F1 of N, S and V). The validation part is rebuilt from the run's ``config.json`` (same
data, split, ``val_fraction`` and seed), so it is the one early stopping saw.

Usage::

    PYTHONPATH=. python benchmarks/interpatient_threshold.py data/beats/mitdb-kaggle.h5 \\
        runs/ablation/ectopy-balanced-s0 runs/ablation/ectopy-balanced-s1 ... [--score nsv]

Prints one line per run (DS2 AAMI Se / +P of N, S, V, F and accuracy, with ``w_S = 1``
and with the chosen ``w_S``) and the mean over the runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List

import numpy as np

WEIGHTS = np.round(np.geomspace(0.05, 2.0, 33), 4)
"""Candidate weights of p(S), 0.05 to 2 in 33 geometric steps (1 is not exactly among
them; the table always shows ``w_S = 1``, the plain argmax, too)."""

SCORES = ("s", "nsv")
"""Validation scores: F1 of S alone, or the mean F1 of N, S and V."""


def decide(proba: np.ndarray, s_index: int, weight: float) -> np.ndarray:
    """Class ids ``argmax(p * w)``: ``proba (n, k)`` with column ``s_index`` times
    ``weight``, the others unchanged; ``(n,)`` int64."""
    scaled = proba.copy()
    scaled[:, s_index] *= weight
    return scaled.argmax(axis=1)


def validation_score(y: np.ndarray, pred: np.ndarray, class_names, score: str) -> float:
    """F1 of S (``score="s"``) or mean F1 of N, S, V (``"nsv"``) of predictions ``pred``."""
    from ecgnet.metrics import confusion_matrix, precision_recall_f1

    f1 = precision_recall_f1(confusion_matrix(y, pred, len(class_names)))["f1"]
    names = ["S"] if score == "s" else ["N", "S", "V"]
    return float(np.mean([f1[list(class_names).index(c)] for c in names]))


def run_probabilities(run_dir: Path, data) -> Dict[str, np.ndarray]:
    """Validation and DS2 probabilities of ``run_dir/best.pt`` and their labels."""
    from ecgnet.checkpoint import load_model
    from ecgnet.data import data_inputs
    from ecgnet.inference import predict_proba
    from ecgnet.splits import make_split

    cfg = json.loads((run_dir / "config.json").read_text())["config"]
    split = make_split(data, cfg["split"], cfg["test_fraction"], cfg["val_fraction"],
                       cfg["seed"], cfg.get("val_by", "auto"))
    model, _ = load_model(run_dir / "best.pt")
    val, test = data.subset(split.val), data.subset(split.test)
    return {"val_p": predict_proba(model, data_inputs(model, val)), "val_y": val.labels,
            "test_p": predict_proba(model, data_inputs(model, test)), "test_y": test.labels}


def figures(y: np.ndarray, pred: np.ndarray, class_names) -> List[float]:
    """AAMI Se and +P (percent) of N, S, V, F, then the accuracy (percent)."""
    from ecgnet.metrics import classification_report

    onehot = np.eye(len(class_names))[pred]
    report = classification_report(y, onehot, class_names)
    out = []
    for name in ("N", "S", "V", "F"):
        out += [report["aami"][name]["Se"], report["aami"][name]["+P"]]
    return [np.nan if v is None else float(v) for v in out] + [100 * report["accuracy"]]


def main(argv=None) -> int:
    """Choose ``w_S`` on each run's validation part; print DS2 figures before and after."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help="beats HDF5 of ecg segment --db mitdb --recipe kaggle")
    p.add_argument("runs", nargs="+", help="run folders of ecg train --split interpatient")
    p.add_argument("--score", choices=SCORES, nargs="+", default=list(SCORES),
                   help="validation score(s) to choose w_S by; each gets its lines")
    args = p.parse_args(argv)
    from ecgnet.data import load_data

    data = load_data(args.data)
    names = data.class_names
    s = list(names).index("S")
    head = "| run | w_S | " + " | ".join(f"{c} {m}" for c in "NSVF" for m in ("Se", "+P"))
    print(head + " | acc % |\n|" + "---|" * 11)
    rows: Dict[str, List[List[float]]] = {"w_S = 1": []}
    for run in args.runs:
        got = run_probabilities(Path(run), data)
        choices = [("w_S = 1", 1.0)]
        for score in args.score:
            values = [validation_score(got["val_y"], decide(got["val_p"], s, w), names, score)
                      for w in WEIGHTS]
            choices.append((f"w_S by validation {score} F1", float(WEIGHTS[int(np.argmax(values))])))
        for label, w in choices:
            f = figures(got["test_y"], decide(got["test_p"], s, w), names)
            rows.setdefault(label, []).append(f)
            print(f"| {Path(run).name}, {label} | {w:g} | "
                  + " | ".join(f"{v:.1f}" for v in f) + " |", flush=True)
    for label, figs in rows.items():
        mean = np.nanmean(np.array(figs), axis=0)
        print(f"| mean of {len(figs)}, {label} | | " + " | ".join(f"{v:.1f}" for v in mean) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
