"""The Kaggle recipe on one record file, one variant per database (``kaggle-recipe.md``).

* MIT-BIH: signal 0 as ADC integers; with the recipe's own detector (``reference``)
  rows are cut at the annotations and take their symbols' AAMI class (bit-exact);
  with another detector they are cut from its peaks the same way and labelled by
  :meth:`Database.label`.
* PTB: lead ii as ADC integers; with the recipe's own detector (``paper``: runs above
  0.9 in 5 s windows) bit-identical to before; with another detector its peaks are
  used inside the windows. Labels from the header's diagnosis.
"""

from __future__ import annotations

import numpy as np

from ..detectors import get_detector
from ..errors import EcgError, RecordError
from ..labelling import label_by_symbols
from ..labels import BEAT_SAMPLES
from ..records import read_lead
from .kaggle import KagglePtbParams, segment_kaggle_mitdb, segment_kaggle_peaks, segment_kaggle_ptb
from .registry import RecipeOutput, RecordJob


def _detector_peaks(job: RecordJob, channel: int | None, annotations,
                    notes: list) -> np.ndarray:
    """The detector's peaks on the lead in mV; its warnings are appended to ``notes``."""
    phys = read_lead(job.path, job.db, lead=job.lead if channel is None else None,
                     channel=channel, physical=True)
    peaks, found = get_detector(job.detector).find_peaks_noting(
        phys.signal, phys.fs, job.detector_params, annotations=annotations, record=job.name)
    notes.extend(found)
    return peaks


KAGGLE_MITDB_FS = 360.0
"""Sampling rate the Kaggle MIT-BIH recipe takes (decimated by 3 to 120 Hz), Hz."""


def _signal_names(job: RecordJob) -> list:
    from ..records import read_header

    return [str(n) for n in read_header(job.path).sig_name]


def run_mitdb(job: RecordJob) -> RecipeOutput:
    """Kaggle MIT-BIH rows of one record (cut at annotations, decimated by 3)."""
    lead = read_lead(job.path, job.db, physical=False, channel=0)
    annotations = job.db.read_reference(job.path)
    stats = dict(lead=lead.lead, samples=lead.n_samples, fs_in=lead.fs)
    notes: list = []
    if (not job.own_detector and lead.lead != job.db.default_lead
            and job.db.default_lead not in _signal_names(job)):
        notes.append(f"record {job.name} has no {job.db.default_lead}; using signal 0 "
                     f"({lead.lead})")
    if not job.own_detector and lead.fs != KAGGLE_MITDB_FS:
        raise RecordError(f"record {job.name} is sampled at {lead.fs:g} Hz: the Kaggle MIT-BIH "
                          f"recipe decimates {KAGGLE_MITDB_FS:g} Hz by 3 (resample it first)")
    if job.own_detector:
        if annotations is None:
            raise RecordError(f"record {job.name} has no atr annotations: the Kaggle recipe "
                              "needs them")
        seg, symbols = segment_kaggle_mitdb(lead.signal, annotations.sample,
                                            annotations.symbol, length=BEAT_SAMPLES)
        labelling = label_by_symbols(symbols)
        stats["annotations"] = int(len(annotations.sample))
    else:
        seg = segment_kaggle_peaks(lead.signal, _detector_peaks(job, 0, annotations, notes),
                                   length=BEAT_SAMPLES)
        labelling = job.db.label(job.name, seg.sample, lead, annotations, job.tolerance_s)
    return RecipeOutput(seg, labelling, stats, notes)


def run_ptb(job: RecordJob) -> RecipeOutput:
    """Kaggle PTB rows of one record (lead ii decimated by 8, 5 s windows)."""
    params = job.params if job.params is not None else KagglePtbParams()
    lead = read_lead(job.path, job.db, lead=job.lead or job.db.default_lead, physical=False)
    annotations = job.db.read_reference(job.path)
    peaks = None
    notes: list = []
    if not job.own_detector:
        peaks = _detector_peaks(job, lead.channel, annotations, notes)
    seg = segment_kaggle_ptb(lead.signal, params, peaks)
    labelling = job.db.label(job.name, seg.sample, lead, annotations, job.tolerance_s)
    stats = dict(lead=lead.lead, samples=lead.n_samples, fs_in=lead.fs)
    return RecipeOutput(seg, labelling, stats, notes)


#: The recipe's variant per database: the Kaggle files were made differently for each.
VARIANTS = {"mitdb": run_mitdb, "ptbdb": run_ptb}


def run(job: RecordJob) -> RecipeOutput:
    """Kaggle rows of one record, by the variant of its database.

    Raises
    ------
    EcgError
        The recipe has no variant for the database.
    """
    try:
        variant = VARIANTS[job.db.name]
    except KeyError:
        raise EcgError(f"recipe 'kaggle' has no variant for database {job.db.name!r} "
                       f"(it has {', '.join(VARIANTS)})") from None
    return variant(job)


def warm_up(params=None) -> None:
    """Compile (or load from numba's cache) both variants' kernels in this process."""
    t = np.arange(4000, dtype=np.float64)
    adc = (np.sin(2 * np.pi * t / 300.0) ** 31 * 1000).astype(np.int64)
    segment_kaggle_mitdb(adc, np.arange(10, 3900, 300, dtype=np.int64), np.array(["N"] * 13))
    segment_kaggle_ptb(adc, params if isinstance(params, KagglePtbParams) else KagglePtbParams())
