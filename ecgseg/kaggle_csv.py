"""The Kaggle heartbeat CSV format: reading (validated) and writing (byte-exact).

Format of ``mitbih_train.csv`` and friends: no header; each line is 187 float32 beat
values and the label, all printed with ``%.18e`` (numpy ``savetxt``), comma-separated,
LF line endings; 4 700 bytes a line.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Tuple

import numpy as np
import pandas as pd

from .atomic import atomic_path, refuse_existing
from .errors import InputError

#: ``read_csv`` options that parse every decimal to the nearest float64 (the published CSVs'
#: values come back exactly): pandas 3's default parser does; pandas 2's needs
#: ``float_precision="round_trip"``, which pandas 3 deprecates.
EXACT_FLOATS = ({} if int(pd.__version__.split(".")[0]) >= 3
                else {"float_precision": "round_trip"})
from .labels import BEAT_SAMPLES

BEAT_LENGTH = BEAT_SAMPLES
FMT = "%.18e"


@dataclass
class KaggleRows:
    """Rows of a Kaggle-format CSV.

    Attributes
    ----------
    beats : ndarray, float32 (n, 187)
    labels : ndarray, int64 (n,)
    lines : list of bytes or None
        The raw text lines (without the newline), kept when asked for.
    """

    beats: np.ndarray
    labels: np.ndarray
    lines: list[bytes] | None = None


def format_rows(beats: np.ndarray, labels: np.ndarray) -> bytes:
    """Kaggle text of rows: ``%.18e`` of the float32 values and the label, LF endings.

    Parameters
    ----------
    beats : ndarray, float32 (n, L)
    labels : ndarray, int (n,)
    """
    table = np.concatenate([np.asarray(beats, dtype=np.float32),
                            np.asarray(labels, dtype=np.float32)[:, None]], axis=1)
    buf = io.BytesIO()
    np.savetxt(buf, table, fmt=FMT, delimiter=",", newline="\n")
    return buf.getvalue()


def write_kaggle_csv(path: str | os.PathLike, beats: np.ndarray, labels: np.ndarray,
                     overwrite: bool = False, chunk: int = 8192) -> Path:
    """Write rows as a Kaggle-format CSV, atomically.

    Parameters
    ----------
    path : path
        Output file.
    beats : ndarray, float32 (n, 187)
    labels : ndarray, int (n,)
    overwrite : bool
        Replace an existing file.
    """
    path = refuse_existing(path, overwrite)
    with atomic_path(path) as tmp:
        _write_rows(tmp, beats, labels, chunk)
    return path


def write_kaggle_csvs(files: Mapping[str | os.PathLike, Tuple[np.ndarray, np.ndarray]],
                      overwrite: bool = False, chunk: int = 8192) -> List[Path]:
    """Write several Kaggle-format CSVs as one output: all of them, or none.

    Each file is written to a temporary beside it; only when every one is complete are
    they renamed, with Ctrl-C and SIGTERM held back during the renames (a stop signal
    then ends the command after them). A stop while writing, or an error, leaves no file
    under a final name, so the next run needs no ``overwrite``. (SIGKILL can still land
    between two renames: microseconds, not the seconds of writing a file.)

    Parameters
    ----------
    files : mapping
        Output path -> ``(beats, labels)``: float32 ``(n, 187)`` and int ``(n,)``.
    overwrite : bool
        Replace existing files (else refuse before writing anything).
    chunk : int
        Rows formatted at a time.

    Returns
    -------
    list of Path
        The files written, in the order given.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> beats, labels = np.zeros((2, 187), np.float32), np.array([0, 1])
    >>> [p.name for p in write_kaggle_csvs({d / "a.csv": (beats, labels),
    ...                                     d / "b.csv": (beats[:1], labels[:1])})]
    ['a.csv', 'b.csv']
    """
    from .lifecycle import DeferredStopSignals

    paths = [refuse_existing(p, overwrite) for p in files]
    with contextlib.ExitStack() as writing_all:  # on error: temporaries removed, locks freed
        # entered last to first, so that the renames (in reverse) go first to last
        temporaries = [writing_all.enter_context(atomic_path(p)) for p in paths[::-1]][::-1]
        for tmp, (beats, labels) in zip(temporaries, files.values()):
            _write_rows(tmp, beats, labels, chunk)
        renames = writing_all.pop_all()
    with DeferredStopSignals() as stop:  # Ctrl-C / SIGTERM only take note meanwhile
        renames.close()
    stop.check()
    return paths


def _write_rows(path: Path, beats: np.ndarray, labels: np.ndarray, chunk: int) -> None:
    with open(path, "wb") as f:
        for i in range(0, len(labels), chunk):
            f.write(format_rows(beats[i:i + chunk], labels[i:i + chunk]))


def _first_bad_line(path: Path, n_columns: int) -> str:
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.rstrip(b"\r\n").split(b",")
            if len(fields) != n_columns:
                return f"{path}:{lineno}: {len(fields)} columns, expected {n_columns}"
            for col, value in enumerate(fields, 1):
                try:
                    finite = math.isfinite(float(value))
                    what = "not a finite number"
                except ValueError:
                    finite = False
                    what = "a header line" if lineno == 1 else "not a number"
                if not finite:
                    return (f"{path}:{lineno}: column {col} is {value[:20].decode(errors='replace')!r}"
                            f" ({what})")
    return f"{path}: cannot parse"


def read_kaggle_csv(path: str | os.PathLike, n_classes: int | None = 5,
                    keep_lines: bool = False, require_label: bool = True,
                    check_labels: bool = True) -> KaggleRows:
    """Read and validate a Kaggle-format CSV.

    Parameters
    ----------
    path : path
        CSV file: 188 columns (187 values and the label), no header.
    n_classes : int, optional
        Labels must be integers in ``0 .. n_classes-1`` (None: no check).
    keep_lines : bool
        Also return each raw text line (for byte-level comparison).
    require_label : bool
        If False, 187-column files (no label) are accepted; labels are then -1.
    check_labels : bool
        If False, the labels are returned as read (float64), for a caller that checks
        them against its own classes.

    Raises
    ------
    InputError
        Missing or empty file, wrong column count, non-numeric value or header line,
        label out of range — naming the file and line.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    with open(path, "rb") as f:
        first = f.readline()
    n_columns = len(first.rstrip(b"\r\n").split(b","))
    allowed = (BEAT_LENGTH + 1,) if require_label else (BEAT_LENGTH, BEAT_LENGTH + 1)
    if n_columns not in allowed:
        expected = (f"{BEAT_LENGTH + 1} ({BEAT_LENGTH} beat values and the label)"
                    if require_label else
                    f"{BEAT_LENGTH} beat values, optionally followed by the label")
        raise InputError(f"{path}:1: {n_columns} columns, expected {expected}")
    try:
        frame = pd.read_csv(path, header=None, dtype=np.float64, engine="c", **EXACT_FLOATS)
    except (ValueError, pd.errors.ParserError):
        raise InputError(_first_bad_line(path, n_columns)) from None
    if frame.shape[1] != n_columns or not np.isfinite(frame.to_numpy()).all():
        raise InputError(_first_bad_line(path, n_columns))
    values = frame.to_numpy()
    beats = np.ascontiguousarray(values[:, :BEAT_LENGTH], dtype=np.float32)
    if n_columns == BEAT_LENGTH + 1 and not check_labels:
        labels = values[:, BEAT_LENGTH].copy()
    elif n_columns == BEAT_LENGTH + 1:
        raw = values[:, BEAT_LENGTH]
        bad = np.flatnonzero((raw != np.round(raw)) | (raw < 0)
                             | ((raw >= n_classes) if n_classes else False))
        if bad.size:
            i = int(bad[0])
            which = f"0..{n_classes - 1}" if n_classes else "(a whole number, 0 or more)"
            raise InputError(f"{path}:{i + 1}: label {raw[i]:g} is not a class id {which}")
        labels = raw.astype(np.int64)
    else:
        labels = np.full(len(beats), -1, dtype=np.int64)
    lines = None
    if keep_lines:
        with open(path, "rb") as f:
            lines = [ln.rstrip(b"\r\n") for ln in f]
    return KaggleRows(beats=beats, labels=labels, lines=lines)
