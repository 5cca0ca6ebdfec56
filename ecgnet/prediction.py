"""The result of ``ecg predict``: every beat's class probabilities, and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from .metrics import aami_table, confusion_matrix


@dataclass(frozen=True)
class Prediction:
    """The model's verdict on every beat of one input.

    Built in one go by :func:`ecgnet.predict.predict` (input, segmentation, model).

    Attributes
    ----------
    name : str
        Record name (or file stem for HDF5/CSV input).
    class_names : tuple of str
    proba : ndarray, float32 (n, k)
    record : ndarray of str (n,)
    sample : ndarray, int64 (n,) or None
        R peak in samples of the original record (None for CSV input).
    time_s : ndarray, float64 (n,) or None
    reference : ndarray, int64 (n,)
        Reference class id, -1 when unknown (no annotation matched, no label).
    detector : DetectorScore or None
        R-peak detector vs reference beats (raw records with ``atr`` annotations).
    params : PaperParams or None
        Recipe parameters used (raw records).
    source : RecordSource or None
        The raw record (for plots).
    fs : float or None
        Sampling rate of the original record, Hz.
    lead : str or None
        Signal name read.
    stats : dict
        Per-record statistics of the segmentation.
    notes : list of str
        Warnings worth a line (recipe mismatch, lead fallback ...).
    seconds : dict
        ``download``, ``segment`` (read + segment + label), ``model``.
    beats : ndarray, float32 (n, 187) or None
        The beats the model classified (its input without RR features).
    extra_inputs : ndarray, float32 (n, r) or None
        What the model took after each beat's 187 samples (RR features, record features,
        the record's median beat; :func:`ecgnet.data.model_inputs`), None for a model of
        the beat alone: ``np.hstack([beats, extra_inputs])`` is the model's input.
    recipe : str or None
        The recipe the beats were cut with (raw records; :mod:`ecgseg.recipes.registry`).
    beat_fs : float or None
        Sampling rate of the beats, Hz, from that recipe's registry entry (raw records).
    """

    name: str
    class_names: tuple
    proba: np.ndarray
    record: np.ndarray
    sample: Optional[np.ndarray]
    time_s: Optional[np.ndarray]
    reference: np.ndarray
    detector: Any = None
    params: Any = None
    source: Any = None
    fs: Optional[float] = None
    lead: Optional[str] = None
    stats: dict = field(default_factory=dict)
    notes: Tuple[str, ...] = ()
    seconds: Dict[str, float] = field(default_factory=dict)
    beats: Optional[np.ndarray] = None
    extra_inputs: Optional[np.ndarray] = None
    recipe: Optional[str] = None
    beat_fs: Optional[float] = None

    def __len__(self) -> int:
        return int(self.proba.shape[0])

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class id of each beat: ``(n,)`` int64."""
        return self.proba.argmax(axis=1).astype(np.int64)

    def table(self) -> pd.DataFrame:
        """One row per beat.

        Columns ``record``, ``sample`` (R peak, samples of the original record; empty for
        CSV input), ``time_s`` (``sample / fs``), ``predicted`` (class name),
        ``probability`` (of the predicted class), ``reference`` (class of the matched
        reference annotation, '' when none), then ``p_<class>`` for every class.
        """
        names = np.asarray(self.class_names, dtype=object)
        pred = self.predicted
        n = len(self)
        ref = self.reference
        cols: Dict[str, Any] = {
            "record": self.record,
            "sample": (pd.array(self.sample, dtype="Int64") if self.sample is not None
                       else pd.array([None] * n, dtype="Int64")),
            "time_s": (self.time_s if self.time_s is not None else np.full(n, np.nan)),
            "predicted": names[pred] if n else np.zeros(0, dtype=object),
            "probability": self.proba[np.arange(n), pred].astype(np.float64),
            "reference": np.where((ref >= 0) & (ref < len(names)),
                                  names[np.clip(ref, 0, len(names) - 1)], "") if n
            else np.zeros(0, dtype=object),
        }
        for c, cname in enumerate(self.class_names):
            cols[f"p_{cname}"] = self.proba[:, c].astype(np.float64)
        return pd.DataFrame(cols)

    def summary(self) -> Dict[str, Any]:
        """Counts per predicted class and, where reference classes are known, the AAMI table."""
        k = len(self.class_names)
        counts = np.bincount(self.predicted, minlength=k)
        out: Dict[str, Any] = {"beats": len(self),
                               "predicted": dict(zip(self.class_names, counts.tolist()))}
        known = (self.reference >= 0) & (self.reference < k)
        if known.any():
            cm = confusion_matrix(self.reference[known], self.predicted[known], k)
            out.update(compared=int(known.sum()),
                       accuracy=float(np.trace(cm) / cm.sum()),
                       aami=aami_table(cm, self.class_names))
        if self.detector is not None:
            out["detector"] = self.detector
        return out

    def summary_lines(self) -> List[str]:
        """The summary as a few lines of text."""
        s = self.summary()
        lines = [f"{self.name}: {s['beats']} beats; predicted "
                 + ", ".join(f"{c} {v}" for c, v in s["predicted"].items())]
        d = s.get("detector")
        if d is not None and d.reference:
            tol = 1000 * self.stats.get("tolerance_s", 0.15)
            lines.append(f"R-peak detector vs reference beats ({tol:g} ms): Se "
                         f"{100 * d.sensitivity:.2f} %, +P {100 * d.positive_predictivity:.2f} % "
                         f"({d.matched} of {d.reference} beats found, {d.detected} peaks)")
        if "compared" in s:
            lines.append(f"vs reference classes ({s['compared']} beats with one): accuracy "
                         f"{100 * s['accuracy']:.2f} %")
            if s.get("aami"):
                lines.append(f"{'AAMI':>6} {'Se %':>7} {'+P %':>7} {'TP':>6} {'FN':>6} {'FP':>6}")
                for cname, r in s["aami"].items():
                    se = "-" if np.isnan(r["Se"]) else f"{r['Se']:.2f}"
                    pp = "-" if np.isnan(r["+P"]) else f"{r['+P']:.2f}"
                    lines.append(f"{cname:>6} {se:>7} {pp:>7} {r['TP']:>6} {r['FN']:>6} "
                                 f"{r['FP']:>6}")
        return lines


__all__ = ["Prediction"]
