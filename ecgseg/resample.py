"""Polyphase resampling between sampling frequencies with an exact rational ratio.

The paper recipe resamples every record to 125 Hz (MIT-BIH 360 Hz: 25/72; PTB 1000 Hz:
1/8) exactly as :func:`scipy.signal.resample_poly` with its defaults does, bit for bit:
the anti-aliasing filter is SciPy's default, a linear-phase FIR low-pass designed by
``firwin`` with a Kaiser window (beta 5.0), ``2 * 10 * max(up, down) + 1`` taps,
cut-off at the lower Nyquist frequency, scaled by ``up``; the signal is padded with
zeros beyond its ends (``padtype='constant'``), so the first and last few output
samples see that padding.

The filter's taps for the ratios of the registered databases (MIT-BIH 25/72, PTB 1/8)
ship with the package (``resample_taps.npz``, written by :func:`write_tap_table` from
``firwin`` itself and compared with it by ``tests/test_resample.py``), so that
resampling does not import :mod:`scipy.signal` (0.5-1 s of start-up for every
``ecg segment`` process); any other ratio designs its filter with ``firwin`` on first
use.

The filter is applied by :func:`polyphase`, a numba kernel that computes only the
output samples ``resample_poly`` keeps, each as the same sum in the same order as
SciPy's ``upfirdn`` (taps in ascending input order, from 0.0, no fused multiply-add),
hence the identical result (``tests/test_resample.py`` compares the bytes). It is
faster (MIT-BIH 360 -> 125 Hz: 3 ms instead of 8 ms per record) because it evaluates
many output samples of one filter phase at once: the input is split, a chunk at a
time, into ``down`` interleaved rows, so that a tap meets contiguous input samples.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path

import numpy as np
from numba import njit

from .errors import InputError

MAX_FACTOR = 10_000
#: Kaiser window parameter of ``resample_poly``'s default filter.
KAISER_BETA = 5.0
#: The shipped taps: ``kaiser_lowpass(up, down)`` under the key ``"<up>/<down>"``.
TAP_TABLE = Path(__file__).with_name("resample_taps.npz")
#: Ratios whose taps ship in :data:`TAP_TABLE` (MIT-BIH 360 -> 125 Hz, PTB 1000 -> 125 Hz).
TABLE_RATIOS = ((25, 72), (1, 8))


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
        float64, shape (ceil(n * up / down),), C-contiguous, same unit as ``x``:
        ``scipy.signal.resample_poly(x, up, down)``, bit for bit; ``x`` itself (as
        contiguous float64) when the frequencies are equal.
    """
    up, down = rational_ratio(fs_in, fs_out)
    x = np.ascontiguousarray(x, dtype=np.float64)
    if up == down:
        return x
    n_out = -(-x.shape[0] * up // down)
    phases, first = polyphase_filter(up, down, x.shape[0])
    return polyphase(x, phases, up, down, first, n_out)


def design_kaiser_lowpass(up: int, down: int) -> np.ndarray:
    """``resample_poly``'s default anti-aliasing filter, designed by SciPy (imports it).

    ``firwin(2 * 10 * max(up, down) + 1, 1 / max(up, down), window=("kaiser", 5.0))``.

    Parameters
    ----------
    up, down : int
        Resampling ratio, lowest terms.

    Returns
    -------
    np.ndarray
        float64, shape (20 * max(up, down) + 1,): the taps (unit DC gain, not yet
        scaled by ``up``).

    Examples
    --------
    >>> design_kaiser_lowpass(1, 8).shape
    (161,)
    """
    from scipy.signal import firwin

    half_len = 10 * max(up, down)
    return firwin(2 * half_len + 1, 1.0 / max(up, down), window=("kaiser", KAISER_BETA))


@functools.lru_cache(maxsize=1)
def _tap_table() -> dict[str, np.ndarray]:
    try:
        with np.load(TAP_TABLE) as z:
            return {k: z[k] for k in z.files}
    except OSError:  # not shipped (e.g. a partial copy): design every filter with scipy
        return {}


@functools.lru_cache(maxsize=16)
def kaiser_lowpass(up: int, down: int) -> np.ndarray:
    """The taps of :func:`design_kaiser_lowpass`, from the shipped table when it has them.

    Bit for bit the same array (``tests/test_resample.py``); without SciPy's import
    for :data:`TABLE_RATIOS`. Read-only.

    Examples
    --------
    >>> kaiser_lowpass(25, 72).shape
    (1441,)
    """
    h = _tap_table().get(f"{up}/{down}")
    if h is None:
        h = design_kaiser_lowpass(up, down)
    h = np.array(h, dtype=np.float64)
    h.flags.writeable = False
    return h


def write_tap_table(path: str | Path = TAP_TABLE,
                    ratios: tuple[tuple[int, int], ...] = TABLE_RATIOS) -> Path:
    """Design the filters of ``ratios`` with SciPy and save them as the shipped table.

    Run after a SciPy upgrade changes ``firwin`` (``tests/test_resample.py`` fails then):
    ``python -c "from ecgseg.resample import write_tap_table; write_tap_table()"``.

    Returns
    -------
    Path
        The ``.npz`` file written.
    """
    from .atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{f"{u}/{d}": design_kaiser_lowpass(u, d) for u, d in ratios})
    return path


@functools.lru_cache(maxsize=16)
def _lowpass(up: int, down: int) -> tuple[np.ndarray, int]:
    """``resample_poly``'s filter (times ``up``) with its leading zeros, and ``half_len``."""
    half_len = 10 * max(up, down)
    h = kaiser_lowpass(up, down) * up
    h = np.concatenate([np.zeros(down - half_len % down), h])
    h.flags.writeable = False
    return h, half_len


