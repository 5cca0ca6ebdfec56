"""Errors and warnings shared by every R-peak detector of :mod:`ecgseg.detectors`."""

from __future__ import annotations

from ..errors import EcgError

__all__ = ["DetectorInputError", "DetectorUnavailableError", "DetectorWarning"]


class DetectorInputError(EcgError):
    """The signal, its sampling rate or the detector's parameters cannot be used.

    The message names the offending parameter (``fs must be between ...``).
    """


class DetectorUnavailableError(EcgError):
    """A registered detector whose library is not installed (the ``bench`` extra)."""


class DetectorWarning(UserWarning):
    """Detection ran, but on input that makes its result doubtful (short, gaps, no QRS)."""
