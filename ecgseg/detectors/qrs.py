"""``qrs``: a robust R-peak detector for one ECG lead of any polarity, 100 Hz to 10 kHz.

The method follows the classic adaptive-threshold design of Pan & Tompkins (1985) and
Hamilton & Tompkins (1986), re-derived here for any sampling rate and run as numba
kernels over the whole record (linear in its length, no Python loop per beat):

1. **Gaps.** NaN samples are bridged by linear interpolation and excluded from
   detection (a gap does not stop detection after it). A signal without gaps is used
   as is: one scan counts non-finite samples and finds the range, nothing is copied.
2. **Band-pass.** A 2nd-order Butterworth high-pass (``low_hz``) and low-pass
   (``high_hz``) biquad, designed for the given ``fs`` by the bilinear transform, run
   forward then backward (zero phase, no delay; 4th-order slopes). Each pass starts in
   the steady state of its first input, so an offset causes no start transient.
3. **Energy envelope.** Central first difference of the band-passed signal, squared,
   summed over a centred window of ``integration_s`` (a QRS complex becomes one smooth
   hump centred on it).
4. **Candidates.** Local maxima of the envelope that are also the largest within
   ``± candidate_s``.
5. **Adaptive thresholds** (one pass over the candidates): running signal and noise
   peak levels ``SPK``/``NPK``; a candidate above ``NPK + threshold_fraction (SPK -
   NPK)`` is a QRS unless it falls within ``refractory_s`` of the previous one, or within
   ``twave_s`` and its steepest slope is below ``twave_slope_ratio`` times the previous
   QRS's (a T wave). When no QRS came for ``searchback_rr`` times the mean of the last
   8 RR intervals, the largest candidate since the last QRS is taken if it exceeds
   ``searchback_fraction`` of the threshold (search-back; while nothing is found, that
   threshold is lowered by a factor 0.8 for every ``searchback_step_s`` seconds past the
   search-back limit, never below ``searchback_noise_ratio`` times the noise level). A
   candidate rejected as a T wave whose slope is even below ``searchback_twave_ratio``
   times the previous QRS's is never taken back by the search-back. The levels start
   from the first ``learning_s``; with ``relearn_s`` > 0 a first pass runs this step over
   the first ``relearn_s`` seconds and the record is then detected from its start with
   the levels that pass reached. A candidate whose band-passed signal within
   ``± refine_s`` travels more than ``jaggedness_limit`` times its range (total variation
   over range: 2-3 for a QRS complex), and more than ``jaggedness_ratio`` times the running
   jaggedness of the QRS complexes, is a noise burst: no QRS, never taken back, no part of
   the noise level.
6. **R-peak refinement.** Within ``± refine_s`` of the envelope peak, the extreme of the
   band-passed signal in the record's dominant polarity (the opposite one when it is
   ``polarity_ratio`` times larger, e.g. an inverted ventricular beat; or when the
   signal's own excursion from the window's edges is ``polarity_ratio`` times larger the
   other way, e.g. a QS-shaped ventricular beat after a small r wave), then the extreme
   of the signal itself within ``± peak_s`` of that.

Every kernel has a plain NumPy reference of the same algorithm
(``detect_qrs(..., backend="numpy")``); the tests check that both give identical peaks.
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass, fields, replace

import numpy as np
from numba import njit

from .errors import DetectorInputError, DetectorWarning

__all__ = ["QrsParams", "QrsInputError", "QrsWarning", "default_params", "detect",
           "detect_qrs", "qrs_trace", "QrsTrace", "snap_peaks", "warm_up", "SNAP_ROUNDS",
           "MIN_FS", "MAX_FS", "MIN_RATE_PER_MIN", "MIN_SECONDS", "SHORT_SECONDS"]

MIN_FS = 100.0
"""Lowest supported sampling rate, Hz."""
MAX_FS = 10_000.0
"""Highest supported sampling rate, Hz."""
MIN_SECONDS = 1.0
"""Shortest signal accepted, s (shorter: :class:`QrsInputError`)."""
MIN_RATE_PER_MIN = 10.0
"""Fewer detections per minute than this get a :class:`QrsWarning` (no QRS in this lead?)."""
SHORT_SECONDS = 5.0
"""Signals shorter than this get a :class:`QrsWarning` (thresholds have little to learn from)."""


QrsInputError = DetectorInputError
"""The signal, its sampling rate or the detector parameters cannot be used (the shared
:class:`~ecgseg.detectors.errors.DetectorInputError`)."""
QrsWarning = DetectorWarning
"""Doubtful input (short, gaps, no QRS): the shared :class:`~ecgseg.detectors.errors.DetectorWarning`."""


_MAY_BE_ZERO = ("peak_s", "relearn_s", "searchback_step_s")
"""Parameters for which 0 is allowed (it switches that refinement off)."""


@dataclass(frozen=True)
class QrsParams:
    """Parameters of the ``qrs`` detector (validated on creation; times in seconds).

    Attributes
    ----------
    low_hz, high_hz : float
        Band-pass corner frequencies, Hz (``0 < low_hz < high_hz``; ``high_hz`` must be
        below ``fs / 2``, checked at detection).
    integration_s : float
        Width of the moving-window integration of the squared derivative, s.
    candidate_s : float
        An envelope peak must be the largest within this distance, s.
    refractory_s : float
        No second QRS within this time after one, s.
    twave_s : float
        A candidate this soon after a QRS is tested for being a T wave, s.
    twave_slope_ratio : float
        ... and is a T wave when its steepest slope is below this fraction of the
        previous QRS's.
    threshold_fraction : float
        Detection threshold = NPK + ``threshold_fraction`` (SPK - NPK), in (0, 1).
    searchback_rr : float
        Search back for a missed beat after this many mean RR intervals (> 1). 1.5 (was
        1.66 until 2026-11-29): ectopic beats of small band-passed energy followed by a
        short pause (records 201, 210) are then taken back.
    searchback_fraction : float
        ... and take the largest candidate since the last QRS if above this fraction of
        the detection threshold, in (0, 1).
    searchback_twave_ratio : float
        ... leaving out T waves whose steepest slope is below this fraction of the
        previous QRS's (clear T waves; at most ``twave_slope_ratio``; 0.3, 0.25 until
        2026-11-29: a T wave in one of record 232's pauses had 0.25).
    searchback_noise_ratio : float
        The search-back threshold, lowered while nothing is found, never goes below
        this many times the noise level ``NPK`` (>= 1).
    searchback_step_s : float
        The search-back threshold is lowered by 0.8 for every this many seconds past the
        search-back limit, s; 0: after every unsuccessful try (one per candidate, the
        behaviour before 2026-11-29, which in a long pause full of small noise peaks fell
        to the noise level within a second or two: record 232).
    learning_s : float
        Initial signal and noise levels come from this first stretch, s.
    relearn_s : float
        When positive, a first pass runs the thresholds over this first stretch, s, and
        the record is then detected from its start with the levels (``SPK``, ``NPK``, mean
        RR) that pass reached instead of the cruder initial ones; 0: one pass.
    refine_s : float
        Half-width of the window where the R peak is sought around the envelope peak, s.
    peak_s : float
        Half-width of the final search on the signal itself, s (0 keeps the band-passed extreme).
    polarity_ratio : float
        A beat takes the opposite of the record's dominant polarity when that extreme is
        this many times larger, in the band-passed signal or in the signal's excursion
        from the refinement window's edges (>= 1).
    jaggedness_limit : float
        A candidate whose band-passed signal, within ``± refine_s``, travels more than
        this many times its range (total variation / (max - min): about 2-3 for a QRS
        complex, more for a broad-band noise burst) is noise: never a QRS, never taken
        back by the search-back (> 1; added 2026-11-29 at 4: on the 48 MIT-BIH records
        it removed noise detections of 228, 232, 104, 108 and lost no beat). A large
        value switches it off.
    jaggedness_ratio : float
        ... and only when the candidate's jaggedness is also above this many times the
        running jaggedness of the QRS complexes (``JPK``, updated with each QRS as ``SPK``
        is; >= 1; 1.5: record 114's V5 lead, QRS complexes of jaggedness 2.8-4, lost 27
        beats to the limit alone, 1 with it; on MLII of the 48 records it changes no peak).

    Examples
    --------
    >>> QrsParams(low_hz=8.0).low_hz
    8.0
    >>> QrsParams(refractory_s=-1)
    Traceback (most recent call last):
    ...
    ecgseg.detectors.errors.DetectorInputError: refractory_s must be positive, got -1
    """

    low_hz: float = 5.0
    high_hz: float = 25.0
    integration_s: float = 0.12
    candidate_s: float = 0.1
    refractory_s: float = 0.2
    twave_s: float = 0.36
    twave_slope_ratio: float = 0.5
    threshold_fraction: float = 0.5
    searchback_rr: float = 1.5
    searchback_fraction: float = 0.6
    searchback_twave_ratio: float = 0.3
    searchback_noise_ratio: float = 1.2
    searchback_step_s: float = 1.0
    learning_s: float = 2.0
    relearn_s: float = 30.0
    refine_s: float = 0.075
    peak_s: float = 0.02
    polarity_ratio: float = 1.5
    jaggedness_limit: float = 4.0
    jaggedness_ratio: float = 1.5

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise QrsInputError(f"{f.name} must be a finite number, got {value!r}")
            if value < 0 or (value == 0 and f.name not in _MAY_BE_ZERO):
                raise QrsInputError(f"{f.name} must be positive, got {value!r}")
        if self.low_hz >= self.high_hz:
            raise QrsInputError(f"low_hz must be below high_hz, got {self.low_hz} >= {self.high_hz}")
        if not 0 < self.threshold_fraction < 1:
            raise QrsInputError(f"threshold_fraction must be in (0, 1), got {self.threshold_fraction}")
        if not 0 < self.searchback_fraction < 1:
            raise QrsInputError(f"searchback_fraction must be in (0, 1), got {self.searchback_fraction}")
        if not 0 < self.twave_slope_ratio < 1:
            raise QrsInputError(f"twave_slope_ratio must be in (0, 1), got {self.twave_slope_ratio}")
        if not 0 < self.searchback_twave_ratio <= self.twave_slope_ratio:
            raise QrsInputError(f"searchback_twave_ratio must be in (0, twave_slope_ratio = "
                                f"{self.twave_slope_ratio}], got {self.searchback_twave_ratio}")
        if self.searchback_rr <= 1:
            raise QrsInputError(f"searchback_rr must be above 1, got {self.searchback_rr}")
        if self.searchback_noise_ratio < 1:
            raise QrsInputError(f"searchback_noise_ratio must be at least 1, got {self.searchback_noise_ratio}")
        if self.jaggedness_ratio < 1:
            raise QrsInputError(f"jaggedness_ratio must be at least 1, got {self.jaggedness_ratio}")
        if self.jaggedness_limit <= 1:
            raise QrsInputError(f"jaggedness_limit must be above 1, got {self.jaggedness_limit}")
        if self.polarity_ratio < 1:
            raise QrsInputError(f"polarity_ratio must be at least 1, got {self.polarity_ratio}")


# --- filter design (pure Python, no scipy import) -----------------------------------------

def butter_biquads(fs: float, low_hz: float, high_hz: float) -> np.ndarray:
    """2nd-order Butterworth high-pass and low-pass biquads (bilinear transform, prewarped).

    Returns
    -------
    ndarray, float64 (2, 6)
        Second-order sections ``[b0, b1, b2, 1, a1, a2]`` in ``scipy.signal`` ``sos`` layout:
        row 0 the high-pass at ``low_hz``, row 1 the low-pass at ``high_hz``.

    Examples
    --------
    >>> sos = butter_biquads(360.0, 5.0, 25.0)
    >>> sos.shape, bool(abs(sos[1, :3].sum() / (1 + sos[1, 4:].sum()) - 1) < 1e-12)  # LP: DC gain 1
    ((2, 6), True)
    """
    sos = np.zeros((2, 6))
    for row, (fc, highpass) in enumerate(((low_hz, True), (high_hz, False))):
        w0 = 2.0 * math.pi * fc / fs
        cos_w, alpha = math.cos(w0), math.sin(w0) / math.sqrt(2.0)  # Q = 1/sqrt(2)
        a0 = 1.0 + alpha
        if highpass:
            b = ((1 + cos_w) / 2, -(1 + cos_w), (1 + cos_w) / 2)
        else:
            b = ((1 - cos_w) / 2, 1 - cos_w, (1 - cos_w) / 2)
        sos[row] = [b[0] / a0, b[1] / a0, b[2] / a0, 1.0, -2 * cos_w / a0, (1 - alpha) / a0]
    return sos


def _steady_state(sos: np.ndarray, u: float) -> np.ndarray:
    """Direct-form-II-transposed states (n_sections, 2) of ``sos`` after a constant input ``u``."""
    zi = np.zeros((sos.shape[0], 2))
    for s in range(sos.shape[0]):
        b0, b1, b2, _, a1, a2 = sos[s]
        y = u * (b0 + b1 + b2) / (1.0 + a1 + a2)  # DC gain times input
        zi[s, 1] = b2 * u - a2 * y
        zi[s, 0] = b1 * u - a1 * y + zi[s, 1]
        u = y
    return zi


# --- kernels: numba versions and their plain NumPy references --------------------------------

@njit(cache=True)
def _finite_range_nb(x):
    """float64 (n,) -> (number of non-finite samples, min and max of the finite ones).

    One read of the signal and no allocation: a signal without gaps is then used as is
    (no bridged copy). Without finite samples, min and max are +inf and -inf.
    """
    bad = 0
    lo = math.inf
    hi = -math.inf
    for i in range(x.shape[0]):
        v = x[i]
        if math.isfinite(v):
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        else:
            bad += 1
    return bad, lo, hi


def _finite_range_np(x):
    finite = np.isfinite(x)
    bad = int(x.size - np.count_nonzero(finite))
    if bad == x.size:
        return bad, math.inf, -math.inf
    v = x[finite] if bad else x
    return bad, float(v.min()), float(v.max())


@njit(cache=True)
def _bridge_gaps_nb(x):
    """float64 (n,) with NaN -> (copy with NaN linearly bridged, uint8 (n,) 1 where finite)."""
    n = x.shape[0]
    y = np.empty(n)
    valid = np.zeros(n, dtype=np.uint8)
    last = -1
    for i in range(n):
        v = x[i]
        if math.isfinite(v):
            valid[i] = 1
            y[i] = v
            if last < i - 1:
                if last < 0:
                    for j in range(i):
                        y[j] = v
                else:
                    step = (v - y[last]) / (i - last)
                    for j in range(last + 1, i):
                        y[j] = y[last] + step * (j - last)
            last = i
    for j in range(last + 1, n):
        y[j] = y[last] if last >= 0 else 0.0
    return y, valid


def _bridge_gaps_np(x):
    valid = np.isfinite(x)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return np.zeros_like(x), valid.astype(np.uint8)
    y = x.copy()
    if idx.size < x.size:
        gaps = np.flatnonzero(~valid)
        # same arithmetic as the kernel: y[last] + step * (j - last)
        right = np.clip(np.searchsorted(idx, gaps), 0, idx.size - 1)
        left = np.clip(right - 1, 0, idx.size - 1)
        lo, hi = idx[left], idx[right]
        inner = (lo < gaps) & (gaps < hi)
        step = (x[hi[inner]] - x[lo[inner]]) / (hi[inner] - lo[inner])
        y[gaps[inner]] = x[lo[inner]] + step * (gaps[inner] - lo[inner])
        y[gaps[gaps < idx[0]]] = x[idx[0]]
        y[gaps[gaps > idx[-1]]] = x[idx[-1]]
    return y, valid.astype(np.uint8)


@njit(cache=True)
def _steady_state_nb(sos, u):
    zi = np.zeros((sos.shape[0], 2))
    for s in range(sos.shape[0]):
        y = u * (sos[s, 0] + sos[s, 1] + sos[s, 2]) / (1.0 + sos[s, 4] + sos[s, 5])
        zi[s, 1] = sos[s, 2] * u - sos[s, 5] * y
        zi[s, 0] = sos[s, 1] * u - sos[s, 4] * y + zi[s, 1]
        u = y
    return zi


@njit(cache=True)
def _bandpass_energy_nb(x, sos, fwd, suffix):
    """Zero-phase band-pass and the suffix sums of its squared central difference.

    Written into ``fwd`` float64 (>= n,) and ``suffix`` float64 (>= n + 1,) (from
    :func:`_work_arrays`; their first n and n + 1 values are returned).

    The two biquads of ``sos`` (2, 6) run forward, then backward, each pass from its steady
    state (direct form II transposed, the operation order of ``scipy.signal.sosfilt``).
    The backward pass overwrites the forward output in place (two arrays written in all,
    not four). During it the central difference ``d[i] = bp[i+1] - bp[i-1]`` (0 at both
    ends) is formed and ``suffix[i] = sum(d[i:]**2)`` accumulated from the end.

    Returns (bp float64 (n,), suffix float64 (n + 1,)).
    """
    n = x.shape[0]
    b0, b1, b2, a1, a2 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    c0, c1, c2, e1, e2 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    zi = _steady_state_nb(sos, x[0])
    p0, p1, q0, q1 = zi[0, 0], zi[0, 1], zi[1, 0], zi[1, 1]
    fwd = fwd[:n]
    for i in range(n):
        v = x[i]
        y = b0 * v + p0
        p0 = b1 * v - a1 * y + p1
        p1 = b2 * v - a2 * y
        w = c0 * y + q0
        q0 = c1 * y - e1 * w + q1
        q1 = c2 * y - e2 * w
        fwd[i] = w
    zi = _steady_state_nb(sos, fwd[n - 1])
    p0, p1, q0, q1 = zi[0, 0], zi[0, 1], zi[1, 0], zi[1, 1]
    bp = fwd  # fwd[i] is read before bp[i] is written
    suffix = suffix[:n + 1]
    suffix[n] = 0.0
    acc = 0.0
    for i in range(n - 1, -1, -1):
        v = fwd[i]
        y = b0 * v + p0
        p0 = b1 * v - a1 * y + p1
        p1 = b2 * v - a2 * y
        w = c0 * y + q0
        q0 = c1 * y - e1 * w + q1
        q1 = c2 * y - e2 * w
        bp[i] = w
        # bp[i + 2] and bp[i] are known: difference at i + 1
        if i + 1 < n - 1:
            d = bp[i + 2] - w
            acc += d * d
            suffix[i + 1] = acc
    suffix[n - 1] = 0.0
    suffix[0] = acc
    return bp, suffix


def _bandpass_energy_np(x, sos):
    from scipy.signal import sosfilt  # the reference only; the numba path never imports scipy.signal

    fwd = sosfilt(sos, x, zi=_steady_state(sos, x[0]))[0]
    bp = np.ascontiguousarray(sosfilt(sos, fwd[::-1], zi=_steady_state(sos, fwd[-1]))[0][::-1])
    n = bp.size
    d = np.zeros(n)
    d[1:-1] = bp[2:] - bp[:-2]
    suffix = np.zeros(n + 1)
    suffix[1:n - 1] = np.cumsum((d * d)[-2:0:-1])[::-1]  # summed from the end, as the kernel does
    suffix[0] = suffix[1]
    return bp, suffix


@njit(cache=True)
def _envelope_nb(suffix, valid, half, has_gaps, env):
    """Energy envelope: squared differences summed over the 2*half+1 samples centred on each.

    0 where the window holds a non-finite input sample (``valid == 0``). Written into
    ``env`` float64 (>= n,) (from :func:`_work_arrays`); its first n values are returned.
    """
    n = suffix.shape[0] - 1
    env = env[:n]
    for i in range(n):
        env[i] = suffix[max(0, i - half)] - suffix[min(n, i + half + 1)]
    if has_gaps:
        bad = 0  # invalid samples inside the window
        for i in range(min(half, n)):
            bad += valid[i] == 0
        for i in range(n):
            hi = i + half
            if hi < n:
                bad += valid[hi] == 0
            lo = i - half - 1
            if lo >= 0:
                bad -= valid[lo] == 0
            if bad > 0:
                env[i] = 0.0
    return env


def _envelope_np(suffix, valid, half, has_gaps):
    n = suffix.size - 1
    i = np.arange(n)
    env = suffix[np.maximum(0, i - half)] - suffix[np.minimum(n, i + half + 1)]
    if has_gaps:
        bad = np.concatenate(([0], np.cumsum(valid == 0)))
        env[(bad[np.minimum(n, i + half + 1)] - bad[np.maximum(0, i - half)]) > 0] = 0.0
    return env


@njit(cache=True)
def _candidates_nb(env, bp, half, qrs_half):
    """Envelope peaks (first sample of a plateau) that are the largest within ``half``.

    Returns (int64 positions, square roots of their envelope values, steepest slope
    ``|bp[j+1] - bp[j-1]|`` (0 at both ends) for ``j`` within ``qrs_half`` of each, and
    the jaggedness of ``bp`` there: its total variation ``sum |bp[j] - bp[j-1]|`` over
    those ``j`` divided by its range ``max - min`` over them (0 when flat)).
    """
    n = env.shape[0]
    pos = np.empty(n // 2 + 1, dtype=np.int64)
    m = 0
    for i in range(1, n - 1):
        e = env[i]
        if e > env[i - 1] and e >= env[i + 1] and e > 0.0:
            ok = True
            # outward from i: a larger neighbour, when there is one, is usually close
            for d in range(1, half + 1):
                if (i + d < n and env[i + d] > e) or (i - d >= 0 and env[i - d] > e):
                    ok = False
                    break
                if i + d >= n and i - d < 0:
                    break
            if ok:
                pos[m] = i
                m += 1
    pos = pos[:m].copy()
    amp = np.empty(m)
    steep = np.empty(m)
    jag = np.empty(m)
    for k in range(m):
        i = pos[k]
        amp[k] = math.sqrt(env[i])
        s = 0.0
        tv = 0.0
        lo = math.inf
        hi = -math.inf
        for j in range(max(1, i - qrs_half), min(n - 1, i + qrs_half + 1)):
            d = abs(bp[j + 1] - bp[j - 1])
            if d > s:
                s = d
            tv += abs(bp[j] - bp[j - 1])
            v = bp[j]
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        steep[k] = s
        jag[k] = tv / (hi - lo) if hi > lo else 0.0
    return pos, amp, steep, jag


def _window_max(a, centres, half):
    """max(a[c-half : c+half+1]) for each centre (clipped at the ends)."""
    padded = np.concatenate((np.full(half, -np.inf), a, np.full(half, -np.inf)))
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return win[centres].max(axis=1)


def _candidates_np(env, bp, half, qrs_half):
    slope = np.zeros(bp.size)
    slope[1:-1] = np.abs(bp[2:] - bp[:-2])
    e = env[1:-1]
    pos = np.flatnonzero((e > env[:-2]) & (e >= env[2:]) & (e > 0.0)) + 1
    pos = pos[env[pos] >= _window_max(env, pos, half)].astype(np.int64)
    # jaggedness: total variation over the window (summed in the kernel's order: a
    # sequential cumsum over zero-padded windows) divided by the range of bp there
    n = bp.size
    step = np.zeros(n)
    step[1:n - 1] = np.abs(bp[1:n - 1] - bp[:n - 2])
    inner = np.full(n, -np.inf)
    inner[1:n - 1] = bp[1:n - 1]
    hi = _window_max(inner, pos, qrs_half)
    inner[1:n - 1] = -bp[1:n - 1]
    lo = -_window_max(inner, pos, qrs_half)
    padded = np.concatenate((np.zeros(qrs_half), step, np.zeros(qrs_half)))
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * qrs_half + 1)[pos]
    tv = np.cumsum(win, axis=1)[:, -1] if pos.size else np.zeros(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        jag = np.where(hi > lo, tv / (hi - lo), 0.0)
    return pos, np.sqrt(env[pos]), _window_max(slope, pos, qrs_half), jag


def _thresholds_py(pos, amp, steep, jag, fs, learning, refractory, twave, twave_ratio,
                   fraction, searchback_rr, sb_fraction, sb_twave_ratio, sb_noise_ratio,
                   sb_step, relearn, jag_limit, jag_ratio, trace):
    """Adaptive-threshold decision over the candidates; returns the indices of the QRS ones.

    Plain Python (run as is by the NumPy backend, compiled by numba for the other): the
    decisions are sequential by nature. ``trace`` float64 (m, 3) receives, per candidate,
    the last decision taken on it (one of the ``DECISION_*`` codes; 0: never reached), the
    threshold it was compared with and the signal level ``SPK`` then (:func:`qrs_trace`
    reads it). A candidate whose jaggedness ``jag`` exceeds both ``jag_limit`` and
    ``jag_ratio`` times the running jaggedness of the QRS complexes (``JPK``, updated as
    ``SPK`` is) is a noise burst: never a QRS, never taken back, left out of the noise level.
    """
    m = pos.shape[0]
    chosen = np.empty(m, dtype=np.int64)
    n_chosen = 0
    if m == 0:
        return chosen[:0]
    # learning phase: signal level from the largest early candidate, noise from their median
    k_learn = 0
    while k_learn < m and pos[k_learn] < learning:
        k_learn += 1
    if k_learn == 0:
        k_learn = 1
    spk = 0.0
    for k in range(k_learn):
        if amp[k] > spk:
            spk = amp[k]
    spk *= 0.5
    npk = np.median(amp[:k_learn]) * 0.5
    if npk > spk * 0.5:
        npk = spk * 0.5
    rr = np.full(8, 0.8 * fs)
    rr_k = 0
    rr_mean = 0.8 * fs
    jpk = 0.0  # running jaggedness of the QRS complexes (0: jag_limit alone decides at first)
    # pass 0 (when relearn > 0) runs over the first `relearn` samples only and keeps
    # nothing but the levels it reached (SPK, NPK, RR): pass 1 starts over with them
    first_pass = 0 if relearn > 0 else 1
    for rnd in range(first_pass, 2):
        n_chosen = 0
        last = -1           # position of the last QRS
        last_steep = 0.0
        best = -1           # largest non-QRS candidate since the last QRS (search-back)
        failures = 0        # unsuccessful search-backs since the last QRS
        processed = -1      # highest candidate index whose noise level update is done
        i = 0
        while i < m:
            p = pos[i]
            if rnd == 0 and p > relearn:
                break
            th1 = npk + fraction * (spk - npk)
            limit = searchback_rr * rr_mean
            # search-back for a missed beat
            if best >= 0 and (p - (last if last >= 0 else 0)) > limit:
                # lowered by 0.8 per failed try, or per `sb_step` samples past the limit
                lowered = failures
                if sb_step > 0:
                    lowered = int((p - (last if last >= 0 else 0) - limit) // sb_step)
                th_sb = sb_fraction * th1 * 0.8 ** lowered
                if th_sb < sb_noise_ratio * npk:
                    th_sb = sb_noise_ratio * npk
                if amp[best] > th_sb:
                    j = best
                    q = pos[j]
                    if last >= 0:
                        interval = q - last
                        if interval < 2.5 * rr_mean:
                            rr_mean += (interval - rr[rr_k]) / 8.0
                            rr[rr_k] = interval
                            rr_k = (rr_k + 1) % 8
                    trace[j, 0] = 2.0  # DECISION_SEARCHBACK
                    trace[j, 1] = th_sb
                    trace[j, 2] = spk
                    spk = 0.25 * amp[j] + 0.75 * spk
                    jpk = 0.125 * jag[j] + 0.875 * jpk
                    chosen[n_chosen] = j
                    n_chosen += 1
                    last = q
                    last_steep = steep[j]
                    best = -1
                    failures = 0
                    i = j + 1
                    continue
                failures += 1
                best = -1 if failures > 30 else best
            if jag[i] > jag_limit and jag[i] > jag_ratio * jpk:  # a noise burst, not a QRS
                trace[i, 0] = 6.0  # DECISION_JAGGED
                trace[i, 1] = th1
                trace[i, 2] = spk
                if i > processed:
                    processed = i
                i += 1
                continue
            since = p - last if last >= 0 else refractory + 1
            if since < refractory:
                trace[i, 0] = 3.0  # DECISION_REFRACTORY
                trace[i, 1] = th1
                trace[i, 2] = spk
                i += 1
                continue
            # a T wave: soon after a QRS and at most twave_ratio of its steepest slope
            is_twave = last >= 0 and since < twave and steep[i] < twave_ratio * last_steep
            is_qrs = amp[i] > th1 and not is_twave
            trace[i, 1] = th1
            trace[i, 2] = spk
            trace[i, 0] = 1.0 if is_qrs else (4.0 if is_twave else 5.0)  # QRS / TWAVE / NOISE
            if is_qrs:
                if last >= 0:
                    interval = p - last
                    if interval < 2.5 * rr_mean:
                        rr_mean += (interval - rr[rr_k]) / 8.0
                        rr[rr_k] = interval
                        rr_k = (rr_k + 1) % 8
                spk = 0.125 * amp[i] + 0.875 * spk
                jpk = 0.125 * jag[i] + 0.875 * jpk
                chosen[n_chosen] = i
                n_chosen += 1
                last = p
                last_steep = steep[i]
                best = -1
                failures = 0
            else:
                if i > processed:
                    npk = 0.125 * amp[i] + 0.875 * npk
                # the search-back never takes back a clear T wave (slope below sb_twave_ratio)
                clear_twave = is_twave and steep[i] < sb_twave_ratio * last_steep
                if not clear_twave and (best < 0 or amp[i] > amp[best]):
                    best = i
            if i > processed:
                processed = i
            i += 1
    return chosen[:n_chosen].copy()


_thresholds_nb = njit(cache=True)(_thresholds_py)


@njit(cache=True)
def _refine_nb(x, bp, centres, half, peak_half, ratio):
    """R peak of each QRS: extreme of ``bp`` within ``half`` in the dominant polarity, then of ``x``."""
    n = x.shape[0]
    k = centres.shape[0]
    hi = np.empty(k, dtype=np.int64)
    lo = np.empty(k, dtype=np.int64)
    balance = 0.0
    for b in range(k):
        c = centres[b]
        a = max(0, c - half)
        z = min(n, c + half + 1)
        ih = a
        il = a
        for j in range(a, z):
            if bp[j] > bp[ih]:
                ih = j
            if bp[j] < bp[il]:
                il = j
        hi[b] = ih
        lo[b] = il
        balance += bp[ih] + bp[il]
    out = np.empty(k, dtype=np.int64)
    for b in range(k):
        up = bp[hi[b]]
        down = -bp[lo[b]]
        if balance >= 0.0:
            positive = not (down > ratio * up)
        else:
            positive = up > ratio * down
        # the signal itself overrules: its excursion from the window's edges is `ratio`
        # times larger the other way (a QS-shaped ventricular beat after a small r wave)
        c = centres[b]
        a = max(0, c - half)
        z = min(n, c + half + 1)
        base = 0.5 * (x[a] + x[z - 1])
        xmax = x[a]
        xmin = x[a]
        for j in range(a, z):
            if x[j] > xmax:
                xmax = x[j]
            if x[j] < xmin:
                xmin = x[j]
        up_x = xmax - base
        down_x = base - xmin
        if positive and down_x > ratio * up_x:
            positive = False
        elif (not positive) and up_x > ratio * down_x:
            positive = True
        r = hi[b] if positive else lo[b]
        a = max(0, r - peak_half)
        z = min(n, r + peak_half + 1)
        best = r
        for j in range(a, z):
            if (positive and x[j] > x[best]) or ((not positive) and x[j] < x[best]):
                best = j
        out[b] = best
    return out


def _refine_np(x, bp, centres, half, peak_half, ratio):
    n = x.size
    offsets = np.arange(-half, half + 1)
    idx = centres[:, None] + offsets[None, :]
    inside = (idx >= 0) & (idx < n)
    vals = np.where(inside, bp[np.clip(idx, 0, n - 1)], np.nan)
    hi = idx[np.arange(idx.shape[0]), np.nanargmax(vals, axis=1)] if len(centres) else centres
    lo = idx[np.arange(idx.shape[0]), np.nanargmin(vals, axis=1)] if len(centres) else centres
    balance = 0.0
    for b in range(len(centres)):  # the kernel's summation order
        balance += bp[hi[b]] + bp[lo[b]]
    up, down = bp[hi], -bp[lo]
    positive = ~(down > ratio * up) if balance >= 0 else (up > ratio * down)
    # the signal's excursions from the mean of the window's two edge samples
    xvals = np.where(inside, x[np.clip(idx, 0, n - 1)], np.nan)
    first = np.maximum(centres - half, 0)
    last = np.minimum(centres + half, n - 1)
    base = 0.5 * (x[first] + x[last])
    up_x = (np.nanmax(xvals, axis=1) - base) if len(centres) else base
    down_x = (base - np.nanmin(xvals, axis=1)) if len(centres) else base
    positive = np.where(positive, ~(down_x > ratio * up_x), up_x > ratio * down_x)
    r = np.where(positive, hi, lo)
    offsets = np.arange(-peak_half, peak_half + 1)
    idx = r[:, None] + offsets[None, :]
    inside = (idx >= 0) & (idx < n)
    sign = np.where(positive, 1.0, -1.0)[:, None]
    vals = np.where(inside, sign * x[np.clip(idx, 0, n - 1)], -np.inf)
    # first maximum from the left, starting at r: the kernel only moves on a strict improvement
    base = sign[:, 0] * x[r] if len(r) else np.zeros(0)
    best = idx[np.arange(idx.shape[0]), np.argmax(vals, axis=1)] if len(r) else r
    better = vals.max(axis=1) > base if len(r) else np.zeros(0, bool)
    return np.where(better, best, r).astype(np.int64)


def _refine_halves(params: QrsParams, fs: float) -> tuple:
    """Half-widths of step 6's two windows, samples: ``± refine_s`` (band-passed
    extreme) and ``± peak_s`` (the signal's extreme)."""
    return max(1, int(round(params.refine_s * fs))), int(round(params.peak_s * fs))


def _refine(x, bp, centres, half, peak_half, ratio, numba: bool) -> np.ndarray:
    """Step 6, R-peak refinement (the one place both the detector and :func:`snap_peaks`
    call): :func:`_refine_nb`, or its NumPy reference :func:`_refine_np`."""
    return (_refine_nb if numba else _refine_np)(x, bp, centres, half, peak_half, ratio)


@njit(cache=True)
def _dedupe_nb(peaks, score, min_gap):
    """Sorted peaks with those closer than ``min_gap`` to a kept one removed (larger score kept)."""
    order = np.argsort(peaks, kind="mergesort")
    keep = np.empty(peaks.shape[0], dtype=np.int64)
    kept_score = np.empty(peaks.shape[0])
    m = 0
    for o in order:
        p = peaks[o]
        if m > 0 and p - keep[m - 1] < min_gap:
            if score[o] > kept_score[m - 1]:
                keep[m - 1] = p
                kept_score[m - 1] = score[o]
            continue
        keep[m] = p
        kept_score[m] = score[o]
        m += 1
    return keep[:m].copy()


_dedupe_py = _dedupe_nb.py_func


# --- public API ------------------------------------------------------------------------------

_BACKENDS = ("numba", "numpy")


def _check_input(signal, fs, params: QrsParams, backend: str) -> np.ndarray:
    if backend not in _BACKENDS:
        raise QrsInputError(f"backend must be one of {', '.join(_BACKENDS)}, got {backend!r}")
    if not isinstance(params, QrsParams):
        raise QrsInputError(f"params must be a QrsParams, got {type(params).__name__}")
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise QrsInputError(f"fs must be a number (Hz), got {fs!r}") from None
    if not math.isfinite(fs) or not MIN_FS <= fs <= MAX_FS:
        raise QrsInputError(f"fs must be between {MIN_FS:g} and {MAX_FS:g} Hz, got {fs:g}")
    if params.high_hz >= fs / 2:
        raise QrsInputError(f"high_hz must be below fs / 2 = {fs / 2:g} Hz, got {params.high_hz:g}")
    x = np.asarray(signal)
    if x.ndim != 1:
        raise QrsInputError(f"signal must be one lead, a 1-D array, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise QrsInputError(f"signal must be numeric, got dtype {x.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    seconds = x.size / fs
    if seconds < MIN_SECONDS:
        raise QrsInputError(f"signal must be at least {MIN_SECONDS:g} s long, got {seconds:.3g} s "
                            f"({x.size} samples at {fs:g} Hz)")
    if seconds < SHORT_SECONDS:
        warnings.warn(f"signal is only {seconds:.3g} s long: detection thresholds have little "
                      "to learn from", QrsWarning, stacklevel=3)
    return x


def _check_finite(n: int, bad: int, lo: float, hi: float, fs: float) -> None:
    """Refuses a signal without finite samples, or flat; warns about gaps (``bad`` of ``n``)."""
    if bad == n:
        raise QrsInputError("signal has no finite sample (all NaN or infinite)")
    if hi == lo:
        raise QrsInputError(f"signal is flat (every finite sample is {lo:g}): no QRS to detect")
    if bad:
        warnings.warn(f"signal has {bad} non-finite samples ({bad / fs:.3g} s): "
                      "no detection inside the gaps", QrsWarning, stacklevel=3)


_NO_GAPS = np.zeros(0, dtype=np.uint8)

WORK_MAX_SAMPLES = 1 << 21
"""Longest signal (samples; 97 min at 360 Hz) whose work arrays a thread keeps between
calls. Fresh arrays of a few MB each cost the kernels their first-touch page faults on
every call (glibc returns them to the system when freed): 45 % of the numba path's time
on record 100 (20.7 -> 11.4 ms a call when they are not returned). Longer signals get
fresh arrays."""

_work = threading.local()


def _work_arrays(n: int) -> np.ndarray:
    """float64 (3, >= n + 1) scratch for the band-pass, its energy suffix sums and the
    envelope of an n-sample signal: this thread's kept arrays when n fits
    :data:`WORK_MAX_SAMPLES`, else fresh ones. Overwritten by the next call in the
    thread: copy what must outlive it."""
    if n + 1 > WORK_MAX_SAMPLES:
        return np.empty((3, n + 1))
    kept = getattr(_work, "arrays", None)
    if kept is None or kept.shape[1] < n + 1:
        kept = _work.arrays = np.empty((3, max(n + 1, 1 << 16)))
    return kept
"""``valid`` mask of a signal without gaps (never read: the envelope is told ``has_gaps=False``)."""


def detect_qrs(signal: np.ndarray, fs: float, params: QrsParams = QrsParams(), *,
               backend: str = "numba") -> np.ndarray:
    """Detect the R peaks of one ECG lead.

    Parameters
    ----------
    signal : ndarray, float (n,)
        One lead, mV (any unit works: thresholds adapt), any polarity and offset. NaN
        samples are gaps: bridged, never detected in, and detection resumes after them.
    fs : float
        Sampling rate, Hz, from 100 to 10 000.
    params : QrsParams
        Detector settings (defaults tuned on MIT-BIH).
    backend : {"numba", "numpy"}
        ``"numba"`` (compiled kernels) or ``"numpy"``, the plain NumPy reference of the
        same algorithm (slower; same peaks).

    Returns
    -------
    ndarray, int64 (k,)
        R-peak sample indices, strictly increasing.

    Raises
    ------
    QrsInputError
        (an :class:`~ecgseg.errors.EcgError`) for a signal that is not 1-D numeric, shorter
        than 1 s, flat or without finite samples, ``fs`` outside 100-10 000 Hz, an unknown
        ``backend``, or ``high_hz >= fs / 2``.

    Warns
    -----
    QrsWarning
        For a signal shorter than 5 s, with non-finite samples, or where no QRS (or fewer
        than 10 per minute) is found.

    Examples
    --------
    >>> import numpy as np
    >>> fs = 250.0
    >>> t = np.arange(int(20 * fs)) / fs
    >>> beats = np.arange(0.5, 19.5, 0.8)                      # R peaks, s
    >>> ecg = sum(np.exp(-0.5 * ((t - b) / 0.01) ** 2) for b in beats)
    >>> peaks = detect_qrs(ecg, fs)
    >>> bool(np.all(np.abs(peaks / fs - beats) < 0.02))
    True
    """
    x = _check_input(signal, fs, params, backend)
    fs = float(fs)
    peaks = _run(x, fs, params, backend == "numba").peaks
    minutes = x.size / fs / 60.0
    if peaks.size == 0:
        warnings.warn("no QRS complex found in the signal", QrsWarning, stacklevel=2)
    elif peaks.size < MIN_RATE_PER_MIN * minutes:
        warnings.warn(f"only {peaks.size} QRS complexes in {minutes * 60:.3g} s (fewer than "
                      f"{MIN_RATE_PER_MIN:g} per minute): does this lead show the QRS?",
                      QrsWarning, stacklevel=2)
    return peaks.astype(np.int64, copy=False)


DECISION_QRS = 1
"""Trace code: a QRS (candidate above the detection threshold, not a T wave)."""
DECISION_SEARCHBACK = 2
"""Trace code: a QRS taken back by the search-back (its ``threshold`` is the lowered one)."""
DECISION_REFRACTORY = 3
"""Trace code: rejected, within ``refractory_s`` of the previous QRS."""
DECISION_TWAVE = 4
"""Trace code: rejected as a T wave (soon after a QRS, small slope)."""
DECISION_NOISE = 5
"""Trace code: rejected, below the detection threshold (a noise peak)."""
DECISION_JAGGED = 6
"""Trace code: rejected as a noise burst (jaggedness above ``jaggedness_limit``)."""
DECISION_NAMES = {0: "not reached", DECISION_QRS: "qrs", DECISION_SEARCHBACK: "search-back",
                  DECISION_REFRACTORY: "refractory", DECISION_TWAVE: "t-wave",
                  DECISION_NOISE: "noise", DECISION_JAGGED: "jagged"}
"""Name of each trace code (0: the pass never reached the candidate)."""


@dataclass(frozen=True)
class QrsTrace:
    """What each step of :func:`detect_qrs` saw and decided (for diagnosis, not speed).

    Attributes
    ----------
    bandpassed : ndarray, float64 (n,)
        Step 2's zero-phase band-passed signal (signal units).
    envelope : ndarray, float64 (n,)
        Step 3's energy envelope (signal units squared).
    candidates : ndarray, int64 (m,)
        Step 4's envelope peaks, samples.
    amplitude, slope : ndarray, float64 (m,)
        Square root of the envelope at each candidate, its steepest band-passed slope.
    jaggedness : ndarray, float64 (m,)
        Total variation of the band-passed signal within ``± refine_s`` of each candidate
        divided by its range there (about 2-3 for a QRS complex; compared with
        ``QrsParams.jaggedness_limit``).
    decision : ndarray, int8 (m,)
        Step 5's last decision on each candidate (``DECISION_*``; names in
        :data:`DECISION_NAMES`).
    threshold : ndarray, float64 (m,)
        The threshold the candidate was compared with at that decision.
    signal_level : ndarray, float64 (m,)
        The running QRS level ``SPK`` at that decision (same unit as ``amplitude``).
    chosen : ndarray, int64 (k,)
        Indices of the candidates taken as QRS complexes.
    peaks : ndarray, int64 (k',)
        The R peaks :func:`detect_qrs` returns (step 6, repeats within half the
        refractory period merged).
    """

    bandpassed: np.ndarray
    envelope: np.ndarray
    candidates: np.ndarray
    amplitude: np.ndarray
    slope: np.ndarray
    jaggedness: np.ndarray
    decision: np.ndarray
    threshold: np.ndarray
    signal_level: np.ndarray
    chosen: np.ndarray
    peaks: np.ndarray


def _run(x: np.ndarray, fs: float, params: QrsParams, numba: bool) -> QrsTrace:
    """Steps 1-6 on a checked float64 signal: every intermediate, the peaks last."""
    sos = butter_biquads(fs, params.low_hz, params.high_hz)
    half = max(1, int(round(params.integration_s * fs / 2)))
    cand_half = max(1, int(round(params.candidate_s * fs)))
    qrs_half, peak_half = _refine_halves(params, fs)
    bad, lo, hi = (_finite_range_nb if numba else _finite_range_np)(x)
    _check_finite(x.size, bad, lo, hi, fs)
    if bad:  # bridge the gaps (a copy); a signal without gaps is used as is
        x, valid = (_bridge_gaps_nb if numba else _bridge_gaps_np)(x)
    else:
        valid = _NO_GAPS
    if numba:
        work = _work_arrays(x.size)
        bp, suffix = _bandpass_energy_nb(x, sos, work[0], work[1])
        env = _envelope_nb(suffix, valid, half, bad > 0, work[2])
    else:
        bp, suffix = _bandpass_energy_np(x, sos)
        env = _envelope_np(suffix, valid, half, bad > 0)
    pos, amp, steep, jag = (_candidates_nb if numba else _candidates_np)(env, bp, cand_half, qrs_half)
    trace = np.zeros((pos.shape[0], 3))
    chosen = (_thresholds_nb if numba else _thresholds_py)(
        pos, amp, steep, jag, fs, params.learning_s * fs, params.refractory_s * fs,
        params.twave_s * fs, params.twave_slope_ratio, params.threshold_fraction,
        params.searchback_rr, params.searchback_fraction, params.searchback_twave_ratio,
        params.searchback_noise_ratio, params.searchback_step_s * fs, params.relearn_s * fs,
        params.jaggedness_limit, params.jaggedness_ratio, trace)
    centres = np.ascontiguousarray(pos[chosen])
    peaks = _refine(x, bp, centres, qrs_half, peak_half, params.polarity_ratio, numba)
    min_gap = max(1, int(round(params.refractory_s * fs / 2)))
    peaks = (_dedupe_nb if numba else _dedupe_py)(peaks, np.ascontiguousarray(amp[chosen]), min_gap)
    return QrsTrace(bp, env, pos, amp, steep, jag, trace[:, 0].astype(np.int8), trace[:, 1],
                    trace[:, 2], chosen, peaks.astype(np.int64, copy=False))


def qrs_trace(signal: np.ndarray, fs: float, params: QrsParams = QrsParams(), *,
              backend: str = "numba") -> QrsTrace:
    """:func:`detect_qrs` with every intermediate and decision kept, to see why a beat was
    missed or a wave taken for one.

    Parameters and errors as :func:`detect_qrs` (no warnings about the result).

    Returns
    -------
    QrsTrace
        Its ``peaks`` are exactly what :func:`detect_qrs` returns.

    Examples
    --------
    >>> fs = 250.0
    >>> t = np.arange(int(20 * fs)) / fs
    >>> ecg = sum(np.exp(-0.5 * ((t - b) / 0.01) ** 2) for b in np.arange(0.5, 19.5, 0.8))
    >>> tr = qrs_trace(ecg, fs)
    >>> bool(np.array_equal(tr.peaks, detect_qrs(ecg, fs)))
    True
    >>> DECISION_NAMES[int(tr.decision[tr.chosen[0]])]
    'qrs'
    """
    x = _check_input(signal, fs, params, backend)
    trace = _run(x, float(fs), params, backend == "numba")
    # the numba path's band-pass and envelope live in this thread's work arrays
    return replace(trace, bandpassed=trace.bandpassed.copy(), envelope=trace.envelope.copy())


SNAP_ROUNDS = 8
"""Most refinement rounds :func:`snap_peaks` runs before it stops at a fixed point."""


def snap_peaks(signal: np.ndarray, fs: float, peaks: np.ndarray, params: QrsParams | None = None,
               *, polarity_ratio: float = math.inf, backend: str = "numba") -> np.ndarray:
    """Move each given R peak to the fiducial point the ``qrs`` detector marks (step 6).

    Reference annotations, the ``qrs`` detector and other detectors mark "the R peak" by
    different conventions (MIT-BIH's annotations sit a median 1 sample at 360 Hz before
    this detector's peaks, some 8 samples after them in record 117). Snapping puts every
    source's peaks on one fiducial: the detector's own R-peak refinement (the extreme of the
    band-passed signal within ``± refine_s`` in the record's dominant polarity, then the
    extreme of the signal within ``± peak_s``), centred on the given peak instead of the
    envelope peak, and repeated from the result until no peak moves (at most
    :data:`SNAP_ROUNDS` rounds), so that snapping snapped peaks leaves them where they are.

    Unlike the detector, every beat takes the record's dominant polarity (the refinement
    kernel with ``polarity_ratio`` infinite, the default): the per-beat switch, made on windows a few
    samples apart, picks the positive extreme from one start and the negative from the
    other on biphasic ventricular beats (MIT-BIH DS2: 223 of 49 643 annotation / ``qrs``
    pairs stayed 6 or more samples apart with it, 193 of them V beats; 2 without).

    Parameters
    ----------
    signal : ndarray, float (n,)
        One lead (mV, or ADC units: the result does not depend on a positive gain or an
        offset); NaN samples are bridged as :func:`detect_qrs` does.
    fs : float
        Sampling rate, Hz, 100 to 10 000.
    peaks : ndarray, int (k,)
        R peaks, samples of ``signal`` (any source; in order or not).
    params : QrsParams, optional
        Band-pass (``low_hz``, ``high_hz``) and refinement (``refine_s``, ``peak_s``)
        settings (default :func:`default_params`; its ``polarity_ratio`` is not used).
    polarity_ratio : float
        A beat takes the other polarity when that extreme is this many times larger (the
        detector's per-beat switch, ``QrsParams.polarity_ratio``); ``inf`` (default): never,
        every beat takes the record's dominant polarity.
    backend : {"numba", "numpy"}
        The compiled kernel or its plain NumPy reference (same result).

    Returns
    -------
    ndarray, int64 (k,)
        The snapped position of each given peak, in the given order (two peaks may snap
        onto one sample: callers that need distinct positions drop the repeats).

    Raises
    ------
    QrsInputError
        As :func:`detect_qrs` (signal, ``fs``, ``backend``); a peak outside the signal.

    Examples
    --------
    >>> fs = 360.0
    >>> t = np.arange(int(10 * fs)) / fs
    >>> r = np.arange(360, 3240, 288)                           # true R peaks, samples
    >>> ecg = sum(np.exp(-0.5 * ((t - p / fs) / 0.012) ** 2) for p in r)
    >>> off = r + np.resize([-3, -1, 2, 3], r.size)            # 1-3 samples off
    >>> bool(np.array_equal(snap_peaks(ecg, fs, off), r))
    True
    """
    params = params if params is not None else default_params(fs)
    with warnings.catch_warnings():  # a short signal is no reason to warn here
        warnings.simplefilter("ignore", QrsWarning)
        x = _check_input(signal, fs, params, backend)
    fs = float(fs)
    numba = backend == "numba"
    given = np.asarray(peaks)
    if given.ndim != 1 or not (given.size == 0 or np.issubdtype(given.dtype, np.integer)):
        raise QrsInputError(f"peaks must be a 1-D array of sample indices, got {given.dtype} "
                            f"of shape {given.shape}")
    current = np.ascontiguousarray(given, dtype=np.int64)
    if current.size == 0:
        return current.copy()
    if not polarity_ratio >= 1:
        raise QrsInputError(f"polarity_ratio must be at least 1, got {polarity_ratio!r}")
    if current.min() < 0 or current.max() >= x.size:
        raise QrsInputError(f"peaks must lie inside the signal (0 to {x.size - 1}), got "
                            f"{int(current.min())} to {int(current.max())}")
    bad, lo, hi = (_finite_range_nb if numba else _finite_range_np)(x)
    if bad == x.size:
        raise QrsInputError("signal has no finite sample (all NaN or infinite)")
    if bad:
        x, _ = (_bridge_gaps_nb if numba else _bridge_gaps_np)(x)
    sos = butter_biquads(fs, params.low_hz, params.high_hz)
    if numba:
        work = _work_arrays(x.size)
        bp, _ = _bandpass_energy_nb(x, sos, work[0], work[1])
    else:
        bp, _ = _bandpass_energy_np(x, sos)
    half, peak_half = _refine_halves(params, fs)
    for _ in range(SNAP_ROUNDS):
        with np.errstate(invalid="ignore"):  # inf * 0 in the NumPy reference: no switch
            moved = _refine(x, bp, current, half, peak_half, polarity_ratio, numba)
        if np.array_equal(moved, current):
            break
        current = np.ascontiguousarray(moved, dtype=np.int64)
    return current


def default_params(fs: float) -> QrsParams:
    """Defaults of the ``qrs`` detector for a signal at ``fs`` Hz.

    The defaults are times in seconds and corner frequencies in Hz, so they hold for
    every supported rate (100 Hz to 10 kHz: ``high_hz`` = 25 Hz < fs / 2).

    Examples
    --------
    >>> default_params(360.0) == QrsParams()
    True
    """
    return QrsParams()


def detect(signal: np.ndarray, fs: float, params: QrsParams | None = None, *,
           annotations=None) -> np.ndarray:
    """:func:`detect_qrs` with the registry's signature (``annotations`` are not read).

    Examples
    --------
    >>> t = np.arange(int(20 * 250)) / 250
    >>> ecg = sum(np.exp(-0.5 * ((t - b) / 0.01) ** 2) for b in np.arange(0.5, 19.5, 0.8))
    >>> len(detect(ecg, 250.0))
    24
    """
    return detect_qrs(signal, fs, params if params is not None else default_params(fs))


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel on a tiny synthetic signal.

    Examples
    --------
    >>> warm_up()
    """
    fs = 250.0
    t = np.arange(int(6 * fs)) / fs
    ecg = np.exp(-0.5 * (((t % 0.8) - 0.4) / 0.01) ** 2)
    ecg[700:720] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QrsWarning)
        detect_qrs(ecg, fs)
