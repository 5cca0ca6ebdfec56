"""The app's one door into the toolkit: every call into ``ecgseg``/``ecgnet`` is made here.

The pages never import the toolkit themselves; they call these functions and draw what
comes back. When the toolkit's API moves (input resolution, detector registry,
pretrained models, ``ecgnet.explain``), this is the only file to re-point.

Everything here is plain Python (no Streamlit): arrays and data frames in and out, so
tests call it directly and the pages stay thin.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ecgseg.errors import EcgError, InputError, RecordError

#: File suffixes accepted as an uploaded signal (one column of samples, mV).
SIGNAL_SUFFIXES = (".csv", ".txt", ".npy")
#: File suffixes of a beats data set.
DATASET_SUFFIXES = (".h5", ".hdf5", ".hdf", ".csv")


# --- settings ----------------------------------------------------------------------


def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The data folder: ``value``, else ``$ECG_DATA_DIR``, else ``./data``."""
    from ecgseg.config import data_dir as toolkit_data_dir

    return Path(toolkit_data_dir(value))


def runs_dir(value: str | os.PathLike | None = None) -> Path:
    """The runs folder: ``value``, else ``$ECG_RUNS_DIR``, else ``./runs``."""
    return Path(value or os.environ.get("ECG_RUNS_DIR") or "runs")


def mirror_url() -> Optional[str]:
    """The PhysioNet mirror (``$ECG_PHYSIONET_URL``), None for physionet.org."""
    return os.environ.get("ECG_PHYSIONET_URL") or None


# --- what there is to choose from --------------------------------------------------


def local_records(data: str | os.PathLike | None = None) -> List[str]:
    """Records already downloaded, as ``<db>/<version>/<record>`` names, sorted.

    Examples
    --------
    >>> local_records("/nonexistent")
    []
    """
    from ecgseg.databases import DATABASES

    out = []
    for db in DATABASES.values():
        folder = db.local_dir(data)
        if not folder.is_dir():
            continue
        for hea in sorted(folder.rglob("*.hea")):
            if hea.with_suffix(".dat").is_file() or any(hea.parent.glob(hea.stem + ".*dat")):
                out.append(f"{db.pn_dir}/{hea.relative_to(folder).with_suffix('').as_posix()}")
    return out


def checkpoints(runs: str | os.PathLike | None = None) -> List[Path]:
    """Every ``*.pt`` checkpoint under the runs folder (best first within a run), sorted.

    Exported TorchScript files (``*.ts.pt``) are left out: they are not checkpoints.
    """
    root = runs_dir(runs)
    if not root.is_dir():
        return []
    found = [p for p in root.rglob("*.pt") if not p.name.endswith(".ts.pt")]
    return sorted(found, key=lambda p: (str(p.parent), p.name != "best.pt", p.name))


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model picker: a shipped pretrained model or a run checkpoint.

    ``key`` is what ``?model=`` takes (the pretrained model's name, or the checkpoint's
    path); ``label`` what the picker shows; ``checkpoint`` the file that is loaded.
    """

    key: str
    label: str
    checkpoint: Path
    pretrained: bool


def pretrained_models() -> List[ModelChoice]:
    """The shipped pretrained models (``ecgnet.pretrained``), the default one first.

    Examples
    --------
    >>> pretrained_models()[0].key  # doctest: +SKIP
    'mitbih-interpatient'
    """
    from ecgnet.pretrained import DEFAULT_MODEL, list_models, weights_path

    out = []
    for card in list_models():
        try:
            path = weights_path(card.name)
        except EcgError:  # a card whose weights are missing: not offered
            continue
        default = " (default)" if card.name == DEFAULT_MODEL else ""
        out.append(ModelChoice(key=card.name, label=f"pretrained: {card.name}{default}",
                               checkpoint=path, pretrained=True))
    return sorted(out, key=lambda c: (c.key != DEFAULT_MODEL, c.key))


def model_choices(runs: str | os.PathLike | None = None) -> List[ModelChoice]:
    """What the model picker offers: the pretrained models, then the runs' checkpoints."""
    root = runs_dir(runs)
    found = [ModelChoice(key=str(p), label=_relative(p, root), checkpoint=p, pretrained=False)
             for p in checkpoints(root)]
    return pretrained_models() + found


