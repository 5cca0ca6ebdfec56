"""Score a trained model end to end on raw records: detect, cut, classify, compare.

``ecg evaluate-records CHECKPOINT RECORDS...``: what :func:`ecgnet.predict.predict` does
for one raw record (R peaks from a detector, beats cut with the checkpoint's recipe, the
model's classes), over many records at once, pooled into one AAMI table. Each detected
beat takes the class of the nearest reference beat within ``tolerance_s`` (its AAMI
class); detected beats with none are false detections, counted by the detector's +P and
left out of the classification table. This is how a model does on recordings, rather
than on beats cut at the reference annotations.

Examples
--------
>>> ev = evaluate_records("runs/ds1/best.pt", ["DS2"])      # doctest: +SKIP
>>> print("\\n".join(ev.lines()))                             # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ecgseg.errors import InputError

from .metrics import aami_table, confusion_matrix
from .predict import DEFAULT_DETECTOR

DEFAULT_DATABASE = "mitdb/1.0.0"
"""Database of bare record names and of split names (``100``, ``DS2``)."""


def expand_records(specs: Sequence[str], database: str = DEFAULT_DATABASE) -> List[str]:
    """Record specs for :func:`ecgnet.predict.predict`, with split names expanded.

    Parameters
    ----------
    specs : sequence of str
        ``mitdb/1.0.0/100``, a record path, a bare MIT-BIH name (``100``), or a split name
        of :data:`ecgseg.record_splits.RECORD_SPLITS` (``DS1``, ``DS2``, ``paced``).
    database : str
        ``<db>/<version>`` of bare names and splits.

    Raises
    ------
    InputError
        No records (``records`` must name at least one).

    Examples
    --------
    >>> expand_records(["DS2"])[:2]
    ['mitdb/1.0.0/100', 'mitdb/1.0.0/103']
    >>> expand_records(["mitdb/1.0.0/208", "119"])
    ['mitdb/1.0.0/208', 'mitdb/1.0.0/119']
    """
    from ecgseg.record_splits import RECORD_SPLITS

    out: List[str] = []
    for spec in specs:
        text = str(spec)
        split = {k.lower(): v for k, v in RECORD_SPLITS.items()}.get(text.lower())
        if split is not None:
            out.extend(f"{database}/{name}" for name in split)
        elif text.isdigit() and not Path(text + ".hea").exists():
            out.append(f"{database}/{text}")
        else:
            out.append(text)
    if not out:
        raise InputError("records must name at least one record or split")
    return out


@dataclass
class RecordsEvaluation:
    """The end-to-end score of a model over records.

    Attributes
    ----------
    class_names : tuple of str
    detector : str
        Detector name.
    recipe : str
        Recipe the beats were cut with.
    confusion : ndarray, int64 (k, k)
        Pooled over records: rows reference class, columns predicted class (detected
        beats matched to a reference beat only).
    detection : DetectorScore or None
        Pooled detector score vs the reference beats.
    records : list of dict
        Per record: ``record``, ``beats`` (detected), ``compared``, ``accuracy``,
        ``sensitivity``, ``positive_predictivity`` (detector), ``confusion`` (its
        ``(k, k)`` confusion matrix as lists; the records' sum is :attr:`confusion`).
    notes : list of str
    tolerance_s : float
    """

    class_names: tuple
    detector: str
    recipe: str
    confusion: np.ndarray
    detection: Any = None
    records: List[Dict[str, Any]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    tolerance_s: float = 0.15

    @property
    def accuracy(self) -> float:
        """Share of compared beats classified as their reference class (nan: none)."""
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else float("nan")

    def aami(self) -> Dict[str, Dict[str, float]]:
        """Per-class Se/+P (%) and TP/FN/FP, :func:`ecgnet.metrics.aami_table`."""
        return aami_table(self.confusion, self.class_names)

    def to_dict(self) -> Dict[str, Any]:
        """Everything as plain JSON types."""
        d = self.detection
        return {
            "detector": self.detector, "recipe": self.recipe, "tolerance_s": self.tolerance_s,
            "class_names": list(self.class_names), "compared": int(self.confusion.sum()),
            "accuracy": self.accuracy, "aami": self.aami(),
            "confusion": self.confusion.tolist(),
            "detection": None if d is None else {
                "reference_beats": d.reference, "detected": d.detected, "matched": d.matched,
                "sensitivity": d.sensitivity, "positive_predictivity": d.positive_predictivity},
            "records": self.records, "notes": list(self.notes)}

    def lines(self) -> List[str]:
        """The table as text: detector Se/+P pooled, accuracy, per-class Se/+P."""
        out = [f"{len(self.records)} records, {sum(r['beats'] for r in self.records)} detected "
               f"beats ({self.detector} detector, {self.recipe} recipe)"]
        d = self.detection
        if d is not None and d.reference:
            out.append(f"R-peak detector vs reference beats ({1000 * self.tolerance_s:g} ms): "
                       f"Se {100 * d.sensitivity:.2f} %, +P {100 * d.positive_predictivity:.2f} % "
                       f"({d.matched} of {d.reference} beats found, {d.detected} peaks)")
        out.append(f"vs reference classes ({int(self.confusion.sum())} beats with one): "
                   f"accuracy {100 * self.accuracy:.2f} %")
        out.append(f"{'AAMI':>6} {'Se %':>7} {'+P %':>7} {'TP':>6} {'FN':>6} {'FP':>6}")
        for name, r in self.aami().items():
            se = "-" if np.isnan(r["Se"]) else f"{r['Se']:.2f}"
            pp = "-" if np.isnan(r["+P"]) else f"{r['+P']:.2f}"
            out.append(f"{name:>6} {se:>7} {pp:>7} {r['TP']:>6} {r['FN']:>6} {r['FP']:>6}")
        return out


def evaluate_records(checkpoint: str | os.PathLike, records: Sequence[str], *,
                     detector: str = DEFAULT_DETECTOR, recipe: Optional[str] = None,
                     data_dir=None, mirror: Optional[str] = None, tolerance_s: float = 0.15,
                     batch_size: int = 512, device: str = "cpu",
                     progress: bool = False) -> RecordsEvaluation:
    """Detect, cut and classify the beats of every record; pool the scores.

    Parameters
    ----------
    checkpoint : path
        ``best.pt``/``last.pt`` of ``ecg train``.
    records : sequence of str
        Record specs or split names (:func:`expand_records`).
    detector : str
        R-peak detector (``reference`` scores the model on the annotated beat positions).
    recipe : str, optional
        Force a recipe (default: the checkpoint's).
    data_dir, mirror, tolerance_s, batch_size, device :
        As :func:`ecgnet.predict.predict`.

    Returns
    -------
    RecordsEvaluation

    Raises
    ------
    EcgError
        A record that cannot be read or fetched, an unknown detector, a checkpoint that
        is not one of ours, a model whose classes are not the records' database's.
    """
    from .checkpoint import load_model
    from .predict import predict
    from .predict_input import choose_recipe

    specs = expand_records(records)
    loaded = load_model(checkpoint, device=device)
    class_names = tuple(loaded[1]["class_names"])
    k = len(class_names)
    confusion = np.zeros((k, k), dtype=np.int64)
    detection = None
    rows: List[Dict[str, Any]] = []
    notes: List[str] = []
    used_recipe = choose_recipe(loaded[1], "mitdb", None, recipe).recipe
    for spec in specs:
        pred = predict(checkpoint, spec, data_dir=data_dir, mirror=mirror,
                       tolerance_s=tolerance_s, batch_size=batch_size, device=device,
                       progress=progress, detector=detector, recipe=recipe, model=loaded)
        if pred.source is None:
            raise InputError(f"records must be raw records, got beats file {spec}")
        known = (pred.reference >= 0) & (pred.reference < k)
        cm = confusion_matrix(pred.reference[known], pred.predicted[known], k)
        confusion += cm
        score = pred.detector
        if score is not None:
            detection = score if detection is None else detection + score
        for note in pred.notes:
            if note not in notes:
                notes.append(note)
        rows.append({"record": pred.name, "beats": len(pred), "compared": int(known.sum()),
                     "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else None,
                     "sensitivity": None if score is None else score.sensitivity,
                     "positive_predictivity": None if score is None
                     else score.positive_predictivity, "confusion": cm.tolist()})
    if not confusion.any():
        notes.append("no detected beat matched a reference beat of the model's classes: "
                     "nothing to compare")
    return RecordsEvaluation(class_names, detector, used_recipe, confusion, detection, rows,
                             notes, tolerance_s)


__all__ = ["DEFAULT_DATABASE", "RecordsEvaluation", "evaluate_records", "expand_records"]
