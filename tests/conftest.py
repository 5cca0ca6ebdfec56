"""Shared fixtures: real PhysioNet records and Kaggle rows, served over a real HTTP server.

Two sources of data, chosen once per session:

- the full mirror in ``../shared`` (``ECG_SHARED_DIR``): all 48 MIT-BIH records, the
  two PTB records and the Kaggle rows, as CI runs (``.ci/run``);
- without it, the mini mirror shipped in ``tests/data/`` (the first minutes of eleven
  MIT-BIH records and 12 s of both PTB records, in the same ``files/`` layout, and every
  known Kaggle row), so that a fresh checkout tests almost everything
  (``tests/data/README.md``).

A test whose assertions are whole-database figures (48 records, 109 446 rows, a whole
30-minute record) asks for the ``full_mirror`` fixture: it skips without the mirror,
and ``ECG_REQUIRE_MIRROR=1`` turns that skip into a failure and forbids the fallback to
the shipped data altogether. A test whose figures merely depend on the records asserts
each mirror's own figures (``on_full_mirror``) and runs on both; how many tests run
without ``../shared`` is measured in ``tests/data/README.md``.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ECG_SHARED_DIR", ROOT.parent / "shared"))
MIRROR_DIR = SHARED / "physionet" / "files"
KAGGLE_DIR = SHARED / "kaggle"
TEST_DATA = Path(__file__).resolve().parent / "data"
SHIPPED_MIRROR_DIR = TEST_DATA / "physionet"
SHIPPED_KAGGLE_DIR = TEST_DATA / "kaggle"

# Run as a background job without job control (`nohup pytest &`, `(pytest &)` in a script),
# this process starts with SIGINT ignored, and so would every `ecg` the tests start: the
# Ctrl-C tests would then see no Ctrl-C at all. Children inherit an ignored signal, not a
# handler: with Python's own handler here, they start with Ctrl-C working as for a user.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config, items):
    """Files holding a ``slow`` test first, the rest in their usual order.

    Under ``-n`` (pytest-xdist, ``--dist loadfile``) whole files go to the parallel
    processes in this order: the few-minute README walkthrough starts at once beside the
    other files instead of last, alone.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


def mirror_required() -> bool:
    """True under ``ECG_REQUIRE_MIRROR=1``: missing data fails instead of skipping."""
    return os.environ.get("ECG_REQUIRE_MIRROR") == "1"


