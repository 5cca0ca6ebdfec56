"""Load labelled beats for training and evaluation: Kaggle-format CSV or segmentation HDF5.

Both inputs become one :class:`BeatData`: beats ``(n, 187)`` float32 and labels ``(n,)``
int64, with record and patient ids and RR-interval features when the source has them
(HDF5 does, CSV does not). :func:`model_inputs` assembles what a given model takes.
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
from ecgseg.kaggle_csv import read_kaggle_csv
from ecgseg.labels import AAMI_CLASSES, BEAT_SAMPLES, MI_CLASSES
from ecgseg.morphology import (MORPHOLOGY_FEATURES, QRS_MORPHOLOGY_FEATURES, QRS_SAMPLES,
                               morphology_features, record_median_beats)
from ecgseg.rhythm import (ECTOPY_FEATURES, IRREGULARITY_FEATURES, RECORD_RR_FEATURES,
                           ectopy_features, record_rr_features, rr_features, rr_irregularity)
from ecgseg.store import load_beats

from .models import context_count, lead_count, median_columns, record_columns, rr_columns


HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf")

RECORD_FEATURES = (RECORD_RR_FEATURES + MORPHOLOGY_FEATURES + QRS_MORPHOLOGY_FEATURES
                   + IRREGULARITY_FEATURES + ECTOPY_FEATURES)
"""Columns of :attr:`BeatData.record_features`: each beat relative to its own record
(intervals over the record's mean interval, likeness to the record's median beat over
60 samples and over the QRS complex, how irregular the rhythm around it is, the pause
after it and its prematurity in a steady rhythm). A model
with ``record_features = j`` takes the first ``j``, so columns are only ever appended."""


def record_features(beats: np.ndarray, times_s: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each beat relative to its own record: :data:`RECORD_FEATURES`.

    Computed from the beats and their positions alone (never the labels), over all the
    beats given, record by record.

    Parameters
    ----------
    beats : np.ndarray
        ``(n, 187)`` float32 beats.
    times_s : np.ndarray
        ``(n,)`` beat positions, s from the record's start.
    groups : np.ndarray
        ``(n,)`` record of each beat.

    Returns
    -------
    np.ndarray
        ``(n, 10)`` float32, columns :data:`RECORD_FEATURES`:
        :func:`ecgseg.rhythm.record_rr_features`,
        :func:`ecgseg.morphology.morphology_features` over 60 samples and over
        :data:`ecgseg.morphology.QRS_SAMPLES`, :func:`ecgseg.rhythm.rr_irregularity`,
        then :func:`ecgseg.rhythm.ectopy_features`.

    Examples
    --------
    >>> beats = np.zeros((4, 187), np.float32); beats[:, 10] = 1
    >>> record_features(beats, np.arange(4.0), np.zeros(4)).round(2)[0].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    """
    return np.ascontiguousarray(np.concatenate(
        [record_rr_features(times_s, groups), morphology_features(beats, groups),
         morphology_features(beats, groups, samples=QRS_SAMPLES),
         rr_irregularity(times_s, groups)[:, None], ectopy_features(times_s, groups)],
        axis=1), np.float32)


CONTEXT_LOADED = 1
"""Neighbouring beats on each side that :func:`load_data` keeps for every beat
(:attr:`BeatData.context_beats`); a model may take up to this many
(:func:`ecgnet.models.context_count`)."""


