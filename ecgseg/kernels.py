"""Numba kernels of the beat segmentation, each over a whole record.

Every kernel is ``@njit(cache=True)`` and loops over all windows, peaks or segments of
one record itself, so a recipe is a handful of kernel calls with no Python loop per
beat or per window. Kernels take C-contiguous arrays of fixed dtypes (the recipes call
``np.ascontiguousarray`` at the boundary):

* signals: float64, shape (n,);
* positions (window bounds, peaks, segment starts/stops, lengths): int64;
* window index of a peak: int64 (the recipes cast it to int32 for :class:`Segments`);
* masks: bool.

Windows are given as ``starts``/``ends`` (int64, shape (w,), ``ends`` exclusive,
non-overlapping, ascending). Peak arrays produced here are ascending and grouped by
window, which :func:`window_median_rr` relies on.

Arithmetic is plain IEEE float64 (no fastmath): ``(x - min) / (max - min)`` is computed
with exactly these operations, so a NumPy implementation writing the same expression
gives bit-identical values (``benchmarks/reference_numpy.py`` checks this).

No file I/O here.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def window_minmax(x, starts, ends):
    """Minimum and maximum of each window.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal (any unit).
    starts, ends : np.ndarray
        int64, shape (w,): window bounds in samples, ``ends`` exclusive, each window
        non-empty.

    Returns
    -------
    mn, mx : np.ndarray
        float64, shape (w,): per-window minimum and maximum, in the unit of ``x``.
    """
    nw = starts.shape[0]
    mn = np.empty(nw, np.float64)
    mx = np.empty(nw, np.float64)
    for w in range(nw):
        lo = x[starts[w]]
        hi = lo
        for i in range(starts[w] + 1, ends[w]):
            v = x[i]
            if v < lo:
                lo = v
            elif v > hi:
                hi = v
        mn[w] = lo
        mx[w] = hi
    return mn, mx


@njit(cache=True)
def normalise_windows(x, starts, ends, mn, mx, out):
    """Min-max normalise each window to [0, 1]: ``(x - mn) / (mx - mn)``.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal.
    starts, ends : np.ndarray
        int64, shape (w,): window bounds in samples (``ends`` exclusive).
    mn, mx : np.ndarray
        float64, shape (w,): per-window minimum and maximum (:func:`window_minmax`).
    out : np.ndarray
        float64, shape (n,), written in place: normalised values (dimensionless, in
        [0, 1]) inside every window; 0 in flat windows (``mx == mn``); samples outside
        all windows are left untouched.
    """
    for w in range(starts.shape[0]):
        lo = mn[w]
        span = mx[w] - mn[w]
        if span > 0.0:
            for i in range(starts[w], ends[w]):
                out[i] = (x[i] - lo) / span
        else:
            for i in range(starts[w], ends[w]):
                out[i] = 0.0


@njit(cache=True)
def local_maxima(x, starts, ends, active):
    """Local maxima of each active window, from zero crossings of the first derivative.

    With ``d[i] = x[i+1] - x[i]`` (inside the window), sample ``i`` is a maximum when
    ``d[i-1] > 0`` and the next non-zero derivative sample after it is negative. A
    plateau (equal neighbouring samples at a maximum) therefore gives exactly ONE peak,
    its FIRST sample. A plateau that rises again afterwards (a shoulder) gives none.
    The first and last samples of a window are never maxima (the derivative must be
    seen on both sides inside the window), nor is a plateau still running at the
    window's end.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): signal (normalised or not: only comparisons are made).
    starts, ends : np.ndarray
        int64, shape (w,): window bounds in samples (``ends`` exclusive).
    active : np.ndarray
        bool, shape (w,): windows to search (e.g. not flat).

    Returns
    -------
    peaks : np.ndarray
        int64, shape (k,): sample index of each maximum, ascending.
    peak_window : np.ndarray
        int64, shape (k,): window index of each maximum.
    """
    total = 0
    for w in range(starts.shape[0]):
        if active[w]:
            total += (ends[w] - starts[w]) // 2 + 1
    peaks = np.empty(total, np.int64)
    peak_window = np.empty(total, np.int64)
    k = 0
    for w in range(starts.shape[0]):
        if not active[w]:
            continue
        e = ends[w]
        i = starts[w] + 1
        while i < e - 1:
            if x[i] > x[i - 1]:
                j = i
                while j + 1 < e and x[j + 1] == x[j]:
                    j += 1
                if j + 1 < e and x[j + 1] < x[j]:
                    peaks[k] = i
                    peak_window[k] = w
                    k += 1
                i = j + 1
            else:
                i += 1
    return peaks[:k].copy(), peak_window[:k].copy()


@njit(cache=True)
def above_threshold(x, peaks, threshold, inclusive):
    """Which peaks exceed a threshold.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): normalised signal.
    peaks : np.ndarray
        int64, shape (k,): candidate sample indices.
    threshold : float
        Threshold, in the unit of ``x``.
    inclusive : bool
        ``False``: keep ``x[p] > threshold``; ``True``: keep ``x[p] >= threshold``.

    Returns
    -------
    np.ndarray
        bool, shape (k,): the mask of kept peaks.
    """
    keep = np.empty(peaks.shape[0], np.bool_)
    for k in range(peaks.shape[0]):
        v = x[peaks[k]]
        keep[k] = v >= threshold if inclusive else v > threshold
    return keep


@njit(cache=True)
def run_starts_above(x, starts, ends, active, threshold, inclusive, keep_run_at_start):
    """First sample of each run of samples above a threshold, per active window.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): normalised signal.
    starts, ends : np.ndarray
        int64, shape (w,): window bounds in samples (``ends`` exclusive).
    active : np.ndarray
        bool, shape (w,): windows to search.
    threshold : float
        Threshold, in the unit of ``x``.
    inclusive : bool
        ``False``: a sample is above when ``x > threshold``; ``True``: ``x >= threshold``.
    keep_run_at_start : bool
        Whether a run that already holds at the window's first sample gives a peak (at
        that first sample).

    Returns
    -------
    peaks : np.ndarray
        int64, shape (k,): first sample of each run, ascending.
    peak_window : np.ndarray
        int64, shape (k,): window index of each run.
    """
    total = 0
    for w in range(starts.shape[0]):
        if active[w]:
            total += (ends[w] - starts[w]) // 2 + 1
    peaks = np.empty(total, np.int64)
    peak_window = np.empty(total, np.int64)
    k = 0
    for w in range(starts.shape[0]):
        if not active[w]:
            continue
        prev = not keep_run_at_start
        for i in range(starts[w], ends[w]):
            v = x[i]
            cur = v >= threshold if inclusive else v > threshold
            if cur and not prev:
                peaks[k] = i
                peak_window[k] = w
                k += 1
            prev = cur
    return peaks[:k].copy(), peak_window[:k].copy()


@njit(cache=True)
def window_median_rr(peaks, peak_window, n_windows):
    """Median peak-to-peak interval (nominal beat period T) of each window.

    Parameters
    ----------
    peaks : np.ndarray
        int64, shape (k,): peak sample indices, ascending and grouped by window.
    peak_window : np.ndarray
        int64, shape (k,): window index of each peak, non-decreasing, in [0, n_windows).
    n_windows : int
        Number of windows.

    Returns
    -------
    period : np.ndarray
        float64, shape (n_windows,): median of the window's peak intervals, in
        samples; the mean of the two middle intervals for an even count (as
        ``np.median``); NaN for a window with fewer than two peaks.
    counts : np.ndarray
        int64, shape (n_windows,): number of peaks per window.
    """
    counts = np.zeros(n_windows, np.int64)
    for k in range(peaks.shape[0]):
        counts[peak_window[k]] += 1
    period = np.full(n_windows, np.nan)
    k = 0
    for w in range(n_windows):
        c = counts[w]
        if c >= 2:
            m = c - 1
            d = np.empty(m, np.int64)
            for j in range(m):
                d[j] = peaks[k + j + 1] - peaks[k + j]
            d.sort()
            if m % 2 == 1:
                period[w] = float(d[m // 2])
            else:
                period[w] = (d[m // 2 - 1] + d[m // 2]) / 2.0
        k += c
    return period, counts


@njit(cache=True)
def beat_extents(peaks, peak_window, period, limit, crop_factor, skip_last_in_window):
    """Length of the part ``crop_factor * T`` after each peak, and which peaks give one.

    Parameters
    ----------
    peaks : np.ndarray
        int64, shape (k,): peak sample indices, ascending, grouped by window.
    peak_window : np.ndarray
        int64, shape (k,): window index of each peak.
    period : np.ndarray
        float64, shape (w,): nominal beat period T per window, in samples; NaN where the
        window has no T (its peaks give no part).
    limit : np.ndarray
        int64, shape (w,): exclusive sample index a part of that window may not pass
        (the window's end to cut there, the signal's length to run on).
    crop_factor : float
        Part length as a multiple of T: ``L = floor(crop_factor * T)`` samples.
    skip_last_in_window : bool
        Whether the last peak of each window gives no part (Kaggle PTB recipe).

    Returns
    -------
    full : np.ndarray
        int64, shape (k,): ``L`` of each peak's window, in samples (0 when none).
    available : np.ndarray
        int64, shape (k,): ``min(L, limit - peak)``, in samples: the part's length
        after cutting at the limit.
    keep : np.ndarray
        bool, shape (k,): peaks that give a part.
    """
    n = peaks.shape[0]
    full = np.zeros(n, np.int64)
    available = np.zeros(n, np.int64)
    keep = np.zeros(n, np.bool_)
    for k in range(n):
        w = peak_window[k]
        t = period[w]
        if np.isnan(t):
            continue
        if skip_last_in_window and (k + 1 == n or peak_window[k + 1] != w):
            continue
        length = np.int64(np.floor(crop_factor * t))
        full[k] = length
        available[k] = min(length, limit[w] - peaks[k])
        keep[k] = available[k] > 0
    return full, available, keep


@njit(cache=True)
def crop_scale_pad(x, start, n_values, offset, scale, out):
    """Crop parts of a signal, scale them, cast to float32 and zero-pad.

    ``out[i, j] = float32((x[start[i] + j] - offset[i]) / scale[i])`` for
    ``j < n_values[i]``, and 0 for the rest of row ``i``.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal.
    start : np.ndarray
        int64, shape (m,): first sample of each part.
    n_values : np.ndarray
        int64, shape (m,): values per part, ``<= out.shape[1]`` and
        ``start + n_values <= n``.
    offset, scale : np.ndarray
        float64, shape (m,): per-part normalisation (a window's min and max - min).
    out : np.ndarray
        float32, shape (m, length), preallocated, written in full.
    """
    length = out.shape[1]
    for i in range(start.shape[0]):
        s = start[i]
        nv = n_values[i]
        o = offset[i]
        sc = scale[i]
        for j in range(nv):
            out[i, j] = np.float32((x[s + j] - o) / sc)
        for j in range(nv, length):
            out[i, j] = np.float32(0.0)


@njit(cache=True)
def segment_minmax_pad(x, start, stop, step, out):
    """Decimated segments, min-max normalised each in float64, cast to float32, padded.

    Segment ``i`` is ``x[start[i]:stop[i]:step]`` (``stop`` clipped to ``len(x)``). It
    is normalised by its own min and max in float64, ``(s - min) / (max - min)``, cast
    to float32; its first ``out.shape[1]`` values are kept and the rest of the row is
    zero. A flat segment (``max == min``) gives an all-zero row (NumPy would give NaN);
    an empty one gives an all-zero row too.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal (ADC units or physical: the result is
        dimensionless).
    start, stop : np.ndarray
        int64, shape (m,): segment bounds in samples of ``x`` (``stop`` exclusive).
    step : int
        Decimation step, in samples (``>= 1``); each segment's phase follows its start.
    out : np.ndarray
        float32, shape (m, length), preallocated, written in full.

    Returns
    -------
    n_values : np.ndarray
        int64, shape (m,): values written per row (``min(count, length)``).
    count : np.ndarray
        int64, shape (m,): values of the whole decimated segment, before cutting.
    flat : np.ndarray
        bool, shape (m,): segments with ``max == min`` (or empty).
    """
    m = start.shape[0]
    length = out.shape[1]
    n = x.shape[0]
    n_values = np.zeros(m, np.int64)
    count = np.zeros(m, np.int64)
    flat = np.zeros(m, np.bool_)
    for i in range(m):
        s = start[i]
        e = min(stop[i], n)
        c = (e - s + step - 1) // step if e > s else 0
        count[i] = c
        nv = min(c, length)
        if c > 0:
            lo = x[s]
            hi = lo
            for j in range(1, c):
                v = x[s + j * step]
                if v < lo:
                    lo = v
                elif v > hi:
                    hi = v
            span = hi - lo
        else:
            lo = 0.0
            span = 0.0
        if span > 0.0:
            for j in range(nv):
                out[i, j] = np.float32((x[s + j * step] - lo) / span)
            n_values[i] = nv
        else:
            flat[i] = True
            for j in range(nv):
                out[i, j] = np.float32(0.0)
            n_values[i] = nv
        for j in range(nv, length):
            out[i, j] = np.float32(0.0)
    return n_values, count, flat