def require(path: Path, what: str) -> Path:
    """Return ``path`` if it exists; otherwise skip (or fail under ECG_REQUIRE_MIRROR=1)."""
    if path.exists():
        return path
    message = f"{what} not found at {path} (set ECG_SHARED_DIR)"
    if mirror_required():
        pytest.fail(message + "; ECG_REQUIRE_MIRROR=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def full_or_shipped(full: Path, shipped: Path, what: str) -> Path:
    """``full`` if present; else the shipped copy (never under ECG_REQUIRE_MIRROR=1)."""
    if full.exists() or mirror_required():
        return require(full, what)
    return shipped


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
def full_mirror() -> Path:
    """The full PhysioNet mirror (and the Kaggle rows beside it), for whole-database figures.

    Skips without it (fails under ``ECG_REQUIRE_MIRROR=1``).
    """
    mirror = require(MIRROR_DIR, "PhysioNet mirror")
    require(KAGGLE_DIR, "Kaggle rows")
    return mirror


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """A PhysioNet ``files/`` folder: the full mirror, or else the shipped mini mirror."""
    return full_or_shipped(MIRROR_DIR, SHIPPED_MIRROR_DIR, "PhysioNet mirror")


@pytest.fixture(scope="session")
def on_full_mirror(mirror_dir) -> bool:
    """True on the full mirror (whole 30-minute records), False on the shipped mini mirror.

    For a figure that depends on the data: a test asserts the full mirror's figure there
    and the shipped records' own (measured) figure on them, e.g.
    ``assert det.reference == (2955 if on_full_mirror else 382)``.
    """
    return mirror_dir == MIRROR_DIR


@pytest.fixture(scope="session")
def kaggle_dir(tmp_path_factory) -> Path:
    """The folder of real Kaggle rows: the full set beside the mirror, or else the shipped one.

    The shipped rows (``tests/data/kaggle/known_rows.npz``, float32) are printed back into
    the published text format and checked byte for byte against the SHA-256 of the
    original files, so either folder holds the same ``*_known_rows.csv`` files.
    """
    if full_or_shipped(KAGGLE_DIR, SHIPPED_KAGGLE_DIR, "Kaggle rows") == KAGGLE_DIR:
        return KAGGLE_DIR
    return write_shipped_kaggle_rows(tmp_path_factory.mktemp("kaggle"))


def write_shipped_kaggle_rows(folder: Path) -> Path:
    """Write the shipped Kaggle rows into ``folder`` as the published CSV files; return it."""
    from ecgseg.kaggle_csv import format_rows

    sums = dict(line.split()[::-1] for line in
                (SHIPPED_KAGGLE_DIR / "SHA256SUMS.txt").read_text().splitlines())
    with np.load(SHIPPED_KAGGLE_DIR / "known_rows.npz") as z:
        for name, digest in sums.items():
            rows = z[name.removesuffix(".csv")]
            raw = format_rows(rows[:, :187], rows[:, 187].astype(np.int64))
            assert hashlib.sha256(raw).hexdigest() == digest, f"shipped {name} differs"
            (folder / name).write_bytes(raw)
    shutil.copy(SHIPPED_KAGGLE_DIR / "ptbdb_s0323lre_first60s_lossy.npz", folder)
    return folder


@pytest.fixture(scope="session")
def rebuildable_known_lines(kaggle_dir, mirror_dir) -> list[bytes]:
    """Lines of ``mitbih_test_known_rows.csv`` (file order) whose beats the mirror in use holds.

    All 1 496 on the full mirror; on the shipped one, those listed in
    ``tests/data/kaggle/mitbih_known_rows_in_shipped_records.txt`` (found on the full
    records by ``make_test_data.py``).
    """
    lines = (kaggle_dir / "mitbih_test_known_rows.csv").read_bytes().splitlines(keepends=True)
    if mirror_dir == MIRROR_DIR:
        return lines
    listed = (SHIPPED_KAGGLE_DIR / "mitbih_known_rows_in_shipped_records.txt").read_text()
    return [lines[int(i) - 1] for i in listed.split()]


@pytest.fixture(scope="session")
def mitdb_names(mitdb_dir) -> list[str]:
    """The MIT-BIH record names of the mirror in use (``RECORDS`` order)."""
    return (mitdb_dir / "RECORDS").read_text().split()


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
    """The mirror's MIT-BIH folder (``mitdb/1.0.0``), full or shipped."""
    return require(mirror_dir / "mitdb" / "1.0.0", "MIT-BIH records")


@pytest.fixture(scope="session")
def linked_mitdb_data(tmp_path_factory, mitdb_dir):
    """A maker of fresh data folders (``--data-dir``) whose ``physionet/mitdb/1.0.0`` is the
    mirror's MIT-BIH folder, linked, not copied: ``linked_mitdb_data("name")`` returns a
    new ``<tmp>/data``; its parent is the test's own folder for other outputs."""
    def make(name: str) -> Path:
        data = tmp_path_factory.mktemp(name) / "data"
        (data / "physionet" / "mitdb").mkdir(parents=True)
        (data / "physionet" / "mitdb" / "1.0.0").symlink_to(mitdb_dir)
        return data
    return make


@pytest.fixture(scope="session")
def mitdb_records(mitdb_dir) -> dict:
    """Every MIT-BIH record of the mirror in RECORDS order, read once per session.

    ``{name: (adc0, ann_sample, ann_symbol)}``: signal 0 as int16 ADC values (n,),
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
    """Loader ``name -> float64 (n,) MLII in mV`` (wfdb physical), cached per session."""
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
    from ecg_cli.main import main

    try:
        main(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0