def neighbour_beats(beats: np.ndarray, groups: np.ndarray, positions: np.ndarray,
                    count: int = 1) -> np.ndarray:
    """The beats before and after each beat in its own record, for context.

    Beats are put in position order within each record (from the beats and positions
    alone, never the labels); beats of different records are never neighbours. Where a
    record has no beat that far before (after), the beat itself stands in (the edge
    beat is repeated).

    Parameters
    ----------
    beats : np.ndarray
        ``(n, 187)`` float32 beats, in any order.
    groups : np.ndarray
        ``(n,)`` record of each beat (any comparable values).
    positions : np.ndarray
        ``(n,)`` position of each beat in its record (samples or s).
    count : int
        Beats taken on each side.

    Returns
    -------
    np.ndarray
        ``(n, 2 * count, 187)`` float32: the beats ``count .. 1`` before, then ``1 ..
        count`` after.

    Examples
    --------
    >>> beats = np.arange(4, dtype=np.float32)[:, None].repeat(187, axis=1)
    >>> ctx = neighbour_beats(beats, np.array([0, 0, 0, 1]), np.array([20, 10, 30, 5]))
    >>> ctx[:, :, 0].tolist()  # rows 1, 0, 2 in order in record 0; row 3 alone
    [[1.0, 2.0], [1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]
    """
    if count < 1:
        raise ValueError(f"count: {count}, must be >= 1")
    beats = np.asarray(beats, np.float32)
    n = len(beats)
    groups = np.asarray(groups)
    _, group_codes = np.unique(groups, return_inverse=True)
    order = np.lexsort((np.asarray(positions), group_codes))  # by record, then position
    codes = group_codes[order]
    out = np.empty((n, 2 * count, beats.shape[1]), np.float32)
    rank = np.arange(n)
    for j, step in enumerate(list(range(-count, 0)) + list(range(1, count + 1))):
        other = rank + step
        inside = (other >= 0) & (other < n)
        other = np.where(inside, other, rank)
        # the beat itself where the neighbour would fall outside its record
        pick = np.where(inside & (codes[other] == codes), other, rank)
        out[order, j] = beats[order[pick]]
    return out


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
    rhythm : np.ndarray, optional
        ``(n, 5)`` float32 RR-interval features of each beat
        (:func:`ecgseg.rhythm.rr_features`; HDF5 input); None for CSV.
    record_features : np.ndarray, optional
        ``(n, 10)`` float32 features of each beat relative to its record
        (:data:`RECORD_FEATURES`, :func:`record_features`; HDF5 input); None for CSV.
    median_beats : np.ndarray, optional
        ``(n, 187)`` float32 median beat of each beat's record
        (:func:`ecgseg.morphology.record_median_beats`; HDF5 input); None for CSV.
    sources : list of str
        The files the beats come from.
    source_info : list of dict
        How each source's beats were made, for checkpoints: ``{"path", "format"}`` plus,
        for HDF5, ``database``, ``recipe``, ``params`` and ``fs`` from its attributes
        (the second lead's files follow, with ``"lead": "second"``).
    samples : np.ndarray, optional
        ``(n,)`` int64 position of each beat in its record, samples (HDF5 input); None
        for CSV.
    second_beats : np.ndarray, optional
        ``(n, 187)`` float32 the same beats cut from the record's second lead
        (``load_data(..., second_lead=...)``: ``ecg segment --recipe kaggle --signal 1``);
        None without it.
    second_median : np.ndarray, optional
        ``(n, 187)`` float32 median beat of each beat's record on the second lead.
    context_beats : np.ndarray, optional
        ``(n, 2 * CONTEXT_LOADED, 187)`` float32 the beats before and after each beat in
        its record (:func:`neighbour_beats` over all the file's beats, unlabelled ones
        too; HDF5 input), for context models; None for CSV.
    """

    beats: np.ndarray
    labels: np.ndarray
    class_names: Tuple[str, ...]
    records: Optional[np.ndarray] = None
    patients: Optional[np.ndarray] = None
    rhythm: Optional[np.ndarray] = None
    sources: list = field(default_factory=list)
    source_info: list = field(default_factory=list)
    record_features: Optional[np.ndarray] = None
    median_beats: Optional[np.ndarray] = None
    samples: Optional[np.ndarray] = None
    second_beats: Optional[np.ndarray] = None
    second_median: Optional[np.ndarray] = None
    context_beats: Optional[np.ndarray] = None

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
                        pick(self.rhythm), list(self.sources), list(self.source_info),
                        pick(self.record_features), pick(self.median_beats),
                        samples=pick(self.samples), second_beats=pick(self.second_beats),
                        second_median=pick(self.second_median),
                        context_beats=pick(self.context_beats))

    def counts(self) -> np.ndarray:
        """Beats per class: ``(n_classes,)`` int64."""
        return np.bincount(self.labels, minlength=self.n_classes)

    def fingerprint(self) -> str:
        """SHA-256 (hex, 16 digits) of the beats and labels (and the second lead's beats,
        when there are any): identifies the data set."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.beats).tobytes())
        h.update(self.labels.astype(np.int64).tobytes())
        if self.second_beats is not None:
            h.update(np.ascontiguousarray(self.second_beats).tobytes())
        return h.hexdigest()[:16]


_HASH_WEIGHTS = np.random.default_rng(20180502).integers(
    1, 2**63, size=BEAT_SAMPLES, dtype=np.uint64) | np.uint64(1)


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


def named_task(paths: Sequence[str | os.PathLike]) -> Optional[Tuple[str, ...]]:
    """The classes the files' names imply (PTB ``normal MI`` for ``ptb*`` files), or None.

    Examples
    --------
    >>> named_task(["ptbdb_normal.csv", "ptbdb_abnormal.csv"])
    ('normal', 'MI')
    >>> named_task(["rows.csv"]) is None
    True
    """
    if paths and all(Path(p).name.lower().startswith("ptb") for p in paths):
        return MI_CLASSES
    return None


def default_class_names(paths: Sequence[Path], database: str | None) -> Tuple[str, ...]:
    """Class names when the input does not state them: PTB names for a ``ptb*`` database or
    ``ptb*`` files, else AAMI."""
    if database is not None:
        return MI_CLASSES if database.lower().startswith("ptb") else AAMI_CLASSES
    return named_task(paths) or AAMI_CLASSES


def load_data(paths: Sequence[str | os.PathLike] | str | os.PathLike,
              class_names: Sequence[str] | None = None,
              records: Sequence[str] | None = None,
              second_lead: Sequence[str | os.PathLike] | str | os.PathLike | None = None
              ) -> BeatData:
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
    second_lead : path or sequence of paths, optional
        Beats HDF5 files of the same rows cut from the records' second lead (``ecg
        segment --recipe kaggle --signal 1``), one per file of ``paths``, in order; see
        :func:`pair_second_lead`.

    Returns
    -------
    BeatData
        HDF5 beats without a usable label (label < 0) are left out.

    Raises
    ------
    InputError
        Unreadable file, beats not 187 samples long, labels outside the classes,
        files that disagree on the classes, or no beats at all; second-lead files that
        do not pair row by row with ``paths`` (the message names ``second_lead``).
    """
    data = _load_data(paths, class_names, records)
    if second_lead is not None and not isinstance(second_lead, (str, os.PathLike)) \
            and len(second_lead) == 0:
        second_lead = None
    return data if second_lead is None else pair_second_lead(data, second_lead, records)


def pair_second_lead(data: BeatData, paths: Sequence[str | os.PathLike] | str | os.PathLike,
                     records: Sequence[str] | None = None) -> BeatData:
    """``data`` with the second lead's beats and record median beats attached.

    The rows of ``paths`` must be the rows of ``data`` seen on another signal: same
    records, same positions (samples), same labels, same order (the Kaggle MIT-BIH
    recipe cuts them so with ``signal=1``).

    Parameters
    ----------
    data : BeatData
        Beats of the first lead, from HDF5 (they carry records and positions).
    paths : path or sequence of paths
        The second lead's HDF5 files, one per source of ``data``, in the same order.
    records : sequence of str, optional
        The records ``data`` was restricted to.

    Returns
    -------
    BeatData
        The same object, with ``second_beats`` and ``second_median`` set and the second
        files appended to ``source_info`` (``"lead": "second"``).

    Raises
    ------
    InputError
        The message names ``second_lead``: a CSV on either side, a different number of
        files or beats, or the first row whose record, position or label differs.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if data.samples is None or any(p.suffix.lower() not in HDF5_SUFFIXES for p in paths):
        raise InputError("second_lead: the beats of both leads must be HDF5 files written "
                         "by ecg segment (they carry record and sample of each beat)")
    if len(paths) != len(data.sources):
        raise InputError(f"second_lead: {len(paths)} file(s) for {len(data.sources)} data "
                         f"file(s); give one per data file, in the same order")
    other = _load_data(paths, data.class_names, records)
    where = ", ".join(map(str, paths))
    if len(other) != len(data):
        raise InputError(f"second_lead: {where} holds {len(other)} labelled beats, the data "
                         f"{len(data)}; cut both with the same recipe and records "
                         f"(ecg segment --recipe kaggle --signal 1)")
    bad = np.flatnonzero((other.records != data.records) | (other.samples != data.samples)
                         | (other.labels != data.labels))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"second_lead: beat {i} of {where} (record {other.records[i]}, sample "
                         f"{other.samples[i]}, label {other.class_names[other.labels[i]]}) "
                         f"does not pair with the data's (record {data.records[i]}, sample "
                         f"{data.samples[i]}, label {data.class_names[data.labels[i]]}); "
                         f"{bad.size} beats differ")
    if other.median_beats is None:
        raise InputError(f"second_lead: {where} lacks the records' sampling frequencies")
    data.second_beats, data.second_median = other.beats, other.median_beats
    data.source_info = list(data.source_info) + [dict(i, lead="second")
                                                 for i in other.source_info]
    return data


