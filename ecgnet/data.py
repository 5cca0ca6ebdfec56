"""Load labelled beats for training and evaluation: Kaggle-format CSV or segmentation HDF5.

Both inputs become one :class:`BeatData`: beats ``(n, 187)`` float32 and labels ``(n,)``
int64, with record and patient ids when the source has them (HDF5 does, CSV does not).
Every problem with an input file raises :class:`~ecgseg.errors.InputError` naming the
file (and the line, for CSV).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from ecgseg.errors import InputError

from .models import BEAT_LENGTH

AAMI_CLASSES: Tuple[str, ...] = ("N", "S", "V", "F", "Q")
"""Class names of the MIT-BIH task, in label order (AAMI EC57)."""
PTB_CLASSES: Tuple[str, ...] = ("normal", "MI")
"""Class names of the PTB task (label 0 healthy control, 1 myocardial infarction)."""

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")


@dataclass
class BeatData:
    """Labelled beats held in memory.

    Attributes
    ----------
    beats : np.ndarray
        ``(n, 187)`` float32, C-contiguous, one beat per row.
    labels : np.ndarray
        ``(n,)`` int64 class ids in ``0 .. len(class_names) - 1``.
    class_names : tuple of str
        Name of each class id.
    records, patients : np.ndarray of str, optional
        ``(n,)`` record and patient of each beat (HDF5 input); None for CSV.
    sources : list of str
        The files the beats come from.
    """

    beats: np.ndarray
    labels: np.ndarray
    class_names: Tuple[str, ...]
    records: Optional[np.ndarray] = None
    patients: Optional[np.ndarray] = None
    sources: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    def subset(self, index: np.ndarray) -> "BeatData":
        """The beats at ``index`` (int array or boolean mask), as a new BeatData."""
        pick = (lambda a: None if a is None else a[index])
        return BeatData(np.ascontiguousarray(self.beats[index]), self.labels[index],
                        self.class_names, pick(self.records), pick(self.patients),
                        list(self.sources))

    def counts(self) -> np.ndarray:
        """Beats per class: ``(n_classes,)`` int64."""
        return np.bincount(self.labels, minlength=self.n_classes)

    def fingerprint(self) -> str:
        """SHA-256 (hex, 16 digits) of the beats and labels: identifies the data set."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.beats).tobytes())
        h.update(self.labels.astype(np.int64).tobytes())
        return h.hexdigest()[:16]


_HASH_WEIGHTS = np.random.default_rng(20180502).integers(
    1, 2**63, size=BEAT_LENGTH, dtype=np.uint64) | np.uint64(1)