def resolve_model(wanted: str | None, choices: Sequence[ModelChoice]) -> Optional[ModelChoice]:
    """The choice ``?model=`` names (a pretrained name or a checkpoint path), else the default.

    Without ``wanted`` the default pretrained model (``ecgnet.pretrained.DEFAULT_MODEL``)
    is chosen, else the first choice; None when there is none. A ``wanted`` path that is
    not among ``choices`` is returned as a new choice (any checkpoint file can be opened).

    Raises
    ------
    InputError
        ``wanted`` is neither a pretrained model's name nor an existing file.
    """
    from ecgnet.pretrained import DEFAULT_MODEL

    if wanted:
        for c in choices:
            if wanted == c.key or Path(wanted) == c.checkpoint:
                return c
        if Path(wanted).is_file():
            return ModelChoice(key=str(wanted), label=str(wanted), checkpoint=Path(wanted),
                               pretrained=False)
        names = ", ".join(c.key for c in choices if c.pretrained) or "(none shipped)"
        raise InputError(f"model {wanted!r} is neither a pretrained model ({names}) nor a "
                         "checkpoint file")
    for c in choices:
        if c.key == DEFAULT_MODEL:
            return c
    return choices[0] if choices else None


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --- the recording page ------------------------------------------------------------


@dataclass
class Reference:
    """A record's reference beat annotations (``atr``, beat symbols only).

    ``sample`` int64 (m,), record samples; ``symbol`` str (m,); ``aami`` str (m,): the
    AAMI class of each symbol.
    """

    sample: np.ndarray
    symbol: np.ndarray
    aami: np.ndarray


@dataclass
class RecordView:
    """Everything the recording and beat pages show for one record and one model.

    Attributes
    ----------
    prediction : ecgnet.predict.Prediction
        One row per detected beat (``table()``, ``summary()``).
    signal : ndarray, float64 (n_samples,)
        The lead the beats were cut from, mV.
    fs : float
        Its sampling rate, Hz.
    lead : str
    beats : ndarray, float32 (n_beats, 187)
        The model's input beats, in the prediction's row order (at :attr:`beat_fs`);
        :meth:`model_input` adds the model's other inputs (RR features).
    reference : Reference or None
    checkpoint : str
    """

    prediction: Any
    signal: np.ndarray
    fs: float
    lead: str
    beats: np.ndarray
    reference: Optional[Reference]
    checkpoint: str
    notes: List[str] = field(default_factory=list)

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """One row per beat (``Prediction.table()``), computed once."""
        return self.prediction.table()

    @functools.cached_property
    def summary(self) -> Dict[str, Any]:
        """``Prediction.summary()``, computed once."""
        return self.prediction.summary()

    @property
    def duration_s(self) -> float:
        """Length of the record, s."""
        return len(self.signal) / self.fs

    @property
    def class_names(self) -> Tuple[str, ...]:
        return tuple(self.prediction.class_names)

    @property
    def recipe(self) -> str:
        """The recipe the beats were cut with (the checkpoint's; ``ecgseg.recipes``)."""
        return str(self.prediction.recipe)

    @property
    def beat_fs(self) -> float:
        """Sampling rate of the model's input beats, Hz: the recipe's output rate in the
        recipe registry (120 Hz for Kaggle-recipe MIT-BIH beats, 125 Hz for the paper
        recipe's), not the record's."""
        return float(self.prediction.beat_fs)

    @property
    def extra_columns(self) -> int:
        """Inputs the model takes after each beat's 187 samples (5 RR features for
        ``kachuee-rr``; 0 for a model of the beat alone)."""
        extra = self.prediction.extra_inputs
        return 0 if extra is None else int(extra.shape[1])

    @functools.cached_property
    def extra_inputs_text(self) -> str:
        """The model's inputs after the beat's samples in words (``5 RR features``; ""
        for a model of the beat alone): :func:`ecgnet.models.extra_inputs_text`."""
        from ecgnet.checkpoint import load_model
        from ecgnet.models import extra_inputs_text

        return extra_inputs_text(load_model(self.checkpoint)[0]) if self.extra_columns else ""

    def model_input(self, i: int) -> np.ndarray:
        """Everything the model took for beat ``i``: float32 ``(187 + extra_columns,)``,
        the beat's samples then its RR (and other) features."""
        extra = self.prediction.extra_inputs
        beat = np.asarray(self.beats[i], np.float32)
        return beat if extra is None else np.concatenate([beat, extra[i].astype(np.float32)])

    def counts(self) -> Dict[str, int]:
        """Beats per predicted class (every class of the model, zeros included)."""
        return dict(self.summary["predicted"])

    def summary_line(self) -> str:
        """``208: 710 beats; predicted N 607, S 7, ...`` (as ``ecg predict`` prints it)."""
        return self.prediction.summary_lines()[0]

    def scores(self) -> Tuple[Optional[Dict[str, float]], Optional[pd.DataFrame]]:
        """Detector Se/+P (%) and the per-class AAMI table, when the record has a reference."""
        s = self.summary
        det = s.get("detector")
        detector = None
        if det is not None and det.reference:
            detector = {"Se %": 100 * det.sensitivity, "+P %": 100 * det.positive_predictivity,
                        "found": det.matched, "reference beats": det.reference,
                        "detected": det.detected}
        table = None
        if s.get("aami"):
            table = pd.DataFrame(s["aami"]).T
            table = table.astype({c: float if c in ("Se", "+P") else int for c in table.columns})
            table.index.name = "class"
        if "compared" in s and table is not None:
            table.attrs["accuracy"] = 100 * s["accuracy"]
            table.attrs["compared"] = s["compared"]
        return detector, table

    def csv(self) -> str:
        """The beat table as ``ecg predict`` writes it (CSV text)."""
        from ecgnet.predict_output import format_predictions

        return format_predictions(self.prediction, "csv")


