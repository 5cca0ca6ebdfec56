"""``segment_database``: a whole database from raw records to one beats HDF5 file.

Orchestration only. For each record (in ``RECORDS`` order) a worker process (the
local pool of :mod:`ecgseg.workers`, or a Dask cluster with ``scheduler=``: the choice
is :func:`ecgseg.executors.task_map`) runs the recipe's per-record function (resolved by
:func:`ecgseg.recipes.get_recipe`: read the lead, take R peaks from the detector,
segment, label through the :class:`~ecgseg.databases.Database`) and sends back plain
arrays; the parent streams them into the HDF5 file (:class:`ecgseg.store.BeatWriter`)
in record order, so the output is the same for any number of workers (memory: a few
records in flight plus the compressed output, which :class:`ecgseg.store.BeatWriter`
builds in memory and writes in one go). Attributes and source hashes: :mod:`ecgseg.provenance`; the
printed summary: :mod:`ecgseg.summary`.

Recipes (:mod:`ecgseg.recipes.registry`)
----------------------------------------
``paper`` (default)
    The paper's method (:mod:`ecgseg.recipes.paper`) on lead II (MIT-BIH: MLII, PTB:
    ``ii``), physical units. MIT-BIH beats take the class of the nearest reference
    beat annotation within ``tolerance_s`` (150 ms); peaks with none are stored with
    label -1 and left out by :func:`ecgseg.load_beats`. PTB beats take the record's
    diagnosis: 0 healthy control, 1 myocardial infarction, -2 any other diagnosis
    (kept, outside the MI task).
``kaggle``
    How the published Kaggle CSVs were made (:mod:`ecgseg.recipes.kaggle`): MIT-BIH
    from the annotation boundaries of signal 0; PTB from lead ``ii`` of one record per
    healthy-control or MI patient.

Either takes its R peaks from any detector of :mod:`ecgseg.detectors` (``detector=``);
by default its own (paper: ``paper``; kaggle: ``reference`` on MIT-BIH, ``paper`` on PTB).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .databases import Database, get_database, select_kaggle_ptb_records  # noqa: F401
from .errors import EcgError, InputError, RecordError
from .labelling import ptb_label  # noqa: F401  (re-exported)
from .matching import DetectorScore
from .provenance import beats_attrs, detector_score_attrs, file_hashes
from .recipes.registry import PTB_KAGGLE_NOTE, RecordJob, get_recipe, recipe_names  # noqa: F401
from .summary import SegmentSummary

__all__ = ["RecordResult", "RecordTask", "SegmentSummary", "default_output", "default_params",
           "process_record", "segment_database", "segment_record", "warm_up"]


def default_output(db: str | Database, recipe: str = "paper", data_dir=None,
                   detector: str | None = None, params=None) -> Path:
    """Default HDF5 path: ``<data_dir>/beats/<db><suffix>.h5``.

    ``<suffix>`` is the recipe's (``""`` for paper, ``"-kaggle"``), then
    ``-<detector>`` when ``detector`` is not the recipe's default, then ``-snap`` when
    ``params`` snaps the peaks (``snap_peaks``), then ``-sig<k>`` when ``params`` cuts the
    rows from a signal ``k`` other than 0 (``signal``), so that the variants of one recipe
    never share a file name.

    Examples
    --------
    >>> default_output("mitdb", "kaggle", "data").as_posix()
    'data/beats/mitdb-kaggle.h5'
    >>> default_output("mitdb", "paper", "data", detector="reference").as_posix()
    'data/beats/mitdb-reference.h5'
    >>> from ecgseg.recipes.params import KaggleMitdbParams
    >>> default_output("mitdb", "kaggle", "data", detector="qrs",
    ...                params=KaggleMitdbParams(snap_peaks=True)).as_posix()
    'data/beats/mitdb-kaggle-qrs-snap.h5'
    >>> default_output("mitdb", "kaggle", "data", params=KaggleMitdbParams(signal=1)).as_posix()
    'data/beats/mitdb-kaggle-sig1.h5'
    """
    from .config import data_dir as _data_dir

    db = get_database(db)
    r = get_recipe(recipe)
    suffix = r.output_suffix
    if detector is not None and detector != r.default_detector(db):
        suffix += f"-{detector}"
    if getattr(params, "snap_peaks", False):
        suffix += "-snap"
    if getattr(params, "signal", 0):
        suffix += f"-sig{params.signal}"
    return _data_dir(data_dir) / "beats" / f"{db.name}{suffix}.h5"


def default_params(db: str | Database, recipe: str):
    """The recipe's parameter object with its documented defaults for ``db`` (or None)."""
    return get_recipe(recipe).default_params(db)


