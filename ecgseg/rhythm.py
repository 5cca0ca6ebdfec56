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


ECTOPY_FEATURES: Tuple[str, ...] = ("post_pre_ratio", "regular_prematurity")
"""Names of the columns :func:`ectopy_features` returns, in order."""

REGULARITY_SCALE = 0.1
"""Irregularity (as :func:`rr_irregularity`, own intervals left out) at which
``regular_prematurity`` keeps ``1/e`` of a beat's prematurity: sinus rhythm measures
0.02-0.03 (kept almost whole), atrial fibrillation 0.2-0.5 (shrunk 7-150 fold)."""


def ectopy_features(times_s: np.ndarray, groups: np.ndarray,
                    local_beats: int = LOCAL_BEATS) -> np.ndarray:
    """Is a beat a premature ectopic beat in a steady rhythm, or an early beat of an
    irregular one?

    An atrial premature beat in sinus rhythm comes early against an otherwise steady
    rhythm and is usually followed by a longer interval (the pause after it); a normal
    beat of atrial fibrillation comes early by chance in a rhythm where every interval
    differs (MIT-BIH 201, 203 in DS1; 202, 219, 222 in DS2). Both columns leave the
    beat's own two intervals out of the rhythm they compare it with, so one premature
    beat does not make its own surroundings look irregular. Computed from the beat
    positions alone (never the labels).

    Parameters
    ----------
    times_s : np.ndarray
        ``(n,)`` beat positions in seconds from the record's start.
    groups : np.ndarray
        ``(n,)`` record of each beat (any comparable ids, in any order).
    local_beats : int
        Half-width, in beats, of the window around the beat (as in :func:`rr_features`).

    Returns
    -------
    np.ndarray
        ``(n, 2)`` float32, columns :data:`ECTOPY_FEATURES`:

        - ``post_pre_ratio``: the interval to the next beat over the interval from the
          previous one (intervals clipped to :data:`RR_LIMITS_S`; > 1 after a premature
          beat, about 1 inside a steady run, either way at random in fibrillation);
        - ``regular_prematurity``: ``max(0, 1 - previous interval / r) *
          exp(-g / REGULARITY_SCALE)`` where ``r`` is the median interval of the
          ``2 * local_beats + 1`` beats around, the beat's own previous and next
          intervals left out, and ``g`` the median ``|change of interval|`` there (the
          changes the beat's two intervals take part in left out) over ``r``: how
          early the beat comes, counted only where the rhythm around it is steady.
          0 for a beat on time or late, or in an irregular rhythm; up to 1.

        A record of fewer than 3 beats gets ratio 1 and prematurity 0.

    Examples
    --------
    >>> sinus = np.cumsum([0, 1, 1, 1, 1, 0.6, 1.4, 1, 1, 1, 1])   # one premature beat
    >>> ectopy_features(sinus, np.zeros(11), local_beats=3)[5].astype(float).round(2).tolist()
    [2.33, 0.4]
    >>> af = np.cumsum([0, 1.0, 0.6, 1.3, 0.7, 1.1, 0.6, 1.2, 0.8, 1.0, 0.7])
    >>> float(ectopy_features(af, np.zeros(11), local_beats=3)[6, 1]) < 0.05
    True
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    out = np.zeros((len(times_s), len(ECTOPY_FEATURES)), np.float32)
    out[:, 0] = 1.0
    for rows in _records_in_time_order(times_s, groups):
        if len(rows) < 3:
            continue
        intervals = np.clip(np.diff(times_s[rows]), *RR_LIMITS_S)
        pre, post = np.r_[intervals[0], intervals], np.r_[intervals, intervals[-1]]
        # beat i's own intervals are pre[i] and pre[i + 1] (= post[i]); the changes
        # they take part in are change[i], change[i + 1] and change[i + 2]
        rhythm = _centred_median_without(pre, local_beats, (0, 1))
        change = np.r_[np.nan, np.abs(np.diff(pre))]
        irregularity = _centred_median_without(change, local_beats, (0, 1, 2)) / rhythm
        prematurity = np.maximum(0.0, 1.0 - pre / rhythm)
        out[rows] = np.column_stack(
            [post / pre, prematurity * np.exp(-irregularity / REGULARITY_SCALE)])
    return out


def _centred_median_without(values: np.ndarray, half: int, skip: Tuple[int, ...]) -> np.ndarray:
    """Median of the finite ``values[i - half : i + half + 1]`` for every ``i``, leaving
    out ``values[i + s]`` for each ``s`` in ``skip``; the window is cut at the ends (no
    values made up there). Where nothing is left (short records, small ``half``), the
    median of all the finite values."""
    padded = np.pad(np.asarray(values, np.float64), half, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    keep = np.ones(2 * half + 1, bool)
    keep[[half + s for s in skip if half + s < 2 * half + 1]] = False
    kept = windows[:, keep]
    empty = np.isnan(kept).all(axis=1)
    out = np.full(len(values), np.nanmedian(values) if np.isfinite(values).any() else 1.0)
    if (~empty).any():
        out[~empty] = np.nanmedian(kept[~empty], axis=1)
    return out
