"""R-peak detectors: one registry, one entry per detector.

A detector turns one lead into beat positions::

    detect(signal, fs, params, *, annotations=None) -> int64 (k,) sample indices

``signal`` float64 (n,) in mV, ``fs`` in Hz, ``params`` the detector's own frozen
parameter object (``default_params(fs)`` gives its defaults), ``annotations`` the
record's reference annotations (:class:`ecgseg.records.Annotations`) for detectors that
need them. The recipes (:mod:`ecgseg.recipes`) cut beats at these positions.

Built-in entries:

``paper``
    The paper recipe's own peaks: local maxima above 0.9 of each min-max normalised
    10 s window at 125 Hz (:func:`ecgseg.detectors.paper.detect_paper`). Inside the
    recipes it means "the recipe's own windowed 0.9-threshold peaks" (for the Kaggle
    PTB recipe: the first sample of each run above 0.9 in 5 s windows), so the default
    output stays bit-identical.
``reference``
    The record's reference beat annotations (MIT-BIH ``atr``, AAMI beat symbols);
    an error for a record without them.
``reference-jitter``
    The reference annotations each moved by a random offset of up to ``jitter_s``
    (50 ms) either way, seeded per record (:class:`~ecgseg.detectors.reference.JitterParams`):
    training beats cut around the annotations, earlier and later, so that a model does
    not depend on where a detector puts the peak.
``qrs``
    The toolkit's own QRS detector (:mod:`ecgseg.detectors.qrs`): band-pass, energy
    envelope, adaptive thresholds with search-back, R-peak refinement; any lead, 100 Hz
    to 10 kHz. The default for raw records in ``ecg predict``.
``sleepecg``, ``neurokit2``, ``xqrs``
    Open-source detectors (:mod:`ecgseg.detectors.external`), available when their
    library is installed (the ``bench`` extra); otherwise
    :class:`~ecgseg.detectors.errors.DetectorUnavailableError` says so.

Adding a detector is one module plus one :func:`register_detector` call.

Examples
--------
>>> detector_names()
('paper', 'reference', 'reference-jitter', 'qrs', 'sleepecg', 'neurokit2', 'xqrs')
>>> get_detector("reference").needs_annotations
True
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import EcgError, RecordError
from ..recipes.params import PaperParams
from .errors import DetectorInputError, DetectorUnavailableError, DetectorWarning
from .qrs import QrsParams
from .reference import JitterParams


@dataclass(frozen=True)
class Detector:
    """One R-peak detector of the registry.

    Attributes
    ----------
    name : str
        Registry key (``--detector``).
    description : str
        One line for ``--help`` and the docs.
    params_type : type or None
        Frozen dataclass of its parameters (None: it has none).
    default_params : callable
        ``default_params(fs) -> params``: defaults for a signal at ``fs`` Hz.
    detect : callable
        ``detect(signal, fs, params, *, annotations=None) -> int64 (k,)``.
    needs_annotations : bool
        True when it reads the record's reference annotations.
    warm_up : callable
        Compile (or load from numba's cache) its kernels in this process.
    available : callable
        ``available() -> bool``: whether it can run here (its library is installed).
    """

    name: str
    description: str
    params_type: Any
    default_params: Callable[[float], Any]
    detect: Callable[..., np.ndarray]
    needs_annotations: bool = False
    warm_up: Callable[[], None] = field(default=lambda: None, repr=False)
    available: Callable[[], bool] = field(default=lambda: True, repr=False)

    def find_peaks(self, signal: np.ndarray, fs: float, params: Any = None, *,
                   annotations=None, record: str = "") -> np.ndarray:
        """Run :attr:`detect` with defaults filled in; peaks sorted, unique, inside the signal.

        Raises
        ------
        RecordError
            The detector needs annotations and ``annotations`` is None.
        DetectorUnavailableError
            Its library is not installed.
        DetectorInputError
            The signal or ``fs`` cannot be used (the message names the record).
        """
        if not self.available():
            raise DetectorUnavailableError(
                f"detector {self.name!r} needs a library that is not installed: install the "
                f"bench extra (pip install \"ecg-toolkit[bench]\")")
        if self.needs_annotations and annotations is None:
            what = f"record {record}" if record else "this record"
            raise RecordError(f"{what} has no reference beat annotations: detector "
                              f"{self.name!r} needs them (choose another detector)")
        if params is None:
            params = self.default_params(fs)
        try:
            found = self.detect(signal, fs, params, annotations=annotations)
        except DetectorInputError as exc:
            if not record:
                raise
            raise DetectorInputError(f"record {record}: {exc}") from None
        peaks = np.asarray(found, dtype=np.int64)
        n = int(np.shape(signal)[0])
        peaks = np.unique(peaks)  # sorted, no duplicates
        return np.ascontiguousarray(peaks[(peaks >= 0) & (peaks < n)])


    def find_peaks_noting(self, signal: np.ndarray, fs: float, params: Any = None, *,
                          annotations=None, record: str = "") -> tuple[np.ndarray, list[str]]:
        """:meth:`find_peaks`, with its :class:`DetectorWarning` s returned as notes.

        Returns
        -------
        (peaks, notes)
            int64 (k,) sorted peaks; one line per warning, naming ``record``.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DetectorWarning)
            peaks = self.find_peaks(signal, fs, params, annotations=annotations, record=record)
        notes = []
        for w in caught:
            if issubclass(w.category, DetectorWarning):
                text = str(w.message)
                notes.append(f"record {record}: {text}" if record else text)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return peaks, notes