def _load_data(paths, class_names, records) -> BeatData:
    """:func:`load_data` of the first lead's files."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("no data file given")
    beats, labels, recs, pats, rhythm, where, info = [], [], [], [], [], [], []
    positions, context = [], []  # context: neighbouring beats of each file (None: CSV)
    relative = []  # record-relative features of each file (None: unknown)
    database = None
    attr_classes = None
    for path in paths:
        if path.suffix.lower() in HDF5_SUFFIXES:
            table = _labelled_beats(path, records, rhythm, relative, context)
            if table.beats.shape[1] != BEAT_SAMPLES:
                raise InputError(f"{path}: beats of {table.beats.shape[1]} samples, "
                                 f"expected {BEAT_SAMPLES}")
            beats.append(table.beats)
            labels.append(table.labels.astype(np.int64))
            recs.append(table.meta["record"].astype(str).to_numpy())
            pats.append(table.meta["patient"].astype(str).to_numpy())
            positions.append(table.meta["sample"].to_numpy().astype(np.int64))
            where.append(lambda i, p=path, m=table.meta:
                         f"{p}: record {m['record'].iloc[i]}, sample {m['sample'].iloc[i]}")
            database = database or table.attrs.get("database")
            info.append({"path": str(path), "format": "hdf5",
                         **{k: table.attrs[k] for k in ("database", "recipe", "params", "fs")
                            if k in table.attrs}})
            names = tuple(str(n) for n in table.classes) or None
            if names and attr_classes and names != attr_classes:
                raise InputError(f"{path}: classes {' '.join(names)} differ from those of the "
                                 f"other files ({' '.join(attr_classes)})")
            attr_classes = attr_classes or names
        else:
            if records is not None:
                raise InputError(f"{path}: a CSV file has no record ids; --records needs HDF5 input")
            rows = read_kaggle_csv(path, check_labels=False)  # checked below, against the classes
            beats.append(rows.beats)
            labels.append(rows.labels)
            recs.append(None)
            pats.append(None)
            positions.append(None)
            rhythm.append(None)
            relative.append(None)
            context.append(None)
            where.append(lambda i, p=path: f"{p}:{i + 1}")
            info.append({"path": str(path), "format": "csv"})
    all_labels = np.concatenate(labels)
    if len(all_labels) == 0:
        raise InputError(f"{', '.join(map(str, paths))}: no labelled beats")
    if class_names is None:
        class_names = attr_classes or default_class_names(paths, database)
    class_names = tuple(class_names)
    for y, locate in zip(labels, where):
        bad = np.flatnonzero((y != np.round(y)) | (y < 0) | (y >= len(class_names)))
        if bad.size:
            raise InputError(f"{locate(int(bad[0]))}: label {y[bad[0]]:g} is not a class id "
                             f"0..{len(class_names) - 1} ({' '.join(class_names)}; other "
                             f"classes: name them with --classes)")
    all_labels = all_labels.astype(np.int64)
    records_all = patients_all = rhythm_all = relative_all = median_all = samples_all = None
    context_all = None
    if all(r is not None for r in recs):
        records_all = np.concatenate(recs)
        patients_all = np.concatenate(pats)
        samples_all = np.concatenate(positions)
        context_all = np.ascontiguousarray(np.concatenate(context))
        if all(r is not None for r in rhythm):
            rhythm_all = np.concatenate(rhythm)
            relative_all = np.concatenate([r[0] for r in relative])
            median_all = np.ascontiguousarray(np.concatenate([r[1] for r in relative]))
    return BeatData(np.ascontiguousarray(np.concatenate(beats)), all_labels, class_names,
                    records_all, patients_all, rhythm_all, [str(p) for p in paths], info,
                    relative_all, median_all, samples=samples_all, context_beats=context_all)


def _labelled_beats(path: Path, records, rhythm: list, relative: list, context: list):
    """The labelled beats of one HDF5 file; appends their RR features to ``rhythm``,
    ``(record-relative features, record median beats)`` to ``relative`` (None when the
    file lacks the records' sampling frequencies) and their neighbouring beats
    (:func:`neighbour_beats`, :data:`CONTEXT_LOADED` a side) to ``context``.

    The intervals, the record's mean interval and its median beat are measured over all
    the file's beats (unlabelled ones too), so leaving a beat out does not lengthen its
    neighbours' intervals.
    """
    table = load_beats(path, records=records, labelled=False)
    keep = np.flatnonzero(table.labels >= 0)
    times = table.times_s()  # None: a file without the records' sampling frequencies
    groups = table.meta["record"].cat.codes.to_numpy()
    rhythm.append(None if times is None else rr_features(times, groups)[keep])
    relative.append(None if times is None else
                    (record_features(table.beats, times, groups)[keep],
                     record_median_beats(table.beats, groups)[keep]))
    context.append(neighbour_beats(table.beats, groups, table.meta["sample"].to_numpy(),
                                   CONTEXT_LOADED)[keep])
    table.beats = np.ascontiguousarray(table.beats[keep])
    table.labels = table.labels[keep]
    table.meta = table.meta.iloc[keep].reset_index(drop=True)
    return table


def model_inputs(model, beats: np.ndarray, rhythm: Optional[np.ndarray],
                 what: str = "these beats", record: Optional[np.ndarray] = None,
                 median: Optional[np.ndarray] = None,
                 second_beats: Optional[np.ndarray] = None,
                 second_median: Optional[np.ndarray] = None,
                 context: Optional[np.ndarray] = None) -> np.ndarray:
    """What ``model`` takes for these beats: the beats, plus RR features if it uses them,
    plus features relative to the beat's record if it uses those, plus the neighbouring
    beats for a context model (:func:`ecgnet.models.context_count`), plus the second
    lead's beat and record median beat for a 2-lead model
    (:func:`ecgnet.models.lead_count`).

    Parameters
    ----------
    model : torch.nn.Module
        A registered model; one with ``rhythm_features = k > 0`` takes each beat's
        ``k`` RR features as extra columns after its 187 samples.
    beats : np.ndarray
        ``(n, 187)`` float32.
    rhythm : np.ndarray or None
        ``(n, 5)`` RR features (:attr:`BeatData.rhythm`), or None where unknown.
    what : str
        Names the input in the error message.
    record : np.ndarray, optional
        ``(n, 10)`` record-relative features (:attr:`BeatData.record_features`), or None
        where unknown; a model with ``record_features = j > 0`` takes the first ``j``.
    median : np.ndarray, optional
        ``(n, 187)`` median beat of each beat's record (:attr:`BeatData.median_beats`),
        for the models that take it last (``median_beat = True``).
    second_beats, second_median : np.ndarray, optional
        ``(n, 187)`` each: the same beats on the record's second lead and that lead's
        record median beat (:attr:`BeatData.second_beats`, ``second_median``), which a
        2-lead model takes after everything else.
    context : np.ndarray, optional
        ``(n, 2 * c', 187)`` beats before and after each beat in its record
        (:func:`neighbour_beats`, :attr:`BeatData.context_beats`), ``c' >= c`` for a model
        of ``c = context_count(model)`` beats a side, which takes the ``c`` nearest on each
        side (before, then after) after the record's median beat.

    Returns
    -------
    np.ndarray
        ``(n, 187)`` or ``(n, 187 + k + j [+ 187] [+ 2c x 187] [+ 2 x 187])`` float32,
        C-contiguous.

    Raises
    ------
    InputError
        The model uses RR or record features and the input has none (Kaggle CSV rows),
        takes two leads and the second is not given, or takes neighbouring beats and
        ``context`` is missing or holds fewer a side.
    """
    k, j, m = rr_columns(model), record_columns(model), median_columns(model)
    leads, c = lead_count(model), context_count(model)
    if c and (context is None or context.shape[1] < 2 * c):
        name = getattr(model, "model_name", type(model).__name__)
        have = 0 if context is None else context.shape[1] // 2
        raise InputError(f"{what}: model {name} takes {c} neighbouring beat(s) a side as "
                         f"context and {have} are given; give the beats HDF5 written by "
                         f"ecg segment (its rows carry record and position)")
    if leads > 1 and (second_beats is None or second_median is None):
        name = getattr(model, "model_name", type(model).__name__)
        raise InputError(f"{what}: model {name} takes {leads} leads and only one is given; "
                         f"give the second lead's beats (second_lead, ecg train/evaluate "
                         f"--second-lead: ecg segment --recipe kaggle --signal 1)")
    if k == 0 and j == 0 and m == 0 and leads == 1 and c == 0:
        return beats
    if rhythm is None or (j and record is None) or (m and median is None):
        name = getattr(model, "model_name", type(model).__name__)
        raise InputError(f"{what}: model {name} uses RR intervals, which "
                         f"these beats do not carry (Kaggle CSV rows never do); give the "
                         f"beats HDF5 written by ecg segment")
    parts = [beats, rhythm[:, :k]] + ([record[:, :j]] if j else []) + ([median] if m else [])
    if c:
        half = context.shape[1] // 2
        parts.append(context[:, half - c:half + c].reshape(len(beats), -1))
    if leads > 1:
        parts += [second_beats, second_median]
    return np.ascontiguousarray(np.concatenate(parts, axis=1), np.float32)


def data_inputs(model, data: BeatData, what: Optional[str] = None) -> np.ndarray:
    """:func:`model_inputs` of all the beats of ``data`` (its RR and record features).

    Examples
    --------
    >>> from ecgnet.models import build_model
    >>> d = BeatData(np.zeros((2, 187), np.float32), np.zeros(2, np.int64), ("N", "S"))
    >>> data_inputs(build_model("kachuee", 2), d).shape
    (2, 187)
    """
    return model_inputs(model, data.beats, data.rhythm,
                        what or ", ".join(data.sources) or "these beats",
                        record=data.record_features, median=data.median_beats,
                        second_beats=data.second_beats, second_median=data.second_median,
                        context=data.context_beats)
