"""How the published Kaggle heartbeat rows were really made (``docs/kaggle-recipe.md``).

MIT-BIH half (:func:`segment_kaggle_mitdb`), reproducing the published rows bit for bit:
no windows, no peak detection, no resampling. Per record:

1. signal 0 as digital ADC integers (also for records 102, 104, 114 where it is V5);
2. boundaries ``b``: the samples of ALL ``atr`` annotations in file order (beats and
   non-beats), then the record length;
3. a row for every annotation ``k`` but the last, when its symbol is an AAMI beat
   symbol (:data:`ecgseg.labels.AAMI_MAP`);
4. segment ``sig[b[k] : b[k+1] + floor(0.2 * (b[k+2] - b[k+1])) : 3]`` (decimation by
   3, phase following the annotation, no filter);
5. min-max over the whole decimated segment in float64, cast to float32;
6. its first ``length`` (187) values, zero-padded.

``Segments.sample`` is the annotation sample ``b[k]``; ``window`` is -1. ``stats``:
``annotations``, ``beat_annotations``, ``last_annotation_dropped`` (1 when the last
annotation is a beat), ``beats``, ``segments_cut`` (more than ``length`` values),
``segments_flat`` (max == min: all-zero row, where NumPy would give NaN; none in
MIT-BIH), ``windows`` = ``windows_skipped`` = 0 and ``peaks`` = ``beat_annotations``
(no detection: the annotations are the peaks).

PTB half (:func:`segment_kaggle_ptb`), established on 60 s of one record within the
rounding of that copy (not proven bit-exact); the open points are options of
:class:`KagglePtbParams`, defaults as the evidence says:

1. lead ``ii`` as ADC integers, decimated ``sig[phase::8]`` (1000 -> 125 Hz, no filter);
2. consecutive 625-sample windows from sample 0, the last partial one dropped;
3. ``xn = (w - min) / (max - min)`` per window (flat windows skipped, counted);
4. R peak = FIRST sample of each run of ``xn > 0.9`` (a run holding at the window's
   first sample counts, at that sample);
5. ``T = median(diff(peaks))``, ``L = floor(1.2 * T)``; windows with fewer than two
   peaks are skipped;
6. a segment ``w[p : p + L]`` for every peak but the window's last, cut at the window's
   end;
7. segments longer than 186 values dropped; per-segment min-max of the decimated ADC
   values in float64, cast to float32, zero-padded to 187.

``Segments.sample`` is the peak in samples of the 1000 Hz record (``phase + 8 * p``).
"""

from __future__ import annotations

from collections.abc import Sequence
import numpy as np

from .. import kernels as K
from ..errors import InputError, RecordError
from ..labels import AAMI_CLASSES, AAMI_MAP, BEAT_SAMPLES, aami_label  # noqa: F401  (re-exported)
from ..segments import Segments
from .params import KagglePtbParams  # noqa: F401  (re-exported)
from ._common import as_signal, check_backend, peaks_to_windows, window_bounds

KAGGLE_LENGTH = BEAT_SAMPLES
MITDB_DECIMATION = 3
MITDB_TAIL = 0.2


def kaggle_mitdb_bounds(ann_sample: np.ndarray, is_beat: np.ndarray, n_samples: int):
    """Which annotations give a row, and their segment bounds (Kaggle MIT-BIH recipe).

    Parameters
    ----------
    ann_sample : np.ndarray
        int64, shape (a,): annotation samples, file order (non-decreasing).
    is_beat : np.ndarray
        bool, shape (a,): AAMI beat symbol or not.
    n_samples : int
        Record length, samples.

    Returns
    -------
    k : np.ndarray
        int64, shape (m,): indices of the annotations giving a row.
    start, stop : np.ndarray
        int64, shape (m,): segment bounds in samples at 360 Hz (``stop`` exclusive,
        before decimation).
    """
    b = np.append(ann_sample.astype(np.int64), np.int64(n_samples))
    k = np.flatnonzero(is_beat[:-1]).astype(np.int64)
    start = b[k]
    nxt = b[k + 1]
    stop = nxt + np.floor(MITDB_TAIL * (b[k + 2] - nxt)).astype(np.int64)
    return k, start, stop


