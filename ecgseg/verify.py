"""``ecg verify-kaggle``: find published Kaggle rows in our rebuild from raw records.

Every rebuilt row is indexed by the bytes of its float32 values and label, so a
published row is looked up in O(1): found bit-exact, or not. Rows not found exactly
are compared with the rebuilt rows of the same label and the same padding length
(a small candidate set, never the whole rebuild) to report the nearest one and its
largest absolute difference; within ``tolerance`` (1e-6) they count as near matches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .kaggle_csv import format_rows, read_kaggle_csv
from .store import BeatTable


@dataclass
class VerifyReport:
    """What :func:`verify_rows` found for one CSV file.

    Attributes
    ----------
    file : str
    rows : int
    exact : int
        Rows whose float32 values and label are found bit for bit.
    text_identical : int
        Exact rows whose text line is byte-identical to ours.
    near : int
        Rows not exact but within ``tolerance`` of a rebuilt row (same label).
    unmatched : int
    details : DataFrame
        One row per CSV line: ``line``, ``match`` (exact/near/none), ``record``,
        ``sample``, ``max_abs_error``.
    """

    file: str
    rows: int = 0
    exact: int = 0
    text_identical: int = 0
    near: int = 0
    unmatched: int = 0
    tolerance: float = 1e-6
    details: pd.DataFrame = field(default_factory=pd.DataFrame)

    def lines(self, show_unmatched: int = 5) -> list[str]:
        """Human report, a few lines."""
        out = [f"{self.file}: {self.rows} rows, {self.exact} bit-exact "
               f"({self.text_identical} text-identical), {self.near} within "
               f"{self.tolerance:g}, {self.unmatched} unmatched"]
        bad = self.details[self.details["match"] == "none"].head(show_unmatched)
        for row in bad.itertuples():
            where = (f"nearest: record {row.record} sample {row.sample}, max error "
                     f"{row.max_abs_error:.3g}" if row.record else "no rebuilt row with this label "
                     "and length")
            out.append(f"  line {row.line}: unmatched; {where}")
        return out


def _key(beats: np.ndarray, labels: np.ndarray) -> list[bytes]:
    table = np.concatenate([np.ascontiguousarray(beats, dtype=np.float32),
                            np.asarray(labels, dtype=np.float32)[:, None]], axis=1)
    return [row.tobytes() for row in table]


def _n_values(beats: np.ndarray) -> np.ndarray:
    """Values before the trailing zeros of each row."""
    nz = beats != 0
    last = beats.shape[1] - np.argmax(nz[:, ::-1], axis=1)
    return np.where(nz.any(axis=1), last, 0)


def verify_rows(file: str, beats: np.ndarray, labels: np.ndarray, rebuild: BeatTable,
                lines: Sequence[bytes] | None = None, tolerance: float = 1e-6) -> VerifyReport:
    """Match Kaggle rows against a rebuilt beat table.

    Parameters
    ----------
    file : str
        Name used in the report.
    beats : ndarray, float32 (n, 187)
    labels : ndarray, int (n,)
    rebuild : BeatTable
        Our beats (``load_beats`` of the Kaggle-recipe HDF5).
    lines : sequence of bytes, optional
        The original text lines, to check byte identity of exact rows.
    tolerance : float
        Largest absolute difference for a near match.
    """
    index: dict[bytes, int] = {}
    for i, k in enumerate(_key(rebuild.beats, rebuild.labels)):
        index.setdefault(k, i)
    rec = rebuild.meta["record"].astype(str).to_numpy()
    smp = rebuild.meta["sample"].to_numpy()
    n = len(labels)
    match = np.full(n, "none", dtype=object)
    src = np.full(n, -1, dtype=np.int64)
    err = np.full(n, np.nan)
    for i, k in enumerate(_key(beats, labels)):
        j = index.get(k)
        if j is not None:
            match[i], src[i], err[i] = "exact", j, 0.0
    text_identical = 0
    exact_idx = np.flatnonzero(src >= 0)
    if lines is not None and exact_idx.size:
        ours = format_rows(beats[exact_idx], labels[exact_idx]).split(b"\n")
        text_identical = sum(ours[t] == lines[i] for t, i in enumerate(exact_idx))
    missing = np.flatnonzero(src < 0)
    if missing.size:
        reb_nv = _n_values(rebuild.beats)
        groups: dict[tuple[int, int], np.ndarray] = {}
        for i, nv in zip(missing, _n_values(beats[missing])):
            key = (int(labels[i]), int(nv))
            if key not in groups:
                groups[key] = np.flatnonzero((rebuild.labels == key[0]) & (reb_nv == key[1]))
            cand = groups[key]
            if cand.size == 0:
                cand = np.flatnonzero(rebuild.labels == key[0])
            if cand.size == 0:
                continue
            d = np.abs(rebuild.beats[cand] - beats[i]).max(axis=1)
            best = int(np.argmin(d))
            src[i], err[i] = cand[best], float(d[best])
            if d[best] <= tolerance:
                match[i] = "near"
    details = pd.DataFrame({
        "line": np.arange(1, n + 1),
        "match": match,
        "record": np.where(src >= 0, rec[np.maximum(src, 0)], ""),
        "sample": np.where(src >= 0, smp[np.maximum(src, 0)], -1),
        "max_abs_error": err,
    })
    return VerifyReport(file=file, rows=n, exact=int((match == "exact").sum()),
                        text_identical=int(text_identical), near=int((match == "near").sum()),
                        unmatched=int((match == "none").sum()), tolerance=tolerance,
                        details=details)


def verify_kaggle_files(paths: Sequence[str | os.PathLike], rebuild: BeatTable,
                        tolerance: float = 1e-6) -> list[VerifyReport]:
    """Read each Kaggle CSV (validated) and match its rows against ``rebuild``."""
    n_classes = len(rebuild.classes) or 5
    reports = []
    for p in paths:
        rows = read_kaggle_csv(p, n_classes=n_classes, keep_lines=True)
        reports.append(verify_rows(str(p), rows.beats, rows.labels, rebuild, rows.lines,
                                   tolerance))
    return reports


def rebuild_for(path: str | os.PathLike) -> str:
    """Which database a Kaggle file belongs to, from its name (``ptbdb_*`` -> ptbdb)."""
    return "ptbdb" if Path(path).name.lower().startswith("ptb") else "mitdb"