@dataclass(frozen=True)
class RecordTask:
    """Everything a worker needs to segment one record (picklable)."""

    db: str
    path: str
    name: str
    recipe: str
    params: Any
    lead: str | None
    tolerance_s: float
    detector: str = ""
    detector_params: Any = None
    source: Any = None  # ecgseg.distributed.WorkerSource: fetch the record on the worker


@dataclass
class RecordResult:
    """The beats of one record and what happened on the way."""

    name: str
    patient: str
    beats: np.ndarray | None = None
    labels: np.ndarray | None = None
    symbols: np.ndarray | None = None
    sample: np.ndarray | None = None
    window: np.ndarray | None = None
    n_values: np.ndarray | None = None
    stats: dict = field(default_factory=dict)
    sha256: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    detector: DetectorScore | None = None
    error: str | None = None
    shard: str | None = None  # path of the record's shard (``shards=``), beats not sent


class LazyTasks(Sequence):
    """``[make(n) for n in names]`` as a sequence whose items are made when read.

    The executors read the tasks a few at a time (a bounded window in flight), so a
    run keeps the names, not a :class:`RecordTask` (path, parameters, ...) per record.

    Examples
    --------
    >>> t = LazyTasks(["100", "101", "102"], str.upper)
    >>> len(t), t[1], t[1:], list(t)
    (3, '101', ['101', '102'], ['100', '101', '102'])
    """

    def __init__(self, names: Sequence[str], make: Callable[[str], Any]):
        self.names = names
        self.make = make

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.make(n) for n in self.names[i]]
        return self.make(self.names[i])


def _job(task: RecordTask) -> RecordJob:
    db = get_database(task.db)
    recipe = get_recipe(task.recipe)
    own = recipe.default_detector(db)
    detector = task.detector or own
    return RecordJob(db=db, path=Path(task.path), name=task.name, params=task.params,
                     lead=task.lead, tolerance_s=task.tolerance_s, detector=detector,
                     detector_params=task.detector_params, own_detector=detector == own)


def _run(task: RecordTask, res: RecordResult) -> None:
    out = get_recipe(task.recipe).run(_job(task))
    seg, lab = out.segments, out.labelling
    res.warnings.extend(out.warnings)
    res.warnings.extend(lab.warnings)
    res.beats, res.sample, res.window, res.n_values = seg.beats, seg.sample, seg.window, \
        seg.n_values
    res.labels = np.asarray(lab.labels, dtype=np.int8)
    res.symbols = np.asarray(lab.symbols if lab.symbols is not None
                             else [""] * len(res.labels), dtype="U1")
    res.detector = lab.score
    res.stats.update(out.stats)
    res.stats.update(lab.stats)
    res.stats.update(seg.stats)
    res.stats["beats"] = int(len(res.labels))


def process_record(task: RecordTask) -> RecordResult:
    """Segment one record (runs in a worker process). Errors are returned, not raised."""
    db = get_database(task.db)
    res = RecordResult(name=task.name, patient=db.patient(task.name))
    try:
        if task.source is not None:
            task.source.ensure(task.db, task.name)
        res.sha256 = file_hashes(task.path, task.name, db.record_files)
        _run(task, res)
    except EcgError as exc:
        msg = str(exc)
        res.error = msg if task.name in msg else f"record {task.name}: {msg}"
    except Exception as exc:  # a bad record must not kill the whole database
        res.error = f"record {task.name}: {type(exc).__name__}: {exc}"
    return res


