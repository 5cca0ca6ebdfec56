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
from ..labels import BEAT_SAMPLES, aami_label
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


def snapped_unique(signal: np.ndarray, fs: float, peaks: np.ndarray):
    """Peaks moved to the ``qrs`` fiducial, and which of them give distinct positions.

    Parameters
    ----------
    signal : ndarray (n,)
        The lead the rows are cut from (ADC values or mV: same positions).
    fs : float
        Its sampling rate, Hz.
    peaks : ndarray, int64 (k,)
        Ascending peaks (annotations or a detector's).

    Returns
    -------
    snapped : ndarray, int64 (m,)
        Strictly increasing snapped positions.
    kept : ndarray, int64 (m,)
        Index into ``peaks`` of the peak each came from (of peaks snapping onto one
        sample, or past a later one, the first in order is kept).

    Examples
    --------
    >>> t = np.arange(3600) / 360.0
    >>> ecg = sum(np.exp(-0.5 * ((t - s / 360.0) / 0.012) ** 2) for s in (500, 1500, 2500))
    >>> snapped_unique(ecg, 360.0, np.array([498, 501, 1503, 2497]))
    (array([ 500, 1500, 2500]), array([0, 2, 3]))
    """
    from ..detectors.qrs import snap_peaks

    snapped = snap_peaks(signal, fs, peaks)
    keep = np.ones(snapped.shape[0], dtype=bool)
    if snapped.size:
        running = np.maximum.accumulate(snapped)
        keep[1:] = snapped[1:] > running[:-1]
    kept = np.flatnonzero(keep).astype(np.int64)
    return snapped[kept], kept


def _other_signal(job: RecordJob, signal: int, lead0):
    """Signal ``signal`` of the record (ADC values), checked to match signal 0's length
    and rate (the rows of both are cut at signal 0's positions)."""
    from ..records import read_header

    n_signals = len(read_header(job.path).sig_name)
    if signal >= n_signals:
        raise RecordError(f"record {job.name} has no signal {signal} (signal must be < "
                          f"{n_signals})")
    other = read_lead(job.path, job.db, physical=False, channel=signal)
    if other.n_samples != lead0.n_samples or other.fs != lead0.fs:
        raise RecordError(f"record {job.name}: signal {signal} has {other.n_samples} samples "
                          f"at {other.fs:g} Hz, signal 0 {lead0.n_samples} at {lead0.fs:g}")
    return other


def _run_mitdb_snapped(job: RecordJob, lead, annotations, notes: list, stats: dict,
                       cut=None):
    """Rows cut from peaks moved to the ``qrs`` fiducial (``KaggleMitdbParams.snap_peaks``).

    The recipe's own detector: the beat annotations are snapped and each row keeps its
    annotation's symbol; another detector: its peaks are snapped and each row is labelled
    by the database from the detected (unsnapped) peak, so labels and the detector's Se/+P
    are those of the peaks that were moved.
    """
    if job.own_detector:  # (run_mitdb checked that the record has annotations)
        symbols = np.asarray(list(annotations.symbol), dtype=str)
        is_beat = aami_label(symbols) >= 0
        peaks, symbols = np.asarray(annotations.sample, dtype=np.int64)[is_beat], symbols[is_beat]
        stats["annotations"] = int(len(annotations.sample))
    else:
        peaks = np.sort(_detector_peaks(job, 0, annotations, notes))
    snapped, kept = snapped_unique(lead.signal, lead.fs, peaks)
    seg = segment_kaggle_peaks((lead if cut is None else cut).signal, snapped,
                               length=BEAT_SAMPLES)
    rows = kept[:len(seg.sample)]
    if job.own_detector:
        labelling = label_by_symbols(symbols[rows])
    else:
        labelling = job.db.label(job.name, peaks[rows], lead, annotations, job.tolerance_s)
    seg.stats = dict(seg.stats, peaks_snapped=int(peaks.shape[0]),
                     peaks_moved=int((snapped != peaks[kept]).sum()),
                     peaks_merged=int(peaks.shape[0] - snapped.shape[0]))
    return seg, labelling


def run_mitdb(job: RecordJob) -> RecipeOutput:
    """Kaggle MIT-BIH rows of one record (cut at annotations, decimated by 3; with
    ``snap_peaks``, at the snapped beat annotations or detected peaks).

    Peaks, bounds and labels come from signal 0; the rows are cut from signal
    ``params.signal`` (0 by default), so files of two signals pair row by row.
    """
    lead = read_lead(job.path, job.db, physical=False, channel=0)
    signal = getattr(job.params, "signal", 0) if job.params is not None else 0
    cut = lead if signal == 0 else _other_signal(job, signal, lead)
    annotations = job.db.read_reference(job.path)
    stats = dict(lead=cut.lead, samples=lead.n_samples, fs_in=lead.fs)
    notes: list = []
    if (not job.own_detector and lead.lead != job.db.default_lead
            and job.db.default_lead not in _signal_names(job)):
        notes.append(f"record {job.name} has no {job.db.default_lead}; using signal 0 "
                     f"({lead.lead})")
    if not job.own_detector and lead.fs != KAGGLE_MITDB_FS:
        raise RecordError(f"record {job.name} is sampled at {lead.fs:g} Hz: the Kaggle MIT-BIH "
                          f"recipe decimates {KAGGLE_MITDB_FS:g} Hz by 3 (resample it first)")
    if job.own_detector and annotations is None:
        raise RecordError(f"record {job.name} has no atr annotations: the Kaggle recipe "
                          "needs them")
    if job.params is not None and job.params.snap_peaks:
        seg, labelling = _run_mitdb_snapped(job, lead, annotations, notes, stats, cut)
    elif job.own_detector:
        seg, symbols = segment_kaggle_mitdb(cut.signal, annotations.sample,
                                            annotations.symbol, length=BEAT_SAMPLES)
        labelling = label_by_symbols(symbols)
        stats["annotations"] = int(len(annotations.sample))
    else:
        seg = segment_kaggle_peaks(cut.signal, _detector_peaks(job, 0, annotations, notes),
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