def analyse_record(checkpoint: str | os.PathLike, spec: str | os.PathLike, *,
                   data: str | os.PathLike | None = None, mirror: str | None = None,
                   lead: str | None = None) -> RecordView:
    """Classify every beat of a raw record and gather what the pages draw.

    Parameters
    ----------
    checkpoint : path
        ``best.pt``/``last.pt`` of ``ecg train``.
    spec : str or path
        ``<db>/<version>/<record>`` (fetched into ``data`` when missing) or a local
        record path without extension.
    data, mirror, lead :
        As for ``ecg predict``.

    Raises
    ------
    EcgError
        Unknown record, no lead II (and no ``lead``), not a checkpoint ...

    Examples
    --------
    >>> view = analyse_record("runs/x/best.pt", "mitdb/1.0.0/208")  # doctest: +SKIP
    >>> view.counts()                                                 # doctest: +SKIP
    {'N': 607, 'S': 7, 'V': 66, 'F': 27, 'Q': 3}
    """
    from ecgnet.predict import predict
    from ecgseg.labels import AAMI_CLASSES, AAMI_MAP
    from ecgseg.records import read_annotations, read_lead

    pred = predict(checkpoint, spec, data_dir=data, mirror=mirror, lead=lead)
    if pred.source is None:
        raise InputError(f"{spec} is not a raw record: open beat files on the data set page")
    source = pred.source
    sig = read_lead(source.path, source.db, lead=source.lead)
    reference = None
    ann = read_annotations(source.path, "atr") if source.db.name == "mitdb" else None
    if ann is not None:
        keep = np.isin(ann.symbol, list(AAMI_MAP))
        reference = Reference(sample=ann.sample[keep], symbol=ann.symbol[keep],
                              aami=np.array([AAMI_CLASSES[AAMI_MAP[s]] for s in ann.symbol[keep]],
                                           dtype=object))
    return RecordView(prediction=pred, signal=sig.signal, fs=float(sig.fs), lead=sig.lead,
                      beats=pred.beats, reference=reference,
                      checkpoint=str(checkpoint), notes=list(pred.notes))


