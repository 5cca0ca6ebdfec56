"""The ``reference`` detector: a record's reference beat annotations as its R peaks."""

from __future__ import annotations

import numpy as np

from ..errors import RecordError


def detect_reference(signal: np.ndarray, fs: float, params=None, *, annotations=None) -> np.ndarray:
    """Samples of the AAMI beat annotations (:data:`ecgseg.labels.AAMI_MAP` symbols).

    Parameters
    ----------
    signal : np.ndarray
        float64 (n,), mV: not read (the annotations are the answer).
    fs : float
        Sampling rate, Hz (not used).
    params : None
        The detector has no parameters.
    annotations : ecgseg.records.Annotations
        The record's annotations, all symbols, file order.

    Returns
    -------
    np.ndarray
        int64 (k,): beat annotation samples, in file order.

    Raises
    ------
    RecordError
        ``annotations`` is None.

    Examples
    --------
    >>> from ecgseg.records import Annotations
    >>> ann = Annotations(np.array([5, 9, 20]), np.array(["N", "+", "V"]))
    >>> detect_reference(np.zeros(30), 360.0, annotations=ann)
    array([ 5, 20])
    """
    from ..labels import aami_label

    if annotations is None:
        raise RecordError("annotations is None: the reference detector needs the record's "
                          "beat annotations")
    is_beat = aami_label(annotations.symbol) >= 0
    return np.asarray(annotations.sample, dtype=np.int64)[is_beat]
