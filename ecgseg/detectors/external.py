"""Adapters to open-source R-peak detectors, with the signature of :func:`~.qrs.detect_qrs`.

Each adapter takes ``(signal, fs)`` - one lead (n,) in mV and its rate in Hz - and returns
int64 (k,) R-peak sample indices, increasing. The libraries are optional (the ``bench``
extra: ``pip install "ecg-toolkit[bench]"``); an adapter whose library is missing raises
:class:`ExternalDetectorError` saying so.

* :func:`sleepecg_peaks` - sleepecg ``detect_heartbeats`` (C backend when built);
* :func:`neurokit2_peaks` - neurokit2 ``ecg_clean`` + ``ecg_peaks``, ``method="pantompkins1985"``;
* :func:`xqrs_peaks` - wfdb ``processing.xqrs_detect`` (slow: pure Python).

Examples
--------
>>> import numpy as np
>>> fs = 250.0
>>> t = np.arange(int(20 * fs)) / fs
>>> ecg = sum(np.exp(-0.5 * ((t - b) / 0.01) ** 2) for b in np.arange(0.5, 19.5, 0.8))
>>> len(sleepecg_peaks(ecg, fs)) >= 20   # doctest: +SKIP
True
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

from .errors import DetectorUnavailableError

__all__ = ["ExternalDetectorError", "LIBRARIES", "available", "detect_neurokit2",
           "detect_sleepecg", "detect_xqrs", "neurokit2_peaks", "sleepecg_peaks", "xqrs_peaks"]

LIBRARIES = {"sleepecg": "sleepecg", "neurokit2": "neurokit2", "xqrs": "wfdb.processing"}
"""The module each external detector needs, by detector name."""


ExternalDetectorError = DetectorUnavailableError
"""An external detector's library is not installed (the shared error class)."""


def _require(module: str, detector: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExternalDetectorError(
            f"detector {detector} needs the {module.split('.')[0]} package: install the bench "
            f"extra (pip install \"ecg-toolkit[bench]\")") from None


def available(detector: str) -> bool:
    """Whether the library of the external ``detector`` can be imported.

    Examples
    --------
    >>> available("xqrs")   # wfdb is a dependency of the toolkit
    True
    """
    return importlib.util.find_spec(LIBRARIES[detector].split(".")[0]) is not None


def _as_peaks(peaks) -> np.ndarray:
    return np.unique(np.asarray(peaks, dtype=np.int64))  # sorted, no duplicates


def _as_signal(signal) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(signal, dtype=np.float64))


def sleepecg_peaks(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks by sleepecg's ``detect_heartbeats`` (Pan-Tompkins variant, C backend).

    Parameters
    ----------
    signal : ndarray, float (n,)
        One lead, mV.
    fs : float
        Sampling rate, Hz.

    Returns
    -------
    ndarray, int64 (k,)
        R-peak sample indices, increasing.
    """
    sleepecg = _require("sleepecg", "sleepecg")
    return _as_peaks(sleepecg.detect_heartbeats(_as_signal(signal), float(fs)))


def neurokit2_peaks(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks by neurokit2: ``ecg_clean`` then ``ecg_peaks``, both ``method="pantompkins1985"``.

    Parameters and return value as :func:`sleepecg_peaks`.
    """
    nk = _require("neurokit2", "neurokit2")
    fs_int = int(round(fs))
    cleaned = nk.ecg_clean(_as_signal(signal), sampling_rate=fs_int, method="pantompkins1985")
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs_int, method="pantompkins1985",
                           correct_artifacts=False)
    return _as_peaks(info["ECG_R_Peaks"])


def xqrs_peaks(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks by wfdb's ``processing.xqrs_detect`` (default settings, quiet).

    Parameters and return value as :func:`sleepecg_peaks`.
    """
    processing = _require("wfdb.processing", "xqrs")
    return _as_peaks(processing.xqrs_detect(_as_signal(signal), fs=float(fs), verbose=False))


def detect_sleepecg(signal: np.ndarray, fs: float, params=None, *, annotations=None) -> np.ndarray:
    """:func:`sleepecg_peaks` with the registry's signature (no parameters)."""
    return sleepecg_peaks(signal, fs)


def detect_neurokit2(signal: np.ndarray, fs: float, params=None, *, annotations=None) -> np.ndarray:
    """:func:`neurokit2_peaks` with the registry's signature (no parameters)."""
    return neurokit2_peaks(signal, fs)


def detect_xqrs(signal: np.ndarray, fs: float, params=None, *, annotations=None) -> np.ndarray:
    """:func:`xqrs_peaks` with the registry's signature (no parameters)."""
    return xqrs_peaks(signal, fs)
