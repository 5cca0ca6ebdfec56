"""The result of segmenting one record: fixed-length, zero-padded heartbeats.

Every recipe (:mod:`ecgseg.recipes.paper`, :mod:`ecgseg.recipes.kaggle`) returns a
:class:`Segments`. It holds arrays only (no file I/O); writing them out is the
pipeline's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import EcgError


@dataclass
class Segments:
    """Heartbeats of one record.

    Attributes
    ----------
    beats : np.ndarray
        float32, shape (n, length), C-contiguous. Row ``i`` holds ``n_values[i]`` real
        values followed by zero padding.
    sample : np.ndarray
        int64, shape (n,). Position of each beat in the ORIGINAL record's samples
        (before any resampling or decimation): the R peak for the paper recipe, the
        annotation sample for the Kaggle MIT-BIH recipe, the first sample of the
        above-threshold run for the Kaggle PTB recipe.
    window : np.ndarray
        int32, shape (n,). Index of the window a beat came from; -1 when the recipe
        has no windows (Kaggle MIT-BIH).
    n_values : np.ndarray
        int16, shape (n,). Number of real (non-padding) values of each row.
    stats : dict
        Per-record counts. Always ``'windows'``, ``'windows_skipped'`` (windows with
        fewer than two peaks), ``'peaks'``, ``'beats'``; each recipe adds its own keys
        (documented in the recipe's module).
    """

    beats: np.ndarray
    sample: np.ndarray
    window: np.ndarray
    n_values: np.ndarray
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.beats.shape[0])

    @property
    def length(self) -> int:
        """Row length (values + padding), in samples."""
        return int(self.beats.shape[1])

    def validate(self) -> "Segments":
        """Check dtypes, shapes, contiguity and zero padding; return ``self``.

        Raises
        ------
        EcgError
            If any invariant does not hold (a bug in a recipe, not a user error).
        """
        n = len(self)
        checks = [
            (self.beats.dtype == np.float32 and self.beats.ndim == 2, "beats must be float32 (n, length)"),
            (self.beats.flags.c_contiguous, "beats must be C-contiguous"),
            (self.sample.dtype == np.int64 and self.sample.shape == (n,), "sample must be int64 (n,)"),
            (self.window.dtype == np.int32 and self.window.shape == (n,), "window must be int32 (n,)"),
            (self.n_values.dtype == np.int16 and self.n_values.shape == (n,), "n_values must be int16 (n,)"),
        ]
        for ok, message in checks:
            if not ok:
                raise EcgError(f"invalid Segments: {message}")
        if n:
            if self.n_values.min() < 0 or self.n_values.max() > self.length:
                raise EcgError("invalid Segments: n_values outside [0, length]")
            pad = np.arange(self.length)[None, :] >= self.n_values[:, None]
            if np.any(self.beats[pad] != 0):
                raise EcgError("invalid Segments: non-zero padding")
        return self