def segment_kaggle_mitdb(signal_adc: np.ndarray, ann_sample: np.ndarray,
                         ann_symbol: Sequence[str],
                         length: int = KAGGLE_LENGTH, *,
                         backend: str = "numba") -> tuple[Segments, np.ndarray]:
    """Rows of the Kaggle MIT-BIH files from one record (bit-exact recipe).

    Parameters
    ----------
    signal_adc : np.ndarray
        int (or float), shape (650000,): signal 0 of the record as digital ADC values
        (wfdb ``rdrecord(..., physical=False).d_signal[:, 0]``), 360 Hz.
    ann_sample : np.ndarray
        int, shape (a,): samples of ALL ``atr`` annotations, file order.
    ann_symbol : sequence of str, length a
        Their symbols.
    length : int
        Row length (187).
    backend : {'numba', 'numpy'}
        ``'numpy'``: the plain NumPy reference (:mod:`ecgseg.kernels_numpy`), same rows.

    Returns
    -------
    segments : Segments
        float32 rows (m, length) at 120 Hz; ``sample`` the annotation samples;
        ``window`` -1.
    symbols : np.ndarray
        str, shape (m,): the annotation symbol of each row (AAMI class via
        :func:`ecgseg.labels.aami_label`).

    Raises
    ------
    RecordError
        On a bad signal (not 1-D, NaN) or annotations that are unsorted, outside the
        signal, or not one symbol per sample.
    """
    if check_backend(backend) == "numpy":
        from ..kernels_numpy import segment_kaggle_mitdb as reference

        return reference(signal_adc, ann_sample, ann_symbol, length)
    x = as_signal(signal_adc, "signal_adc")
    ann_sample = np.asarray(ann_sample)
    symbols = np.asarray(list(ann_symbol), dtype=str)
    if ann_sample.ndim != 1 or ann_sample.shape != symbols.shape:
        raise RecordError(f"need one symbol per annotation sample: {ann_sample.shape} samples, "
                          f"{symbols.shape} symbols")
    ann_sample = ann_sample.astype(np.int64)
    if ann_sample.size and (ann_sample[0] < 0 or ann_sample[-1] >= x.shape[0]
                            or np.any(np.diff(ann_sample) < 0)):
        raise RecordError("annotation samples must be non-decreasing and inside the signal")
    if not 1 <= length <= np.iinfo(np.int16).max:
        raise InputError(f"length must be in [1, 32767], got {length}")
    is_beat = aami_label(symbols) >= 0
    k, start, stop = kaggle_mitdb_bounds(ann_sample, is_beat, x.shape[0])
    beats = np.empty((k.shape[0], length), np.float32)
    n_values, count, flat = K.segment_minmax_pad(x, start, stop, MITDB_DECIMATION, beats)
    n_beat = int(is_beat.sum())
    stats = {"windows": 0, "windows_skipped": 0, "peaks": n_beat,
             "annotations": int(ann_sample.shape[0]), "beat_annotations": n_beat,
             "last_annotation_dropped": int(bool(is_beat.size and is_beat[-1])),
             "beats": int(k.shape[0]), "segments_cut": int((count > length).sum()),
             "segments_flat": int(flat.sum())}
    segs = Segments(beats, start, np.full(k.shape[0], -1, np.int32),
                    n_values.astype(np.int16), stats)
    return segs, symbols[k]


def segment_kaggle_peaks(signal_adc: np.ndarray, peaks: np.ndarray,
                         length: int = KAGGLE_LENGTH) -> Segments:
    """Kaggle MIT-BIH-style rows cut from a detector's peaks instead of the annotations.

    Every peak but the last gives a row ``sig[p[k] : p[k+1] + floor(0.2 * (p[k+2] -
    p[k+1])) : 3]`` (the record's length stands after the last peak), min-max
    normalised, zero-padded: :func:`segment_kaggle_mitdb` with every peak a beat.

    Parameters
    ----------
    signal_adc : np.ndarray
        int or float, shape (n,): the lead, 360 Hz (ADC values for the Kaggle rows).
    peaks : np.ndarray
        int64, shape (k,): R peaks, samples of ``signal_adc``, ascending.
    length : int
        Row length (187).

    Returns
    -------
    Segments
        ``sample`` the peaks that gave a row; ``window`` -1; ``stats`` as
        :func:`segment_kaggle_mitdb` with ``detector_peaks`` for ``annotations``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.arange(3600) / 20.0)
    >>> segment_kaggle_peaks(x, np.array([100, 400, 700])).beats.shape
    (2, 187)
    """
    peaks = np.asarray(peaks, dtype=np.int64)
    segs, _ = segment_kaggle_mitdb(signal_adc, peaks, np.full(peaks.shape[0], "N"), length)
    stats = dict(segs.stats)
    stats["detector_peaks"] = stats.pop("annotations")
    stats.pop("beat_annotations")
    segs.stats = stats
    return segs


