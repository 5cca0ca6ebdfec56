"""The ``reference`` detectors: a record's reference beat annotations as its R peaks.

``reference`` gives them as they are; ``reference-jitter`` moves each by a seeded random
offset (a cut-point augmentation for training sets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import RecordError
from .errors import DetectorInputError


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


@dataclass(frozen=True)
class JitterParams:
    """Parameters of the ``reference-jitter`` detector (validated on creation).

    Attributes
    ----------
    jitter_s : float
        Each annotation moves by a random whole number of samples in
        ``-round(jitter_s * fs) .. +round(jitter_s * fs)`` (uniform), s (>= 0).
    seed : int
        Seed of the offsets; with the record's annotations it fixes them (same record,
        same seed: same offsets).

    Examples
    --------
    >>> JitterParams().jitter_s
    0.05
    >>> JitterParams(jitter_s=-1)
    Traceback (most recent call last):
    ...
    ecgseg.detectors.errors.DetectorInputError: jitter_s must be a finite number >= 0, got -1
    """

    jitter_s: float = 0.05
    seed: int = 0

    def __post_init__(self):
        j = self.jitter_s
        if isinstance(j, bool) or not isinstance(j, (int, float)) or not math.isfinite(j) or j < 0:
            raise DetectorInputError(f"jitter_s must be a finite number >= 0, got {j!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise DetectorInputError(f"seed must be an integer >= 0, got {self.seed!r}")


def jittered_positions(samples: np.ndarray, fs: float, params: JitterParams) -> np.ndarray:
    """Beat positions each moved by a seeded random offset (a cut-point augmentation).

    Parameters
    ----------
    samples : ndarray, int (k,)
        Beat positions, samples.
    fs : float
        Sampling rate, Hz (the offsets are ``jitter_s`` seconds at this rate).
    params : JitterParams
        Largest offset and seed.

    Returns
    -------
    ndarray, int64 (k,)
        ``samples`` plus offsets drawn uniformly from ``-J .. +J`` samples,
        ``J = round(jitter_s * fs)``; the generator is seeded by ``params.seed`` and the
        positions themselves, so each record gets its own reproducible offsets.

    Examples
    --------
    >>> s = np.array([100, 400, 700])
    >>> moved = jittered_positions(s, 360.0, JitterParams(jitter_s=0.05))
    >>> bool(np.all(np.abs(moved - s) <= 18)), bool(np.array_equal(moved, jittered_positions(s, 360.0, JitterParams())))
    (True, True)
    """
    samples = np.asarray(samples, dtype=np.int64)
    j = int(round(params.jitter_s * float(fs)))
    if j == 0 or samples.size == 0:
        return samples.copy()
    key = [int(params.seed), int(samples.size), int(samples[0]), int(samples[-1])]
    rng = np.random.default_rng(key)
    return samples + rng.integers(-j, j + 1, size=samples.size)


def detect_reference_jittered(signal: np.ndarray, fs: float, params: JitterParams | None = None, *,
                              annotations=None) -> np.ndarray:
    """The reference beat annotations, each moved by a seeded random offset.

    For training sets cut at positions around the annotations, earlier and later (so a
    model does not depend on where a detector puts the peak): :func:`detect_reference`
    then :func:`jittered_positions`. Beats are labelled by their annotation, which stays
    within the match tolerance as long as ``jitter_s`` is below it.

    Parameters
    ----------
    signal : np.ndarray
        float64 (n,), mV: not read.
    fs : float
        Sampling rate, Hz.
    params : JitterParams, optional
        Offsets (default ``JitterParams()``: up to 0.05 s either way, seed 0).
    annotations : ecgseg.records.Annotations
        The record's annotations.

    Returns
    -------
    np.ndarray
        int64 (k,) moved beat positions, samples (not sorted; the registry sorts them).

    Examples
    --------
    >>> from ecgseg.records import Annotations
    >>> ann = Annotations(np.array([50, 90, 200]), np.array(["N", "+", "V"]))
    >>> p = detect_reference_jittered(np.zeros(300), 360.0, annotations=ann)
    >>> p.shape, bool(np.all(np.abs(p - [50, 200]) <= 18))
    ((2,), True)
    """
    peaks = detect_reference(signal, fs, annotations=annotations)
    return jittered_positions(peaks, fs, params if params is not None else JitterParams())