def beat_hashes(beats: np.ndarray) -> np.ndarray:
    """64-bit hash of every beat's exact float32 values, to find the same beat elsewhere.

    Parameters
    ----------
    beats : np.ndarray
        ``(n, 187)`` float32.

    Returns
    -------
    np.ndarray
        ``(n,)`` int64; equal beats (bit for bit) have equal hashes.
    """
    bits = np.ascontiguousarray(beats, dtype=np.float32).view(np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = (bits ^ (bits >> np.uint64(7))) * _HASH_WEIGHTS
        return (mixed.sum(axis=1, dtype=np.uint64)).view(np.int64)


def default_class_names(paths: Sequence[Path], database: str | None, n_labels: int) -> Tuple[str, ...]:
    """Class names when the input does not state them: PTB names for ``ptb*`` inputs, else AAMI."""
    is_ptb = (database or "").lower().startswith("ptb") or (
        database is None and all(p.name.lower().startswith("ptb") for p in paths))
    names = PTB_CLASSES if is_ptb else AAMI_CLASSES
    if n_labels > len(names):
        return tuple(str(i) for i in range(n_labels))
    return names


def read_csv(path: str | os.PathLike) -> Tuple[np.ndarray, np.ndarray]:
    """Read a Kaggle-format heartbeat CSV: 188 comma-separated numbers a line, label last.

    Parameters
    ----------
    path : str or PathLike
        The CSV file (no header).

    Returns
    -------
    beats : np.ndarray
        ``(n, 187)`` float32.
    labels : np.ndarray
        ``(n,)`` int64, as written in the file (not yet checked against a class list).

    Raises
    ------
    InputError
        Missing or empty file, a line without 188 values, a non-numeric value, or a
        label that is not a whole number. The message names the file and the line.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, header=None, dtype=np.float64, engine="c",
                            skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:  # a line with more fields than the first
        raise InputError(f"{path}: {_parser_message(exc)} (expected {BEAT_LENGTH + 1} "
                         f"comma-separated values: {BEAT_LENGTH} samples and the label)") from None
    except ValueError:  # a value that is not a number
        line, text = _first_bad_line(path)
        raise InputError(f"{path}, line {line}: not a number in {text!r}") from None
    values = frame.to_numpy()
    if values.shape[1] != BEAT_LENGTH + 1:
        raise InputError(f"{path}, line 1: {values.shape[1]} values, expected {BEAT_LENGTH + 1} "
                         f"({BEAT_LENGTH} samples at 125 Hz and the label last)")
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        line = int(np.argmax(bad)) + 1
        raise InputError(f"{path}, line {line}: missing value or fewer than {BEAT_LENGTH + 1} "
                         f"values (or not finite)")
    labels = values[:, -1]
    whole = labels == np.round(labels)
    if not whole.all():
        line = int(np.argmax(~whole)) + 1
        raise InputError(f"{path}, line {line}: label {labels[line - 1]!r} is not a class id")
    return np.ascontiguousarray(values[:, :-1], dtype=np.float32), labels.astype(np.int64)


def _parser_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1]
    if "Expected" in text and "line" in text:  # "Expected 188 fields in line 3, saw 189"
        try:
            line = int(text.split("line")[1].split(",")[0])
            saw = text.rsplit("saw", 1)[1].strip()
            return f"line {line}: {saw} values"
        except (IndexError, ValueError):
            pass
    return text


def _first_bad_line(path: Path) -> Tuple[int, str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            for value in line.strip().split(","):
                try:
                    float(value)
                except ValueError:
                    return number, value
    return 0, ""


def read_hdf5(path: str | os.PathLike, records: Sequence[str] | None = None):
    """Read a segmentation HDF5 (``ecg segment``) through :func:`ecgseg.store.load_beats`.

    Returns the store's ``BeatTable`` (``.beats``, ``.labels``, ``.meta``, ``.attrs``).

    Raises
    ------
    InputError
        Missing file, or a toolkit without ``ecgseg.store``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        from ecgseg.store import load_beats
    except ImportError:
        raise InputError(f"{path}: reading beat HDF5 files needs ecgseg.store, "
                         f"which this installation lacks") from None
    return load_beats(path, records=records)


def load_data(paths: Sequence[str | os.PathLike] | str | os.PathLike,
              class_names: Sequence[str] | None = None,
              records: Sequence[str] | None = None) -> BeatData:
    """Load and check labelled beats from CSV and/or HDF5 files (concatenated in order).

    Parameters
    ----------
    paths : path or sequence of paths
        Kaggle-format ``.csv`` files (188 values a line, label last) or beat HDF5
        files (``.h5``/``.hdf5``, written by ``ecg segment``).
    class_names : sequence of str, optional
        Name of each class id. Default: from the HDF5 attributes, else AAMI
        ``N S V F Q`` (PTB ``normal MI`` for files named ``ptb*``).
    records : sequence of str, optional
        HDF5 only: keep these records.

    Returns
    -------
    BeatData
        HDF5 beats labelled -1 (no usable label) are left out.

    Raises
    ------
    InputError
        Unreadable file, beats not 187 samples long, labels outside the classes,
        files that disagree on the classes, or no beats at all.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no data file given")
    beats, labels, recs, pats = [], [], [], []
    database = None
    attr_classes = None
    for path in paths:
        if path.suffix.lower() in HDF5_SUFFIXES:
            table = read_hdf5(path, records=records)
            b = np.asarray(table.beats, dtype=np.float32)
            if b.ndim != 2 or b.shape[1] != BEAT_LENGTH:
                raise InputError(f"{path}: beats have shape {b.shape}, expected (n, {BEAT_LENGTH})")
            y = np.asarray(table.labels).astype(np.int64)
            keep = y >= 0
            meta = table.meta
            beats.append(b[keep])
            labels.append(y[keep])
            recs.append(meta["record"].astype(str).to_numpy()[keep])
            pats.append(meta["patient"].astype(str).to_numpy()[keep])
            attrs = dict(getattr(table, "attrs", {}) or {})
            database = database or attrs.get("database")
            names = attrs.get("class_names", attrs.get("classes"))
            if names is not None and not isinstance(names, str):
                names = tuple(str(n) for n in names)
                if attr_classes is not None and names != attr_classes:
                    raise InputError(f"{path}: classes {names} differ from those of the "
                                     f"other files {attr_classes}")
                attr_classes = names
        else:
            if records is not None:
                raise InputError(f"{path}: a CSV file has no record ids; --records needs HDF5 input")
            b, y = read_csv(path)
            beats.append(b)
            labels.append(y)
            recs.append(None)
            pats.append(None)
    all_labels = np.concatenate(labels)
    if len(all_labels) == 0:
        raise InputError(f"{', '.join(map(str, paths))}: no labelled beats")
    if class_names is None:
        class_names = attr_classes or default_class_names(paths, database,
                                                          int(all_labels.max()) + 1)
    class_names = tuple(class_names)
    for path, y in zip(paths, labels):
        bad = (y < 0) | (y >= len(class_names))
        if bad.any():
            row = int(np.argmax(bad))
            where = f"line {row + 1}" if path.suffix.lower() not in HDF5_SUFFIXES else f"beat {row}"
            raise InputError(f"{path}, {where}: label {y[row]} outside 0..{len(class_names) - 1} "
                             f"(classes {' '.join(class_names)})")
    with_ids = [r is not None for r in recs]
    records_all = patients_all = None
    if all(with_ids):
        records_all = np.concatenate(recs)
        patients_all = np.concatenate(pats)
    return BeatData(np.ascontiguousarray(np.concatenate(beats)), all_labels, class_names,
                    records_all, patients_all, [str(p) for p in paths])
