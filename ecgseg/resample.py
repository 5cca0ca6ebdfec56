"""Polyphase resampling between sampling frequencies with an exact rational ratio.

The paper recipe resamples every record to 125 Hz (MIT-BIH 360 Hz: 25/72; PTB 1000 Hz:
1/8) with :func:`scipy.signal.resample_poly`, whose anti-aliasing filter is SciPy's
default: a linear-phase FIR low-pass designed by ``firwin`` with a Kaiser window
(beta 5.0), ``2 * 10 * max(up, down) + 1`` taps, cut-off at the lower Nyquist
frequency; the signal is padded with zeros beyond its ends (``padtype='constant'``), so
the first and last few output samples see that padding.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from .errors import InputError

MAX_FACTOR = 10_000


def rational_ratio(fs_in: float, fs_out: float) -> tuple[int, int]:
    """Exact ``(up, down)`` with ``fs_out / fs_in == up / down`` in lowest terms.

    Parameters
    ----------
    fs_in, fs_out : float
        Sampling frequencies, in Hz (> 0).

    Returns
    -------
    tuple of int
        ``(up, down)``.

    Raises
    ------
    InputError
        If a frequency is not positive, or the ratio needs factors above 10 000
        (e.g. an irrational-looking float such as 360.123456789).
    """
    if not (fs_in > 0 and fs_out > 0):
        raise InputError(f"sampling frequencies must be > 0 Hz, got {fs_in} and {fs_out}")
    # Fraction(float) is exact for the float values given; limit_denominator only
    # removes float noise such as 0.1 + 0.2 (it keeps 25/72 and 1/8 exact).
    ratio = (Fraction(fs_out) / Fraction(fs_in)).limit_denominator(MAX_FACTOR)
    if abs(float(ratio) - fs_out / fs_in) > 1e-12 * (fs_out / fs_in):
        raise InputError(f"no exact rational ratio for {fs_in} Hz -> {fs_out} Hz")
    return ratio.numerator, ratio.denominator


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Resample a signal from ``fs_in`` to ``fs_out`` with a polyphase FIR filter.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal, in any unit.
    fs_in, fs_out : float
        Sampling frequencies, in Hz.

    Returns
    -------
    np.ndarray
        float64, shape (ceil(n * up / down),), C-contiguous, same unit as ``x``; ``x``
        itself (as contiguous float64) when the frequencies are equal.
    """
    up, down = rational_ratio(fs_in, fs_out)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if up == down:
        return x
    return np.ascontiguousarray(resample_poly(x, up, down), dtype=np.float64)
