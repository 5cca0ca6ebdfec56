"""Input checks and window bounds shared by the recipes (no file I/O)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, RecordError


def as_signal(signal, what: str = "signal") -> np.ndarray:
    """Return ``signal`` as a C-contiguous float64 vector; reject NaN/inf and bad shapes.

    Parameters
    ----------
    signal : array_like
        shape (n,): one lead.
    what : str
        Name used in error messages.

    Returns
    -------
    np.ndarray
        float64, shape (n,), C-contiguous.

    Raises
    ------
    RecordError
        If the signal is not one-dimensional or holds a NaN or infinite value.
    """
    x = np.asarray(signal)
    if x.ndim != 1:
        raise RecordError(f"{what} must be one lead, shape (n_samples,); got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    if np.isfinite(x.sum()):  # NaN and inf propagate through a sum: one fast pass
        return x
    bad = ~np.isfinite(x)  # or the sum overflowed: look sample by sample
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise RecordError(
            f"{what} holds {int(bad.sum())} NaN/infinite sample(s) (first at sample {first}); "
            "fill or cut them before segmenting")
    return x


def window_bounds(n: int, size: int, last_window: str) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive non-overlapping windows from sample 0.

    Parameters
    ----------
    n : int
        Signal length, in samples.
    size : int
        Window length, in samples (>= 1).
    last_window : {'drop', 'keep'}
        What to do with a last window shorter than ``size``.

    Returns
    -------
    starts, ends : np.ndarray
        int64, shape (w,): window bounds, ``ends`` exclusive.
    """
    if last_window not in ("drop", "keep"):
        raise InputError(f"last_window must be 'drop' or 'keep', got {last_window!r}")
    full = n // size
    count = full + (1 if last_window == "keep" and n % size else 0)
    starts = np.arange(count, dtype=np.int64) * size
    ends = np.minimum(starts + size, n).astype(np.int64)
    return starts, ends


def peaks_to_windows(peaks: np.ndarray, scale: float, offset: float, n: int,
                     starts: np.ndarray, ends: np.ndarray, active: np.ndarray):
    """Map peaks (original samples) into a resampled signal's windows.

    Position ``rint((p - offset) * scale)``; peaks outside every window or in an inactive
    (flat) window are dropped, and of peaks landing on the same sample only the first is
    kept.

    Returns
    -------
    peaks_r, peak_window, kept : np.ndarray
        int64 (m,) positions in the resampled signal, int64 (m,) their window index,
        int64 (m,) index of each into the input ``peaks``.
    """
    pr = np.rint((np.asarray(peaks, dtype=np.float64) - offset) * scale).astype(np.int64)
    pr = np.clip(pr, 0, max(n - 1, 0))
    if starts.shape[0] == 0 or pr.shape[0] == 0:
        e = np.zeros(0, np.int64)
        return e, e.copy(), e.copy()
    w = np.searchsorted(starts, pr, side="right") - 1
    ok = (w >= 0) & (pr < ends[np.maximum(w, 0)])
    ok &= active[np.maximum(w, 0)]
    ok[1:] &= pr[1:] != pr[:-1]
    kept = np.flatnonzero(ok).astype(np.int64)
    return (np.ascontiguousarray(pr[kept]), np.ascontiguousarray(w[kept].astype(np.int64)),
            kept)


BACKENDS = ("numba", "numpy")


def check_backend(backend: str, numpy_allowed: bool = True) -> str:
    """Return ``backend`` if it is ``'numba'`` or (where allowed) ``'numpy'``.

    Raises
    ------
    InputError
        Any other value (the message names ``backend``).

    Examples
    --------
    >>> check_backend("numpy")
    'numpy'
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "numpy" and not numpy_allowed:
        raise InputError("backend 'numpy' does not take detector peaks: use backend='numba'")
    return backend
