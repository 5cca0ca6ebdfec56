"""Evaluate a checkpoint on labelled beats it never trained on; print and save the figures.

``evaluate`` never scores a beat the model trained on: beats whose exact values match a
training or validation beat (hashes stored in the checkpoint) are left out and counted.
On the training data itself it scores the run's test part.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ecgseg.atomic import refuse_existing
from ecgseg.errors import InputError

from .checkpoint import load_model
from .data import BeatData, beat_hashes, data_inputs, load_data, named_task
from .models import lead_count
from .inference import predict_proba
from .jsonfile import write_json
from .metrics import classification_report
from .splits import DS2, make_split

PARTS = ("auto", "test", "all")


@dataclass
class EvalResult:
    """What :func:`evaluate` measured.

    Attributes
    ----------
    report : dict
        From :func:`ecgnet.metrics.classification_report`, plus ``part``,
        ``excluded_training_beats``, ``checkpoint``, ``data``.
    json_path, png_path : Path or None
        Files written (when an output prefix was given).
    """

    report: dict
    json_path: Path | None = None
    png_path: Path | None = None


def select_part(data: BeatData, meta: dict, part: str = "auto") -> tuple[np.ndarray, str]:
    """Indices of ``data`` to evaluate a checkpoint on, and a description of them.

    Parameters
    ----------
    data : BeatData
    meta : dict
        From :func:`ecgnet.checkpoint.load_model`.
    part : {"auto", "test", "all"}
        ``test``: the test part of the run's split (the data must be the training
        data); ``all``: every beat; ``auto``: ``test`` on the training data, DS2 records
        for an inter-patient model on other MIT-BIH data, else ``all``.

    Returns
    -------
    index : np.ndarray
        ``(m,)`` int64.
    description : str
    """
    if part not in PARTS:
        raise InputError(f"unknown part {part!r}; choose one of: {', '.join(PARTS)}")
    config = meta.get("config", {})
    same_data = meta["training"].get("data_fingerprint") == data.fingerprint()
    if part == "test" and not same_data:
        raise InputError("--part test: DATA is not the data this checkpoint was trained on "
                         "(fingerprints differ); use --part all")
    if part in ("auto", "test") and same_data and config.get("split"):
        split = make_split(data, config["split"], config.get("test_fraction", 0.2),
                           config.get("val_fraction", 0.1), config.get("seed", 0))
        return split.test, f"test part of the run's {split.kind} split"
    if part == "auto" and config.get("split") == "interpatient" and data.records is not None:
        return np.flatnonzero(np.isin(data.records, DS2)), "MIT-BIH DS2 records"
    return np.arange(len(data)), "all beats"


def evaluate_beats(model: torch.nn.Module, beats: np.ndarray, labels: np.ndarray,
                   class_names: Sequence[str], batch_size: int = 512) -> dict:
    """Classification report of ``model`` on beats ``(n, 187)`` with labels ``(n,)``."""
    proba = predict_proba(model, beats, batch_size=batch_size)
    return classification_report(labels, proba, class_names)


def save_report(report: dict, prefix: str | os.PathLike, title: str = "") -> tuple[Path, Path]:
    """Write ``<prefix>.json`` (the report) and ``<prefix>.png`` (its confusion matrix)."""
    from ecgseg.oserrors import writing

    from .plots import plot_confusion_matrix

    prefix = Path(prefix)
    with writing(prefix.parent):
        prefix.parent.mkdir(parents=True, exist_ok=True)
    json_path = write_json(prefix.with_name(prefix.name + ".json"), report)
    png_path = plot_confusion_matrix(np.array(report["confusion_matrix"]), report["class_names"],
                                     prefix.with_name(prefix.name + ".png"), title=title)
    return json_path, png_path


def format_report(report: dict) -> str:
    """The report as text: accuracy, per-class table, confusion matrix, AAMI table."""
    names = report["class_names"]
    m = report["macro"]
    auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
    lines = [f"beats: {report['n']}   accuracy: {100 * report['accuracy']:.2f} %   "
             f"macro precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
             f"F1 {m['f1']:.4f}  ROC AUC {auc}",
             "",
             f"{'class':>8} {'precision':>10} {'recall':>8} {'F1':>8} {'AUC':>8} {'support':>8}"]
    for name in names:
        r = report["per_class"][name]
        a = "-" if r["roc_auc"] is None else f"{r['roc_auc']:.4f}"
        lines.append(f"{name:>8} {r['precision']:>10.4f} {r['recall']:>8.4f} {r['f1']:>8.4f} "
                     f"{a:>8} {r['support']:>8}")
    width = max(7, max(len(str(v)) for row in report["confusion_matrix"] for v in row) + 1)
    lines += ["", "confusion matrix (rows true, columns predicted):",
              " " * 8 + "".join(f"{n:>{width}}" for n in names)]
    for name, row in zip(names, report["confusion_matrix"]):
        lines.append(f"{name:>8}" + "".join(f"{v:>{width}}" for v in row))
    b = report.get("binary")
    if b:
        pct = {k: "-" if b[k] is None else f"{100 * b[k]:.2f} %"
               for k in ("sensitivity", "specificity", "precision", "f1")}
        lines += ["", f"{b['positive']} as the positive class: sensitivity {pct['sensitivity']}   "
                      f"specificity {pct['specificity']}   precision {pct['precision']}   "
                      f"F1 {pct['f1']}"]
    if report.get("aami"):
        lines += ["", "AAMI EC57 (one class vs the rest):", f"{'class':>8} {'Se %':>8} {'+P %':>8}"]
        for name, r in report["aami"].items():
            se = "-" if r["Se"] is None else f"{r['Se']:.2f}"
            pp = "-" if r["+P"] is None else f"{r['+P']:.2f}"
            lines.append(f"{name:>8} {se:>8} {pp:>8}")
    return "\n".join(lines)


def load_evaluation_data(data: Sequence[str | os.PathLike] | str, checkpoint_classes: Sequence[str],
                         class_names: Sequence[str] | None = None,
                         records: Sequence[str] | None = None,
                         second_lead: Sequence[str | os.PathLike] | None = None) -> BeatData:
    """Load beats to score a checkpoint on; CSV labels mean the checkpoint's classes when
    they fit. ``second_lead``: the same rows on the second lead, for 2-lead models
    (:func:`ecgnet.data.pair_second_lead`).

    A Kaggle-format CSV does not name its classes. Without ``class_names``, CSV labels
    that fit the checkpoint's classes (ids ``0 .. k-1``) mean those classes, unless the
    files' names imply a task with another number of classes (``ptb*``: 2); otherwise, and
    for HDF5, the classes are those :func:`ecgnet.data.load_data` finds.
    """
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    csv_only = all(Path(p).suffix.lower() == ".csv" for p in data)
    hint = named_task(data)
    if class_names is None and csv_only and (hint is None or len(hint) == len(checkpoint_classes)):
        try:
            return load_data(data, class_names=checkpoint_classes, records=records)
        except InputError:
            pass  # labels beyond the checkpoint's classes: the default, and its message
    return load_data(data, class_names=class_names, records=records, second_lead=second_lead)


def evaluate(checkpoint: str | os.PathLike, data: Sequence[str | os.PathLike] | str,
             part: str = "auto", out: str | os.PathLike | None = None,
             batch_size: int = 512, device: str = "cpu",
             records: Sequence[str] | None = None,
             class_names: Sequence[str] | None = None, overwrite: bool = False,
             second_lead: Sequence[str | os.PathLike] | None = None) -> EvalResult:
    """Evaluate a checkpoint on labelled beats, leaving out every beat it trained on.

    Parameters
    ----------
    checkpoint : path
        ``best.pt`` / ``last.pt`` of ``ecg train``.
    data : path or sequence of paths
        CSV and/or HDF5 beats (see :func:`ecgnet.data.load_data`).
    part : {"auto", "test", "all"}
        Which beats to score (see :func:`select_part`).
    out : path, optional
        Prefix of the ``.json`` and ``.png`` files to write.
    batch_size : int
        Beats per forward pass.
    device : str
        ``cpu`` or ``cuda``.
    records : sequence of str, optional
        HDF5 only: score only these records.
    class_names : sequence of str, optional
        What the data's labels mean (default: see :func:`load_evaluation_data`); they
        must be the checkpoint's classes.
    overwrite : bool
        Replace the ``.json`` / ``.png`` of ``out`` if they exist (checked before any work).
    second_lead : sequence of paths, optional
        HDF5 beats of the same rows on the records' second lead, one per file of
        ``data`` (``ecg segment --recipe kaggle --signal 1``): what a 2-lead model
        (``kachuee-rrmd2``) needs.

    Returns
    -------
    EvalResult

    Raises
    ------
    InputError
        Unreadable inputs, classes that do not match the checkpoint's, no beat left, or
        a 2-lead model without ``second_lead`` (one line naming it).
    OutputExistsError
        ``out``'s ``.json`` or ``.png`` exists and ``overwrite`` is False.
    """
    if out is not None:
        for suffix in (".json", ".png"):
            refuse_existing(Path(out).with_name(Path(out).name + suffix), overwrite)
    model, meta = load_model(checkpoint, device)
    if lead_count(model) > 1 and not second_lead:
        raise InputError(f"{checkpoint}: model {meta.get('model', '')} takes {lead_count(model)} "
                         f"leads; give the second lead's beats with second_lead (ecg evaluate "
                         f"--second-lead FILE, from ecg segment --recipe kaggle --signal 1)")
    data_set = load_evaluation_data(data, meta["class_names"], class_names, records,
                                    second_lead if second_lead else None)
    if tuple(data_set.class_names) != tuple(meta["class_names"]):
        raise InputError(f"{', '.join(data_set.sources)}: classes "
                         f"({' '.join(data_set.class_names)}) are not those of checkpoint "
                         f"{checkpoint} ({' '.join(meta['class_names'])}); if the labels do mean "
                         f"the checkpoint's classes, say so with --classes")
    index, description = select_part(data_set, meta, part)
    trained = meta["training"].get("train_hashes")
    excluded = 0
    if trained is not None and len(index):
        seen = np.isin(beat_hashes(data_set.beats[index]), trained.numpy())
        excluded = int(seen.sum())
        index = index[~seen]
    if len(index) == 0:
        raise InputError(f"no beat left to evaluate: the {description} of "
                         f"{', '.join(map(str, data_set.sources))} were all used in training")
    subset = data_set.subset(index)
    inputs = data_inputs(model, subset, ", ".join(data_set.sources))
    report = evaluate_beats(model, inputs, subset.labels, meta["class_names"], batch_size)
    report.update(part=description, excluded_training_beats=excluded,
                  checkpoint=str(checkpoint), data=list(data_set.sources))
    result = EvalResult(report)
    if out is not None:
        result.json_path, result.png_path = save_report(
            report, out, title=f"{Path(checkpoint).name} on {description}")
    return result
