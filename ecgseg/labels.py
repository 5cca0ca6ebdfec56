"""AAMI EC57 heartbeat classes from MIT-BIH annotation symbols, and beat matching.

Classes (``docs/data-and-labels.md``)::

    N 0: N L R e j      S 1: A a J S      V 2: V E      F 3: F      Q 4: / f Q

Every other symbol (rhythm ``+``, noise ``~``, ``|``, ``x``, ``"``, ``!``, ``[``,
``]``, ...) is not a beat: class -1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")

AAMI_MAP: dict[str, int] = {
    "N": 0, "L": 0, "R": 0, "e": 0, "j": 0,
    "A": 1, "a": 1, "J": 1, "S": 1,
    "V": 2, "E": 2,
    "F": 3,
    "/": 4, "f": 4, "Q": 4,
}


def aami_label(symbols: Sequence[str]) -> np.ndarray:
    """Map annotation symbols to AAMI class ids.

    Parameters
    ----------
    symbols : sequence of str, length n
        wfdb annotation symbols.

    Returns
    -------
    np.ndarray
        int8, shape (n,): class id 0-4 (index into :data:`AAMI_CLASSES`), -1 for a
        symbol that is not an AAMI beat.
    """
    return np.fromiter((AAMI_MAP.get(s, -1) for s in symbols), dtype=np.int8,
                       count=len(symbols))


def match_beats(detected: np.ndarray, reference: np.ndarray, tolerance: int) -> np.ndarray:
    """Nearest reference beat of each detection, within a tolerance.

    Parameters
    ----------
    detected : np.ndarray
        int, shape (n,): detected beat positions, in samples of the record.
    reference : np.ndarray
        int, shape (m,), sorted ascending: reference beat positions (beat annotations
        only), in samples.
    tolerance : int
        Largest accepted distance, in samples (e.g. ``round(0.15 * fs)`` for 150 ms).

    Returns
    -------
    np.ndarray
        int64, shape (n,): index into ``reference`` of the nearest reference beat
        (the earlier one on a tie), or -1 when none is within ``tolerance``.
    """
    detected = np.asarray(detected, dtype=np.int64)
    reference = np.asarray(reference, dtype=np.int64)
    out = np.full(detected.shape, -1, dtype=np.int64)
    if reference.size == 0 or detected.size == 0:
        return out
    right = np.clip(np.searchsorted(reference, detected), 0, reference.size - 1)
    left = np.clip(right - 1, 0, reference.size - 1)
    d_left = np.abs(detected - reference[left])
    d_right = np.abs(reference[right] - detected)
    best = np.where(d_left <= d_right, left, right)
    dist = np.minimum(d_left, d_right)
    out[dist <= tolerance] = best[dist <= tolerance]
    return out
