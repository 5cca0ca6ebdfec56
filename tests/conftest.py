"""Shared fixtures: a real HTTP server over the PhysioNet mirror in ``../shared``.

Tests that need the mirror skip when it is absent (a user's machine) unless
``ECG_REQUIRE_MIRROR=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ECG_SHARED_DIR", ROOT.parent / "shared"))
MIRROR_DIR = SHARED / "physionet" / "files"
KAGGLE_DIR = SHARED / "kaggle"


def require(path: Path, what: str) -> Path:
    """Return ``path`` if it exists; otherwise skip (or fail under ECG_REQUIRE_MIRROR=1)."""
    if path.exists():
        return path
    message = f"{what} not found at {path} (set ECG_SHARED_DIR)"
    if os.environ.get("ECG_REQUIRE_MIRROR") == "1":
        pytest.fail(message + "; ECG_REQUIRE_MIRROR=1 forbids skipping", pytrace=False)
    pytest.skip(message)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def serve_directory(directory: Path):
    """Start a threaded HTTP server on 127.0.0.1 (free port) over ``directory``.

    Returns ``(server, url)``; call ``server.shutdown()`` when done.
    """
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The PhysioNet mirror's ``files/`` folder."""
    return require(MIRROR_DIR, "PhysioNet mirror")


@pytest.fixture(scope="session")
def kaggle_dir() -> Path:
    """The folder of real Kaggle rows."""
    return require(KAGGLE_DIR, "Kaggle rows")


@pytest.fixture(scope="session")
def mirror_url(mirror_dir):
    """URL of an HTTP server over the mirror, for the whole test session."""
    server, url = serve_directory(mirror_dir)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory, mirror_url):
    """A data folder holding all of mitdb and ptbdb, downloaded once through the real code."""
    from ecgseg.download import download_database

    data = tmp_path_factory.mktemp("data")
    for db in ("mitdb", "ptbdb"):
        download_database(db, data_dir=data, mirror=mirror_url, progress=False)
    return data


# --- raw records, read once per session (segmentation tests) -------------------------

MITDB_FS = 360.0


@pytest.fixture(scope="session")
def mitdb_dir(mirror_dir) -> Path:
    """The mirror's MIT-BIH folder (``mitdb/1.0.0``)."""
    return require(mirror_dir / "mitdb" / "1.0.0", "MIT-BIH records")


@pytest.fixture(scope="session")
def mitdb_records(mitdb_dir) -> dict:
    """All 48 MIT-BIH records in RECORDS order, read once per session.

    ``{name: (adc0, ann_sample, ann_symbol)}``: signal 0 as int16 ADC values (650 000,),
    every ``atr`` annotation sample (int64) and symbol (list of str).
    """
    import wfdb

    out = {}
    for name in (mitdb_dir / "RECORDS").read_text().split():
        rec = wfdb.rdrecord(str(mitdb_dir / name), physical=False, channels=[0], return_res=16)
        ann = wfdb.rdann(str(mitdb_dir / name), "atr")
        out[name] = (np.ascontiguousarray(rec.d_signal[:, 0]), ann.sample.astype(np.int64),
                     list(ann.symbol))
    return out


def mlii_channel(name: str) -> int:
    """Signal index of lead MLII (114: signal 1; 102 and 104 have none: signal 0)."""
    return 1 if name == "114" else 0


@pytest.fixture(scope="session")
def mitdb_mlii(mitdb_dir):
    """Loader ``name -> float64 (650000,) MLII in mV`` (wfdb physical), cached per session."""
    import wfdb

    @functools.lru_cache(maxsize=None)
    def load(name: str) -> np.ndarray:
        rec = wfdb.rdrecord(str(mitdb_dir / name), channels=[mlii_channel(name)])
        return np.ascontiguousarray(rec.p_signal[:, 0])

    return load


@pytest.fixture(scope="session")
def ptbdb_records(mirror_dir) -> dict:
    """The mirror's raw PTB records, lead ii: ``{name: (adc int (n,), mV float64 (n,))}``."""
    import wfdb

    base = require(mirror_dir / "ptbdb" / "1.0.0", "PTB records")
    out = {}
    for name in (base / "RECORDS").read_text().split():
        digital = wfdb.rdrecord(str(base / name), physical=False, channel_names=["ii"])
        physical = wfdb.rdrecord(str(base / name), channel_names=["ii"])
        assert digital.fs == 1000
        out[name] = (np.ascontiguousarray(digital.d_signal[:, 0]),
                     np.ascontiguousarray(physical.p_signal[:, 0]))
    return out


def run_ecg(args: list[str]) -> int:
    """Run the ``ecg`` command in-process; return its exit status."""
    from cli.main import main

    try:
        main(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
