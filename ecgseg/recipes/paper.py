"""The paper's beat extraction (Kachuee et al. 2018, section III.A), on one lead.

Steps (``docs/paper-method.md``), all over the whole record in a handful of numba
kernels (:mod:`ecgseg.kernels`):

1. resample the lead to ``fs`` (125 Hz);
2. split it into consecutive, non-overlapping windows of ``window_s`` (10 s) from
   sample 0;
3. min-max normalise each window to [0, 1];
4. local maxima from the zero crossings of the first derivative;
5. R peaks: the maxima whose normalised value exceeds ``threshold`` (0.9, strict ``>``);
6. ``T`` = median of the window's R-R intervals;
7. for each R peak, the part of length ``L = floor(crop_factor * T)`` starting AT the
   peak, zero-padded to ``length`` (187) samples.

Choices the paper leaves open (all exposed in :class:`PaperParams`, defaults first):

* Resampler: :func:`scipy.signal.resample_poly` with the exact rational ratio
  ``up/down`` of ``fs / fs_in`` (360 -> 125 Hz: 25/72; 1000 -> 125 Hz: 1/8), SciPy's
  default filter: FIR low-pass by ``firwin``, Kaiser window beta 5.0,
  ``20 * max(up, down) + 1`` taps, zero padding beyond the record's ends; computed
  by a numba kernel with the identical result, bit for bit (see
  :mod:`ecgseg.resample`). No resampling when ``fs_in == fs``.
* Window length: ``round(window_s * fs)`` samples (1 250).
* Last, shorter window: dropped (``last_window='drop'``, its samples are counted in
  ``stats['samples_dropped']``); ``'keep'`` processes it like the others.
* Normalisation: ``(x - min) / (max - min)`` in float64 per window. A flat window
  (``max == min``) is skipped and counted in ``stats['windows_flat']``.
* Local maxima: computed inside each window; a plateau gives ONE peak, its FIRST
  sample; a window's first and last samples are never peaks (the derivative is seen on
  both sides only inside the window).
* Threshold: ``x > threshold`` (``threshold_inclusive=True`` for ``>=``).
* Windows with fewer than two R peaks have no T: skipped (no beats), counted in
  ``stats['windows_skipped']`` (flat windows are counted only in ``windows_flat``, so
  ``windows - windows_flat - windows_skipped`` windows gave beats).
* ``T``: median of the intervals in samples at ``fs``, the mean of the two middle ones
  for an even count; ``L = floor(crop_factor * T)`` (float64 product).
* Every R peak of a window gives a beat, its last one included.
* A part running past the window's end: cut at the window's end
  (``crop_end='window'``, counted in ``stats['beats_cut_window']``); ``'signal'`` takes
  it from the continuous signal instead, scaled with the peak's window's min and max
  (so those values may leave [0, 1]), stopping only at the end of the resampled signal.
* ``L > length``: cut to ``length`` (counted in ``stats['beats_cut_length']``).
* Beat values: the normalised window values (float64) cast to float32; row ``i`` holds
  ``n_values[i]`` values then zeros.
* ``Segments.sample``: the R peak in the ORIGINAL record's samples,
  ``rint(p * fs_in / fs)`` (round half to even), clipped to the record.
* NaN or infinite samples: :class:`ecgseg.errors.RecordError` (fill or cut them first;
  a NaN would silently break min-max and the peak comparisons).
* A record shorter than one window: 0 beats, ``stats['windows'] == 0``, no exception.

``stats`` keys: ``samples_in``, ``samples_resampled``, ``samples_dropped``,
``windows``, ``windows_flat``, ``windows_skipped``, ``local_maxima``, ``peaks`` (R
peaks above threshold, all windows), ``beats``, ``beats_cut_window``,
``beats_cut_length``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..resample import resample
from ..segments import Segments
from .params import PaperParams  # noqa: F401  (re-exported)
from ._common import as_signal, check_backend, peaks_to_windows, window_bounds


def segment_paper(signal: np.ndarray, fs_in: float, params: PaperParams = PaperParams(),
                  peaks: np.ndarray | None = None, *, backend: str = "numba") -> Segments:
    """Segment one lead into heartbeats with the paper's method.

    Parameters
    ----------
    signal : np.ndarray
        float64 (any real dtype accepted), shape (n_samples,): one lead, in mV.
    fs_in : float
        Sampling frequency of ``signal``, Hz.
    params : PaperParams
        Recipe parameters.
    peaks : np.ndarray, optional
        int64, shape (k,), ascending: R peaks in samples of ``signal`` from a detector
        (:mod:`ecgseg.detectors`), used instead of steps 4-5. Each is mapped to
        ``rint(p * fs / fs_in)`` in the resampled signal; peaks in the dropped last
        window or a flat window are left out, and of two landing on the same sample the
        first is kept. ``T``, the crops and the normalisation are the recipe's, and
        ``Segments.sample`` keeps the given ``p``. ``stats`` then has
        ``detector_peaks`` (len(peaks)) instead of ``local_maxima``.
    backend : {'numba', 'numpy'}
        ``'numpy'``: the plain NumPy reference (:mod:`ecgseg.kernels_numpy`), same
        beats bit for bit, ~16x slower; without ``peaks`` only.

    Returns
    -------
    Segments
        ``beats`` float32 (n, params.length) at ``params.fs``; ``sample`` the R peaks in
        samples of ``signal``; ``window`` the 10 s window index; ``stats`` as in the
        module docstring.

    Raises
    ------
    RecordError
        If ``signal`` is not 1-D or holds NaN/infinite samples.
    InputError
        If ``fs_in`` and ``params.fs`` have no exact rational ratio.
    """
    if check_backend(backend, peaks is None) == "numpy":
        from ..kernels_numpy import segment_paper as reference

        return reference(signal, fs_in, params)
    x = as_signal(signal)
    xr = resample(x, fs_in, params.fs)
    n = xr.shape[0]
    starts, ends = window_bounds(n, params.window_samples, params.last_window)
    n_windows = starts.shape[0]
    stats = {"samples_in": int(x.shape[0]), "samples_resampled": int(n),
             "samples_dropped": int(n - (ends[-1] if n_windows else 0)),
             "windows": int(n_windows)}

    if peaks is None:
        mn, mx, n_maxima, peaks, peak_window = K.window_peaks(
            xr, starts, ends, float(params.threshold), params.threshold_inclusive)
        flat = ~(mx > mn)
        original = None
    else:
        original = np.asarray(peaks, dtype=np.int64)
        mn, mx = K.window_minmax(xr, starts, ends)
        flat = ~(mx > mn)
        peaks, peak_window, kept = peaks_to_windows(original, float(params.fs) / float(fs_in),
                                                     0.0, n, starts, ends, ~flat)
        stats["detector_peaks"] = int(original.shape[0])
        original = original[kept]
    period, counts = K.window_median_rr(peaks, peak_window, n_windows)
    limit = ends if params.crop_end == "window" else np.full(n_windows, n, np.int64)
    full, available, keep = K.beat_extents(peaks, peak_window, period, limit,
                                           float(params.crop_factor), False)

    start = peaks[keep]
    beat_window = peak_window[keep]
    n_values = np.minimum(available[keep], params.length)
    beats = np.empty((start.shape[0], params.length), np.float32)
    K.crop_scale_pad(xr, start, n_values, mn[beat_window], (mx - mn)[beat_window], beats)

    if original is None:
        sample = np.rint(start * float(fs_in) / float(params.fs)).astype(np.int64)
        np.clip(sample, 0, max(x.shape[0] - 1, 0), out=sample)
        maxima = {"local_maxima": int(n_maxima.sum())}
    else:
        sample = np.ascontiguousarray(original[keep])
        maxima = {}
    stats.update(
        windows_flat=int(flat.sum()),
        windows_skipped=int(((counts < 2) & ~flat).sum()),
        **maxima,
        peaks=int(peaks.shape[0]),
        beats=int(start.shape[0]),
        beats_cut_window=int((available[keep] < full[keep]).sum()),
        beats_cut_length=int((available[keep] > params.length).sum()),
    )
    return Segments(beats, sample, beat_window.astype(np.int32), n_values.astype(np.int16), stats)
