"""AAMI EC57 heartbeat classes from MIT-BIH annotation symbols, and beat matching.

Classes (``docs/data-and-labels.md``)::

    N 0: N L R e j      S 1: A a J S      V 2: V E      F 3: F      Q 4: / f Q

Every other symbol (rhythm ``+``, noise ``~``, ``|``, ``x``, ``"``, ``!``, ``[``,
``]``, ...) is not a beat: class -1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BEAT_SAMPLES: int = 187
"""Samples per beat in every recipe's output, the CSV rows and the models' input."""

AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
"""AAMI EC57 class names, in class-id order (MIT-BIH labels)."""

MI_CLASSES: tuple[str, ...] = ("normal", "MI")
"""PTB myocardial-infarction task class names, in class-id order."""

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
    arr = np.asarray(symbols if isinstance(symbols, np.ndarray) else list(symbols), dtype=str)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int8)
    # a record has thousands of annotations but a handful of distinct symbols
    uniq, inverse = np.unique(arr.ravel(), return_inverse=True)
    table = np.array([AAMI_MAP.get(s, -1) for s in uniq], dtype=np.int8)
    return table[inverse.ravel()]

