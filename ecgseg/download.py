"""Download PhysioNet databases with wfdb, verified against ``SHA256SUMS.txt``.

``wfdb.dl_database`` always asks physionet.org for the latest version first, so it
cannot work from a mirror or offline. This module builds the download from wfdb's
lower-level functions, which honour ``wfdb.io.download.set_db_index_url``:
``get_record_list`` for the record names and ``dl_full_file`` for each file.

Guarantees:

* every file listed in the database's ``SHA256SUMS.txt`` is verified after download;
  a mismatch is fetched again, up to ``retries`` more times, then reported;
* a re-run skips files already present and verified (resume) and re-fetches a local
  file that fails its checksum;
* a file is written under a temporary name in the same folder and renamed only once
  verified, so an interrupted download never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .atomic import atomic_path
from .config import physionet_url
from .databases import Database, get_database
from .errors import DownloadError

SUMS_FILE = "SHA256SUMS.txt"


def _wfdb_download():
    """``wfdb.io.download``, imported when something is downloaded (``import wfdb`` costs
    ~0.25 s: it imports pandas; ``ecg segment`` on local records needs none of it)."""
    from wfdb.io import download

    return download


def _net_errors() -> tuple[type[Exception], type[Exception]]:
    """``(NetFileError, NetFileNotFoundError)``: what wfdb's downloader raises.

    wfdb 4.x exports them from nowhere else than its private ``wfdb.io._url``. Kept
    (rather than re-implementing wfdb's HTTP layer) so that ``set_db_index_url`` and
    wfdb's retries and range requests keep applying; pinned by ``wfdb>=4.1``.
    """
    from wfdb.io._url import NetFileError, NetFileNotFoundError

    return NetFileError, NetFileNotFoundError


@dataclass
class DownloadSummary:
    """What one download did.

    Attributes
    ----------
    database : str
        Versioned PhysioNet path, e.g. ``"mitdb/1.0.0"``.
    local_dir : Path
        Folder the files are in.
    records : list of str
        Records covered.
    files : int
        Files covered (index files and record files).
    downloaded : int
        Files fetched in this run.
    skipped : int
        Files already present and verified.
    refetched : int
        Local files that failed their checksum and were fetched again.
    unverified : list of str
        Files that have no line in ``SHA256SUMS.txt`` (kept, not verified).
    bytes : int
        Bytes fetched in this run.
    seconds : float
        Wall-clock time.
    """

    database: str
    local_dir: Path
    records: list[str] = field(default_factory=list)
    files: int = 0
    downloaded: int = 0
    skipped: int = 0
    refetched: int = 0
    unverified: list[str] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """One-line human summary."""
        return (
            f"{self.database}: {len(self.records)} records, {self.files} files "
            f"({self.downloaded} downloaded, {self.skipped} already verified"
            + (f", {self.refetched} re-fetched after a bad checksum" if self.refetched else "")
            + f"), {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s -> {self.local_dir}"
        )


@contextlib.contextmanager
def use_physionet_url(url: str) -> Iterator[str]:
    """Point wfdb at ``url`` (PhysioNet's ``files/`` tree or a mirror) for the block."""
    wfdb_download = _wfdb_download()
    previous = wfdb_download.config.db_index_url
    wfdb_download.set_db_index_url(url)
    try:
        yield url
    finally:
        wfdb_download.set_db_index_url(previous)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_sha256sums(text: str) -> dict[str, str]:
    """Parse ``SHA256SUMS.txt`` text into ``{relative path: hex digest}``."""
    sums = {}
    for line in text.splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _request_exception() -> type[Exception]:
    """``requests.RequestException``, imported only when an error is being handled
    (``requests`` costs ~0.1 s of every ``ecg segment`` start-up; wfdb imports it when
    it downloads)."""
    import requests

    return requests.RequestException


#: How long a download waits, s, for another process writing the same file.
SHARED_WRITE_WAIT_S = 600.0


def _url_of(db: Database, rel: str) -> str:
    return f"{_wfdb_download().config.db_index_url}{db.pn_dir}/{rel}"


def _fetch(db: Database, rel: str, dest: Path) -> int:
    """Fetch one file to ``dest`` atomically (no verification). Returns its size in bytes."""
    url = _url_of(db, rel)
    try:
        # Several processes may fill one cache (Dask workers of a machine): wait for
        # the other writer of a file instead of failing (the content is verified).
        with atomic_path(dest, wait_s=SHARED_WRITE_WAIT_S) as tmp:
            _wfdb_download().dl_full_file(url, str(tmp))
    except _net_errors()[1]:
        raise DownloadError(f"not found on the server: {url}") from None
    except (_net_errors()[0], _request_exception()) as exc:
        raise DownloadError(f"cannot download {url}: {_short(exc)}") from None
    except OSError as exc:
        raise _disk_error(exc, dest) from None
    return dest.stat().st_size


def _disk_error(exc: OSError, dest: Path) -> DownloadError:
    if isinstance(exc, PermissionError):
        return DownloadError(f"no write permission for {dest.parent}")
    if exc.errno == errno.ENOSPC:
        return DownloadError(f"disk full while writing {dest}")
    return DownloadError(f"cannot write {dest}: {exc.strerror or exc}")


def _short(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text or "Failed to establish" in text:
        return "connection refused (server unreachable or offline)"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host not found (offline?)"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _index_text(db: Database, local: Path, name: str) -> str:
    """Read an index file (``SHA256SUMS.txt``, ``RECORDS``), fetching it when absent."""
    path = local / name
    if not path.exists():
        _fetch(db, name, path)
    return path.read_text(encoding="ascii", errors="replace")


def record_list(db: str | Database, data_dir: str | os.PathLike | None = None,
                mirror: str | None = None) -> list[str]:
    """Names of the records of a database, from its ``RECORDS`` file.

    The local copy is used when present; otherwise ``RECORDS`` is fetched from
    PhysioNet (or ``mirror``) with ``wfdb.io.download.get_record_list``.
    """
    db = get_database(db) if isinstance(db, str) else db
    path = db.local_dir(data_dir) / "RECORDS"
    if path.exists():
        return path.read_text(encoding="ascii").split()
    with use_physionet_url(physionet_url(mirror)) as url:
        try:
            return list(_wfdb_download().get_record_list(db.pn_dir))
        except (_net_errors()[0], _request_exception(), ValueError) as exc:
            raise DownloadError(
                f"cannot read the record list {url}{db.pn_dir}/RECORDS: {_short(exc)}"
            ) from None


def _plan(db: Database, records: Sequence[str]) -> list[str]:
    """Relative paths of the index files and of every file of ``records``."""
    files = list(db.index_files)
    for rec in records:
        files += [f"{rec}.{ext}" for ext in db.record_files]
    return files


def download_database(
    db: str | Database,
    *,
    data_dir: str | os.PathLike | None = None,
    records: Iterable[str] | None = None,
    mirror: str | None = None,
    retries: int = 2,
    progress: bool = True,
) -> DownloadSummary:
    """Download (or resume) a PhysioNet database into the data folder, verified.

    Parameters
    ----------
    db : str or Database
        ``"mitdb"`` or ``"ptbdb"``.
    data_dir : path, optional
        Data folder (default ``ECG_DATA_DIR`` or ``./data``); files go to
        ``<data_dir>/physionet/<db>/<version>/``.
    records : iterable of str, optional
        Subset of record names (default: every record of ``RECORDS``).
    mirror : str, optional
        Base URL of a PhysioNet ``files/`` mirror (default ``ECG_PHYSIONET_URL`` or
        physionet.org).
    retries : int
        Extra attempts for a file whose download fails its checksum.
    progress : bool
        Show a progress bar (one step per file).

    Returns
    -------
    DownloadSummary

    Raises
    ------
    DownloadError
        Server unreachable, record or file not found, checksum mismatch after the
        retries, no write permission, disk full.
    """
    t0 = time.perf_counter()
    db = get_database(db) if isinstance(db, str) else db
    local = db.local_dir(data_dir)
    summary = DownloadSummary(database=db.pn_dir, local_dir=local)
    with use_physionet_url(physionet_url(mirror)):
        sums = parse_sha256sums(_index_text(db, local, SUMS_FILE))
        for name in db.index_files:
            _get_verified(db, name, local / name, sums.get(name), retries, summary)
        available = (local / "RECORDS").read_text(encoding="ascii").split()
        wanted = list(available) if records is None else list(dict.fromkeys(records))
        missing = [r for r in wanted if r not in available]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise DownloadError(
                f"not in {db.pn_dir}: {shown} ({len(available)} records, "
                f"{available[0]} ... {available[-1]})"
            )
        summary.records = wanted
        files = _plan(db, wanted)[len(db.index_files):]
        summary.files = len(files) + len(db.index_files)
        from tqdm.auto import tqdm

        bar = tqdm(files, desc=f"download {db.pn_dir}", unit="file", disable=not progress,
                   leave=False)
        for rel in bar:
            bar.set_postfix_str(rel, refresh=False)
            _get_verified(db, rel, local / rel, sums.get(rel), retries, summary)
        bar.close()
    summary.seconds = time.perf_counter() - t0
    return summary


def _get_verified(db: Database, rel: str, dest: Path, expected: str | None, retries: int,
                  summary: DownloadSummary) -> None:
    if expected is None:
        summary.unverified.append(rel)
    if dest.exists():
        if expected is None or sha256_file(dest) == expected:
            summary.skipped += 1
            return
        summary.refetched += 1
    for _attempt in range(retries + 1):
        summary.bytes += _fetch(db, rel, dest)
        if expected is None:
            break
        got = sha256_file(dest)
        if got == expected:
            break
    else:
        dest.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for {_url_of(db, rel)} after {retries + 1} attempts "
            f"(expected sha256 {expected[:12]}..., got {got[:12]}...)"
        )
    summary.downloaded += 1


def verify_database(db: str | Database, data_dir: str | os.PathLike | None = None,
                    records: Iterable[str] | None = None) -> dict[str, str]:
    """Check local files against ``SHA256SUMS.txt`` without downloading.

    Returns
    -------
    dict
        ``{relative path: "ok" | "missing" | "mismatch" | "unlisted"}`` for every file
        of the requested records.
    """
    db = get_database(db) if isinstance(db, str) else db
    local = db.local_dir(data_dir)
    sums_path = local / SUMS_FILE
    sums = parse_sha256sums(sums_path.read_text()) if sums_path.exists() else {}
    recs = list(records) if records is not None else record_list(db, data_dir)
    status = {}
    for rel in _plan(db, recs):
        path = local / rel
        if not path.exists():
            status[rel] = "missing"
        elif rel not in sums:
            status[rel] = "unlisted"
        else:
            status[rel] = "ok" if sha256_file(path) == sums[rel] else "mismatch"
    return status


def missing_records(db: str | Database, records: Iterable[str],
                    data_dir: str | os.PathLike | None = None,
                    extensions: Sequence[str] | None = None) -> list[str]:
    """Records of ``records`` with at least one file absent from the data folder.

    ``extensions`` restricts the check (default: every file of a record).
    """
    db = get_database(db) if isinstance(db, str) else db
    local = db.local_dir(data_dir)
    exts = db.record_files if extensions is None else extensions
    return [r for r in records if not all((local / f"{r}.{ext}").exists() for ext in exts)]