def segment_record(path: str | os.PathLike, db: str | Database = "mitdb", params: Any = None,
                   *, name: str | None = None, lead: str | None = None,
                   tolerance_s: float = 0.15, recipe: str = "paper",
                   detector: str | None = None, detector_params: Any = None) -> RecordResult:
    """Segment one local record (paper recipe by default) and label its beats.

    What :func:`segment_database` does for each record, for a single record and in
    this process: read the lead, take the R peaks, segment, then label the beats
    (MIT-BIH conventions: the nearest ``atr`` beat annotation within ``tolerance_s``,
    with the detector's Se/+P in ``result.detector``; PTB conventions: the header's
    diagnosis).

    Parameters
    ----------
    path : path
        Record path without extension.
    db : str or Database
        Whose conventions to follow (default lead, labels).
    params : PaperParams, optional
        Recipe parameters (default: the recipe's defaults for ``db``).
    name : str, optional
        Record name used in messages and results (default: the path's last part).
    lead : str, optional
        Signal name to read (default: the database's lead II, else signal 0 with a
        warning).
    tolerance_s : float
        Peak-to-annotation match tolerance, s.
    recipe : str
        A registered recipe (:func:`ecgseg.recipes.recipe_names`).
    detector : str, optional
        A registered R-peak detector (default: the recipe's own).
    detector_params : optional
        The detector's parameters (default: its defaults).

    Returns
    -------
    RecordResult
        ``labels`` -1 for beats matching no reference beat (or all -1 without
        annotations); ``stats`` holds ``lead``, ``samples``, ``fs_in`` and the recipe's
        counts.

    Raises
    ------
    RecordError, InputError
        Unreadable record, missing lead, sampling rate the recipe cannot resample.

    Examples
    --------
    >>> res = segment_record("data/physionet/mitdb/1.0.0/100")  # doctest: +SKIP
    >>> res.beats.shape, res.detector.sensitivity                # doctest: +SKIP
    ((1061, 187), 0.46...)
    """
    db = get_database(db)
    r = get_recipe(recipe)
    if detector is not None:
        from .detectors import get_detector

        get_detector(detector)
    path = Path(path)
    name = name or path.name
    task = RecordTask(db=db.name, path=str(path), name=name, recipe=r.name,
                      params=params if params is not None else r.default_params(db),
                      lead=lead, tolerance_s=tolerance_s, detector=detector or "",
                      detector_params=detector_params)
    res = RecordResult(name=name, patient=db.patient(name))
    _run(task, res)
    return res


def warm_up(recipe: str, params: Any = None, detector: str | None = None) -> None:
    """Load (or compile) the recipe's and detector's numba kernels in this process.

    Called before the worker pool forks, so that every worker inherits compiled
    kernels instead of each loading them from the cache on its own (the beat
    matching of the MIT-BIH labels and the annotation decoder included).
    """
    from .annotation_file import decode_mit_annotations
    from .matching import nearest_within, score_detections

    peaks = np.array([10, 300, 600], dtype=np.int64)
    score_detections(peaks, peaks + 5, 54)
    nearest_within(peaks, peaks + 5, 54)
    decode_mit_annotations(np.zeros(1, dtype=np.uint16))
    get_recipe(recipe).warm_up(params)
    if detector:
        from .detectors import get_detector

        get_detector(detector).warm_up()


def _choose_records(db: Database, recipe, names: list[str] | None, data_dir,
                    mirror) -> tuple[list[str], bool]:
    """The records to segment, and whether the recipe's record choice still applies."""
    from .download import record_list

    if names is not None:
        return names, False
    return record_list(db, data_dir, mirror), recipe.kaggle_record_choice


def _ensure_local(db: Database, names: list[str], data_dir, mirror, download: bool,
                  progress: bool) -> None:
    """Download what the records miss; a missing annotation file alone is not fatal.

    When the source is unreachable and only annotation files are missing (the signal
    files are all there), segmentation goes on: the records' beats are unlabelled
    (-1) and each says so in a warning, as the README describes.
    """
    from .download import download_database, missing_records

    if download:
        missing = missing_records(db, names, data_dir)
        if missing:
            try:
                download_database(db, data_dir=data_dir, records=missing, mirror=mirror,
                                  progress=progress)
            except EcgError:
                if missing_records(db, missing, data_dir, extensions=("hea", "dat")):
                    raise
        return
    missing = missing_records(db, names, data_dir, extensions=("hea", "dat"))
    if missing:
        raise EcgError(f"records missing from {db.local_dir(data_dir)}: "
                       f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
                       f"(run ecg download --db {db.name})")


