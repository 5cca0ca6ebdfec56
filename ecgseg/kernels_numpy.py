"""Plain NumPy reference of the paper recipe and of the Kaggle MIT-BIH recipe (no numba).

The ``backend="numpy"`` of :func:`ecgseg.recipes.paper.segment_paper` and
:func:`ecgseg.recipes.kaggle.segment_kaggle_mitdb` (like sleepecg's ``backend=``), the
oracle of the tests and the speed baseline of ``ecg bench``.

Written independently of :mod:`ecgseg.kernels`, for readability and as a test oracle:
a Python loop over windows (paper) or annotations (Kaggle), NumPy inside. Same
signatures and same documented choices as :func:`ecgseg.recipes.paper.segment_paper`
and :func:`ecgseg.recipes.kaggle.segment_kaggle_mitdb`; the tests require bit-identical
output. Only the parameter dataclass and the :class:`~ecgseg.segments.Segments`
container are shared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from .errors import RecordError
from .recipes.params import PaperParams
from .segments import Segments

# AAMI beat symbols (N, S, V, F, Q classes); every other annotation symbol is not a beat.
BEAT_SYMBOLS = frozenset("NLRej" "AaJS" "VE" "F" "/fQ")


def _check(signal) -> np.ndarray:
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise RecordError(f"signal must be 1-D, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise RecordError("signal holds NaN/infinite samples")
    return x


def _maxima(xn: np.ndarray) -> np.ndarray:
    """Local maxima of one window: sign change + to - of the non-zero derivative samples.

    A plateau is a run of zero derivative samples: skipping them joins its rising and
    falling edges, and the peak is the sample after the rising edge (the plateau's first).
    """
    d = np.diff(xn)
    nz = np.flatnonzero(d)
    up = d[nz] > 0
    turn = up[:-1] & ~up[1:]
    return nz[:-1][turn] + 1


def segment_paper(signal: np.ndarray, fs_in: float, params: PaperParams = PaperParams()) -> Segments:
    """Paper recipe, NumPy reference. See :func:`ecgseg.recipes.paper.segment_paper`.

    Parameters
    ----------
    signal : np.ndarray
        float64, shape (n_samples,): one lead, mV.
    fs_in : float
        Its sampling frequency, Hz.
    params : PaperParams
        Recipe parameters.

    Returns
    -------
    Segments
        Beats float32 (n, params.length) at params.fs.
    """
    x = _check(signal)
    ratio = (Fraction(params.fs) / Fraction(fs_in)).limit_denominator(10_000)
    xr = x if ratio == 1 else resample_poly(x, ratio.numerator, ratio.denominator)
    size = int(round(params.window_s * params.fs))
    n = len(xr)
    bounds = [(s, s + size) for s in range(0, n - size + 1, size)]
    if params.last_window == "keep" and n % size:
        bounds.append((n - n % size, n))
    length = params.length

    rows, samples, windows, n_values = [], [], [], []
    stats = dict(samples_in=len(x), samples_resampled=n,
                 samples_dropped=n - (bounds[-1][1] if bounds else 0), windows=len(bounds),
                 windows_flat=0, windows_skipped=0, local_maxima=0, peaks=0, beats=0,
                 beats_cut_window=0, beats_cut_length=0)
    for w, (s, e) in enumerate(bounds):
        seg = xr[s:e]
        lo, hi = seg.min(), seg.max()
        if not hi > lo:
            stats["windows_flat"] += 1
            continue
        xn = (seg - lo) / (hi - lo)
        maxima = _maxima(xn)
        stats["local_maxima"] += len(maxima)
        v = xn[maxima]
        r = maxima[v >= params.threshold] if params.threshold_inclusive else maxima[v > params.threshold]
        stats["peaks"] += len(r)
        if len(r) < 2:
            stats["windows_skipped"] += 1
            continue
        period = np.median(np.diff(r))
        full = int(np.floor(params.crop_factor * period))
        for p in r:
            if params.crop_end == "window":
                part = xn[p:p + full]
            else:
                part = (xr[s + p:s + p + full] - lo) / (hi - lo)
            stats["beats_cut_window"] += len(part) < full
            stats["beats_cut_length"] += len(part) > length
            part = part[:length]
            row = np.zeros(length, np.float32)
            row[:len(part)] = part
            rows.append(row)
            samples.append(round((s + p) * float(fs_in) / float(params.fs)))
            windows.append(w)
            n_values.append(len(part))
    stats["beats"] = len(rows)
    sample = np.clip(np.array(samples, np.int64), 0, max(len(x) - 1, 0))
    beats = np.array(rows, np.float32).reshape(len(rows), length)
    return Segments(beats, sample, np.array(windows, np.int32), np.array(n_values, np.int16),
                    {k: int(v) for k, v in stats.items()})


def segment_kaggle_mitdb(signal_adc: np.ndarray, ann_sample: np.ndarray,
                         ann_symbol: Sequence[str], length: int = 187):
    """Kaggle MIT-BIH recipe, NumPy reference. See
    :func:`ecgseg.recipes.kaggle.segment_kaggle_mitdb`.

    Parameters
    ----------
    signal_adc : np.ndarray
        int, shape (n,): signal 0, ADC values, 360 Hz.
    ann_sample : np.ndarray
        int, shape (a,): all ``atr`` annotation samples.
    ann_symbol : sequence of str
        Their symbols.
    length : int
        Row length.

    Returns
    -------
    tuple of (Segments, np.ndarray)
        Rows float32 (m, length) and their symbols.
    """
    x = _check(signal_adc)
    b = [int(v) for v in ann_sample] + [len(x)]
    rows, samples, n_values, symbols = [], [], [], []
    cut = flat = 0
    for k in range(len(ann_sample) - 1):
        if ann_symbol[k] not in BEAT_SYMBOLS:
            continue
        end = b[k + 1] + math.floor(0.2 * (b[k + 2] - b[k + 1]))
        seg = x[b[k]:end:3]
        lo, hi = seg.min(), seg.max()
        row = np.zeros(length, np.float32)
        if hi > lo:
            row[:min(len(seg), length)] = ((seg - lo) / (hi - lo)).astype(np.float32)[:length]
        else:
            flat += 1
        cut += len(seg) > length
        rows.append(row)
        samples.append(b[k])
        n_values.append(min(len(seg), length))
        symbols.append(ann_symbol[k])
    n_beat = sum(s in BEAT_SYMBOLS for s in ann_symbol)
    stats = {"windows": 0, "windows_skipped": 0, "peaks": n_beat, "annotations": len(ann_symbol),
             "beat_annotations": n_beat,
             "last_annotation_dropped": int(len(ann_symbol) > 0 and ann_symbol[-1] in BEAT_SYMBOLS),
             "beats": len(rows), "segments_cut": cut, "segments_flat": flat}
    segs = Segments(np.array(rows, np.float32).reshape(len(rows), length),
                    np.array(samples, np.int64), np.full(len(rows), -1, np.int32),
                    np.array(n_values, np.int16), stats)
    return segs, np.array(symbols, dtype=str)
