"""Inter-patient ablation (issue #16): what each input or training change adds on DS2.

Every row trains on MIT-BIH DS1 only (validation: whole DS1 records, ``--val-fraction``
of its beats) and is scored on all DS2 beats (the run's ``test.json``). Rows are
cumulative: each adds one change to the row before it (see :data:`ROWS`).

Usage::

    PYTHONPATH=. python benchmarks/interpatient_ablation.py data/beats/mitdb-kaggle.h5 \
        [--rows baseline,record-rr,...] [--seeds 0,1,2] [--epochs 10] [--patience 5] \
        [--threads 1] [--out runs/ablation] [--report benchmarks/ablation-table.md]

The beats HDF5 comes from ``ecg segment --db mitdb --recipe kaggle``. A row whose run
folder (``<out>/<row>-s<seed>``) already holds a ``test.json`` is read, not trained again
(``--retrain`` trains it anyway), so an interrupted table resumes where it stopped and
more seeds can be added later. With several seeds, each figure is the mean over seeds,
followed by each seed's figures and the ensemble (the mean of the seeds' probabilities).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

COMMON = {"split": "interpatient", "val_fraction": 0.3, "ema": 0.999, "jitter": 0.5,
          "precision": "bfloat16"}
"""Settings of every row (those of the earlier inter-patient runs in TRAIN_ACCURACY.md)."""

ROWS: Dict[str, dict] = {
    "baseline": {"label": "baseline `kachuee-rr` (beat + 5 RR features)",
                 "model": "kachuee-rr"},
    "record-rr": {"label": "+ RR intervals / record's mean RR (`kachuee-rr2`)",
                  "model": "kachuee-rr2"},
    "morphology": {"label": "+ likeness to the record's median beat (`kachuee-rrm`)",
                   "model": "kachuee-rrm"},
    "median-diff": {"label": "+ beat minus record's median beat as 2nd channel (`kachuee-rrmd`)",
                    "model": "kachuee-rrmd"},
    "sqrt-weights": {"label": "+ sqrt class weights in the loss",
                     "model": "kachuee-rrmd", "class_weights": "sqrt"},
    "minority-copies": {"label": "+ minority copies (augment 0.25)",
                        "model": "kachuee-rrmd", "class_weights": "sqrt", "augment": 0.25},
    "balanced-weights": {"label": "balanced class weights instead of sqrt (on `kachuee-rrmd`)",
                         "model": "kachuee-rrmd", "class_weights": "balanced"},
    "relative": {"label": "`kachuee-rrmd` + QRS likeness + rhythm irregularity - intervals in "
                          "seconds (`kachuee-rel`)", "model": "kachuee-rel"},
    "relative-balanced": {"label": "`kachuee-rel` + balanced class weights",
                          "model": "kachuee-rel", "class_weights": "balanced"},
    "relative-sqrt": {"label": "`kachuee-rel` + sqrt class weights",
                      "model": "kachuee-rel", "class_weights": "sqrt"},
    "relative-class-sampler": {"label": "`kachuee-rel` + epochs drawn class-balanced",
                               "model": "kachuee-rel", "sampler": "class"},
    "relative-record-sampler": {"label": "`kachuee-rel` + epochs drawn balanced by class and "
                                         "record", "model": "kachuee-rel",
                                "sampler": "record-class"},
    "wide": {"label": "`kachuee-rel` + a linear path from the 13 rhythm and record columns "
                      "to the logits, deep logits dropped for half the training beats "
                      "(`kachuee-wide`)", "model": "kachuee-wide"},
    "wide-balanced": {"label": "`kachuee-wide` + balanced class weights",
                      "model": "kachuee-wide", "class_weights": "balanced"},
    "wide-sqrt": {"label": "`kachuee-wide` + sqrt class weights",
                  "model": "kachuee-wide", "class_weights": "sqrt"},
    "wide-focal": {"label": "`kachuee-wide` + focal loss", "model": "kachuee-wide",
                   "loss": "focal"},
    "wide-focal-balanced": {"label": "`kachuee-wide` + focal loss + balanced class weights",
                            "model": "kachuee-wide", "loss": "focal",
                            "class_weights": "balanced"},
    "wide-capped": {"label": "`kachuee-wide` + capped class weights (balanced, F and Q "
                             "capped at the median class's weight)",
                    "model": "kachuee-wide", "class_weights": "capped"},
    "ectopy-balanced": {"label": "`kachuee-wide` + the pause after the beat and its "
                                 "prematurity in a steady rhythm (`kachuee-wide-ectopy`) + "
                                 "balanced class weights",
                        "model": "kachuee-wide-ectopy", "class_weights": "balanced"},
    "wide2-balanced": {"label": "`kachuee-wide` + balanced class weights, on two leads: the "
                                "second lead's beat and its minus its record's median beat as "
                                "2 more stem channels (`kachuee-wide2`, `--second-lead`)",
                       "model": "kachuee-wide2", "class_weights": "balanced", "leads": 2},
    "ectopy-capped": {"label": "`kachuee-wide-ectopy` + capped class weights",
                      "model": "kachuee-wide-ectopy", "class_weights": "capped"},
}
"""Ablation rows, in order: registry name -> label and the settings beyond :data:`COMMON`."""

REPORTED = ("N", "S", "V", "F")


def row_config(row: str, data: str, seed: int, args) -> dict:
    """The :class:`~ecgnet.train_config.TrainConfig` settings of one row and seed."""
    spec = {k: v for k, v in ROWS[row].items() if k not in ("label", "leads")}
    if ROWS[row].get("leads", 1) > 1:
        if not getattr(args, "second_lead", None):
            raise SystemExit(f"row {row} takes two leads: give --second-lead (the beats of "
                             f"ecg segment --db mitdb --recipe kaggle --signal 1)")
        spec["second_lead"] = [args.second_lead]
    return {**COMMON, **spec, "data": [data], "seed": seed, "epochs": args.epochs,
            "patience": args.patience, "threads": args.threads, "out": args.out,
            "name": f"{row}-s{seed}", "overwrite": args.retrain, "progress": False}


def command_of(row: str, data: str, args) -> str:
    """The ``ecg train`` command line of a row (seed 0)."""
    cfg = row_config(row, data, 0, args)
    parts = ["ecg train", shlex.quote(data)]
    for key in ("model", "split", "val_fraction", "loss", "class_weights", "sampler", "augment",
                "ema", "jitter", "epochs", "patience", "threads", "precision", "seed"):
        if key in cfg:
            parts += [f"--{key.replace('_', '-')}", str(cfg[key])]
    for second in cfg.get("second_lead") or ():
        parts += ["--second-lead", shlex.quote(second)]
    return " ".join(parts)


def run_row(row: str, data: str, seed: int, args) -> Path:
    """Train one row and seed unless its run folder already holds ``test.json``."""
    from ecgnet.train import TrainConfig, train

    run_dir = Path(args.out) / f"{row}-s{seed}"
    if (run_dir / "test.json").is_file() and not args.retrain:
        return run_dir
    train(TrainConfig(**row_config(row, data, seed, args)))
    return run_dir


def ensemble_report(run_dirs: Sequence[Path], data: str, second_lead: str | None = None) -> dict:
    """AAMI figures of the mean of the runs' DS2 probabilities (one report dict);
    ``second_lead``: the second lead's beats, for 2-lead rows."""
    from ecgnet.checkpoint import load_model
    from ecgnet.data import data_inputs, load_data
    from ecgnet.inference import predict_proba
    from ecgnet.metrics import classification_report
    from ecgnet.splits import DS2

    beats = load_data(data, second_lead=[second_lead] if second_lead else None)
    test = beats.subset(np.isin(beats.records, DS2))
    proba = None
    for run_dir in run_dirs:
        model, _ = load_model(run_dir / "best.pt")
        p = predict_proba(model, data_inputs(model, test))
        proba = p if proba is None else proba + p
    return classification_report(test.labels, proba / len(run_dirs), test.class_names)


