"""RR-interval features of beats: how early or late each beat comes.

A Kaggle-recipe beat starts at its own R peak, so the interval from the previous beat
(prematurity, what separates a supraventricular ectopic beat from a normal one) is not
in its 187 samples. These features carry it next to the beat, computed from the beat
positions that ``ecg segment`` stores (``/sample``, in samples of the original record,
divided by the record's sampling frequency).
"""

from __future__ import annotations

from typing import Tuple

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
    groups = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    n = len(times_s)
    out = np.zeros((n, len(RR_FEATURES)), np.float32)
    if n == 0:
        return out
    order = np.lexsort((times_s, groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    ends = np.r_[starts[1:], n]
    for lo, hi in zip(starts, ends):
        rows = order[lo:hi]
        if hi - lo == 1:
            pre = post = np.array([1.0])
        else:
            intervals = np.clip(np.diff(times_s[rows]), *RR_LIMITS_S)
            pre, post = np.r_[intervals[0], intervals], np.r_[intervals, intervals[-1]]
        local = _centred_median(pre, local_beats)
        out[rows] = np.column_stack([pre, post, local, pre / local, post / local])
    return out


def _centred_median(values: np.ndarray, half: int) -> np.ndarray:
    """Median of ``values[i - half : i + half + 1]`` for every ``i`` (end values repeated
    beyond the ends)."""
    padded = np.pad(values, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.median(windows, axis=1)