def envelope(signal: np.ndarray, start: int, stop: int, buckets: int
             ) -> Tuple[np.ndarray, np.ndarray]:
    """Min/max downsampling of ``signal[start:stop]`` for drawing.

    Each of ``buckets`` equal slices contributes its minimum and its maximum, in the
    order they occur, so a line through the points shows every peak of the full-rate
    signal; when the slice has no more than ``2 * buckets`` samples it is returned as is.

    Parameters
    ----------
    signal : ndarray, float (n_samples,)
    start, stop : int
        Sample range (clipped to the signal).
    buckets : int
        Number of slices (at least 1): about the chart's width in pixels.

    Returns
    -------
    (index, value) : ndarray int64 (m,), ndarray float64 (m,)
        Sample positions and values, ``m <= 2 * buckets``, positions increasing.

    Examples
    --------
    >>> idx, val = envelope(np.array([0., 5, 1, -3, 2, 2, 9, 0]), 0, 8, 2)
    >>> idx.tolist(), val.tolist()
    ([1, 3, 6, 7], [5.0, -3.0, 9.0, 0.0])
    """
    if buckets < 1:
        raise InputError("buckets must be at least 1")
    start = max(0, int(start))
    stop = min(len(signal), int(stop))
    if stop <= start:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    n = stop - start
    if n <= 2 * buckets:
        return np.arange(start, stop, dtype=np.int64), np.asarray(signal[start:stop], np.float64)
    per = -(-n // buckets)  # ceil: the last bucket may be shorter
    full = n // per
    x = np.asarray(signal[start:start + full * per], np.float64).reshape(full, per)
    lo_i = x.argmin(axis=1)
    hi_i = x.argmax(axis=1)
    first = np.minimum(lo_i, hi_i)
    second = np.maximum(lo_i, hi_i)
    base = start + np.arange(full) * per
    idx = np.stack([base + first, base + second], axis=1).ravel()
    if full * per < n:  # the short last bucket
        tail = np.asarray(signal[start + full * per:stop], np.float64)
        a, b = sorted((int(tail.argmin()), int(tail.argmax())))
        idx = np.concatenate([idx, start + full * per + np.array([a, b])])
    idx = idx.astype(np.int64)
    return idx, np.asarray(signal, np.float64)[idx]


def save_upload(files: Sequence[Tuple[str, bytes]], folder: str | os.PathLike,
                fs: Optional[float] = None, lead: str = "MLII") -> Path:
    """Turn uploaded files into a local WFDB record; return its path without extension.

    Parameters
    ----------
    files : sequence of (name, content)
        Either a WFDB record (its ``.hea`` and the signal files it names, ``.atr``
        optional) or one signal file: ``.csv``/``.txt`` (one value a line, or the first
        numeric column) or ``.npy`` (1-D), in mV.
    folder : path
        Where to write the record.
    fs : float, optional
        Sampling rate of a signal file, Hz (required for those).
    lead : str
        Signal name given to a signal file (``MLII``: lead II, what the models take).

    Raises
    ------
    InputError
        No file, a header without its signal files, an unreadable signal, no ``fs``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not files:
        raise InputError("upload: no file given")
    names = [Path(n).name for n, _ in files]
    heads = [n for n in names if n.lower().endswith(".hea")]
    if heads:
        if len(heads) > 1:
            raise InputError(f"upload: one record at a time (got {', '.join(heads)})")
        for name, content in files:
            (folder / Path(name).name).write_bytes(content)
        path = folder / Path(heads[0]).stem
        from ecgseg.records import read_header

        header = read_header(path)
        missing = [f for f in dict.fromkeys(header.file_name) if not (folder / f).is_file()]
        if missing:
            raise InputError(f"upload: {heads[0]} needs {', '.join(missing)}; upload it too")
        return path
    if len(files) != 1:
        raise InputError("upload: a WFDB record (.hea with its .dat) or one signal file "
                         f"(.csv, .txt, .npy); got {', '.join(names)}")
    name, content = files[0]
    signal = read_signal_file(name, content)
    if fs is None or not 50 <= float(fs) <= 10_000:
        raise InputError(f"fs must be a sampling rate between 50 and 10000 Hz, got {fs}")
    import wfdb

    record = "".join(c if c.isalnum() else "_" for c in Path(name).stem) or "upload"
    wfdb.wrsamp(record, fs=float(fs), units=["mV"], sig_name=[lead],
                p_signal=signal[:, None], fmt=["16"], write_dir=str(folder))
    return folder / record


def read_signal_file(name: str, content: bytes) -> np.ndarray:
    """One signal from an uploaded ``.csv``/``.txt``/``.npy`` file: float64 (n,), mV.

    Raises
    ------
    InputError
        Unknown suffix, unparsable content, not one column, fewer than 2 s at 500 Hz-
        ish (under 100 samples), NaN or infinite values.
    """
    import io

    suffix = Path(name).suffix.lower()
    try:
        if suffix == ".npy":
            x = np.load(io.BytesIO(content), allow_pickle=False)
        elif suffix in (".csv", ".txt"):
            head = content[:4096].decode(errors="replace").strip().splitlines()[:2]
            sep = next((d for d in (",", ";", "\t") if head and d in head[-1]), r"\s+")
            frame = pd.read_csv(io.BytesIO(content), header=None, sep=sep, engine="c")
            numeric = frame.apply(pd.to_numeric, errors="coerce")
            if numeric.iloc[0].isna().all():  # a header line
                numeric = numeric.iloc[1:]
            cols = [c for c in numeric.columns if numeric[c].notna().any()]
            if not cols:
                raise ValueError("no numeric column")
            # one column: the signal; two: time and signal; more: the first column
            x = numeric[cols[1] if len(cols) == 2 else cols[0]].to_numpy()
        else:
            raise InputError(f"upload {name}: unknown file type {suffix or '(none)'}; use "
                             ".hea + .dat, .csv, .txt or .npy")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"upload {name}: cannot read a signal ({exc})") from None
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and 1 in x.shape:
        x = x.ravel()
    if x.ndim != 1:
        raise InputError(f"upload {name}: expected one signal (1-D), got shape {x.shape}")
    if len(x) < 100:
        raise InputError(f"upload {name}: only {len(x)} samples; a recording is needed")
    if not np.isfinite(x).all():
        raise InputError(f"upload {name}: has NaN or infinite values")
    return x


def new_upload_folder() -> Path:
    """A fresh temporary folder for one upload."""
    return Path(tempfile.mkdtemp(prefix="ecg-app-upload-"))


# --- the beat page -----------------------------------------------------------------


def explain_available() -> bool:
    """Whether ``ecgnet.explain`` (the ``ecg explain`` work) is installed."""
    try:
        return importlib.util.find_spec("ecgnet.explain") is not None
    except (ImportError, ValueError):
        return False


@dataclass
class BeatExplanation:
    """What the network made of one beat (from ``ecgnet.explain``).

    ``attribution`` float (187,) for class ``target`` by ``method``; ``feature_maps``
    part name -> float (channels, length).
    """

    attribution: np.ndarray
    target: str
    method: str
    feature_maps: Dict[str, np.ndarray]


def explain_beat(checkpoint: str | os.PathLike, model_input: np.ndarray,
                 method: str = "occlusion") -> Optional[BeatExplanation]:
    """Attribution and feature maps of one beat for its predicted class, or None.

    Uses ``ecgnet.explain.explain_beat`` (imported here only, on use); None when that
    module is absent. The attribution covers the beat's 187 samples; a model's other
    inputs (the RR features of ``kachuee-rr``) are held fixed at the beat's values.

    Parameters
    ----------
    checkpoint : path
    model_input : ndarray, float32 (187 + r,)
        Everything the model takes for the beat (:meth:`RecordView.model_input`).
    method : {"occlusion", "integrated-gradients"}
        ``"occlusion"`` (plain PyTorch, default) or ``"integrated-gradients"`` (captum).

    Raises
    ------
    InputError
        ``model_input`` lacks the model's inputs after the beat (a model with RR features
        given the beat alone): the message says which.
    """
    if not explain_available():
        return None
    explain = importlib.import_module("ecgnet.explain")
    from ecgnet.checkpoint import load_model
    from ecgnet.models import input_columns

    model, meta = load_model(checkpoint)
    x = np.asarray(model_input, np.float32).ravel()
    width = input_columns(model)
    if len(x) != width:
        name = getattr(model, "model_name", type(model).__name__)
        raise InputError(f"model_input has {len(x)} values; model {name} takes {width} "
                         f"(the 187 beat samples and {width - 187} RR or record features), "
                         "so this beat cannot be explained without them")
    e = explain.explain_beat(model, x, tuple(meta["class_names"]), method=method)
    return BeatExplanation(attribution=np.asarray(e.attribution, np.float64),
                           target=str(e.class_names[e.target]), method=str(e.method),
                           feature_maps={k: np.asarray(v) for k, v in e.feature_maps.items()})


# --- the data set page -------------------------------------------------------------


@dataclass
class DatasetView:
    """A beats file at a glance.

    ``counts`` per class name; ``mean``/``std`` float64 (k, 187) per class in
    ``class_names`` order; ``attrs`` the provenance (HDF5 attributes, or the CSV's name).
    """

    path: str
    class_names: List[str]
    counts: Dict[str, int]
    mean: np.ndarray
    std: np.ndarray
    attrs: Dict[str, Any]
    records: Optional[pd.DataFrame] = None

    @property
    def n(self) -> int:
        return int(sum(self.counts.values()))


def dataset_summary(path: str | os.PathLike) -> DatasetView:
    """Class balance, per-class mean and spread and provenance of a beats HDF5 or Kaggle CSV.

    Raises
    ------
    InputError
        Not a beats file, wrong width, unreadable.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DATASET_SUFFIXES:
        raise InputError(f"{path.name}: a beats HDF5 (.h5) or a Kaggle CSV (.csv) is needed")
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    if suffix == ".csv":
        from ecgseg.kaggle_csv import read_kaggle_csv

        rows = read_kaggle_csv(path, n_classes=None)
        beats, labels = rows.beats, rows.labels.astype(np.int64)
        k = int(labels.max()) + 1 if len(labels) else 0
        from ecgseg.labels import AAMI_CLASSES, MI_CLASSES

        names = (list(MI_CLASSES) if k <= 2 else list(AAMI_CLASSES) if k <= 5
                 else [str(i) for i in range(k)])
        attrs: Dict[str, Any] = {"file": path.name, "format": "Kaggle CSV", "rows": len(labels)}
        records = None
    else:
        from ecgseg.store import load_beats

        try:
            table = load_beats(path, labelled=True)
        except EcgError:
            raise
        except Exception as exc:
            raise InputError(f"{path.name}: not a beats HDF5 ({exc})") from None
        beats, labels = table.beats, table.labels.astype(np.int64)
        names = list(table.classes) or [str(i) for i in range(int(labels.max()) + 1)]
        attrs = {k: _plain(v) for k, v in table.attrs.items()}
        records = table.records if isinstance(table.records, pd.DataFrame) else None
    k = len(names)
    counts = {names[c]: int((labels == c).sum()) for c in range(k)}
    mean = np.zeros((k, beats.shape[1]))
    std = np.zeros((k, beats.shape[1]))
    for c in range(k):
        sel = beats[labels == c]
        if len(sel):
            mean[c] = sel.mean(axis=0, dtype=np.float64)
            std[c] = sel.std(axis=0, dtype=np.float64)
    return DatasetView(path=str(path), class_names=names, counts=counts, mean=mean, std=std,
                       attrs=attrs, records=records)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def dataset_files(data: str | os.PathLike | None = None) -> List[Path]:
    """Beats files under ``<data>/beats/`` (``ecg segment``'s outputs)."""
    folder = data_dir(data) / "beats"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in DATASET_SUFFIXES)


