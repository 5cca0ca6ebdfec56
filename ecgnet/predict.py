"""Classify every beat of a raw recording (or of a beats file) with a trained model.

``ecg predict CHECKPOINT INPUT``. INPUT is one of

* a WFDB record: a local path (``path/to/208``, with or without ``.hea``/``.dat``) or
  ``<db>/<version>/<record>`` (``mitdb/1.0.0/208``), fetched into the data folder
  through :func:`ecgseg.download.download_database` when missing;
* a beats HDF5 written by ``ecg segment`` (``.h5``, ``.hdf5``);
* a Kaggle-format CSV (``.csv``; 187 values a line, the label column optional).

A raw record is segmented with the paper recipe (:func:`ecgseg.pipeline.segment_record`)
on lead II, then every beat goes through the model in batches
(:func:`ecgnet.checkpoint.predict_proba`). Recipe parameters: those the checkpoint's
training beats were made with, when its ``data_sources`` record them (HDF5 training
data of the paper recipe), else :class:`~ecgseg.recipes.paper.PaperParams` defaults
with a warning; explicit overrides win.

Output: one row per beat, columns ``record``, ``sample`` (R peak, samples of the original
record), ``time_s`` (``sample / fs`` of the original record), ``predicted`` (class
name), ``probability`` (of the predicted class), ``reference`` (class of the matched
reference annotation, '' when none), then ``p_<class>`` for every class.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from ecgseg.atomic import atomic_path
from ecgseg.errors import InputError, RecordError
from ecgseg.rhythm import rr_features

from .data import AAMI_CLASSES, PTB_CLASSES, model_inputs
from .metrics import aami_table, confusion_matrix
from .models import BEAT_LENGTH, rr_columns

HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")
RECORD_SUFFIXES = (".hea", ".dat", ".atr")
FORMATS = ("csv", "jsonl")
_REMOTE = re.compile(r"^(?P<db>[A-Za-z][\w-]*)/(?P<version>\d[\w.]*)/(?P<record>[^\s]+)$")


@dataclass
class Source:
    """What INPUT is: ``kind`` ``"record"``, ``"hdf5"`` or ``"csv"``.

    For a record: ``path`` without extension, ``name`` (e.g. ``"208"``), ``db`` the
    database whose conventions apply (default lead, labels), ``lead`` the signal name to
    read, ``downloaded`` whether it was fetched in this run.
    """

    kind: str
    path: Path
    name: str
    db: Any = None
    lead: Optional[str] = None
    downloaded: bool = False


@dataclass
class Prediction:
    """The model's verdict on every beat of one input.

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
    source : Source or None
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
    source: Optional[Source] = None
    fs: Optional[float] = None
    lead: Optional[str] = None
    stats: dict = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    seconds: Dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.proba.shape[0])

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class id of each beat: ``(n,)`` int64."""
        return self.proba.argmax(axis=1).astype(np.int64)

    def table(self) -> pd.DataFrame:
        """One row per beat (see the module docstring for the columns)."""
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


# --- input -------------------------------------------------------------------------


def resolve_input(spec: str | os.PathLike, *, data_dir=None, mirror: str | None = None,
                  lead: str | None = None, download: bool = True,
                  progress: bool = False) -> Source:
    """Work out what INPUT is; fetch a ``<db>/<version>/<record>`` record if missing.

    Raises
    ------
    InputError
        A missing HDF5 or CSV file.
    RecordError
        No such local record and not a ``<db>/<version>/<record>`` name, or a record
        without lead II (and no ``lead``).
    DownloadError
        The record is not in the database, or cannot be fetched.
    """
    from ecgseg.databases import DATABASES, get_database
    from ecgseg.download import download_database, missing_records

    text = str(spec)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix in HDF5_SUFFIXES or suffix == ".csv":
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        return Source("hdf5" if suffix in HDF5_SUFFIXES else "csv", path, path.stem)
    if suffix in RECORD_SUFFIXES:
        path = path.with_suffix("")
    downloaded = False
    if Path(f"{path}.hea").is_file():
        name = path.name
        db = None
    else:
        m = _REMOTE.match(text.strip().rstrip("/"))
        if m is None or m["db"].lower() not in DATABASES:
            raise RecordError(
                f"no record {text}: {path}.hea not found, and it is not <db>/<version>/<record> "
                f"of a known database ({', '.join(f'{d.pn_dir}/...' for d in DATABASES.values())})")
        db = get_database(f"{m['db'].lower()}/{m['version']}")
        name = m["record"]
        if missing_records(db, [name], data_dir):
            if not download:
                raise RecordError(f"record {db.pn_dir}/{name} is not in "
                                  f"{db.local_dir(data_dir)} (run ecg download --db {db.name})")
            download_database(db, records=[name], data_dir=data_dir, mirror=mirror,
                              progress=progress)
            downloaded = True
        path = db.local_dir(data_dir) / name
    db, lead = record_conventions(path, db, lead)
    return Source("record", path, name, db=db, lead=lead, downloaded=downloaded)


def record_conventions(path: Path, db=None, lead: str | None = None):
    """The database whose conventions apply to a record, and the lead to read.

    Lead II is what the models were trained on: ``MLII`` (MIT-BIH) or ``ii`` (PTB), any
    case. A record whose database is not known from its name follows PTB conventions
    (labels from the header's diagnosis) when its lead II is called ``ii``, MIT-BIH
    conventions (labels from ``atr`` annotations, when present) otherwise.

    Raises
    ------
    RecordError
        Bad header; ``lead`` not in the record; no lead II and no ``lead``.
    """
    from ecgseg.databases import get_database
    from ecgseg.records import read_header

    header = read_header(path)
    names = [str(n) for n in header.sig_name]
    if lead is not None:
        if lead not in names:
            raise RecordError(f"record {path.name} has no lead {lead!r} "
                              f"(it has {', '.join(names)})")
        chosen = lead
    else:
        lower = [n.lower() for n in names]
        pick = next((i for key in ("mlii", "ii") for i, n in enumerate(lower) if n == key), None)
        if pick is None:
            raise RecordError(f"record {path.name} has no lead II (MLII or ii), which the model "
                              f"was trained on (it has {', '.join(names)}); choose one with --lead")
        chosen = names[pick]
    if db is None:
        db = get_database("ptbdb" if "ii" in [n.lower() for n in names]
                          and "mlii" not in [n.lower() for n in names] else "mitdb")
    return db, chosen


def recipe_params(meta: dict, overrides: Optional[Dict[str, Any]] = None):
    """Paper-recipe parameters for a checkpoint, and a note on where they come from.

    Returns
    -------
    (PaperParams, note)
        ``note`` is '' when the checkpoint's training beats were made with the paper
        recipe (their parameters are used), else one line saying what was assumed.
    """
    from ecgseg.recipes.paper import PaperParams

    sources = (meta.get("training") or {}).get("data_sources")
    fields = {f.name for f in dataclasses.fields(PaperParams)}
    base: Dict[str, Any] = {}
    note = ""
    if not sources:
        note = ("the checkpoint does not record how its training beats were made: "
                "segmenting with the paper recipe's defaults (125 Hz)")
    else:
        recipes = {(s.get("recipe") or s.get("format")) for s in sources}
        if recipes == {"paper"}:
            params = [s.get("params") or {} for s in sources]
            base = {k: v for k, v in params[0].items() if k in fields}
            if any({k: v for k, v in p.items() if k in fields} != base for p in params[1:]):
                note = "training files differ in recipe parameters: using those of the first"
        elif "kaggle" in recipes:
            fs = sorted({float(s["fs"]) for s in sources if s.get("fs")})
            note = (f"the model was trained on Kaggle-recipe beats ("
                    f"{', '.join(f'{f:g}' for f in fs) or '?'} Hz, cut at annotations); these "
                    f"beats come from the paper recipe (125 Hz, own R peaks): expect some mismatch")
        else:
            note = ("the model was trained on Kaggle-format CSV beats, whose recipe the "
                    "checkpoint cannot know: segmenting with the paper recipe's defaults "
                    "(125 Hz; the published Kaggle beats are 120 Hz, cut at annotations)")
    base.update({k: v for k, v in (overrides or {}).items() if v is not None})
    unknown = sorted(set(base) - fields)
    if unknown:
        raise InputError(f"unknown paper-recipe parameter(s): {', '.join(unknown)}")
    try:
        return PaperParams(**base), note
    except TypeError as exc:
        raise InputError(f"bad recipe parameter: {exc}") from None


# --- prediction --------------------------------------------------------------------


def predict(checkpoint: str | os.PathLike, spec: str | os.PathLike, *, data_dir=None,
            mirror: str | None = None, lead: str | None = None,
            overrides: Optional[Dict[str, Any]] = None, tolerance_s: float = 0.15,
            batch_size: int = 512, precision: str = "float32", device: str = "cpu",
            download: bool = True, progress: bool = False) -> Prediction:
    """Classify every beat of INPUT (see the module docstring).

    Parameters
    ----------
    checkpoint : path
        ``best.pt``/``last.pt`` of ``ecg train``.
    spec : str or path
        Record path, ``<db>/<version>/<record>``, beats HDF5 or Kaggle-format CSV.
    data_dir, mirror : optional
        Where ``<db>/<version>/<record>`` records live and where to fetch them from.
    lead : str, optional
        Signal to use instead of lead II.
    overrides : dict, optional
        Paper-recipe parameters (``fs``, ``threshold``, ``window_s``, ``length`` ...).
    tolerance_s : float
        Peak-to-annotation match tolerance (reference classes, detector Se/+P), s.
    batch_size, precision, device :
        See :func:`ecgnet.checkpoint.predict_proba`.

    Raises
    ------
    EcgError
        Any bad input (see :func:`resolve_input`), a checkpoint that is not one of ours,
        beats whose length the model does not take.
    """
    from .checkpoint import load_model, predict_proba

    model, meta = load_model(checkpoint, device=device)
    class_names = tuple(meta["class_names"])
    t0 = time.perf_counter()
    source = resolve_input(spec, data_dir=data_dir, mirror=mirror, lead=lead,
                           download=download, progress=progress)
    t_download = time.perf_counter() - t0
    if source.kind == "record":
        pred, beats = _segment(source, meta, overrides, tolerance_s, class_names)
        pred.seconds["download"] = t_download
    elif overrides and any(v is not None for v in overrides.values()):
        raise InputError("recipe options apply to raw records only, not to "
                         f"{source.kind.upper()} beats")
    elif source.kind == "hdf5":
        pred, beats = _from_hdf5(source.path, class_names)
    else:
        pred, beats = _from_csv(source.path, class_names)
    if beats.shape[1] != BEAT_LENGTH:
        raise InputError(f"{source.path}: beats of {beats.shape[1]} samples; the model "
                         f"takes {BEAT_LENGTH}")
    rhythm = None  # RR features, for the models that use them
    if rr_columns(model) and pred.time_s is not None:
        rhythm = rr_features(pred.time_s, pred.record)
        if source.kind == "record":
            pred.notes.append("this model's RR intervals are measured here between the "
                              "detected peaks, not between annotated beats as in training: "
                              "every beat the detector misses lengthens two intervals")
    inputs = model_inputs(model, beats, rhythm, str(source.path))
    t1 = time.perf_counter()
    pred.proba = predict_proba(model, inputs, batch_size=batch_size, precision=precision)
    pred.seconds["model"] = time.perf_counter() - t1
    pred.class_names = class_names
    if pred.proba.shape[1] != len(class_names):
        raise InputError(f"{checkpoint}: the model gives {pred.proba.shape[1]} classes, its "
                         f"checkpoint names {len(class_names)}")
    return pred


def _empty(n: int, k: int = 0) -> np.ndarray:
    return np.zeros((n, k), np.float32)


def _segment(source: Source, meta: dict, overrides, tolerance_s: float,
             class_names: Sequence[str]):
    """Segment a raw record: (Prediction without probabilities, beats)."""
    from ecgseg.pipeline import segment_record

    params, note = recipe_params(meta, overrides)
    notes = [note] if note else []
    t0 = time.perf_counter()
    res = segment_record(source.path, source.db, params, name=source.name, lead=source.lead,
                         tolerance_s=tolerance_s)
    seconds = time.perf_counter() - t0
    notes += res.warnings
    fs = float(res.stats["fs_in"])
    n = len(res.sample)
    labels = res.labels.astype(np.int64)
    task = AAMI_CLASSES if source.db.name == "mitdb" else PTB_CLASSES
    if tuple(class_names) != task:  # e.g. an MI model on MIT-BIH: labels of another task
        labels = np.full(n, -1, dtype=np.int64)
    labels[labels < 0] = -1
    pred = Prediction(name=source.name, class_names=(), proba=_empty(n),
                      record=np.full(n, source.name, dtype=object), sample=res.sample,
                      time_s=res.sample / fs, reference=labels, detector=res.detector,
                      params=params, source=source, fs=fs, lead=str(res.stats["lead"]),
                      stats=dict(res.stats, tolerance_s=tolerance_s), notes=notes,
                      seconds={"segment": seconds})
    return pred, res.beats


def _from_hdf5(path: Path, class_names: Sequence[str]):
    from ecgseg.store import load_beats

    table = load_beats(path, labelled=False)
    notes = []
    record = table.meta["record"].astype(str).to_numpy().astype(object)
    sample = table.meta["sample"].to_numpy().astype(np.int64)
    time_s = table.times_s()
    if time_s is None:  # a file without the records' sampling frequencies
        time_s = np.full(len(sample), np.nan)
    labels = table.labels.astype(np.int64)
    file_classes = tuple(table.classes)
    if file_classes and file_classes != tuple(class_names):
        notes.append(f"{path.name} has classes {' '.join(file_classes)}, the model "
                     f"{' '.join(class_names)}: no comparison with its labels")
        labels = np.full(len(labels), -1, dtype=np.int64)
    return Prediction(name=path.stem, class_names=(), proba=_empty(len(record)), record=record,
                      sample=sample, time_s=time_s, reference=labels, notes=notes,
                      seconds={}), table.beats


def _from_csv(path: Path, class_names: Sequence[str]):
    from ecgseg.kaggle_csv import read_kaggle_csv

    rows = read_kaggle_csv(path, n_classes=None, require_label=False)
    labels = rows.labels.astype(np.int64)
    notes = []
    if (labels >= len(class_names)).any():
        notes.append(f"{path.name} has labels beyond the model's {len(class_names)} classes: "
                     "no comparison with its labels")
        labels = np.full(len(labels), -1, dtype=np.int64)
    n = len(labels)
    return Prediction(name=path.stem, class_names=(), proba=_empty(n),
                      record=np.full(n, path.stem, dtype=object), sample=None, time_s=None,
                      reference=labels, notes=notes, seconds={}), rows.beats


# --- output ------------------------------------------------------------------------


def default_output(pred: Prediction, fmt: str = "csv") -> Path:
    """``<name>.predictions.csv`` (or ``.jsonl``) in the current folder (``/`` -> ``_``)."""
    return Path(f"{pred.name.replace('/', '_')}.predictions.{fmt}")


def format_predictions(pred: Prediction, fmt: str = "csv") -> str:
    """The rows as CSV (header line, floats with 6 decimals) or JSON lines (one object a beat).

    In JSON lines, a missing ``sample``/``time_s`` (CSV input) is ``null``; in CSV it is
    an empty field.
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
    """Write the rows to ``out`` atomically (see :func:`format_predictions`)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} exists (use --overwrite to replace it)")
    text = format_predictions(pred, fmt)
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    return out


def plot_predictions(pred: Prediction, path: str | os.PathLike, start_s: float = 0.0,
                     seconds: float = 10.0) -> Path:
    """PNG of the lead from ``start_s`` for ``seconds``, each beat marked with its class.

    Markers are coloured by predicted class and labelled with its name; a beat whose
    reference class differs also shows ``ref X``; the reference beat annotations (when
    the record has them) are grey ticks with their symbols below the signal.
    """
    from ecgseg.labels import AAMI_MAP
    from ecgseg.records import read_annotations, read_lead

    from .plots import _pyplot

    if pred.source is None or pred.fs is None:
        raise InputError("--plot needs a raw record (HDF5 and CSV beats have no signal)")
    if not seconds > 0:
        raise InputError(f"--seconds must be > 0, got {seconds}")
    signal = read_lead(pred.source.path, pred.source.db, lead=pred.source.lead).signal
    fs = pred.fs
    duration = len(signal) / fs
    if not 0 <= start_s < duration:
        raise InputError(f"--start {start_s:g} s is outside the record (0 to {duration:.1f} s)")
    a = int(round(start_s * fs))
    b = min(len(signal), int(round((start_s + seconds) * fs)))
    t = np.arange(a, b) / fs
    x = signal[a:b]
    plt = _pyplot()
    palette = ["#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#8c564b", "#e377c2"]
    width = float(np.clip(seconds * 1.4, 8, 24))
    fig, ax = plt.subplots(figsize=(width, 4.2))
    ax.plot(t, x, color="0.25", lw=0.8, label=f"{pred.lead} (mV)")
    inside = np.flatnonzero((pred.sample >= a) & (pred.sample < b))
    pred_cls = pred.predicted
    span = float(np.nanmax(x) - np.nanmin(x)) if len(x) else 1.0
    top = float(np.nanmax(x)) if len(x) else 1.0
    names = pred.class_names
    for c, cname in enumerate(names):
        sel = inside[pred_cls[inside] == c]
        if sel.size == 0:
            continue
        colour = palette[c % len(palette)]
        ax.scatter(pred.sample[sel] / fs, signal[pred.sample[sel]], s=36, color=colour,
                   zorder=3, label=f"{cname} ({sel.size})", edgecolor="white", linewidth=0.6)
        for i in sel:
            ref = pred.reference[i]
            text = cname
            ax.annotate(text, (pred.sample[i] / fs, top + 0.06 * span), ha="center",
                        va="bottom", fontsize=8, color=colour, fontweight="bold")
            if 0 <= ref < len(names) and ref != c:
                ax.annotate(f"ref {names[ref]}", (pred.sample[i] / fs, top + 0.17 * span),
                            ha="center", va="bottom", fontsize=7, color="black",
                            style="italic")
    bottom = float(np.nanmin(x)) if len(x) else 0.0
    ann = read_annotations(pred.source.path, "atr") if pred.source.db.name == "mitdb" else None
    if ann is not None:
        keep = (ann.sample >= a) & (ann.sample < b) & np.isin(ann.symbol, list(AAMI_MAP))
        ref_t = ann.sample[keep] / fs
        ax.scatter(ref_t, np.full(ref_t.shape, bottom - 0.1 * span), marker="|", s=80,
                   color="0.45", label=f"reference beats ({int(keep.sum())})", zorder=2)
        for tt, sym in zip(ref_t, ann.symbol[keep]):
            ax.annotate(sym, (tt, bottom - 0.2 * span), ha="center", va="center", fontsize=7,
                        color="0.35")
    ax.set_ylim(bottom - (0.27 if ann is not None else 0.05) * span, top + 0.32 * span)
    ax.set_xlim(t[0] if len(t) else start_s, t[-1] if len(t) else start_s + seconds)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{pred.lead} (mV)")
    has_ref = bool((pred.reference[inside] >= 0).any()) if inside.size else False
    ax.set_title(f"record {pred.name}: predicted class of each detected beat"
                 + ("  ('ref X': the reference class differs; grey ticks: reference beat "
                    "annotations)" if has_ref or ann is not None else ""), fontsize=10)
    ax.legend(loc="upper right", fontsize=8, ncol=len(names) + 1, framealpha=0.9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path


__all__ = ["Prediction", "Source", "default_output", "format_predictions", "plot_predictions",
           "predict", "recipe_params", "record_conventions", "resolve_input", "write_predictions"]
