"""Labels of segmented beats: what a database says each beat is (no recipe logic here).

Two rules, one per kind of database (:class:`ecgseg.databases.Database` names its rule):

* :func:`label_by_annotations` (MIT-BIH): each beat takes the AAMI class of the
  NEAREST reference beat annotation within ``tolerance_s``; none within it -> -1
  (:data:`ecgseg.store.UNMATCHED`). The detector's Se/+P against the same reference
  beats is computed on the way (:func:`ecgseg.matching.score_detections`).
* :func:`label_by_diagnosis` (PTB): every beat of a record takes the record's header
  diagnosis: 0 healthy control, 1 myocardial infarction, -2 any other diagnosis
  (:data:`ecgseg.store.OUT_OF_TASK`, kept but outside the MI task).

Pure functions over arrays and already-read annotations/headers (the reading is done
by :mod:`ecgseg.records`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Label of a beat that matched no reference beat (same value as ``ecgseg.store.UNMATCHED``).
UNMATCHED = -1
#: Label of a PTB beat whose diagnosis is outside the MI task (``ecgseg.store.OUT_OF_TASK``).
OUT_OF_TASK = -2
#: PTB ``Reason for admission`` -> MI-task label.
PTB_LABELS: dict[str, int] = {"healthy control": 0, "myocardial infarction": 1}


@dataclass
class Labelling:
    """Labels of one record's beats.

    Attributes
    ----------
    labels : np.ndarray
        int8, shape (n,): class id, or -1 (no reference beat) / -2 (outside the task).
    symbols : np.ndarray or None
        str, shape (n,): the matched annotation symbol ('' when none), or None.
    stats : dict
        Per-record keys for ``/records`` (``label_source`` always).
    warnings : list of str
        Lines worth showing the user.
    score : DetectorScore or None
        Se/+P of the beats' positions against the reference beats, when there are some.
    """

    labels: np.ndarray
    symbols: np.ndarray | None = None
    stats: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    score: Any = None


def ptb_label(diagnosis: str) -> int:
    """MI-task label of a PTB diagnosis: 0 healthy control, 1 MI, -2 other.

    Examples
    --------
    >>> ptb_label("Myocardial infarction"), ptb_label("Healthy control"), ptb_label("Myocarditis")
    (1, 0, -2)
    """
    return PTB_LABELS.get(diagnosis.strip().lower(), OUT_OF_TASK)


def label_by_annotations(record: str, sample: np.ndarray, fs: float, annotations,
                         tolerance_s: float) -> Labelling:
    """AAMI class of the nearest reference beat annotation within ``tolerance_s``.

    Parameters
    ----------
    record : str
        Record name, for messages.
    sample : np.ndarray
        int64, shape (n,): beat positions, samples of the original record.
    fs : float
        Sampling rate of the original record, Hz.
    annotations : ecgseg.records.Annotations or None
        The record's reference annotations (all symbols; non-beats are ignored).
        None: every beat is unlabelled (-1), with a warning.
    tolerance_s : float
        Largest peak-to-annotation distance, s (inclusive, rounded to samples).

    Returns
    -------
    Labelling
        With ``score`` (Se/+P) and the stats ``reference_beats``, ``matched_beats``,
        ``unmatched_peaks``, ``sensitivity``, ``positive_predictivity``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgseg.records import Annotations
    >>> ann = Annotations(np.array([100, 460]), np.array(["N", "V"]))
    >>> label_by_annotations("x", np.array([102, 900]), 360.0, ann, 0.15).labels
    array([ 0, -1], dtype=int8)
    """
    from .labels import aami_label
    from .matching import nearest_within, score_detections

    sample = np.asarray(sample, dtype=np.int64)
    if annotations is None:
        return Labelling(np.full(len(sample), UNMATCHED, dtype=np.int8), None,
                         {"label_source": "none"},
                         [f"record {record} has no atr annotations: its beats are "
                          "unlabelled (-1)"])
    cls = aami_label(annotations.symbol)
    is_beat = cls >= 0
    ref = annotations.sample[is_beat]
    ref_cls = cls[is_beat]
    tol = int(round(tolerance_s * fs))
    idx = nearest_within(sample, ref, tol)
    labels = np.where(idx >= 0, ref_cls[np.maximum(idx, 0)], UNMATCHED).astype(np.int8)
    symbols = np.where(idx >= 0, annotations.symbol[is_beat][np.maximum(idx, 0)], "")
    score = score_detections(sample, ref, tol)
    stats = dict(label_source="atr", reference_beats=score.reference,
                 matched_beats=score.matched, unmatched_peaks=int((idx < 0).sum()),
                 sensitivity=score.sensitivity,
                 positive_predictivity=score.positive_predictivity)
    return Labelling(labels, symbols, stats, [], score)


def label_by_symbols(symbols: np.ndarray) -> Labelling:
    """AAMI class of each beat's own annotation symbol (beats cut AT the annotations).

    Examples
    --------
    >>> import numpy as np
    >>> label_by_symbols(np.array(["N", "A", "V"])).labels
    array([0, 1, 2], dtype=int8)
    """
    from .labels import aami_label

    symbols = np.asarray(symbols, dtype=str)
    return Labelling(aami_label(symbols), symbols, {"label_source": "atr"})


def label_by_diagnosis(n: int, diagnosis: str) -> Labelling:
    """Every beat of a record takes its diagnosis' MI-task label (:func:`ptb_label`).

    Examples
    --------
    >>> label_by_diagnosis(2, "Healthy control").labels
    array([0, 0], dtype=int8)
    """
    return Labelling(np.full(n, ptb_label(diagnosis), dtype=np.int8), None,
                     {"label_source": "header", "diagnosis": diagnosis})