# --- the runs page -----------------------------------------------------------------


@dataclass
class RunView:
    """One run folder of ``ecg train``: its config, per-epoch history and test figures."""

    name: str
    path: Path
    config: Dict[str, Any]
    history: pd.DataFrame
    test: Optional[Dict[str, Any]]

    def row(self) -> Dict[str, Any]:
        """Key figures, one row of the side-by-side table."""
        cfg = self.config.get("config", self.config)
        t = self.test or {}
        row: Dict[str, Any] = {
            "run": self.name, "model": cfg.get("model"), "split": cfg.get("split"),
            "epochs": int(self.history["epoch"].max()) if "epoch" in self.history else None,
            "best val macro-F1": (float(self.history["val_macro_f1"].max())
                                  if "val_macro_f1" in self.history else None),
            "test beats": t.get("n"),
            "test accuracy %": 100 * t["accuracy"] if "accuracy" in t else None,
            "test macro-F1": (t.get("macro") or {}).get("f1"),
        }
        for cname, r in (t.get("aami") or {}).items():
            row[f"{cname} Se %"] = r.get("Se")
            row[f"{cname} +P %"] = r.get("+P")
        return row


def runs(root: str | os.PathLike | None = None) -> List[RunView]:
    """Every run folder under ``root`` (a folder with ``config.json`` or ``metrics.jsonl``)."""
    base = runs_dir(root)
    if not base.is_dir():
        return []
    out = []
    folders = sorted({p.parent for pat in ("config.json", "metrics.jsonl")
                      for p in base.rglob(pat)})
    for folder in folders:
        config = _read_json(folder / "config.json") or {}
        history = pd.DataFrame()
        lines = folder / "metrics.jsonl"
        if lines.is_file():
            rows = []
            for line in lines.read_text().splitlines():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue
            history = pd.DataFrame(rows)
        name = folder.relative_to(base).as_posix() if folder != base else folder.name
        out.append(RunView(name=name, path=folder, config=config, history=history,
                           test=_read_json(folder / "test.json")))
    return out


