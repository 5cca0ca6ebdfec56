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

Speed: the paper recipe's peak search is one fused pass, :func:`window_peaks` (min-max,
normalisation into a window-sized buffer, a branch-free vectorised maxima count, and a
peak test only on samples above the threshold); :func:`window_minmax`,
:func:`normalise_windows` and :func:`local_maxima` are the same steps one at a time
(the Kaggle PTB recipe, and the tests' oracle for the fused kernel). Inner loops are
written with selects rather than branches where the data decide the branch.

Arithmetic is plain IEEE float64 (no fastmath): ``(x - min) / (max - min)`` is computed
with exactly these operations, so a NumPy implementation writing the same expression
gives bit-identical values (:mod:`ecgseg.kernels_numpy` checks this).

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
        mn[w], mx[w] = _minmax(x, starts[w], ends[w])
    return mn, mx


@njit(cache=True)
def _minmax(x, s, e):
    """Minimum and maximum of ``x[s:e]`` (non-empty); the first of equal values wins.

    Written with selects rather than branches so that LLVM keeps it branch-free.
    """
    lo = x[s]
    hi = lo
    for i in range(s + 1, e):
        v = x[i]
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    return lo, hi


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
def _peak_buffers(starts, ends, active):
    """Output arrays big enough for every peak of the active windows.

    A window of ``m`` samples holds at most ``m // 2 + 1`` peaks (local maxima or run
    starts are at least two samples apart). Returns ``(peaks, peak_window)``, int64.
    """
    total = 0
    for w in range(starts.shape[0]):
        if active[w]:
            total += (ends[w] - starts[w]) // 2 + 1
    return np.empty(total, np.int64), np.empty(total, np.int64)


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
    peaks, peak_window = _peak_buffers(starts, ends, active)
    k = 0
    for w in range(starts.shape[0]):
        if active[w]:
            k0 = k
            _, k = _scan_maxima(x, starts[w], ends[w], -np.inf, False, 0, peaks, k)
            peak_window[k0:k] = w
    return peaks[:k].copy(), peak_window[:k].copy()


@njit(cache=True)
def _scan_maxima(x, s, e, threshold, inclusive, offset, peaks, k):
    """Exact local-maxima scan of ``x[s:e]`` (the rule of :func:`local_maxima`).

    Writes ``offset + i`` to ``peaks[k], peaks[k + 1], ...`` for every maximum ``i``
    whose value passes the threshold (``>``, or ``>=`` when ``inclusive``).

    Returns
    -------
    count : int
        All local maxima of the slice, above the threshold or not.
    k : int
        Next free index of ``peaks``.
    """
    count = 0
    i = s + 1
    while i < e - 1:
        if x[i] > x[i - 1]:
            j = i
            while j + 1 < e and x[j + 1] == x[j]:
                j += 1
            if j + 1 < e and x[j + 1] < x[j]:
                count += 1
                v = x[i]
                if (v >= threshold) if inclusive else (v > threshold):
                    peaks[k] = offset + i
                    k += 1
            i = j + 1
        else:
            i += 1
    return count, k


@njit(cache=True)
def _count_strict_maxima(x, m):
    """Strict maxima of ``x[:m]`` and rises onto a plateau (branch-free, vectorised).

    Returns
    -------
    strict : int
        Samples ``i`` in ``[1, m - 2]`` with ``x[i-1] < x[i] > x[i+1]``.
    plateaus : int
        Samples ``i`` with ``x[i-1] < x[i] == x[i+1]``; when 0, ``strict`` is the exact
        count of local maxima (a plateau is the only case the rules differ on).
    """
    strict = 0
    plateaus = 0
    for i in range(1, m - 1):
        a = x[i]
        rise = a > x[i - 1]
        c = x[i + 1]
        strict += rise & (a > c)
        plateaus += rise & (a == c)
    return strict, plateaus


@njit(cache=True)
def window_peaks(x, starts, ends, threshold, inclusive):
    """Per window: min-max normalise, find the local maxima, keep those above threshold.

    The fused equivalent of :func:`window_minmax`, :func:`normalise_windows` and
    :func:`local_maxima` followed by a threshold test on the normalised values (same
    results, bit for bit), without writing the normalised signal: each window is
    normalised into a small buffer, maxima are counted in one vectorised pass, and
    only samples above the threshold are examined for peaks. A window holding a
    plateau (equal neighbouring samples after a rise) takes the exact scan instead.
    Flat windows (``max == min``) are skipped.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal (any unit).
    starts, ends : np.ndarray
        int64, shape (w,): window bounds in samples (``ends`` exclusive), each window
        non-empty.
    threshold : float
        Threshold on the normalised value (dimensionless).
    inclusive : bool
        ``False``: keep maxima with ``xn > threshold``; ``True``: ``xn >= threshold``.

    Returns
    -------
    mn, mx : np.ndarray
        float64, shape (w,): per-window minimum and maximum, in the unit of ``x``.
    n_maxima : np.ndarray
        int64, shape (w,): local maxima per window, above the threshold or not (0 for
        a flat window).
    peaks : np.ndarray
        int64, shape (k,): sample index of each maximum above the threshold, ascending.
    peak_window : np.ndarray
        int64, shape (k,): window index of each peak.
    """
    nw = starts.shape[0]
    mn = np.empty(nw, np.float64)
    mx = np.empty(nw, np.float64)
    n_maxima = np.zeros(nw, np.int64)
    total = 0
    longest = 0
    for w in range(nw):
        total += (ends[w] - starts[w]) // 2 + 1
        longest = max(longest, ends[w] - starts[w])
    peaks = np.empty(total, np.int64)
    peak_window = np.empty(total, np.int64)
    xn = np.empty(longest, np.float64)
    k = 0
    for w in range(nw):
        s = starts[w]
        m = ends[w] - s
        lo, hi = _minmax(x, s, ends[w])
        mn[w] = lo
        mx[w] = hi
        span = hi - lo
        if not span > 0.0:
            continue
        for i in range(m):
            xn[i] = (x[s + i] - lo) / span
        k0 = k
        strict, plateaus = _count_strict_maxima(xn, m)
        if plateaus:
            n_maxima[w], k = _scan_maxima(xn, 0, m, threshold, inclusive, s, peaks, k)
        else:
            n_maxima[w] = strict
            for i in range(1, m - 1):
                a = xn[i]
                if (a >= threshold) if inclusive else (a > threshold):
                    if a > xn[i - 1] and a > xn[i + 1]:
                        peaks[k] = s + i
                        k += 1
        peak_window[k0:k] = w
    return mn, mx, n_maxima, peaks[:k].copy(), peak_window[:k].copy()


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
    peaks, peak_window = _peak_buffers(starts, ends, active)
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
    most = 0
    for w in range(n_windows):
        most = max(most, counts[w])
    buf = np.empty(max(most - 1, 0), np.int64)
    k = 0
    for w in range(n_windows):
        c = counts[w]
        if c >= 2:
            m = c - 1
            d = buf[:m]
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
        row = out[i]
        part = x[start[i]:start[i] + n_values[i]]
        o = offset[i]
        sc = scale[i]
        for j in range(part.shape[0]):
            row[j] = np.float32((part[j] - o) / sc)
        for j in range(part.shape[0], length):
            row[j] = np.float32(0.0)


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