def segment_database(
    db: str | Database,
    *,
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    recipe: str = "paper",
    params: Any = None,
    records: Iterable[str] | None = None,
    lead: str | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    mirror: str | None = None,
    download: bool = True,
    tolerance_s: float = 0.15,
    compression: str = "lzf",
    progress: bool = True,
    detector: str | None = None,
    detector_params: Any = None,
    scheduler: str | None = None,
    shards: str | os.PathLike | None = None,
    worker_data_dir: str | os.PathLike | None = None,
) -> SegmentSummary:
    """Segment every record of a database into one beats HDF5 file.

    Parameters
    ----------
    db : str or Database
        ``"mitdb"`` or ``"ptbdb"``.
    data_dir : path, optional
        Data folder (raw records under ``physionet/``).
    out : path, optional
        Output HDF5 (default :func:`default_output`).
    recipe : str
        A registered recipe: ``"paper"`` or ``"kaggle"`` (see the module docstring).
    params : PaperParams or KagglePtbParams, optional
        Recipe parameters (default :func:`default_params`).
    records : iterable of str, optional
        Subset of records (default: all of ``RECORDS``; for the Kaggle PTB recipe,
        one record per healthy-control or MI patient). A list or tuple is used as
        given; an iterable without a length (a generator, an open file,
        :func:`ecgseg.record_names.read_record_names`) is *streamed*: read once, a name
        at a time as its task is made, so that this process never holds every name
        (:mod:`ecgseg.record_names`); its records are checked and downloaded a block of
        256 at a time, the progress bar counts without a total, and a source file found
        corrupt during the run is an error (the run cannot be repeated after fetching
        it again).
    lead : str, optional
        Signal name to use instead of lead II.
    workers : int, optional
        Worker processes, at least 1 (default: all cores).
    overwrite : bool
        Replace an existing output file.
    mirror : str, optional
        PhysioNet mirror URL for downloading missing records.
    download : bool
        Download missing records first (otherwise they are an error).
    tolerance_s : float
        Peak-to-annotation match tolerance, seconds (MIT-BIH labels and Se/+P).
    compression : {"lzf", "gzip", "none"}
        HDF5 compression (see :mod:`ecgseg.store`).
    progress : bool
        Show a progress bar.
    detector : str, optional
        R-peak detector (:func:`ecgseg.detectors.detector_names`; default: the
        recipe's own, which gives the recipe's unchanged output).
    detector_params : optional
        The detector's parameters (default: its defaults).
    scheduler : str, optional
        Run the records as tasks on a ``dask.distributed`` cluster: ``"local"`` (a
        ``LocalCluster`` of ``workers`` processes on 127.0.0.1) or a scheduler address
        (``"tcp://host:8786"``). Default None: the local process pool. The beats are
        byte-identical either way (:mod:`ecgseg.distributed`).
    shards : path, optional
        Folder where each task writes its record's beats as an HDF5 shard; ``out`` then
        holds virtual datasets over the shards (:mod:`ecgseg.shards`). Default: the
        beats stream to ``out`` itself.
    worker_data_dir : path, optional
        Data folder on the workers' machines: each task downloads its record there
        (from ``mirror``, verified) unless present, and this process needs no copy of
        the records. Default: the workers read ``data_dir`` (a shared path).

    Returns
    -------
    SegmentSummary
        Counts and scores; ``n_records`` records were written, whose names
        ``summary.records`` reads back from ``out`` (the run keeps no list of names).

    Raises
    ------
    EcgError
        Unknown database, recipe or detector, ``workers < 1``, existing output, missing
        data, another process writing ``out``, a full disk, no record could be
        segmented or no beat found. Single bad records are reported in
        ``summary.failed`` instead (``ecg segment`` then exits with status 2).

    Examples
    --------
    >>> s = segment_database("mitdb", records=["100"], detector="reference")  # doctest: +SKIP
    >>> print("\\n".join(s.lines()))                                          # doctest: +SKIP
    """
    from .atomic import refuse_existing
    from .detectors import get_detector

    t0 = time.perf_counter()
    db = get_database(db)
    r = get_recipe(recipe)
    own_detector = r.default_detector(db)
    detector = get_detector(detector or own_detector).name
    if not tolerance_s > 0:
        raise InputError(f"tolerance_s must be > 0, got {tolerance_s}")
    params = params if params is not None else r.default_params(db)
    out = Path(out) if out is not None else default_output(db, r.name, data_dir, detector, params)
    refuse_existing(out, overwrite)
    if workers is not None and workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if scheduler is not None:
        from .distributed import check_scheduler

        scheduler = check_scheduler(scheduler)

    from .record_names import as_names, in_blocks, is_streamed

    streamed = is_streamed(records)
    names, choose = _choose_records(db, r, as_names(records), data_dir, mirror)
    local = worker_data_dir is None or choose  # the record choice reads the headers here
    if streamed:  # checked (and downloaded) a block at a time as the names are read
        if local:
            names = in_blocks(names, lambda block: _ensure_local(
                db, block, data_dir, mirror, download, progress))
    elif local:
        _ensure_local(db, names, data_dir, mirror, download, progress)
    if choose:
        names = db.kaggle_records(names, data_dir, getattr(params, "record_choice", "last"))

    from .records import record_path

    source = None
    if worker_data_dir is not None:
        from .distributed import WorkerSource

        source = WorkerSource(os.fspath(worker_data_dir), mirror)

    def task(n: str) -> RecordTask:
        return RecordTask(db=db.name, name=n, recipe=r.name, params=params, lead=lead,
                          path=(str(record_path(db, n, data_dir)) if source is None
                                else source.record_path(db, n)),
                          tolerance_s=tolerance_s, detector=detector,
                          detector_params=detector_params, source=source)

    # streamed: each task made when the executor reads the next name (no total known)
    tasks = map(task, names) if streamed else LazyTasks(names, task)
    run = _Runner(workers=workers, scheduler=scheduler, shards=shards)
    args = (tasks, db, r, params, out, lead, tolerance_s, detector, detector_params,
            own_detector, run, overwrite, compression, progress, t0)
    # The workers of worker_data_dir verify their own copies (download layer).
    sums = (lambda: {}) if source is not None else (lambda: _local_sums(db, data_dir))
    try:
        return _write(*args, sums=sums())
    except _CorruptSource as bad:
        if streamed:  # read once: the run cannot start again after a fetch
            raise _corrupt_error(db, data_dir, bad, "records given as a stream are read "
                                 "once") from None
        _refetch(db, names, data_dir, mirror, download, progress, bad)
    return _write(*args, sums=sums())


