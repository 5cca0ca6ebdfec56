"""Matching detected beats to reference beat annotations (labels and detector quality).

Two questions, two rules:

* Label of a detected peak: the class of the NEAREST reference beat annotation within
  the tolerance (150 ms by default); none within it -> unlabelled.
* Detector quality (sensitivity Se, positive predictivity +P): a one-to-one matching
  in the spirit of ANSI/AAMI EC57, where each reference beat and each detection is
  used at most once (a linear merge of the two sorted lists that pairs each
  detection with its closest free reference within the tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


def nearest_within(detections: np.ndarray, reference: np.ndarray, tolerance: int) -> np.ndarray:
    """Index of the nearest reference position within ``tolerance`` of each detection.

    Parameters
    ----------
    detections : ndarray, int (n,)
        Detected positions, samples (any order).
    reference : ndarray, int (m,)
        Reference positions, samples, sorted ascending.
    tolerance : int
        Largest allowed distance, samples (inclusive).

    Returns
    -------
    ndarray, int64 (n,)
        Index into ``reference``, or -1 where no reference lies within the tolerance.
    """
    det = np.asarray(detections, dtype=np.int64)
    ref = np.asarray(reference, dtype=np.int64)
    if ref.size == 0:
        return np.full(det.shape, -1, dtype=np.int64)
    right = np.clip(np.searchsorted(ref, det), 0, ref.size - 1)
    left = np.clip(right - 1, 0, ref.size - 1)
    use_left = np.abs(det - ref[left]) <= np.abs(ref[right] - det)
    best = np.where(use_left, left, right)
    return np.where(np.abs(ref[best] - det) <= tolerance, best, -1).astype(np.int64)


@njit(cache=True)
def _match_flags(det: np.ndarray, ref: np.ndarray, tol: np.int64) -> np.ndarray:
    """One-to-one merge of sorted detections and references within ``tol`` samples.

    Returns uint8 ``(len(det),)``: 1 where a detection is matched to a reference beat.
    Where two detections compete for one reference (or two references for one
    detection), the closer pair wins; the other detection is spurious (the other
    reference missed).
    """
    flags = np.zeros(det.shape[0], dtype=np.uint8)
    i = 0
    j = 0
    nd = det.shape[0]
    nr = ref.shape[0]
    while i < nd and j < nr:
        d = det[i]
        r = ref[j]
        dist = abs(d - r)
        if dist <= tol:
            if i + 1 < nd and abs(det[i + 1] - r) < dist:
                i += 1  # the next detection is closer to this reference: d is spurious
            elif j + 1 < nr and abs(ref[j + 1] - d) < dist:
                j += 1  # the next reference is closer to this detection: r is missed
            else:
                flags[i] = 1
                i += 1
                j += 1
        elif d < r:
            i += 1
        else:
            j += 1
    return flags


def ventricular_flutter_episodes(samples: np.ndarray, symbols) -> np.ndarray:
    """Ventricular flutter/fibrillation episodes of a record's reference annotations.

    MIT-BIH marks an episode's start with ``[`` and its end with ``]`` (inside, flutter
    waves ``!``, which are not beats). An episode without its ``]`` runs to the end.

    Parameters
    ----------
    samples : ndarray, int (k,)
        Annotation positions, samples.
    symbols : sequence of str (k,)
        Annotation symbols.

    Returns
    -------
    ndarray, int64 (m, 2)
        ``[start, end]`` of each episode, samples, both inclusive.

    Examples
    --------
    >>> ventricular_flutter_episodes(np.array([5, 10, 20, 30, 40]), ["N", "[", "!", "]", "N"]).tolist()
    [[10, 30]]
    """
    out = []
    start = None
    for pos, sym in zip(np.asarray(samples, dtype=np.int64).tolist(), symbols):
        if sym == "[" and start is None:
            start = pos
        elif sym == "]" and start is not None:
            out.append((start, pos))
            start = None
    if start is not None:
        out.append((start, np.iinfo(np.int64).max))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def _inside(positions: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """bool (n,): position inside one of the inclusive ``[start, end]`` intervals (m, 2)."""
    if intervals.size == 0:
        return np.zeros(positions.shape, dtype=bool)
    starts = np.sort(intervals[:, 0])
    ends = intervals[np.argsort(intervals[:, 0]), 1]
    k = np.searchsorted(starts, positions, side="right") - 1
    return (k >= 0) & (positions <= ends[np.clip(k, 0, None)])


@dataclass
class DetectorScore:
    """Beat-detection quality against reference annotations.

    Attributes
    ----------
    reference : int
        Reference beats.
    detected : int
        Detections.
    matched : int
        One-to-one matches within the tolerance.
    """

    reference: int
    detected: int
    matched: int

    @property
    def sensitivity(self) -> float:
        """Se = matched / reference beats (NaN without reference beats)."""
        return self.matched / self.reference if self.reference else float("nan")

    @property
    def positive_predictivity(self) -> float:
        """+P = matched / detections (NaN without detections)."""
        return self.matched / self.detected if self.detected else float("nan")

    def __add__(self, other: "DetectorScore") -> "DetectorScore":
        return DetectorScore(self.reference + other.reference, self.detected + other.detected,
                             self.matched + other.matched)


def score_detections(detections: np.ndarray, reference: np.ndarray,
                     tolerance: int, *, excluded: np.ndarray | None = None) -> DetectorScore:
    """One-to-one match of detections to reference beats (both in samples).

    Parameters
    ----------
    detections, reference : ndarray, int
        Positions in samples (sorted here; duplicates in ``detections`` count once each).
    tolerance : int
        Largest allowed distance, samples (inclusive).
    excluded : ndarray, int (m, 2), optional
        Inclusive ``[start, end]`` sample intervals left out of the scoring, as ANSI/AAMI
        EC57 (and EC38) prescribe for ventricular flutter/fibrillation episodes
        (:func:`ventricular_flutter_episodes`): reference beats inside are dropped, and a
        detection inside that matches no reference beat is not counted (neither a true
        nor a false positive; PhysioNet's ``bxb`` does the same). ``None``: every beat
        and detection counts.

    Examples
    --------
    >>> ref = np.array([100, 400, 1000])
    >>> det = np.array([101, 398, 600, 650, 1003])            # 600, 650: waves of a flutter episode
    >>> s = score_detections(det, ref, 54)
    >>> (s.detected, s.matched)
    (5, 3)
    >>> s = score_detections(det, ref, 54, excluded=np.array([[550, 700]]))
    >>> (s.detected, s.matched, s.positive_predictivity)
    (3, 3, 1.0)
    """
    det = np.ascontiguousarray(np.sort(np.asarray(detections, dtype=np.int64)))
    ref = np.ascontiguousarray(np.sort(np.asarray(reference, dtype=np.int64)))
    if excluded is None:
        matched = _match_flags(det, ref, np.int64(tolerance))
        return DetectorScore(int(ref.size), int(det.size), int(np.count_nonzero(matched)))
    intervals = np.asarray(excluded, dtype=np.int64).reshape(-1, 2)
    ref = np.ascontiguousarray(ref[~_inside(ref, intervals)])
    matched = _match_flags(det, ref, np.int64(tolerance)).astype(bool)
    uncounted = int(np.count_nonzero(~matched & _inside(det, intervals)))
    return DetectorScore(int(ref.size), int(det.size) - uncounted, int(np.count_nonzero(matched)))
