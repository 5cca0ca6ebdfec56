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


class RebuildIndex:
    """Our rebuilt rows, indexed once for any number of Kaggle files.

    Parameters
    ----------
    table : BeatTable
        Our beats (``load_beats`` of the Kaggle-recipe HDF5).
    """

    def __init__(self, table: BeatTable):
        self.table = table
        self.rows: dict[bytes, int] = {}
        for i, k in enumerate(_key(table.beats, table.labels)):
            self.rows.setdefault(k, i)
        self.record = table.meta["record"].astype(str).to_numpy()
        self.sample = table.meta["sample"].to_numpy()
        self._n_values: np.ndarray | None = None
        self._groups: dict[tuple[int, int], np.ndarray] = {}

    def candidates(self, label: int, n_values: int) -> np.ndarray:
        """Rows with this label and padding length (else all rows with the label)."""
        key = (label, n_values)
        if key not in self._groups:
            if self._n_values is None:
                self._n_values = _n_values(self.table.beats)
            labels = self.table.labels
            cand = np.flatnonzero((labels == label) & (self._n_values == n_values))
            self._groups[key] = cand if cand.size else np.flatnonzero(labels == label)
        return self._groups[key]


def verify_rows(file: str, beats: np.ndarray, labels: np.ndarray,
                rebuild: BeatTable | RebuildIndex, lines: Sequence[bytes] | None = None, tolerance: float = 1e-6) -> VerifyReport:
    """Match Kaggle rows against a rebuilt beat table.

    Parameters
    ----------
    file : str
        Name used in the report.
    beats : ndarray, float32 (n, 187)
    labels : ndarray, int (n,)
    rebuild : BeatTable or RebuildIndex
        Our beats (``load_beats`` of the Kaggle-recipe HDF5), or their index (build it
        once with :class:`RebuildIndex` to check several files).
    lines : sequence of bytes, optional
        The original text lines, to check byte identity of exact rows.
    tolerance : float
        Largest absolute difference for a near match.
    """
    index = rebuild if isinstance(rebuild, RebuildIndex) else RebuildIndex(rebuild)
    reb_beats = index.table.beats
    n = len(labels)
    match = np.full(n, "none", dtype=object)
    src = np.full(n, -1, dtype=np.int64)
    err = np.full(n, np.nan)
    for i, k in enumerate(_key(beats, labels)):
        j = index.rows.get(k)
        if j is not None:
            match[i], src[i], err[i] = "exact", j, 0.0
    text_identical = 0
    exact_idx = np.flatnonzero(src >= 0)
    if lines is not None and exact_idx.size:
        ours = format_rows(beats[exact_idx], labels[exact_idx]).split(b"\n")
        text_identical = sum(ours[t] == lines[i] for t, i in enumerate(exact_idx))
    missing = np.flatnonzero(src < 0)
    if missing.size:
        for i, nv in zip(missing, _n_values(beats[missing])):
            cand = index.candidates(int(labels[i]), int(nv))
            if cand.size == 0:
                continue
            d = np.abs(reb_beats[cand] - beats[i]).max(axis=1)
            best = int(np.argmin(d))
            src[i], err[i] = cand[best], float(d[best])
            if d[best] <= tolerance:
                match[i] = "near"
    details = pd.DataFrame({
        "line": np.arange(1, n + 1),
        "match": match,
        "record": np.where(src >= 0, index.record[np.maximum(src, 0)], ""),
        "sample": np.where(src >= 0, index.sample[np.maximum(src, 0)], -1),
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
    index = RebuildIndex(rebuild)  # once for all files
    reports = []
    for p in paths:
        rows = read_kaggle_csv(p, n_classes=n_classes, keep_lines=True)
        reports.append(verify_rows(str(p), rows.beats, rows.labels, index, rows.lines,
                                   tolerance))
    return reports


def rebuild_for(path: str | os.PathLike) -> str:
    """Which database a Kaggle file belongs to, from its name (``ptbdb_*`` -> ptbdb)."""
    return "ptbdb" if Path(path).name.lower().startswith("ptb") else "mitdb"
