"""Where the toolkit keeps its data and where it downloads from.

Both can be set per call, through an environment variable, or left to the default:

* data folder: ``--data-dir`` / ``ECG_DATA_DIR`` / ``./data``;
* PhysioNet URL: ``--mirror`` / ``ECG_PHYSIONET_URL`` / ``https://physionet.org/files/``.
"""

from __future__ import annotations

import os
from pathlib import Path

PHYSIONET_URL = "https://physionet.org/files/"
DATA_DIR_ENV = "ECG_DATA_DIR"
MIRROR_ENV = "ECG_PHYSIONET_URL"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the toolkit's data folder.

    Parameters
    ----------
    path : str or PathLike, optional
        Explicit folder; wins over ``ECG_DATA_DIR`` and the default ``./data``.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else Path("data")


def physionet_url(url: str | None = None) -> str:
    """Return the base URL of PhysioNet's ``files/`` tree (or of a mirror), ending in '/'.

    Parameters
    ----------
    url : str, optional
        Explicit URL; wins over ``ECG_PHYSIONET_URL`` and physionet.org.
    """
    url = url or os.environ.get(MIRROR_ENV) or PHYSIONET_URL
    return url if url.endswith("/") else url + "/"
