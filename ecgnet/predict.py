"""Classify every beat of a raw recording (or of a beats file) with a trained model.

``ecg predict CHECKPOINT INPUT``; the layers, each in its module:

1. input (:mod:`ecgnet.predict_input`): what INPUT is (a record path or
   ``<db>/<version>/<record>``, fetched when missing; a beats HDF5; a Kaggle-format CSV),
   the record's database and lead, the recipe parameters of the checkpoint's beats;
2. the core (here): the input's beats (a raw record: R peaks from a detector of
   :mod:`ecgseg.detectors`, ``qrs`` by default, and beats cut by the recipe the checkpoint
   was trained on, :func:`ecgseg.pipeline.segment_record`), the model's probabilities
   (:func:`ecgnet.inference.predict_proba`), one :class:`~ecgnet.prediction.Prediction`;
3. output (:mod:`ecgnet.predict_output`): CSV or JSON lines, and the PNG.

Recipe: the one the checkpoint's training beats were made with, from its ``data_sources``
(:func:`ecgnet.predict_input.choose_recipe`: a paper-recipe HDF5 gives its parameters,
a Kaggle-recipe HDF5 or a Kaggle-format CSV the Kaggle recipe, nothing the paper recipe's
defaults with a note); explicit overrides win.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from ecgseg.errors import InputError
from ecgseg.labels import BEAT_SAMPLES
from ecgseg.morphology import record_median_beats
from ecgseg.rhythm import rr_features

from .data import default_class_names, model_inputs, neighbour_beats, record_features
from .models import context_count, lead_count, record_columns, rr_columns
from .prediction import Prediction
from .predict_input import Source, choose_recipe, recipe_params, resolve_input

#: Detectors whose peaks sit on the R waves as accurately as the annotations the
#: RR-interval models were trained with: no warning about their intervals.
ACCURATE_DETECTORS = ("qrs", "reference")
DEFAULT_DETECTOR = "qrs"
"""The detector of raw records when none is named."""

RR_NOTE = ("this model's RR intervals are measured here between the detected peaks, not "
           "between annotated beats as in training: every beat the detector misses "
           "lengthens two intervals")


@dataclass(frozen=True)
class InputBeats:
    """The beats of an input and what is known of each, before the model sees them.

    ``beats`` ``(n, 187)`` float32; ``fields``: the :class:`Prediction` attributes other
    than ``class_names`` and ``proba`` (``name``, ``record``, ``sample``, ``time_s``,
    ``reference``, and for a record ``detector``, ``params``, ``source``, ``fs``,
    ``lead``, ``recipe``, ``beat_fs``, ``stats``, ``notes``, ``seconds``).
    """

    beats: np.ndarray
    fields: Dict[str, Any] = field(default_factory=dict)


def predict(checkpoint: str | os.PathLike, spec: str | os.PathLike, *, data_dir=None,
            mirror: str | None = None, lead: str | None = None,
            overrides: Optional[Dict[str, Any]] = None, tolerance_s: float = 0.15,
            batch_size: int = 512, precision: str = "float32", device: str = "cpu",
            download: bool = True, progress: bool = False, detector: str = DEFAULT_DETECTOR,
            recipe: Optional[str] = None, model=None) -> Prediction:
    """Classify every beat of INPUT.

    Parameters
    ----------
    checkpoint : path
        ``best.pt``/``last.pt`` of ``ecg train``.
    spec : str or path
        Record path, ``<db>/<version>/<record>``, beats HDF5 or Kaggle-format CSV (see
        :func:`ecgnet.predict_input.resolve_input`).
    data_dir, mirror : optional
        Where ``<db>/<version>/<record>`` records live and where to fetch them from.
    lead : str, optional
        Signal to use instead of lead II.
    overrides : dict, optional
        Paper-recipe parameters (``fs``, ``threshold``, ``window_s``, ``length`` ...).
    tolerance_s : float
        Peak-to-annotation match tolerance (reference classes, detector Se/+P), s.
    batch_size, precision, device :
        See :func:`ecgnet.inference.predict_proba`.
    detector : str
        R-peak detector for raw records (:func:`ecgseg.detectors.detector_names`).
    recipe : str, optional
        Cut a raw record's beats with this recipe instead of the checkpoint's.
    model : (Module, dict), optional
        The checkpoint already loaded (:func:`ecgnet.checkpoint.load_model`), to score
        many records without reading it again.

    Returns
    -------
    Prediction

    Raises
    ------
    EcgError
        Any bad input (see :func:`~ecgnet.predict_input.resolve_input`), a checkpoint
        that is not one of ours, beats whose length the model does not take.

    Examples
    --------
    >>> pred = predict("runs/mitbih-random/best.pt", "mitdb/1.0.0/208")  # doctest: +SKIP
    >>> pred.summary()["predicted"]  # doctest: +SKIP
    {'N': 1523, 'S': 2, 'V': 912, 'F': 40, 'Q': 0}
    """
    from .checkpoint import load_model
    from .inference import predict_proba

    from ecgseg.detectors import get_detector

    get_detector(detector)  # an unknown name fails before any download
    model, meta = model if model is not None else load_model(checkpoint, device=device)
    if lead_count(model) > 1:
        raise InputError(f"{checkpoint or 'model'}: model {meta.get('model', '')} takes "
                         f"{lead_count(model)} leads and ecg predict cuts one; score it on "
                         f"beats HDF5 of both leads with ecg evaluate --second-lead")
    class_names = tuple(meta["class_names"])
    t0 = time.perf_counter()
    source = resolve_input(spec, data_dir=data_dir, mirror=mirror, lead=lead,
                           download=download, progress=progress)
    t_download = time.perf_counter() - t0
    if source.kind != "record" and overrides and any(v is not None for v in overrides.values()):
        raise InputError("recipe options apply to raw records only, not to "
                         f"{source.kind.upper()} beats")
    read = {"record": lambda: beats_of_record(source, meta, overrides, tolerance_s,
                                              class_names, t_download, detector=detector,
                                              recipe=recipe),
            "hdf5": lambda: beats_of_hdf5(source.path, class_names),
            "csv": lambda: beats_of_csv(source.path, class_names)}[source.kind]
    got = read()
    if got.beats.shape[1] != BEAT_SAMPLES:
        raise InputError(f"{source.path}: beats of {got.beats.shape[1]} samples; the model "
                         f"takes {BEAT_SAMPLES}")
    fields = dict(got.fields)
    rhythm = None  # RR features, for the models that use them
    record = median = None  # record-relative features, for the models that use them
    if rr_columns(model) and fields.get("time_s") is not None:
        rhythm = rr_features(fields["time_s"], fields["record"])
        if record_columns(model):
            record = record_features(got.beats, fields["time_s"], fields["record"])
            median = record_median_beats(got.beats, fields["record"])
        if source.kind == "record" and fields.get("detector_name") not in ACCURATE_DETECTORS:
            fields["notes"] = (*fields.get("notes", ()), RR_NOTE)
    context = None  # neighbouring beats, for context models (beats in position order)
    if context_count(model) and fields.get("sample") is not None:
        context = neighbour_beats(got.beats, fields["record"], fields["sample"],
                                  context_count(model))
    inputs = model_inputs(model, got.beats, rhythm, str(source.path), record=record,
                          median=median, context=context)
    t1 = time.perf_counter()
    proba = predict_proba(model, inputs, batch_size=batch_size, precision=precision)
    seconds = {**fields.pop("seconds", {}), "model": time.perf_counter() - t1}
    fields.pop("detector_name", None)
    if proba.shape[1] != len(class_names):
        raise InputError(f"{checkpoint}: the model gives {proba.shape[1]} classes, its "
                         f"checkpoint names {len(class_names)}")
    extra = inputs[:, BEAT_SAMPLES:] if inputs.shape[1] > BEAT_SAMPLES else None
    return Prediction(class_names=class_names, proba=proba, seconds=seconds,
                      beats=np.asarray(got.beats, dtype=np.float32),
                      extra_inputs=None if extra is None else np.ascontiguousarray(extra),
                      **fields)


def beats_of_record(source: Source, meta: dict, overrides: Optional[Dict[str, Any]],
                    tolerance_s: float, class_names: Sequence[str],
                    download_seconds: float = 0.0, *, detector: str = DEFAULT_DETECTOR,
                    recipe: Optional[str] = None) -> InputBeats:
    """Detect a raw record's R peaks, cut beats with the checkpoint's recipe, label them.

    Reference classes are the database's labels (:func:`ecgseg.pipeline.segment_record`:
    the nearest reference beat within ``tolerance_s``, its AAMI class) when the model's
    classes are that database's task, else unknown (-1).
    """
    from ecgseg.pipeline import segment_record
    from ecgseg.recipes import get_recipe

    choice = choose_recipe(meta, source.db, overrides, recipe)
    params, note = choice.params, choice.note
    t0 = time.perf_counter()
    res = segment_record(source.path, source.db, params, name=source.name, lead=source.lead,
                         tolerance_s=tolerance_s, recipe=choice.recipe, detector=detector)
    seconds = time.perf_counter() - t0
    fs = float(res.stats["fs_in"])
    n = len(res.sample)
    labels = res.labels.astype(np.int64)
    if tuple(class_names) != default_class_names([], source.db.name):
        labels = np.full(n, -1, dtype=np.int64)  # e.g. an MI model on MIT-BIH: another task
    labels[labels < 0] = -1
    return InputBeats(res.beats, dict(
        name=source.name, record=np.full(n, source.name, dtype=object), sample=res.sample,
        time_s=res.sample / fs, reference=labels, detector=res.detector, params=params,
        source=source, fs=fs, lead=str(res.stats["lead"]), recipe=choice.recipe,
        beat_fs=get_recipe(choice.recipe).fs(source.db, params),
        stats=dict(res.stats, tolerance_s=tolerance_s),
        notes=tuple(([note] if note else []) + list(res.warnings)),
        seconds={"download": download_seconds, "segment": seconds}, detector_name=detector))


def beats_of_hdf5(path: Path, class_names: Sequence[str]) -> InputBeats:
    """Every beat of a beats HDF5 (``ecg segment``), labelled or not."""
    from ecgseg.store import load_beats

    table = load_beats(path, labelled=False)
    notes: Tuple[str, ...] = ()
    record = table.meta["record"].astype(str).to_numpy().astype(object)
    sample = table.meta["sample"].to_numpy().astype(np.int64)
    time_s = table.times_s()
    if time_s is None:  # a file without the records' sampling frequencies
        time_s = np.full(len(sample), np.nan)
    labels = table.labels.astype(np.int64)
    file_classes = tuple(table.classes)
    if file_classes and file_classes != tuple(class_names):
        notes = (f"{path.name} has classes {' '.join(file_classes)}, the model "
                 f"{' '.join(class_names)}: no comparison with its labels",)
        labels = np.full(len(labels), -1, dtype=np.int64)
    return InputBeats(table.beats, dict(name=path.stem, record=record, sample=sample,
                                        time_s=time_s, reference=labels, notes=notes))


def beats_of_csv(path: Path, class_names: Sequence[str]) -> InputBeats:
    """Every row of a Kaggle-format CSV (label column optional)."""
    from ecgseg.kaggle_csv import read_kaggle_csv

    rows = read_kaggle_csv(path, n_classes=None, require_label=False)
    labels = rows.labels.astype(np.int64)
    notes: Tuple[str, ...] = ()
    if (labels >= len(class_names)).any():
        notes = (f"{path.name} has labels beyond the model's {len(class_names)} classes: "
                 "no comparison with its labels",)
        labels = np.full(len(labels), -1, dtype=np.int64)
    n = len(labels)
    return InputBeats(rows.beats, dict(name=path.stem,
                                       record=np.full(n, path.stem, dtype=object),
                                       sample=None, time_s=None, reference=labels, notes=notes))


__all__ = ["ACCURATE_DETECTORS", "DEFAULT_DETECTOR", "InputBeats", "Prediction", "beats_of_csv", "beats_of_hdf5", "beats_of_record",
           "predict", "recipe_params", "resolve_input"]
