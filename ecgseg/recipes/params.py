"""Parameter objects of the recipes (frozen dataclasses; light: no numba, no scipy).

:class:`PaperParams` (the paper recipe, and the ``paper`` detector),
:class:`KaggleMitdbParams` and :class:`KagglePtbParams` (the Kaggle recipe on MIT-BIH and
on PTB). Errors name the parameter.
:func:`override_params` is the one way user overrides (CLI options, API keywords) become
a parameter object (``ecg segment``, ``ecg predict``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple, TypeVar

import numpy as np

from ..errors import InputError
from ..labels import BEAT_SAMPLES


@dataclass(frozen=True)
class PaperParams:
    """Parameters of the paper recipe (defaults: the paper, plus the documented choices).

    Attributes
    ----------
    fs : float
        Output sampling frequency, Hz.
    window_s : float
        Window length, s.
    threshold : float
        R-peak threshold on the normalised window (dimensionless).
    crop_factor : float
        Beat length as a multiple of the median R-R interval T.
    length : int
        Row length, samples at ``fs``.
    threshold_inclusive : bool
        ``False``: keep peaks ``> threshold``; ``True``: ``>= threshold``.
    last_window : {'drop', 'keep'}
        The last, shorter window.
    crop_end : {'window', 'signal'}
        Where a part running past its window's end stops.
    """

    fs: float = 125.0
    window_s: float = 10.0
    threshold: float = 0.9
    crop_factor: float = 1.2
    length: int = BEAT_SAMPLES
    threshold_inclusive: bool = False
    last_window: str = "drop"
    crop_end: str = "window"

    def __post_init__(self):
        if not self.fs > 0 or not self.window_s > 0 or not self.crop_factor > 0:
            raise InputError("fs, window_s and crop_factor must be > 0")
        if not 1 <= self.length <= np.iinfo(np.int16).max:
            raise InputError(f"length must be in [1, 32767], got {self.length}")
        if self.window_samples < 3:
            raise InputError("a window must hold at least 3 samples")
        if self.last_window not in ("drop", "keep"):
            raise InputError(f"last_window must be 'drop' or 'keep', got {self.last_window!r}")
        if self.crop_end not in ("window", "signal"):
            raise InputError(f"crop_end must be 'window' or 'signal', got {self.crop_end!r}")
        _check_threshold(self.threshold, self.threshold_inclusive)

    @property
    def window_samples(self) -> int:
        """Window length, samples at ``fs``."""
        return int(round(self.window_s * self.fs))


@dataclass(frozen=True)
class KaggleMitdbParams:
    """Options of the Kaggle MIT-BIH recipe (defaults: the published rows, bit for bit).

    Attributes
    ----------
    snap_peaks : bool
        ``False`` (default): rows are cut at the given peaks as they are (the annotations
        with the recipe's own detector: bit-exact with the published CSVs). ``True``: every
        peak, annotation or detected, is first moved to one fiducial on the signal, the
        ``qrs`` detector's R-peak refinement (:func:`ecgseg.detectors.qrs.snap_peaks`), so
        that beats cut from annotations and from any detector start at the same sample;
        rows then run from each snapped beat to the next (non-beat annotations are not
        boundaries), and each keeps the label of the peak that was moved.
    signal : int
        Index of the record's signal the rows are cut from (0, default: the published
        rows; 1: the second lead, V1 in most MIT-BIH records). The peaks, bounds, labels
        and order are those of signal 0 whatever ``signal`` is (snapping and detectors
        work on signal 0), so the rows of two files made with ``signal=0`` and
        ``signal=1`` pair one to one: the same beats seen on two leads.

    Examples
    --------
    >>> KaggleMitdbParams().snap_peaks
    False
    >>> KaggleMitdbParams(snap_peaks="yes")
    Traceback (most recent call last):
    ...
    ecgseg.errors.InputError: snap_peaks must be True or False, got 'yes'
    >>> KaggleMitdbParams(signal=-1)
    Traceback (most recent call last):
    ...
    ecgseg.errors.InputError: signal must be a signal index >= 0, got -1
    """

    snap_peaks: bool = False
    signal: int = 0

    def __post_init__(self):
        if not isinstance(self.snap_peaks, (bool, np.bool_)):
            raise InputError(f"snap_peaks must be True or False, got {self.snap_peaks!r}")
        if (isinstance(self.signal, (bool, np.bool_))
                or not isinstance(self.signal, (int, np.integer)) or self.signal < 0):
            raise InputError(f"signal must be a signal index >= 0, got {self.signal!r}")


@dataclass(frozen=True)
class KagglePtbParams:
    """Options of the Kaggle PTB recipe (defaults: the evidence of ``kaggle-recipe.md``).

    Attributes
    ----------
    decimation : int
        Decimation step (1000 Hz -> 125 Hz: 8), no filter.
    phase : int
        First sample kept by the decimation.
    window : int
        Window length, samples after decimation (625 = 5 s).
    threshold : float
        Threshold on the normalised window.
    threshold_inclusive : bool
        ``False``: ``xn > threshold`` (default); ``True``: ``>=``.
    run_at_window_start : {'keep', 'drop'}
        Whether a run above threshold holding at a window's first sample gives a peak.
    crop_factor : float
        ``L = floor(crop_factor * T)``.
    skip_last_peak : bool
        The last peak of each window gives no segment.
    crop_end : {'window', 'signal'}
        A segment is cut at its window's end, or runs on in the decimated signal.
    max_values : int
        Longest segment kept, values.
    long_segments : {'drop', 'cut'}
        Segments longer than ``max_values``: dropped, or cut to ``max_values``.
    length : int
        Row length (187).
    last_window : {'drop', 'keep'}
        The last, shorter window.
    record_choice : {'last', 'first', 'all'}
        Which record(s) of each patient the pipeline segments (not used here).
    """

    decimation: int = 8
    phase: int = 0
    window: int = 625
    threshold: float = 0.9
    threshold_inclusive: bool = False
    run_at_window_start: str = "keep"
    crop_factor: float = 1.2
    skip_last_peak: bool = True
    crop_end: str = "window"
    max_values: int = 186
    long_segments: str = "drop"
    length: int = BEAT_SAMPLES
    last_window: str = "drop"
    record_choice: str = "last"

    def __post_init__(self):
        choices = {"run_at_window_start": ("keep", "drop"), "crop_end": ("window", "signal"),
                   "long_segments": ("drop", "cut"), "last_window": ("drop", "keep"),
                   "record_choice": ("last", "first", "all")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.decimation < 1 or not 0 <= self.phase < self.decimation or self.window < 2:
            raise InputError("need decimation >= 1, 0 <= phase < decimation, window >= 2")
        if not 1 <= self.max_values <= self.length <= np.iinfo(np.int16).max:
            raise InputError("need 1 <= max_values <= length <= 32767")
        _check_threshold(self.threshold, self.threshold_inclusive)


def _check_threshold(threshold: float, inclusive: bool) -> None:
    """The R-peak threshold applies to windows min-max normalised to 0..1: above 1 (or
    at 1, exclusive) no peak can pass and every record would come out empty."""
    top = "1]" if inclusive else "1)"
    if not (0 <= threshold <= 1 if inclusive else 0 <= threshold < 1):
        raise InputError(f"threshold must be in [0, {top} (windows are normalised to 0..1), "
                         f"got {threshold}")


P = TypeVar("P")


class UnknownParameterError(InputError):
    """Overrides name parameters the recipe's parameter object does not have.

    Attributes
    ----------
    names : tuple of str
        The unknown parameter names, sorted.
    """

    def __init__(self, message: str, names: Tuple[str, ...]):
        super().__init__(message)
        self.names = tuple(names)


def override_params(params: Optional[P], overrides: Optional[Mapping[str, Any]],
                    what: str = "recipe") -> Optional[P]:
    """``params`` with the ``overrides`` that are not None applied (a new frozen object).

    Parameters
    ----------
    params : dataclass instance or None
        A recipe's parameter object (:meth:`ecgseg.recipes.Recipe.default_params`, or one
        already adjusted); None for a recipe without parameters on this database.
    overrides : mapping of str, optional
        Field name -> value; None values mean "not given" and are ignored.
    what : str
        Names the parameter object in the unknown-parameter message
        (``"unknown <what> parameter(s): ..."``).

    Returns
    -------
    The same object when nothing is overridden, else a new one of its type.

    Raises
    ------
    UnknownParameterError
        A name that is not a field of ``params`` (every name when ``params`` is None);
        ``names`` lists them, for front ends that phrase them as their options.
    InputError
        A value the parameter object refuses (its message names the parameter), or one
        of the wrong type (``bad recipe parameter: ...``).

    Examples
    --------
    >>> override_params(PaperParams(), {"threshold": 0.8, "fs": None}).threshold
    0.8
    >>> override_params(None, {"fs": None}) is None
    True
    >>> override_params(None, {"fs": 100.0})
    Traceback (most recent call last):
    ...
    ecgseg.recipes.params.UnknownParameterError: unknown recipe parameter(s): fs
    """
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not given:
        return params
    fields = {f.name for f in dataclasses.fields(params)} if params is not None else set()
    unknown = tuple(sorted(set(given) - fields))
    if unknown:
        raise UnknownParameterError(f"unknown {what} parameter(s): {', '.join(unknown)}",
                                    unknown)
    try:
        return dataclasses.replace(params, **given)
    except (TypeError, ValueError) as exc:
        raise InputError(f"bad recipe parameter: {exc}") from None
