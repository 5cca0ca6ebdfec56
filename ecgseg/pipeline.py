"""``segment_database``: a whole database from raw records to one beats HDF5 file.

For each record (in ``RECORDS`` order) a worker process reads the lead with wfdb,
runs the recipe's kernels over the whole record, labels the beats, and sends back
plain arrays; the parent streams them into the HDF5 file in record order, so memory
is bounded by a few records and the output is the same for any number of workers.

Recipes
-------
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
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import multiprocessing
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from tqdm.auto import tqdm

from .databases import Database, get_database
from .errors import EcgError, InputError, RecordError
from .matching import DetectorScore, nearest_within, score_detections
from .records import read_annotations, read_header, read_lead, ptb_diagnosis, record_path
from .splits import mitdb_patient, ptbdb_patient
from .store import OUT_OF_TASK, UNMATCHED, BeatWriter

RECIPES = ("paper", "kaggle")
CLASSES = {"mitdb": ["N", "S", "V", "F", "Q"], "ptbdb": ["normal", "MI"]}
PTB_LABELS = {"healthy control": 0, "myocardial infarction": 1}
PTB_KAGGLE_NOTE = ("note: the PTB half of the Kaggle recipe is established to 5e-4 on a lossy "
                   "copy of one record (patient165/s0323lre), not yet bit-exact")


def default_output(db: str | Database, recipe: str = "paper", data_dir=None) -> Path:
    """Default HDF5 path: ``<data_dir>/beats/<db>.h5`` (``<db>-kaggle.h5`` for kaggle)."""
    from .config import data_dir as _data_dir

    db = get_database(db) if isinstance(db, str) else db
    suffix = "" if recipe == "paper" else f"-{recipe}"
    return _data_dir(data_dir) / "beats" / f"{db.name}{suffix}.h5"


def default_params(db: str | Database, recipe: str):
    """The recipe's parameter object with its documented defaults for ``db``."""
    db = get_database(db) if isinstance(db, str) else db
    if recipe == "paper":
        from .recipes.paper import PaperParams
        return PaperParams()
    if recipe == "kaggle":
        if db.name == "ptbdb":
            from .recipes.kaggle import KagglePtbParams
            return KagglePtbParams()
        return None
    raise EcgError(f"unknown recipe {recipe!r}: choose one of {', '.join(RECIPES)}")


def ptb_label(diagnosis: str) -> int:
    """MI-task label of a PTB diagnosis: 0 healthy control, 1 MI, -2 other."""
    return PTB_LABELS.get(diagnosis.strip().lower(), OUT_OF_TASK)


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


