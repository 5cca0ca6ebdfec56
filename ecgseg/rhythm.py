"""RR-interval features of beats: how early or late each beat comes.

A Kaggle-recipe beat starts at its own R peak, so the interval from the previous beat
(prematurity, what separates a supraventricular ectopic beat from a normal one) is not
in its 187 samples. These features carry it next to the beat, computed from the beat
positions that ``ecg segment`` stores (``/sample``, in samples of the original record,
divided by the record's sampling frequency).
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

RR_FEATURES: Tuple[str, ...] = ("pre_rr", "post_rr", "local_rr", "pre_ratio", "post_ratio")
"""Names of the columns :func:`rr_features` returns, in order."""

RR_LIMITS_S = (0.2, 3.0)
"""Intervals are clipped to this range (s): gaps (skipped noisy stretches, record ends)
and double detections would otherwise dominate the features."""

LOCAL_BEATS = 10
"""The local rhythm of a beat is the median interval of this many beats on either side."""


def rr_features(times_s: np.ndarray, groups: np.ndarray,
                local_beats: int = LOCAL_BEATS) -> np.ndarray:
    """RR-interval features of each beat, computed within its record.

    Parameters
    ----------
    times_s : np.ndarray
        ``(n,)`` beat positions (R peak or annotation) in seconds from the record's start.
    groups : np.ndarray
        ``(n,)`` record of each beat (any comparable ids); the beats of one record
        need not be contiguous or sorted.
    local_beats : int
        Half-width, in beats, of the window whose median interval is the local rhythm.

    Returns
    -------
    np.ndarray
        ``(n, 5)`` float32, columns :data:`RR_FEATURES`: the interval from the previous
        beat and to the next one (s, clipped to :data:`RR_LIMITS_S`; a record's first
        beat takes its next interval as previous one, its last the reverse), the local
        median interval (s), and the two intervals divided by it (1 = on time,
        < 1 early). A record with a single beat gets 1 s intervals.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    out = np.zeros((len(times_s), len(RR_FEATURES)), np.float32)
    for rows in _records_in_time_order(times_s, groups):
        if len(rows) == 1:
            pre = post = np.array([1.0])
        else:
            intervals = np.clip(np.diff(times_s[rows]), *RR_LIMITS_S)
            pre, post = np.r_[intervals[0], intervals], np.r_[intervals, intervals[-1]]
        local = _centred_median(pre, local_beats)
        out[rows] = np.column_stack([pre, post, local, pre / local, post / local])
    return out


def _records_in_time_order(times_s: np.ndarray, groups: np.ndarray) -> List[np.ndarray]:
    """Row indices of each record's beats, in time order (ties: row order); one array a
    record, none for no beats."""
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    if len(codes) == 0:
        return []
    order = np.lexsort((times_s, codes))
    sorted_codes = codes[order]
    return np.split(order, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1)


def _centred_median(values: np.ndarray, half: int) -> np.ndarray:
    """Median of ``values[i - half : i + half + 1]`` for every ``i`` (end values repeated
    beyond the ends)."""
    padded = np.pad(values, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.median(windows, axis=1)


RECORD_RR_FEATURES: Tuple[str, ...] = ("pre_record", "post_record", "local_record")
"""Names of the columns :func:`record_rr_features` returns, in order."""


def record_rr_features(times_s: np.ndarray, groups: np.ndarray,
                       local_beats: int = LOCAL_BEATS) -> np.ndarray:
    """RR intervals relative to the record's own mean interval: the patient's rhythm.

    Where ectopic beats are the prevailing rhythm (MIT-BIH record 232: three quarters of
    its beats are atrial premature beats, the normal ones follow long pauses), an interval
    divided by the *local* rhythm says "on time" for the ectopic beats; divided by the
    record's mean interval (pauses included, de Chazal et al. 2004; Mondéjar-Guerra et al.
    2019) it still says "early". The mean comes from the beat positions alone (never the
    labels), so the feature works on a new recording.

    Parameters
    ----------
    times_s : np.ndarray
        ``(n,)`` beat positions in seconds from the record's start.
    groups : np.ndarray
        ``(n,)`` record of each beat (any comparable ids, in any order).
    local_beats : int
        Half-width, in beats, of the local rhythm window (as in :func:`rr_features`).

    Returns
    -------
    np.ndarray
        ``(n, 3)`` float32, columns :data:`RECORD_RR_FEATURES`: the previous interval,
        the next one and the local median interval (columns 0-2 of :func:`rr_features`),
        each divided by the mean of the record's intervals (clipped to
        :data:`RR_LIMITS_S`). 1 = the record's average pace, < 1 faster.

    Examples
    --------
    >>> t = np.array([0.0, 1.0, 2.0, 2.5, 4.0, 5.0])  # one beat 0.5 s early
    >>> record_rr_features(t, np.zeros(6), local_beats=1)[3].round(2).tolist()
    [0.5, 1.5, 1.0]
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    rr = rr_features(times_s, groups, local_beats)
    out = np.ones((len(rr), len(RECORD_RR_FEATURES)), np.float32)
    for rows in _records_in_time_order(times_s, groups):
        intervals = np.diff(times_s[rows])
        mean = float(np.clip(intervals, *RR_LIMITS_S).mean()) if len(intervals) else 1.0
        out[rows] = rr[rows, :3] / mean
    return out


IRREGULARITY_FEATURES: Tuple[str, ...] = ("rr_irregularity",)
"""Name of the column :func:`rr_irregularity` returns."""


def rr_irregularity(times_s: np.ndarray, groups: np.ndarray,
                    local_beats: int = LOCAL_BEATS) -> np.ndarray:
    """How irregular the rhythm around each beat is: 0 for a steady rhythm.

    In atrial fibrillation every interval differs from the one before, so "early" does not
    mean "ectopic": MIT-BIH records 201 and 203 (DS1) hold 758 normal beats that come
    earlier than 0.8 times their record's mean interval, more than DS1's early atrial
    premature beats. An isolated premature beat changes two successive differences only,
    which the median over the window ignores; a fibrillating stretch changes them all.
    Computed from the beat positions alone (never the labels).

    Parameters
    ----------
    times_s : np.ndarray
        ``(n,)`` beat positions in seconds from the record's start.
    groups : np.ndarray
        ``(n,)`` record of each beat (any comparable ids, in any order).
    local_beats : int
        Half-width, in beats, of the window (as in :func:`rr_features`).

    Returns
    -------
    np.ndarray
        ``(n,)`` float32: the median of ``|previous interval - the one before it|`` over
        the ``2 * local_beats + 1`` beats around each beat, divided by the local median
        interval (column ``local_rr`` of :func:`rr_features`). Dimensionless; measured
        on MIT-BIH: median 0.03 for normal beats of sinus rhythm, 0.3-0.5 in
        atrial fibrillation.

    Examples
    --------
    >>> steady = np.arange(8.0)                         # one beat a second
    >>> rr_irregularity(steady, np.zeros(8), local_beats=2).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> t = np.cumsum([0, 1.0, 0.6, 1.3, 0.7, 1.1, 0.5, 1.2])  # every interval differs
    >>> round(float(rr_irregularity(t, np.zeros(8), local_beats=2)[4]), 2)
    0.86
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    rr = rr_features(times_s, groups, local_beats)
    out = np.zeros(len(rr), np.float32)
    for rows in _records_in_time_order(times_s, groups):
        pre = rr[rows, 0].astype(np.float64)
        change = np.abs(np.diff(pre, prepend=pre[0]))
        out[rows] = _centred_median(change, local_beats) / rr[rows, 2]
    return out
