"""``ecg export``: beats HDF5 -> Kaggle-format CSV files.

Splits:

``none``
    One file with every labelled beat, in HDF5 order.
``published`` (MIT-BIH, Kaggle recipe)
    ``mitbih_train.csv`` / ``mitbih_test.csv`` with exactly the published per-class
    counts, rows sorted by label and shuffled within a label from ``seed``. The
    original assignment of beats to files and the original row order cannot be
    recovered (see ``shared/docs/kaggle-recipe.md``), so every row and every count
    match the published files but the whole-file sha256 cannot.
``interpatient`` (MIT-BIH)
    de Chazal's DS1 -> ``mitbih_train_DS1.csv``, DS2 -> ``mitbih_test_DS2.csv`` (paced
    records in neither): the honest split, no patient on both sides.
``ptb`` (PTB)
    ``ptbdb_normal.csv`` (label 0) and ``ptbdb_abnormal.csv`` (label 1).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .labels import BEAT_SAMPLES
from .errors import EcgError
from .kaggle_csv import write_kaggle_csvs
from .record_splits import DS1, DS2
from .store import load_beats

PUBLISHED_TRAIN = (72471, 2223, 5788, 641, 6431)
PUBLISHED_TEST = (18118, 556, 1448, 162, 1608)
EXPORT_SPLITS = ("none", "published", "interpatient", "ptb")
"""How `export_csv` divides the beats into CSV files (`auto` picks one per database)."""


def published_split(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a train/test split with the published Kaggle per-class counts.

    Parameters
    ----------
    labels : ndarray, int (n,)
        Class ids 0..4; the class totals must equal train + test of the published files.
    seed : int
        Seed of the shuffle within each class.

    Returns
    -------
    (train, test) : ndarrays of int64
        Indices sorted by label, shuffled within a label.
    """
    counts = np.bincount(labels, minlength=5)
    want = np.add(PUBLISHED_TRAIN, PUBLISHED_TEST)
    if len(counts) != 5 or not np.array_equal(counts, want):
        raise EcgError(
            f"the published split needs the class totals of the Kaggle rebuild {list(want)}"
            f" (ecg segment --db mitdb --recipe kaggle); these beats have {list(counts)}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(5):
        idx = rng.permutation(np.flatnonzero(labels == c))
        train.append(idx[:PUBLISHED_TRAIN[c]])
        test.append(idx[PUBLISHED_TRAIN[c]:])
    return np.concatenate(train), np.concatenate(test)


def export_csv(h5_path: str | os.PathLike, out_dir: str | os.PathLike, split: str = "auto",
               seed: int = 0, overwrite: bool = False) -> dict[str, int]:
    """Write Kaggle-format CSV files from a beats HDF5.

    Parameters
    ----------
    h5_path : path
        Beats written by ``ecg segment``.
    out_dir : path
        Folder for the CSV files.
    split : {"auto", "none", "published", "interpatient", "ptb"}
        See the module docstring; ``auto`` is ``published`` for the MIT-BIH Kaggle
        recipe, ``ptb`` for PTB, ``none`` otherwise.
    seed : int
        Seed of the within-class shuffle of the ``published`` split.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    dict
        File path -> rows written.
    """
    table = load_beats(h5_path)
    db, recipe = table.attrs.get("database"), table.attrs.get("recipe")
    if table.beats.shape[1] != BEAT_SAMPLES:
        raise EcgError(f"{h5_path}: beats of {table.beats.shape[1]} samples; the Kaggle "
                       f"format has {BEAT_SAMPLES}")
    if split == "auto":
        split = ("published" if (db, recipe) == ("mitdb", "kaggle")
                 else "ptb" if db == "ptbdb" else "none")
    if split not in EXPORT_SPLITS:
        raise EcgError(f"unknown split {split!r}: choose one of auto, {', '.join(EXPORT_SPLITS)}")
    if split in ("published", "interpatient") and db != "mitdb":
        raise EcgError(f"--split {split} is for MIT-BIH beats; {h5_path} holds {db}")
    if split == "ptb" and db != "ptbdb":
        raise EcgError(f"--split ptb is for PTB beats; {h5_path} holds {db}")
    out_dir = Path(out_dir)
    labels = table.labels.astype(np.int64)
    if split == "published":
        train, test = published_split(labels, seed)
        parts = {"mitbih_train.csv": train, "mitbih_test.csv": test}
    elif split == "interpatient":
        rec = table.meta["record"].astype(str).to_numpy()
        parts = {"mitbih_train_DS1.csv": np.flatnonzero(np.isin(rec, DS1)),
                 "mitbih_test_DS2.csv": np.flatnonzero(np.isin(rec, DS2))}
    elif split == "ptb":
        parts = {"ptbdb_normal.csv": np.flatnonzero(labels == 0),
                 "ptbdb_abnormal.csv": np.flatnonzero(labels == 1)}
    else:
        parts = {f"{Path(h5_path).stem}.csv": np.arange(len(labels))}
    files = {out_dir / name: (table.beats[idx], labels[idx]) for name, idx in parts.items()}
    write_kaggle_csvs(files, overwrite=overwrite)  # all files or none
    return {str(out_dir / name): int(len(idx)) for name, idx in parts.items()}