def figures(report: dict) -> List[float]:
    """Se and +P of N, S, V, F (percent), then the accuracy (percent); NaN where a figure
    is undefined (+P of a class the model never predicts)."""
    out = []
    for name in REPORTED:
        out += [report["aami"][name]["Se"], report["aami"][name]["+P"]]
    return [np.nan if v is None else float(v) for v in out] + [100 * report["accuracy"]]


def cells(values) -> List[str]:
    """Table cells of :func:`figures` (one decimal; ``-`` for an undefined figure)."""
    return ["-" if np.isnan(v) else f"{v:.1f}" for v in values]


def mean_figures(reports: Sequence[dict]) -> np.ndarray:
    """Mean over seeds of :func:`figures`, each figure over the seeds that define it."""
    values = np.array([figures(r) for r in reports])
    defined = ~np.isnan(values)
    sums = np.where(defined, values, 0).sum(axis=0)
    return np.where(defined.any(axis=0), sums / np.maximum(defined.sum(axis=0), 1), np.nan)


def markdown_table(rows: Dict[str, List[dict]], data: str, args,
                   ensembles: Dict[str, dict]) -> str:
    """The ablation table: one line per row (mean over seeds), plus ensemble lines."""
    head = ["change (cumulative)", "seeds", *(f"{c} {m}" for c in REPORTED
                                              for m in ("Se", "+P")), "acc %", "command"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row, reports in rows.items():
        mean = mean_figures(reports)
        lines.append("| " + " | ".join([ROWS[row]["label"], str(len(reports)),
                                         *cells(mean),
                                         f"`{command_of(row, data, args)}`"]) + " |")
        if len(reports) > 1:  # each seed's own figures under the mean
            for seed, report in zip(args.seed_list, reports):
                lines.append("| " + " | ".join([f"{ROWS[row]['label']}: seed {seed}", "1",
                                                 *cells(figures(report)),
                                                 f"`--seed {seed}`"]) + " |")
        if row in ensembles:
            ens = figures(ensembles[row])
            lines.append("| " + " | ".join([f"{ROWS[row]['label']}: ensemble of the seeds",
                                             str(len(reports)), *cells(ens),
                                             "(mean probabilities)"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Run (or read) the rows and print the table; ``--report`` also writes it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help="beats HDF5 of ecg segment --db mitdb --recipe kaggle")
    p.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows of ROWS")
    p.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="runs/ablation", help="parent folder of the runs")
    p.add_argument("--second-lead", default=None,
                   help="beats HDF5 of the same rows on the second lead (ecg segment --db "
                        "mitdb --recipe kaggle --signal 1), for the 2-lead rows")
    p.add_argument("--retrain", action="store_true", help="train rows that have results")
    p.add_argument("--report", help="also write the table to this markdown file")
    args = p.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        p.error(f"unknown rows {', '.join(unknown)}; known: {', '.join(ROWS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    args.seed_list = seeds
    results: Dict[str, List[dict]] = {}
    ensembles: Dict[str, dict] = {}
    for row in rows:
        run_dirs = [run_row(row, args.data, seed, args) for seed in seeds]
        results[row] = [json.loads((d / "test.json").read_text()) for d in run_dirs]
        if len(run_dirs) > 1:
            two = ROWS[row].get("leads", 1) > 1
            ensembles[row] = ensemble_report(run_dirs, args.data,
                                             args.second_lead if two else None)
        print(f"{row}: done ({len(run_dirs)} seeds)", file=sys.stderr, flush=True)
    table = markdown_table(results, args.data, args, ensembles)
    print(table)
    if args.report:
        from ecgseg.atomic import atomic_path

        with atomic_path(Path(args.report)) as tmp:
            Path(tmp).write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