@dataclass(frozen=True)
class _Runner:
    """Where the per-record tasks run (pool or Dask) and where their beats go."""

    workers: int
    scheduler: str | None = None
    shards: str | os.PathLike | None = None


@contextlib.contextmanager
def _orphans_removed(run: _Runner):
    """On any way out but success, remove shard temporaries of the killed local workers.

    An interrupted ``shards=`` run kills its workers (pool or ``"local"`` cluster) when
    its results iterator closes; one of them may have been writing a shard. Complete
    shards stay (a re-run replaces them); a remote cluster's workers clean up their own
    on their next write of the shard.
    """
    try:
        yield
    except BaseException:
        from .distributed import LOCAL

        if run.shards is not None and run.scheduler in (None, LOCAL):
            from .atomic import remove_orphaned_temporaries

            with contextlib.suppress(OSError):
                remove_orphaned_temporaries(run.shards)
        raise


class _CorruptSource(Exception):
    """A record file's SHA-256 differs from ``SHA256SUMS.txt`` (found by a worker)."""

    def __init__(self, files: list[str]):
        super().__init__(", ".join(files))
        self.files = files


def _local_sums(db: Database, data_dir) -> dict[str, str]:
    """The local ``SHA256SUMS.txt`` of the database (empty when there is none)."""
    from .download import SUMS_FILE, parse_sha256sums

    path = db.local_dir(data_dir) / SUMS_FILE
    try:
        return parse_sha256sums(path.read_text(encoding="ascii", errors="replace"))
    except OSError:
        return {}


def _refetch(db: Database, names: list[str], data_dir, mirror, download: bool, progress: bool,
             bad: _CorruptSource) -> None:
    """Fetch the records' corrupt files again, or say which file is corrupt."""
    from .download import download_database

    if not download:
        raise _corrupt_error(db, data_dir, bad) from None
    try:
        download_database(db, data_dir=data_dir, records=names, mirror=mirror,
                          progress=progress)
    except EcgError as exc:
        raise RecordError(f"{_shown(db, data_dir, bad)} fails its SHA-256 checksum and "
                          f"cannot be fetched again: {exc}") from None


def _shown(db: Database, data_dir, bad: _CorruptSource) -> str:
    local = db.local_dir(data_dir)
    return ", ".join(str(local / f) for f in bad.files)


def _corrupt_error(db: Database, data_dir, bad: _CorruptSource, why: str = "") -> RecordError:
    """The error of a corrupt record file that this run does not fetch again."""
    return RecordError(f"{_shown(db, data_dir, bad)} fails its SHA-256 checksum "
                       f"(SHA256SUMS.txt{'; ' + why if why else ''}): "
                       f"run ecg download --db {db.name} to fetch it again")


class _NoBar:
    """What :func:`_write` calls on a progress bar, doing nothing (``progress=False``)."""

    def update(self, n: int = 1) -> None:
        pass

    def write(self, text: str) -> None:
        pass

    def set_postfix(self, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int | None, desc: str, progress: bool):
    """A tqdm bar over ``total`` records (None: a count without a total, for streamed
    names), or a :class:`_NoBar` (tqdm is not imported: ``tqdm.auto`` costs ~0.05-0.1 s
    of a ``--quiet`` run's start-up)."""
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="record", leave=False)


