"""``ecg predict``'s output: one row a beat as CSV or JSON lines, and the PNG of a record's
beats with their predicted classes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ecgseg.atomic import atomic_path, refuse_existing
from ecgseg.errors import InputError
from ecgseg.oserrors import writing

from .prediction import Prediction

FORMATS = ("csv", "jsonl")


def default_prediction_path(pred: Prediction, fmt: str = "csv") -> Path:
    """``<name>.predictions.csv`` (or ``.jsonl``, ``.png``) in the current folder (``/`` -> ``_``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> default_prediction_path(SimpleNamespace(name="mitdb/208"), "jsonl")
    PosixPath('mitdb_208.predictions.jsonl')
    """
    return Path(f"{pred.name.replace('/', '_')}.predictions.{fmt}")


def format_predictions(pred: Prediction, fmt: str = "csv") -> str:
    """The rows (:meth:`Prediction.table`) as CSV (header line, floats with 6 decimals) or
    JSON lines (one object a beat).

    In JSON lines, a missing ``sample``/``time_s`` (CSV input) is ``null``; in CSV it is
    an empty field.

    Raises
    ------
    InputError
        ``fmt`` not one of :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: choose csv or jsonl")
    table = pred.table()
    if fmt == "csv":
        buf = io.StringIO()
        table.to_csv(buf, index=False, float_format="%.6f", lineterminator="\n")
        return buf.getvalue()
    floats = [c for c in table.columns if table[c].dtype == np.float64]
    table[floats] = table[floats].round(6)
    if len(table) == 0:
        return ""
    return table.to_json(orient="records", lines=True, double_precision=6).rstrip("\n") + "\n"


def write_predictions(pred: Prediction, out: str | os.PathLike, fmt: str = "csv",
                      overwrite: bool = False) -> Path:
    """Write the rows to ``out`` atomically (see :func:`format_predictions`).

    Raises
    ------
    OutputExistsError
        ``out`` exists and ``overwrite`` is False.
    """
    out = refuse_existing(out, overwrite)
    text = format_predictions(pred, fmt)
    with writing(out), atomic_path(out) as tmp:
        tmp.write_text(text)
    return out


def plot_predictions(pred: Prediction, path: str | os.PathLike, start_s: float = 0.0,
                     seconds: float = 10.0) -> Path:
    """PNG of the record's lead from ``start_s`` for ``seconds``, each beat marked with its
    predicted class (see :func:`ecgnet.plots.plot_beat_classes`); the record's reference
    beat annotations (``atr``), when it has them, below the signal.

    Raises
    ------
    InputError
        Not a raw record (HDF5 and CSV beats have no signal), or a window outside it.
    """
    from ecgseg.labels import AAMI_MAP
    from ecgseg.records import read_annotations, read_lead

    from .plots import plot_beat_classes

    if pred.source is None or pred.fs is None:
        raise InputError("plot needs a raw record (HDF5 and CSV beats have no signal)")
    if not seconds > 0:
        raise InputError(f"seconds must be > 0, got {seconds}")
    signal = read_lead(pred.source.path, pred.source.db, lead=pred.source.lead).signal
    duration = len(signal) / pred.fs
    if not 0 <= start_s < duration:
        raise InputError(f"start {start_s:g} s is outside the record (0 to {duration:.1f} s)")
    ann = read_annotations(pred.source.path, "atr")
    annotations = None
    if ann is not None:
        beat = np.isin(ann.symbol, list(AAMI_MAP))
        annotations = (ann.sample[beat], ann.symbol[beat])
    return plot_beat_classes(signal, pred.fs, pred.sample, pred.predicted, pred.reference,
                             pred.class_names, path, start_s, seconds, lead=pred.lead or "",
                             record=pred.name, annotations=annotations)


__all__ = ["FORMATS", "default_prediction_path", "format_predictions", "plot_predictions",
           "write_predictions"]
