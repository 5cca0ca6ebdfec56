"""The PhysioNet databases the toolkit knows, and where their files live locally.

Local layout mirrors PhysioNet's ``files/`` tree under ``<data_dir>/physionet/``, e.g.
``data/physionet/mitdb/1.0.0/100.dat`` and
``data/physionet/ptbdb/1.0.0/patient001/s0010_re.hea``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import data_dir as _data_dir
from .errors import EcgError


@dataclass(frozen=True)
class Database:
    """A versioned PhysioNet database.

    Attributes
    ----------
    name : str
        PhysioNet slug, e.g. ``"mitdb"``.
    version : str
        Release, e.g. ``"1.0.0"``.
    title : str
        Human-readable name.
    record_files : tuple of str
        File extensions that make up one record (what ``ecg download`` fetches).
    index_files : tuple of str
        Database-level files fetched besides the records (``RECORDS`` ...).
    fs : float
        Sampling frequency of the raw signals, in Hz.
    default_lead : str
        Signal name of the paper's lead (lead II).
    """

    name: str
    version: str
    title: str
    record_files: tuple[str, ...]
    index_files: tuple[str, ...]
    fs: float
    default_lead: str

    @property
    def pn_dir(self) -> str:
        """Versioned PhysioNet path, e.g. ``"mitdb/1.0.0"``."""
        return f"{self.name}/{self.version}"

    def local_dir(self, data_dir: str | Path | None = None) -> Path:
        """Folder holding this database's files under the data folder."""
        return _data_dir(data_dir) / "physionet" / self.name / self.version


DATABASES: dict[str, Database] = {
    "mitdb": Database(
        name="mitdb",
        version="1.0.0",
        title="MIT-BIH Arrhythmia Database",
        record_files=("hea", "dat", "atr"),
        index_files=("RECORDS", "ANNOTATORS"),
        fs=360.0,
        default_lead="MLII",
    ),
    "ptbdb": Database(
        name="ptbdb",
        version="1.0.0",
        title="PTB Diagnostic ECG Database",
        record_files=("hea", "dat", "xyz"),
        index_files=("RECORDS",),
        fs=1000.0,
        default_lead="ii",
    ),
}


def get_database(name: str) -> Database:
    """Look a database up by name (``"mitdb"`` or ``"ptbdb"``; ``"mitdb/1.0.0"`` works too).

    Raises
    ------
    EcgError
        If the name is not one the toolkit knows.
    """
    key = name.strip().split("/")[0].lower()
    if key not in DATABASES:
        known = ", ".join(sorted(DATABASES))
        raise EcgError(f"unknown database {name!r}: choose one of {known}")
    db = DATABASES[key]
    if "/" in name and name.strip().split("/", 1)[1] != db.version:
        raise EcgError(f"unsupported version {name!r}: the toolkit knows {db.pn_dir}")
    return db
