"""The ``paper`` detector on its own: the paper recipe's R peaks in the record's samples.

Steps 1-5 of :mod:`ecgseg.recipes.paper` (resample to ``params.fs``, consecutive
``window_s`` windows, min-max normalise each, local maxima above ``params.threshold``),
and each peak mapped back to ``rint(p * fs_in / params.fs)``. The paper recipe itself
does not call this: with its own detector it runs the fused kernel path directly.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..recipes._common import as_signal, window_bounds
from ..recipes.params import PaperParams
from ..resample import resample


def detect_paper(signal: np.ndarray, fs: float, params: PaperParams = PaperParams(), *,
                 annotations=None) -> np.ndarray:
    """R peaks of the paper's method, in samples of ``signal``.

    Parameters
    ----------
    signal : np.ndarray
        float64, shape (n,): one lead, mV.
    fs : float
        Its sampling rate, Hz.
    params : PaperParams
        ``fs`` (Hz), ``window_s`` (s), ``threshold``, ``threshold_inclusive`` and
        ``last_window`` are used.
    annotations : ignored

    Returns
    -------
    np.ndarray
        int64 (k,): ascending peak positions, samples of ``signal``.

    Examples
    --------
    >>> t = np.arange(360 * 30) / 360.0
    >>> peaks = detect_paper(np.sin(2 * np.pi * 1.2 * t) ** 63, 360.0)
    >>> len(peaks) > 30
    True
    """
    x = as_signal(signal)
    xr = resample(x, fs, params.fs)
    starts, ends = window_bounds(xr.shape[0], params.window_samples, params.last_window)
    _, _, _, peaks, _ = K.window_peaks(xr, starts, ends, float(params.threshold),
                                       params.threshold_inclusive)
    sample = np.rint(peaks * float(fs) / float(params.fs)).astype(np.int64)
    return np.clip(sample, 0, max(x.shape[0] - 1, 0))


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels :func:`detect_paper` uses."""
    t = np.arange(4000, dtype=np.float64)
    detect_paper(np.sin(2 * np.pi * t / 300.0) ** 31, 360.0)