def segment_kaggle_ptb(signal_adc: np.ndarray, params: KagglePtbParams = KagglePtbParams(),
                       peaks: np.ndarray | None = None) -> Segments:
    """Rows of the Kaggle PTB files from one record's lead ii.

    Parameters
    ----------
    signal_adc : np.ndarray
        int (or float), shape (n,): lead ``ii`` as digital ADC values at 1000 Hz.
    params : KagglePtbParams
        Recipe options.
    peaks : np.ndarray, optional
        int64, shape (k,), ascending: R peaks in samples of ``signal_adc`` from a
        detector, used instead of the recipe's own run starts (step 4); each is mapped
        to ``rint((p - phase) / decimation)``, and ``Segments.sample`` keeps ``p``.

    Returns
    -------
    Segments
        float32 rows (m, params.length) at 1000/decimation Hz; ``sample`` the peak (run
        start) in samples at 1000 Hz; ``window`` the window index. ``stats``:
        ``samples_in``, ``samples_decimated``, ``windows``, ``windows_flat``,
        ``windows_skipped`` (non-flat windows with fewer than two peaks), ``peaks``,
        ``segments`` (peaks that gave a segment before the length rule),
        ``segments_long`` (longer than ``max_values``), ``segments_cut_window``,
        ``segments_flat``, ``beats``.

    Raises
    ------
    RecordError
        If the signal is not 1-D or holds NaN/infinite values.
    """
    p = params
    x = as_signal(signal_adc, "signal_adc")
    xd = np.ascontiguousarray(x[p.phase::p.decimation])
    n = xd.shape[0]
    starts, ends = window_bounds(n, p.window, p.last_window)
    n_windows = starts.shape[0]
    mn, mx = K.window_minmax(xd, starts, ends)
    flat = ~(mx > mn)
    xn = np.zeros_like(xd)
    K.normalise_windows(xd, starts, ends, mn, mx, xn)
    if peaks is None:
        peaks, peak_window = K.run_starts_above(xn, starts, ends, ~flat, float(p.threshold),
                                                p.threshold_inclusive,
                                                p.run_at_window_start == "keep")
        original = None
    else:
        original = np.asarray(peaks, dtype=np.int64)
        peaks, peak_window, kept = peaks_to_windows(original, 1.0 / p.decimation, p.phase,
                                                     n, starts, ends, ~flat)
        original = original[kept]
    period, counts = K.window_median_rr(peaks, peak_window, n_windows)
    limit = ends if p.crop_end == "window" else np.full(n_windows, n, np.int64)
    full, available, keep = K.beat_extents(peaks, peak_window, period, limit,
                                           float(p.crop_factor), p.skip_last_peak)
    long = keep & (available > p.max_values)
    rows = keep & ~long if p.long_segments == "drop" else keep
    start = peaks[rows]
    stop = start + np.minimum(available[rows], p.max_values)
    beats = np.empty((start.shape[0], p.length), np.float32)
    n_values, _, seg_flat = K.segment_minmax_pad(xd, start, stop, 1, beats)
    stats = {"samples_in": int(x.shape[0]), "samples_decimated": int(n),
             "windows": int(n_windows), "windows_flat": int(flat.sum()),
             "windows_skipped": int(((counts < 2) & ~flat).sum()),
             "peaks": int(peaks.shape[0]), "segments": int(keep.sum()),
             "segments_long": int(long.sum()),
             "segments_cut_window": int((keep & (available < full)).sum()),
             "segments_flat": int(seg_flat.sum()), "beats": int(start.shape[0])}
    sample = p.phase + p.decimation * start if original is None else original[rows]
    return Segments(beats, sample.astype(np.int64), peak_window[rows].astype(np.int32),
                    n_values.astype(np.int16), stats)
