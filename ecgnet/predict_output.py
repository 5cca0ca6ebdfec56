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


def check_plot_window(start_s: float, seconds: float, duration_s: float | None = None) -> None:
    """Check a plot window (s) before anything is written.

    Parameters
    ----------
    start_s, seconds : float
        Window start and length, s.
    duration_s : float, optional
        Length of the record, s (the window must start inside it).

    Raises
    ------
    ecgnet.train_config.ConfigError
        ``seconds`` not > 0, ``start_s`` negative or not before ``duration_s``; the
        error names the parameter (``start``, ``seconds``).

    Examples
    --------
    >>> check_plot_window(0.0, 10.0, duration_s=1805.6)
    >>> check_plot_window(0.0, -1.0)
    Traceback (most recent call last):
    ...
    ecgnet.train_config.ConfigError: seconds must be > 0, got -1
    """
    from .train_config import ConfigError

    if not seconds > 0:
        raise ConfigError("seconds", f"must be > 0, got {seconds:g}")
    if not start_s >= 0:
        raise ConfigError("start", f"must be 0 or more, got {start_s:g}")
    if duration_s is not None and not start_s < duration_s:
        raise ConfigError("start", f"{start_s:g} s is outside the record (0 to {duration_s:.1f} s)")


def _plot_signal(pred: Prediction, start_s: float, seconds: float) -> np.ndarray:
    """The lead to plot, once the input and the window are checked."""
    from ecgseg.records import read_lead

    if pred.source is None or pred.fs is None:
        raise InputError("plot needs a raw record (HDF5 and CSV beats have no signal)")
    check_plot_window(start_s, seconds)
    signal = read_lead(pred.source.path, pred.source.db, lead=pred.source.lead).signal
    check_plot_window(start_s, seconds, len(signal) / pred.fs)
    return signal


def check_plot(pred: Prediction, start_s: float = 0.0, seconds: float = 10.0) -> None:
    """Raise the error :func:`plot_predictions` would raise for its input or window.

    Raises
    ------
    InputError
        Not a raw record, or a window outside it (see :func:`check_plot_window`).
    """
    _plot_signal(pred, start_s, seconds)


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
    from ecgseg.records import read_annotations

    from .plots import plot_beat_classes

    signal = _plot_signal(pred, start_s, seconds)
    ann = read_annotations(pred.source.path, "atr")
    annotations = None
    if ann is not None:
        beat = np.isin(ann.symbol, list(AAMI_MAP))
        annotations = (ann.sample[beat], ann.symbol[beat])
    return plot_beat_classes(signal, pred.fs, pred.sample, pred.predicted, pred.reference,
                             pred.class_names, path, start_s, seconds, lead=pred.lead or "",
                             record=pred.name, annotations=annotations)


__all__ = ["FORMATS", "check_plot", "check_plot_window", "default_prediction_path", "format_predictions", "plot_predictions",
           "write_predictions"]
