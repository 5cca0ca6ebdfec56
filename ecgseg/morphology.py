"""Beat shape relative to the patient's own: each beat against its record's median beat.

A ventricular beat looks unlike the beats around it, whatever the patient's usual QRS
looks like; a network trained on other patients cannot know that usual shape from one
beat. These features measure each beat against the median beat of its own record,
computed from the record's beats alone (never their labels), so they work on a new
recording too.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from .errors import InputError

MORPHOLOGY_FEATURES: Tuple[str, ...] = ("median_corr", "median_rms")
"""Names of the columns :func:`morphology_features` returns, in order."""

MORPHOLOGY_SAMPLES = 60
"""Samples compared from each beat's start (0.48 s after the R peak at 125 Hz: the QRS
complex and the ST segment). The rest of a Kaggle-recipe beat is cut at a length set by
the RR interval and zero padded, so comparing it would measure the rhythm again
(measured on MIT-BIH: median correlation of N / V beats with their record's median beat
0.98 / 0.42 over 60 samples, 0.80 / 0.50 over all 187)."""

QRS_MORPHOLOGY_FEATURES: Tuple[str, ...] = ("qrs_corr", "qrs_rms")
"""Names of the columns of :func:`morphology_features` over :data:`QRS_SAMPLES`."""

QRS_SAMPLES = 30
"""A shorter comparison (0.25 s after the R peak at 120 Hz: the QRS complex and the start
of the ST segment) that stays clear of the next beat. A Kaggle-recipe beat runs on to the
next R peak (and 20 % of the interval after it), so at fast rates the 60 samples of
:data:`MORPHOLOGY_SAMPLES` hold the next QRS as well: the atrial premature beats of the
tachycardia runs of MIT-BIH 207 and 209 (DS1, 489 of its 943 S beats) correlate 0.60-0.71
with their record's median beat over 60 samples, 0.98 over 20. Over 60 samples the
training records teach "a supraventricular beat does not look like the patient's usual
one", which does not hold on new patients."""


def record_median_beats(beats: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The median beat of each beat's record, sample by sample.

    Parameters
    ----------
    beats : np.ndarray
        ``(n, L)`` beats (any units, e.g. the normalised 187-sample beats of a recipe).
    groups : np.ndarray
        ``(n,)`` record of each beat (any comparable ids, in any order).

    Returns
    -------
    np.ndarray
        ``(n, L)`` float32: row ``i`` is the median over the beats of ``i``'s record.

    Examples
    --------
    >>> b = np.array([[0, 1], [0, 3], [0, 2], [5, 5]], np.float32)
    >>> record_median_beats(b, np.array([0, 0, 0, 1])).tolist()
    [[0.0, 2.0], [0.0, 2.0], [0.0, 2.0], [5.0, 5.0]]
    """
    beats = np.asarray(beats, dtype=np.float32)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    out = np.empty_like(beats)
    for g in np.unique(codes):
        rows = codes == g
        out[rows] = np.median(beats[rows], axis=0)
    return out


def morphology_features(beats: np.ndarray, groups: np.ndarray,
                        samples: int = MORPHOLOGY_SAMPLES) -> np.ndarray:
    """How much each beat differs from its record's median beat.

    Parameters
    ----------
    beats : np.ndarray
        ``(n, L)`` beats (187 samples at 125 Hz in the Kaggle recipe, min-max normalised).
    groups : np.ndarray
        ``(n,)`` record of each beat.
    samples : int
        Compare the first ``samples`` samples of each beat (all of a shorter beat).

    Returns
    -------
    np.ndarray
        ``(n, 2)`` float32, columns :data:`MORPHOLOGY_FEATURES`: the Pearson correlation
        of the beat with its record's median beat (1 = same shape; 0 for a flat beat or
        median), and the root mean square of their difference (in the beats' units).

    Examples
    --------
    >>> b = np.array([[0, 1, 0], [0, 1, 0], [1, 0, 1]], np.float32)
    >>> morphology_features(b, np.zeros(3)).round(3).tolist()
    [[1.0, 0.0], [1.0, 0.0], [-1.0, 1.0]]
    """
    if samples < 1:
        raise InputError(f"samples must be at least 1, got {samples}")
    beats = np.ascontiguousarray(np.asarray(beats, dtype=np.float32)[:, :samples])
    median = record_median_beats(beats, groups)
    a = beats - beats.mean(axis=1, keepdims=True)
    b = median - median.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    corr = np.divide((a * b).sum(axis=1), norm, out=np.zeros(len(beats), np.float32),
                     where=norm > 0)
    rms = np.sqrt(((beats - median) ** 2).mean(axis=1))
    return np.column_stack([corr, rms]).astype(np.float32)
