"""ecgseg: raw PhysioNet ECG records to the 187-point heartbeats of Kachuee et al. (2018).

Public API::

    from ecgseg import download_database, segment_database, load_beats

    download_database("mitdb")                      # data/physionet/mitdb/1.0.0/, verified
    summary = segment_database("mitdb")             # -> data/beats/mitdb.h5 (paper recipe)
    table = load_beats("data/beats/mitdb.h5", split="DS2", classes=["N", "V"])
    table.beats, table.labels, table.meta           # (n, 187) float32, (n,) int8, DataFrame

Signal-level functions (arrays in, arrays out): :func:`segment_paper`,
:func:`segment_kaggle_mitdb`, :func:`segment_kaggle_ptb`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from .databases import DATABASES, Database, get_database
from .errors import DownloadError, EcgError, InputError, RecordError

try:
    __version__ = _version("ecg-toolkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "DATABASES", "Database", "DownloadError", "DownloadSummary", "EcgError", "InputError",
    "RecordError", "__version__", "get_database",
]

# The rest of the API is imported on first use, so that ``import ecgseg`` (which every
# ``ecg`` command does) pays neither for numba nor for wfdb and pandas (the download
# layer; ``ecg segment`` on local records reads them with :mod:`ecgseg.signal_file`).
_LAZY = {
    "DownloadSummary": "ecgseg.download", "download_database": "ecgseg.download",
    "record_list": "ecgseg.download", "verify_database": "ecgseg.download",
    "Segments": "ecgseg.segments",
    "PaperParams": "ecgseg.recipes.paper", "segment_paper": "ecgseg.recipes.paper",
    "KagglePtbParams": "ecgseg.recipes.kaggle", "segment_kaggle_mitdb": "ecgseg.recipes.kaggle",
    "segment_kaggle_ptb": "ecgseg.recipes.kaggle",
    "AAMI_CLASSES": "ecgseg.labels", "AAMI_MAP": "ecgseg.labels", "aami_label": "ecgseg.labels",
    "segment_database": "ecgseg.pipeline", "SegmentSummary": "ecgseg.pipeline",
    "segment_record": "ecgseg.pipeline", "RecordResult": "ecgseg.pipeline",
    "get_recipe": "ecgseg.recipes", "recipe_names": "ecgseg.recipes",
    "get_detector": "ecgseg.detectors", "detector_names": "ecgseg.detectors",
    "load_beats": "ecgseg.store", "BeatTable": "ecgseg.store", "read_attrs": "ecgseg.store",
    "export_csv": "ecgseg.export", "read_kaggle_csv": "ecgseg.kaggle_csv",
    "write_kaggle_csv": "ecgseg.kaggle_csv", "verify_kaggle_files": "ecgseg.verify",
}
__all__ += sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ecgseg' has no attribute {name!r}")