def _write(tasks: LazyTasks | Iterator[RecordTask], db, r, params, out, lead, tolerance_s,
           detector, detector_params, own_detector, run: _Runner, overwrite, compression,
           progress, t0, sums: dict[str, str]) -> SegmentSummary:
    """Run the tasks and stream their results into the HDF5 file, in record order.

    A record file whose SHA-256 (computed by the worker) differs from ``sums`` stops
    the run (:class:`_CorruptSource`; nothing is written) so that it can be fetched
    again.
    """
    from .detectors import get_detector
    from .labels import BEAT_SAMPLES
    from .store import BeatWriter

    classes = list(db.class_names)
    summary = SegmentSummary(out=out, database=db.pn_dir, recipe=r.name,
                             tolerance_s=tolerance_s, detector_name=detector,
                             default_detector=detector == own_detector, note=r.note(db))
    counts = np.zeros(len(classes), dtype=np.int64)
    length = int(getattr(params, "length", BEAT_SAMPLES) or BEAT_SAMPLES)
    if detector_params is None and detector != own_detector:
        # record the values the detector ran with (its parameter class's defaults)
        params_type = get_detector(detector).params_type
        detector_params = params_type() if params_type is not None else None
    attrs = beats_attrs(db, r, params, fs=r.fs(db, params), length=length, lead=lead,
                        tolerance_s=tolerance_s, detector=detector,
                        detector_params=detector_params)
    total = len(tasks) if isinstance(tasks, LazyTasks) else None  # (None: streamed)
    bar = _progress_bar(total, f"segment {db.name}", progress)

    def warm():
        warm_up(r.name, params, None if detector == own_detector else detector)

    from .executors import task_map

    if run.shards is None:
        fn, sink = process_record, BeatWriter(out, length=length, attrs=attrs,
                                              overwrite=overwrite, compression=compression)
    else:
        from functools import partial

        from .shards import ShardIndexWriter, process_record_to_shard

        fn = partial(process_record_to_shard, shards_dir=os.fspath(run.shards), length=length,
                     attrs=attrs, compression=compression)
        sink = ShardIndexWriter(out, length=length, attrs=attrs, overwrite=overwrite,
                                compression=compression)
    with _orphans_removed(run), sink as writer, contextlib.closing(
            task_map(fn, tasks, workers=run.workers, scheduler=run.scheduler,
                     warm_up=warm)) as results:
        for res in results:
            bar.update(1)
            for w in res.warnings:
                summary.warnings.append(w)
                if progress:
                    bar.write(f"warning: {w}")
            if res.error is not None:
                summary.failed.append((res.name, res.error))
                if progress:
                    bar.write(f"warning: skipped {res.error}")
                continue
            corrupt = sorted(f for f, h in res.sha256.items() if f in sums and sums[f] != h)
            if corrupt:
                raise _CorruptSource(corrupt)
            if res.shard is not None:
                writer.append_shard(res.name, res.patient, res.shard, len(res.labels),
                                    stats=res.stats)
            else:
                writer.append_record(res.name, res.patient, res.beats, labels=res.labels,
                                     sample=res.sample, window=res.window,
                                     n_values=res.n_values, symbols=res.symbols,
                                     stats=res.stats)
            writer.add_sources(res.sha256)
            summary.n_records += 1  # (a count: the names are in the file's /records)
            summary.beats += len(res.labels)
            lab = res.labels[res.labels >= 0]
            counts += np.bincount(lab, minlength=len(classes))[: len(classes)]
            summary.unlabelled += int((res.labels < 0).sum())
            if res.detector is not None:
                summary.detector = (res.detector if summary.detector is None
                                    else summary.detector + res.detector)
            bar.set_postfix(beats=summary.beats, refresh=False)
        bar.close()
        if not summary.n_records:
            raise RecordError("no record could be segmented: "
                              + "; ".join(msg for _, msg in summary.failed[:3]))
        if not summary.beats:
            raise RecordError(f"no beat found in {summary.n_records} record(s): check "
                              f"the recipe's parameters (threshold, window, lead); "
                              f"nothing written")
        writer.attrs["detector"] = detector_score_attrs(detector, detector_params,
                                                        summary.detector)
    summary.per_class = {c: int(n) for c, n in zip(classes, counts)}
    summary.seconds = time.perf_counter() - t0
    return summary