def _file_hashes(db: Database, path: Path, name: str) -> dict[str, str]:
    out = {}
    for ext in db.record_files:
        p = Path(f"{path}.{ext}")
        if p.exists():
            out[f"{name}.{ext}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def process_record(task: RecordTask) -> RecordResult:
    """Segment one record (runs in a worker process). Errors are returned, not raised."""
    db = get_database(task.db)
    path = Path(task.path)
    patient = mitdb_patient(task.name) if db.name == "mitdb" else ptbdb_patient(task.name)
    res = RecordResult(name=task.name, patient=patient)
    try:
        res.sha256 = _file_hashes(db, path, task.name)
        if task.recipe == "paper":
            _paper(res, db, path, task.params, task.lead, task.tolerance_s)
        elif task.recipe == "kaggle" and db.name == "mitdb":
            _kaggle_mitdb(task, db, path, res)
        elif task.recipe == "kaggle":
            _kaggle_ptb(task, db, path, res)
        else:
            raise EcgError(f"unknown recipe {task.recipe!r}")
    except EcgError as exc:
        msg = str(exc)
        res.error = msg if task.name in msg else f"record {task.name}: {msg}"
    except Exception as exc:  # a bad record must not kill the whole database
        res.error = f"record {task.name}: {type(exc).__name__}: {exc}"
    return res


def _fill(res: RecordResult, seg, labels: np.ndarray, symbols) -> None:
    res.beats = seg.beats
    res.sample = seg.sample
    res.window = seg.window
    res.n_values = seg.n_values
    res.labels = np.asarray(labels, dtype=np.int8)
    res.symbols = np.asarray(symbols if symbols is not None else [""] * len(labels),
                             dtype="U1")
    res.stats.update({k: v for k, v in seg.stats.items()})
    res.stats["beats"] = int(len(labels))


def segment_record(path: str | os.PathLike, db: str | Database = "mitdb", params: Any = None,
                   *, name: str | None = None, lead: str | None = None,
                   tolerance_s: float = 0.15) -> RecordResult:
    """Segment one local record with the paper recipe and label its beats.

    What :func:`segment_database` does for each record of the paper recipe, for a
    single record and in this process: read the lead, run
    :func:`~ecgseg.recipes.paper.segment_paper`, then label the beats (MIT-BIH
    conventions: the nearest ``atr`` beat annotation within ``tolerance_s``, with the
    detector's Se/+P in ``result.detector``; PTB conventions: the header's diagnosis).

    Parameters
    ----------
    path : path
        Record path without extension.
    db : str or Database
        Whose conventions to follow (default lead, labels).
    params : PaperParams, optional
        Recipe parameters (default ``PaperParams()``).
    name : str, optional
        Record name used in messages and results (default: the path's last part).
    lead : str, optional
        Signal name to read (default: the database's lead II, else signal 0 with a
        warning).
    tolerance_s : float
        Peak-to-annotation match tolerance, s.

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
    """
    from .recipes.paper import PaperParams

    db = get_database(db) if isinstance(db, str) else db
    path = Path(path)
    name = name or path.name
    patient = mitdb_patient(name) if db.name == "mitdb" else ptbdb_patient(name)
    res = RecordResult(name=name, patient=patient)
    _paper(res, db, path, params if params is not None else PaperParams(), lead, tolerance_s)
    return res


def _paper(res: RecordResult, db: Database, path: Path, params: Any, lead_name: str | None,
           tolerance_s: float) -> None:
    from .labels import aami_label
    from .recipes.paper import segment_paper

    lead = read_lead(path, db, lead=lead_name, physical=True)
    if lead.note:
        res.warnings.append(lead.note)
    try:
        seg = segment_paper(lead.signal, lead.fs, params)
    except InputError as exc:
        raise InputError(f"record {res.name}: {exc}") from None
    res.stats.update(lead=lead.lead, samples=lead.n_samples, fs_in=lead.fs)
    windows = seg.stats.get("windows", 0)
    if windows == 0:
        res.warnings.append(f"record {res.name} is shorter than one window: no beats")
    elif seg.stats.get("windows_flat", 0) == windows:
        res.warnings.append(f"record {res.name}: lead {lead.lead} is flat in every window: "
                            "no beats")
    if db.name == "mitdb":
        ann = read_annotations(path, "atr")
        if ann is None:
            res.warnings.append(f"record {res.name} has no atr annotations: its beats are "
                                "unlabelled (-1)")
            labels = np.full(len(seg.sample), UNMATCHED, dtype=np.int8)
            symbols = None
            res.stats["label_source"] = "none"
        else:
            cls = aami_label(ann.symbol)
            is_beat = cls >= 0
            ref = ann.sample[is_beat]
            ref_cls = cls[is_beat]
            tol = int(round(tolerance_s * lead.fs))
            idx = nearest_within(seg.sample, ref, tol)
            labels = np.where(idx >= 0, ref_cls[np.maximum(idx, 0)], UNMATCHED)
            symbols = np.where(idx >= 0, ann.symbol[is_beat][np.maximum(idx, 0)], "")
            score = score_detections(seg.sample, ref, tol)
            res.detector = score
            res.stats.update(label_source="atr", reference_beats=score.reference,
                             matched_beats=score.matched,
                             unmatched_peaks=int((idx < 0).sum()),
                             sensitivity=score.sensitivity,
                             positive_predictivity=score.positive_predictivity)
    else:
        diagnosis = ptb_diagnosis(lead)
        res.stats.update(label_source="header", diagnosis=diagnosis)
        labels = np.full(len(seg.sample), ptb_label(diagnosis), dtype=np.int8)
        symbols = None
    _fill(res, seg, labels, symbols)


def _kaggle_mitdb(task: RecordTask, db: Database, path: Path, res: RecordResult) -> None:
    from .labels import aami_label
    from .recipes.kaggle import segment_kaggle_mitdb

    lead = read_lead(path, db, physical=False, channel=0)
    ann = read_annotations(path, "atr")
    if ann is None:
        raise RecordError(f"record {task.name} has no atr annotations: the Kaggle recipe "
                          "needs them")
    seg, symbols = segment_kaggle_mitdb(lead.signal, ann.sample, ann.symbol,
                                        length=187)
    res.stats.update(lead=lead.lead, samples=lead.n_samples, fs_in=lead.fs,
                     label_source="atr", annotations=int(len(ann.sample)))
    _fill(res, seg, aami_label(symbols), symbols)


def _kaggle_ptb(task: RecordTask, db: Database, path: Path, res: RecordResult) -> None:
    from .recipes.kaggle import segment_kaggle_ptb

    lead = read_lead(path, db, lead=task.lead or "ii", physical=False)
    diagnosis = ptb_diagnosis(lead)
    seg = segment_kaggle_ptb(lead.signal, task.params)
    res.stats.update(lead=lead.lead, samples=lead.n_samples, fs_in=lead.fs,
                     label_source="header", diagnosis=diagnosis)
    _fill(res, seg, np.full(len(seg.sample), ptb_label(diagnosis), dtype=np.int8), None)


def select_kaggle_ptb_records(names: Sequence[str], diagnoses: dict[str, str],
                              choice: str = "last") -> list[str]:
    """Records the Kaggle PTB recipe uses: HC/MI patients, one record each (or all).

    Parameters
    ----------
    names : sequence of str
        Record names (``patientNNN/sXXXX``) in ``RECORDS`` order.
    diagnoses : dict
        Record name -> ``Reason for admission``.
    choice : {"last", "first", "all"}
        Which record of each patient.
    """
    if choice not in ("last", "first", "all"):
        raise EcgError(f"unknown record choice {choice!r}: last, first or all")
    by_patient: dict[str, list[str]] = {}
    for name in names:
        if ptb_label(diagnoses.get(name, "")) >= 0:
            by_patient.setdefault(ptbdb_patient(name), []).append(name)
    if choice == "all":
        return [n for recs in by_patient.values() for n in recs]
    pick = -1 if choice == "last" else 0
    keep = {recs[pick] for recs in by_patient.values()}
    return [n for n in names if n in keep]


@dataclass
class SegmentSummary:
    """What ``segment_database`` produced."""

    out: Path
    database: str
    recipe: str
    records: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    beats: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    unlabelled: int = 0
    detector: DetectorScore | None = None
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """Human summary, a few lines."""
        classes = ", ".join(f"{k} {v}" for k, v in self.per_class.items())
        out = [f"{self.database} ({self.recipe} recipe): {len(self.records)} records, "
               f"{self.beats} beats in {self.seconds:.1f} s -> {self.out}",
               f"beats per class: {classes}"
               + (f"; {self.unlabelled} without a class" if self.unlabelled else "")]
        if self.detector is not None and self.detector.reference:
            d = self.detector
            out.append(f"R-peak detector vs reference beats (150 ms): Se {100 * d.sensitivity:.2f} %"
                       f", +P {100 * d.positive_predictivity:.2f} % ({d.matched} of "
                       f"{d.reference} beats found, {d.detected} peaks)")
        if self.recipe == "kaggle" and self.database.startswith("ptbdb"):
            out.append(PTB_KAGGLE_NOTE)
        if self.failed:
            out.append(f"{len(self.failed)} record(s) failed: "
                       + "; ".join(msg for _, msg in self.failed))
        return out


def warm_up(recipe: str, params: Any = None) -> None:
    """Load (or compile) the recipe's numba kernels in this process.

    Called before the worker pool forks, so that every worker inherits compiled
    kernels instead of each loading them from the cache on its own (the beat
    matching of the MIT-BIH labels included).
    """
    peaks = np.array([10, 300, 600], dtype=np.int64)
    score_detections(peaks, peaks + 5, 54)
    nearest_within(peaks, peaks + 5, 54)
    from .annotation_file import decode_mit_annotations

    decode_mit_annotations(np.zeros(1, dtype=np.uint16))
    t = np.arange(4000, dtype=np.float64)
    sig = np.sin(2 * np.pi * t / 300.0) ** 31  # sharp peaks every 300 samples
    if recipe == "paper":
        from .recipes.paper import PaperParams, segment_paper
        segment_paper(sig, 360.0, params if params is not None else PaperParams())
    else:
        from .recipes.kaggle import KagglePtbParams, segment_kaggle_mitdb, segment_kaggle_ptb
        adc = (sig * 1000).astype(np.int64)
        segment_kaggle_mitdb(adc, np.arange(10, 3900, 300, dtype=np.int64),
                             np.array(["N"] * 13))
        segment_kaggle_ptb(adc, params if isinstance(params, KagglePtbParams)
                           else KagglePtbParams())


def _fork_context():
    """``fork`` where it is available and safe (Linux): workers inherit the compiled
    kernels (:func:`warm_up`). Python 3.14 made ``forkserver`` the default there; elsewhere
    (macOS, Windows) the platform default, whose workers load the kernels from numba's cache."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def _ordered_results(tasks: list[RecordTask], workers: int) -> Iterator[RecordResult]:
    """Run tasks, yielding results in task order with at most ~2*workers in flight."""
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield process_record(t)
        return
    warm_up(tasks[0].recipe, tasks[0].params)
    with ProcessPoolExecutor(max_workers=workers, mp_context=_fork_context()) as pool:
        pending: list[Future] = []
        it = iter(tasks)
        try:
            for t in it:
                pending.append(pool.submit(process_record, t))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                result = pending.pop(0).result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(process_record, nxt))
                yield result
        except BaseException:
            for f in pending:
                f.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


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
    recipe : {"paper", "kaggle"}
        See the module docstring.
    params : PaperParams or KagglePtbParams, optional
        Recipe parameters (default :func:`default_params`).
    records : iterable of str, optional
        Subset of records (default: all of ``RECORDS``; for the Kaggle PTB recipe,
        one record per healthy-control or MI patient).
    lead : str, optional
        Signal name to use instead of lead II.
    workers : int, optional
        Worker processes (default: all cores).
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

    Returns
    -------
    SegmentSummary

    Raises
    ------
    EcgError
        Unknown database or recipe, existing output, missing data, or no record could
        be segmented. Single bad records are reported in ``summary.failed`` instead.
    """
    from . import __version__
    from .download import download_database, missing_records, record_list

    t0 = time.perf_counter()
    db = get_database(db) if isinstance(db, str) else db
    if recipe not in RECIPES:
        raise EcgError(f"unknown recipe {recipe!r}: choose one of {', '.join(RECIPES)}")
    params = params if params is not None else default_params(db, recipe)
    out = Path(out) if out is not None else default_output(db, recipe, data_dir)
    if out.exists() and not overwrite:
        raise EcgError(f"output {out} exists (use --overwrite to replace it)")
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))

    names = list(records) if records is not None else None
    if names is None:
        names = record_list(db, data_dir, mirror)
    if download:
        missing = missing_records(db, names, data_dir)
        if missing:
            download_database(db, data_dir=data_dir, records=missing, mirror=mirror,
                              progress=progress)
    else:
        missing = missing_records(db, names, data_dir, extensions=("hea", "dat"))
        if missing:
            raise EcgError(f"records missing from {db.local_dir(data_dir)}: "
                           f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''} "
                           f"(run ecg download --db {db.name})")
    if recipe == "kaggle" and db.name == "ptbdb" and records is None:
        diagnoses = {n: ptb_diagnosis(read_header(record_path(db, n, data_dir)))
                     for n in names}
        names = select_kaggle_ptb_records(names, diagnoses,
                                          getattr(params, "record_choice", "last"))

    tasks = [RecordTask(db=db.name, path=str(record_path(db, n, data_dir)), name=n,
                        recipe=recipe, params=params, lead=lead, tolerance_s=tolerance_s)
             for n in names]
    classes = CLASSES[db.name]
    summary = SegmentSummary(out=out, database=db.pn_dir, recipe=recipe)
    counts = np.zeros(len(classes), dtype=np.int64)
    sha: dict[str, str] = {}
    length = int(getattr(params, "length", 187) or 187)
    attrs = {
        "database": db.name, "version": db.version, "recipe": recipe,
        "params": _params_dict(params) | {"tolerance_s": tolerance_s, "lead": lead},
        "classes": classes, "length": length,
        "fs": float(getattr(params, "fs", 0) or _recipe_fs(db, recipe)),
        "toolkit_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    bar = tqdm(total=len(tasks), desc=f"segment {db.name}", unit="record",
               disable=not progress, leave=False)
    with BeatWriter(out, length=length, attrs=attrs, overwrite=overwrite,
                    compression=compression) as writer:
        for res in _ordered_results(tasks, workers):
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
            writer.append_record(res.name, res.patient, res.beats, labels=res.labels,
                                 sample=res.sample, window=res.window,
                                 n_values=res.n_values, symbols=res.symbols,
                                 stats=res.stats)
            sha.update(res.sha256)
            summary.records.append(res.name)
            summary.beats += len(res.labels)
            lab = res.labels[res.labels >= 0]
            counts += np.bincount(lab, minlength=len(classes))[: len(classes)]
            summary.unlabelled += int((res.labels < 0).sum())
            if res.detector is not None:
                summary.detector = (res.detector if summary.detector is None
                                    else summary.detector + res.detector)
            bar.set_postfix(beats=summary.beats, refresh=False)
        bar.close()
        if not summary.records:
            raise RecordError("no record could be segmented: "
                              + "; ".join(msg for _, msg in summary.failed[:3]))
        writer.attrs["source_sha256"] = sha
        if summary.detector is not None:
            writer.attrs["detector"] = {
                "reference_beats": summary.detector.reference,
                "detected": summary.detector.detected,
                "matched": summary.detector.matched,
                "sensitivity": summary.detector.sensitivity,
                "positive_predictivity": summary.detector.positive_predictivity}
    summary.per_class = {c: int(n) for c, n in zip(classes, counts)}
    summary.seconds = time.perf_counter() - t0
    return summary


def _params_dict(params: Any) -> dict:
    if params is None:
        return {}
    if dataclasses.is_dataclass(params):
        return dataclasses.asdict(params)
    return dict(params)


def _recipe_fs(db: Database, recipe: str) -> float:
    if recipe == "kaggle":
        return 120.0 if db.name == "mitdb" else 125.0
    return 125.0