def _read_json(path: Path) -> Optional[Dict[str, Any]]:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


# --- the Kaggle check page ---------------------------------------------------------


def kaggle_rebuild_path(data: str | os.PathLike | None = None, db: str = "mitdb") -> Path:
    """Where ``ecg segment --db DB --recipe kaggle`` writes the rebuilt Kaggle beats."""
    from ecgseg.pipeline import default_output

    return Path(default_output(db, "kaggle", data))


def kaggle_rebuild_command(db: str = "mitdb") -> str:
    """The command that makes the rebuild the Kaggle check needs."""
    return f"ecg segment --db {db} --recipe kaggle"


def load_rebuild_index(path: str | os.PathLike):
    """Index of the rebuilt Kaggle rows (build once; reuse for every check)."""
    from ecgseg.store import load_beats
    from ecgseg.verify import RebuildIndex

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no rebuild at {path}: make it with `{kaggle_rebuild_command()}`")
    return RebuildIndex(load_beats(path))


def kaggle_check(name: str, content: bytes, index) -> Any:
    """Match uploaded Kaggle CSV rows against the rebuild; a ``VerifyReport``.

    ``report.details`` says for each line whether it is reproduced bit for bit and its
    source (record, annotation sample).

    Raises
    ------
    InputError
        Not a Kaggle CSV (wrong width, bad numbers, labels out of range).
    """
    from ecgseg.kaggle_csv import read_kaggle_csv
    from ecgseg.verify import verify_rows

    folder = Path(tempfile.mkdtemp(prefix="ecg-app-kaggle-"))
    path = folder / (Path(name).name or "rows.csv")
    path.write_bytes(content)
    try:
        rows = read_kaggle_csv(path, n_classes=len(index.table.classes) or 5, keep_lines=True)
        return verify_rows(Path(name).name, rows.beats, rows.labels, index, rows.lines)
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
