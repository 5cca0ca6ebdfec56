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