_DETECTORS: dict[str, Detector] = {}


def register_detector(detector: Detector) -> Detector:
    """Add ``detector`` to the registry (replacing one of the same name); returns it."""
    _DETECTORS[detector.name] = detector
    return detector


def detector_names() -> tuple[str, ...]:
    """Names of the registered detectors, in registration order."""
    return tuple(_DETECTORS)


def get_detector(name: "str | Detector") -> Detector:
    """The registered detector called ``name`` (a :class:`Detector` is returned as is).

    Raises
    ------
    EcgError
        Unknown name; the message names ``detector`` and the choices.
    """
    if isinstance(name, Detector):
        return name
    try:
        return _DETECTORS[name]
    except KeyError:
        raise EcgError(f"detector must be one of {', '.join(_DETECTORS)}; got {name!r}") from None


def _lazy(target: str) -> Callable:
    """A function that imports ``module:attr`` on first call (keeps the registry light)."""
    module, attr = target.split(":")

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    call.__name__ = attr
    call.__qualname__ = attr
    return call


def _paper_defaults(fs: float) -> PaperParams:
    return PaperParams()


def _no_params(fs: float) -> None:
    return None


register_detector(Detector(
    name="paper",
    description="the paper's peaks, local maxima > 0.9 of normalised 10 s windows",
    params_type=PaperParams,
    default_params=_paper_defaults,
    detect=_lazy("ecgseg.detectors.paper:detect_paper"),
    warm_up=_lazy("ecgseg.detectors.paper:warm_up"),
))
register_detector(Detector(
    name="reference",
    description="the record's reference beat annotations",
    params_type=None,
    default_params=_no_params,
    detect=_lazy("ecgseg.detectors.reference:detect_reference"),
    needs_annotations=True,
))


def _jitter_defaults(fs: float) -> JitterParams:
    return JitterParams()


register_detector(Detector(
    name="reference-jitter",
    description="the reference annotations, each moved by a seeded random offset of up to "
                "50 ms either way (training-set augmentation)",
    params_type=JitterParams,
    default_params=_jitter_defaults,
    detect=_lazy("ecgseg.detectors.reference:detect_reference_jittered"),
    needs_annotations=True,
))


def _qrs_defaults(fs: float) -> QrsParams:
    return QrsParams()


def _available(name: str) -> Callable[[], bool]:
    def check() -> bool:
        from .external import available

        return available(name)

    return check


register_detector(Detector(
    name="qrs",
    description="the toolkit's QRS detector, any lead, 100 Hz to 10 kHz",
    params_type=QrsParams,
    default_params=_qrs_defaults,
    detect=_lazy("ecgseg.detectors.qrs:detect"),
    warm_up=_lazy("ecgseg.detectors.qrs:warm_up"),
))
for _name, _what in (("sleepecg", "sleepecg's detect_heartbeats"),
                     ("neurokit2", "neurokit2's pantompkins1985"),
                     ("xqrs", "wfdb's xqrs_detect, slow")):
    register_detector(Detector(
        name=_name, description=f"{_what}, bench extra", params_type=None,
        default_params=_no_params, detect=_lazy(f"ecgseg.detectors.external:detect_{_name}"),
        available=_available(_name)))


def detectors_help() -> str:
    """Every registered detector with its one-line description, for ``--detector`` help.

    Examples
    --------
    >>> detectors_help().split(" (")[0]
    'paper'
    """
    return "; ".join(f"{d.name} ({d.description})" for d in _DETECTORS.values())


__all__ = ["DetectorInputError", "DetectorUnavailableError", "DetectorWarning", "detectors_help",
           "Detector", "detector_names", "get_detector", "register_detector"]
