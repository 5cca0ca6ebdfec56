"""The paper recipe on one record file: read lead II, take the peaks, segment, label."""

from __future__ import annotations

import numpy as np

from ..detectors import get_detector
from ..errors import InputError
from ..records import read_lead
from .paper import PaperParams, segment_paper
from .registry import RecipeOutput, RecordJob


def run(job: RecordJob) -> RecipeOutput:
    """Segment one record with the paper recipe (see :mod:`ecgseg.recipes.paper`).

    The lead is read in physical units (mV); with the recipe's own detector (``paper``)
    the peaks are the recipe's windowed local maxima, otherwise the detector's peaks
    are used inside each window. Beats are labelled by :meth:`Database.label`.

    Raises
    ------
    RecordError, InputError
        Unreadable record, missing lead, unusable sampling rate, a detector that needs
        annotations on a record without them.
    """
    db = job.db
    params = job.params if job.params is not None else PaperParams()
    lead = read_lead(job.path, db, lead=job.lead, physical=True)
    warnings = [lead.note] if lead.note else []
    annotations = db.read_reference(job.path)
    peaks = None
    if not job.own_detector:
        peaks, notes = get_detector(job.detector).find_peaks_noting(
            lead.signal, lead.fs, job.detector_params, annotations=annotations,
            record=job.name)
        warnings.extend(notes)
    try:
        seg = segment_paper(lead.signal, lead.fs, params, peaks)
    except InputError as exc:
        raise InputError(f"record {job.name}: {exc}") from None
    windows = seg.stats.get("windows", 0)
    if windows == 0:
        warnings.append(f"record {job.name} is shorter than one window: no beats")
    elif seg.stats.get("windows_flat", 0) == windows:
        warnings.append(f"record {job.name}: lead {lead.lead} is flat in every window: "
                        "no beats")
    labelling = db.label(job.name, seg.sample, lead, annotations, job.tolerance_s)
    stats = dict(lead=lead.lead, samples=lead.n_samples, fs_in=lead.fs)
    return RecipeOutput(seg, labelling, stats, warnings)


def warm_up(params=None) -> None:
    """Compile (or load from numba's cache) the paper recipe's kernels in this process."""
    t = np.arange(4000, dtype=np.float64)
    sig = np.sin(2 * np.pi * t / 300.0) ** 31  # sharp peaks every 300 samples
    segment_paper(sig, 360.0, params if isinstance(params, PaperParams) else PaperParams())