def polyphase_filter(up: int, down: int, n_in: int) -> tuple[np.ndarray, int]:
    """The filter of ``resample_poly(x, up, down)`` for ``n_in`` samples, by phase.

    Parameters
    ----------
    up, down : int
        Resampling ratio, lowest terms, ``up != down``.
    n_in : int
        Input length, samples (the zero padding of the filter's end depends on it).

    Returns
    -------
    phases : np.ndarray
        float64, shape (up, taps_per_phase): phase ``t`` holds the taps
        ``h[t::up]`` in reverse order (SciPy ``upfirdn``'s arrangement).
    first : int
        Index, in the full ``upfirdn`` output, of the first sample ``resample_poly``
        keeps.
    """
    h, half_len = _lowpass(up, down)
    n_pre_pad = down - half_len % down
    first = (half_len + n_pre_pad) // down
    n_out = -(-n_in * up // down)
    n_post_pad = 0
    while _upfirdn_len(h.shape[0] + n_post_pad, n_in, up, down) < n_out + first:
        n_post_pad += 1
    taps = -(-(h.shape[0] + n_post_pad) // up) * up
    full = np.zeros(taps)
    full[:h.shape[0]] = h
    return np.ascontiguousarray(full.reshape(-1, up).T[:, ::-1]), first


def _upfirdn_len(len_h: int, n_in: int, up: int, down: int) -> int:
    return ((n_in - 1) * up + len_h - 1) // down + 1


@njit(cache=True)
def _one_output(x, phases, up, down, y):
    """Output ``y`` of the full ``upfirdn``: its taps in order, out-of-signal ones skipped."""
    per_phase = phases.shape[1]
    n = x.shape[0]
    total = y * down
    xi = total // up
    t = total - xi * up
    lo = xi - per_phase + 1
    k0 = -lo if lo < 0 else 0
    k1 = per_phase - (xi - n + 1) if xi >= n else per_phase
    acc = 0.0
    for k in range(k0, k1):
        acc += x[lo + k] * phases[t, k]
    return acc


@njit(cache=True)
def polyphase(x, phases, up, down, first, n_out):
    """Samples ``first .. first + n_out - 1`` of SciPy's ``upfirdn(h, x, up, down)``.

    Output ``y`` uses phase ``t = (y * down) % up`` and the input samples
    ``xi - taps + 1 .. xi`` (``xi = (y * down) // up``, samples outside the signal
    count as zero): ``sum_k x[xi - taps + 1 + k] * phases[t, k]``, summed in ``k``
    order from 0.0. The outputs ``y, y + up, y + 2 up, ...`` share a phase and step
    ``down`` input samples; with the input split into ``down`` rows
    (``rows[r, q] = x[q * down + r]``) a tap reads one contiguous run of a row for a
    block of them, and the block's sums advance together, each in its own order.
    The input is split a chunk at a time (about 1 024 outputs per phase, a buffer of
    0.6 MB at 360 -> 125 Hz), so the work stays in cache and the cost is linear in
    the length of the record.

    Parameters
    ----------
    x : np.ndarray
        float64, shape (n,): the signal.
    phases : np.ndarray
        float64, shape (up, taps): :func:`polyphase_filter`.
    up, down : int
        Resampling ratio.
    first, n_out : int
        First output kept and number of outputs.

    Returns
    -------
    np.ndarray
        float64, shape (n_out,).
    """
    block = 256
    chunk = 1024
    taps = phases.shape[1]
    n = x.shape[0]
    out = np.empty(n_out)
    n_phases = min(up, n_out)
    phase = np.empty(n_phases, np.int64)
    lo = np.empty(n_phases, np.int64)
    j_lo = np.empty(n_phases, np.int64)
    j_hi = np.empty(n_phases, np.int64)
    longest = 0
    for p in range(n_phases):
        y0 = first + p
        xi0 = (y0 * down) // up
        phase[p] = y0 * down - xi0 * up
        lo[p] = xi0 - taps + 1
        count = (n_out - p + up - 1) // up
        longest = max(longest, count)
        # outputs j in [j_lo, j_hi) of this phase have all their taps inside the signal
        j_lo[p] = min((-lo[p] + down - 1) // down if lo[p] < 0 else 0, count)
        j_hi[p] = max(min((n - xi0 + down - 1) // down if n > xi0 else 0, count), j_lo[p])
        for j in range(j_lo[p]):
            out[p + up * j] = _one_output(x, phases, up, down, y0 + up * j)
        for j in range(j_hi[p], count):
            out[p + up * j] = _one_output(x, phases, up, down, y0 + up * j)
    lo_min = lo.min() if n_phases else 0
    width = chunk + (taps + 2 * down) // down + 2
    rows = np.empty((down, width))
    acc = np.empty(block)
    for jc in range(0, longest, chunk):
        base = (lo_min + down * jc) // down
        for c in range(width):
            for r in range(down):
                i = (base + c) * down + r
                rows[r, c] = x[i] if 0 <= i < n else 0.0
        for p in range(n_phases):
            start = max(jc, j_lo[p])
            stop = min(jc + chunk, j_hi[p])
            for jb in range(start, stop, block):
                m = min(block, stop - jb)
                a = acc[:m]
                a[:] = 0.0
                for k in range(taps):
                    pos = lo[p] + down * jb + k
                    q = pos // down
                    seg = rows[pos - q * down, q - base:q - base + m]
                    h = phases[phase[p], k]
                    for jj in range(m):
                        a[jj] += seg[jj] * h
                for jj in range(m):
                    out[p + up * (jb + jj)] = a[jj]
    return out
