"""Helpers of the ecgnet tests: small real data sets in Kaggle CSV and beat HDF5."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgseg.kaggle_csv import write_kaggle_csv
from ecgseg.store import BeatWriter

AAMI = ["N", "S", "V", "F", "Q"]


def small_rows(beats: np.ndarray, labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` rows of each class, in file order."""
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class]
                                   for c in np.unique(labels)]))


def write_csv(path: Path, beats: np.ndarray, labels: np.ndarray) -> Path:
    """A Kaggle-format CSV of these rows."""
    return write_kaggle_csv(path, beats, labels)


def known_rows_csv(kaggle_dir: Path, path: Path, per_class: int, extra_normal: int = 0) -> Path:
    """A Kaggle-format CSV of real MIT-BIH beats from ``mitbih_test_known_rows.csv``: the
    first ``per_class`` rows of each class, plus the next ``extra_normal`` N rows (file order)."""
    from ecgnet.data import load_data

    rows = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(rows.beats, rows.labels, per_class)
    if extra_normal:
        more = np.flatnonzero(rows.labels == 0)[per_class:per_class + extra_normal]
        idx = np.sort(np.r_[idx, more])
    return write_csv(path, rows.beats[idx], rows.labels[idx])


def known_rows_h5(kaggle_dir: Path, path: Path, per_class: int, records: list[str]) -> Path:
    """A beat HDF5 (:func:`write_h5`) of the first ``per_class`` rows of each class of
    ``mitbih_test_known_rows.csv``, cut into ``len(records)`` records."""
    from ecgnet.data import load_data

    rows = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    idx = small_rows(rows.beats, rows.labels, per_class)
    return write_h5(path, rows.beats[idx], rows.labels[idx], records)


def write_h5(path: Path, beats: np.ndarray, labels: np.ndarray, records: list[str],
             database: str = "mitdb", classes=AAMI) -> Path:
    """A beat HDF5 with the beats cut into ``len(records)`` consecutive blocks, one a record."""
    owner = np.repeat(np.arange(len(records)),
                      [len(b) for b in np.array_split(labels, len(records))])
    with BeatWriter(path, length=187, attrs={"database": database, "recipe": "kaggle",
                                            "classes": list(classes)}) as w:
        for r, name in enumerate(records):
            idx = np.flatnonzero(owner == r)
            w.append_record(name, name, beats[idx], labels=labels[idx],
                            sample=np.arange(len(idx)) * 300, window=np.full(len(idx), -1),
                            n_values=np.full(len(idx), 187), stats={"fs_in": 360.0})
    return path
