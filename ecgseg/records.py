"""Reading one PhysioNet record from the data folder.

Plain records (formats 212 and 16: MIT-BIH, PTB) are read by :mod:`ecgseg.signal_file`
without importing wfdb; anything else goes through wfdb, with the same result.

I/O lives here, at the edge: the recipes get plain arrays. Every failure a user can
meet (missing or truncated ``.dat``, a header that does not parse, a lead the record
lacks, missing annotations) becomes a :class:`~ecgseg.errors.RecordError` that names
the record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import signal_file
from .databases import Database
from .errors import RecordError

#: Bits per sample of the WFDB storage formats whose file size we can check.
_FORMAT_BITS = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16,
                "212": 12, "310": 32 / 3, "311": 32 / 3}


@dataclass
class LeadSignal:
    """One lead of a record.

    Attributes
    ----------
    record : str
        Record name, e.g. ``"100"`` or ``"patient001/s0010_re"``.
    signal : ndarray, shape (n_samples,)
        float64 in physical units (mV) when read with ``physical=True``; int64 ADC
        units otherwise.
    fs : float
        Sampling frequency, Hz.
    lead : str
        Signal name, e.g. ``"MLII"``.
    channel : int
        Index of the signal in the record.
    units : str
        Physical units of the signal (``"mV"``), or ``"adu"`` for digital samples.
    note : str
        Why this lead was chosen when it is not the one asked for ('' otherwise).
    comments : list of str
        The header's comment lines (PTB: the clinical data, see :func:`ptb_diagnosis`).
    """

    record: str
    signal: np.ndarray
    fs: float
    lead: str
    channel: int
    units: str
    note: str = ""
    comments: list = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        """Length in samples."""
        return int(self.signal.shape[0])


@dataclass
class Annotations:
    """Reference annotations of a record: positions (samples) and symbols, in file order."""

    sample: np.ndarray
    symbol: np.ndarray


def record_path(db: Database, name: str, data_dir=None) -> Path:
    """Path of a record without extension, e.g. ``data/physionet/mitdb/1.0.0/100``."""
    return db.local_dir(data_dir) / name


def read_header(path: str | Path) -> signal_file.Header:
    """Read and check a record header.

    Returns
    -------
    Header
        :class:`ecgseg.signal_file.Header` (the fields of ``wfdb.Record`` used here).

    Raises
    ------
    RecordError
        Missing header, header that does not parse.
    """
    path = Path(path)
    if not path.with_suffix(".hea").exists() and not Path(str(path) + ".hea").exists():
        raise RecordError(f"record {path.name}: header {path}.hea not found")
    header = signal_file.read_header(path)
    if header is None:
        header = _wfdb_header(path)
    if not header.sig_name or not header.fs or header.sig_len is None:
        raise RecordError(f"record {path.name}: header lacks signals, fs or length")
    return header


def _wfdb_header(path: Path) -> signal_file.Header:
    """A header :mod:`ecgseg.signal_file` does not read, read by wfdb."""
    import wfdb

    try:
        h = wfdb.rdheader(str(path))
    except Exception as exc:  # wfdb raises many types on a malformed header
        raise RecordError(f"record {path.name}: header does not parse ({exc})") from None
    return signal_file.Header(
        record_name=h.record_name, n_sig=int(h.n_sig or 0), fs=h.fs, sig_len=h.sig_len,
        file_name=list(h.file_name or []), fmt=list(h.fmt or []),
        adc_gain=list(h.adc_gain or []), baseline=list(h.baseline or []),
        units=list(h.units or []), sig_name=list(h.sig_name or []),
        comments=list(h.comments or []))


def _check_signal_files(path: Path, header: signal_file.Header) -> None:
    """Raise RecordError if a signal file is missing or shorter than the header says."""
    files: dict[str, list[str]] = {}
    for fname, fmt in zip(header.file_name, header.fmt):
        files.setdefault(fname, []).append(str(fmt))
    for fname, fmts in files.items():
        fpath = path.parent / fname
        if not fpath.exists():
            raise RecordError(f"record {path.name}: signal file {fpath} not found")
        if all(f in _FORMAT_BITS for f in fmts) and len(set(fmts)) == 1:
            need = math.ceil(header.sig_len * len(fmts) * _FORMAT_BITS[fmts[0]] / 8)
            have = fpath.stat().st_size
            if have < need:
                raise RecordError(f"record {path.name}: {fname} is truncated "
                                  f"({have} of {need} bytes)")


def choose_channel(header: signal_file.Header, db: Database, lead: str | None = None) -> tuple[int, str]:
    """Pick the channel to read: ``lead`` if given, else the database's lead II.

    When the record lacks the database's default lead (MIT-BIH 102 and 104 have no
    MLII), signal 0 is used and the returned note says so.

    Returns
    -------
    (channel, note)

    Raises
    ------
    RecordError
        ``lead`` was asked for explicitly and the record does not have it.
    """
    names = list(header.sig_name)
    name = Path(header.record_name).name
    if lead is not None:
        if lead not in names:
            raise RecordError(f"record {name} has no lead {lead!r} (it has {', '.join(names)})")
        return names.index(lead), ""
    if db.default_lead in names:
        return names.index(db.default_lead), ""
    return 0, (f"record {name} has no {db.default_lead}; using signal 0 ({names[0]})")


def read_lead(path: str | Path, db: Database, lead: str | None = None,
              physical: bool = True, channel: int | None = None) -> LeadSignal:
    """Read one lead of a local record.

    Parameters
    ----------
    path : path
        Record path without extension.
    db : Database
        The record's database (for the default lead).
    lead : str, optional
        Signal name to read (default: the database's lead II, see :func:`choose_channel`).
    physical : bool
        True: float64 in physical units (mV). False: the ADC integers (int64).
    channel : int, optional
        Read this signal index instead of choosing by name.

    Raises
    ------
    RecordError
        Missing or truncated files, bad header, missing lead, NaN-only signal.
    """
    path = Path(path)
    header = read_header(path)
    name = _record_name(path, db)
    if channel is None:
        channel, note = choose_channel(header, db, lead)
    else:
        if not 0 <= channel < len(header.sig_name):
            raise RecordError(f"record {name} has no signal {channel}")
        note = ""
    _check_signal_files(path, header)
    fast = signal_file.read_digital(path, header, channel)
    if fast is not None:
        sig = signal_file.to_physical(fast, header, channel) if physical else fast
        units = header.units[channel] if physical else "adu"
    else:
        sig, units = _wfdb_signal(path, name, channel, physical)
    if physical and np.isnan(sig).all():
        raise RecordError(f"record {name}: lead {header.sig_name[channel]} is all NaN")
    return LeadSignal(record=name, signal=sig, fs=float(header.fs),
                      lead=str(header.sig_name[channel]), channel=int(channel), units=units,
                      note=note, comments=list(header.comments or []))


def _wfdb_signal(path: Path, name: str, channel: int, physical: bool) -> tuple[np.ndarray, str]:
    """One signal of a record :mod:`ecgseg.signal_file` does not read, and its units."""
    import wfdb

    try:
        r = wfdb.rdrecord(str(path), channels=[channel], physical=physical, return_res=64)
    except Exception as exc:
        raise RecordError(f"record {name}: cannot read signals ({exc})") from None
    if physical:
        return (np.ascontiguousarray(r.p_signal[:, 0], dtype=np.float64),
                (r.units or ["mV"])[0])
    return np.ascontiguousarray(r.d_signal[:, 0], dtype=np.int64), "adu"


def _record_name(path: Path, db: Database) -> str:
    parts = path.parts
    try:
        i = len(parts) - 1 - parts[::-1].index(db.version)
        return "/".join(parts[i + 1:])
    except ValueError:
        return path.name


def read_annotations(path: str | Path, extension: str = "atr") -> Annotations | None:
    """Read a record's annotation file, or None when it does not exist.

    Returns
    -------
    Annotations or None
        ``sample`` int64 (m,) in record samples, ``symbol`` str (m,), in file order.

    Raises
    ------
    RecordError
        The file exists but does not parse.
    """
    path = Path(path)
    file = Path(f"{path}.{extension}")
    if not file.exists():
        return None
    from .annotation_file import read_mit_annotations

    fast = read_mit_annotations(str(file))  # same result as wfdb.rdann, ~100x faster
    if fast is not None:
        return Annotations(sample=fast[0], symbol=fast[1])
    import wfdb

    try:
        ann = wfdb.rdann(str(path), extension)
    except Exception as exc:
        raise RecordError(f"record {path.name}: {extension} annotations do not parse "
                          f"({exc})") from None
    return Annotations(sample=np.asarray(ann.sample, dtype=np.int64),
                       symbol=np.asarray(ann.symbol, dtype=str))


def ptb_diagnosis(header: signal_file.Header | LeadSignal) -> str:
    """The ``Reason for admission`` of a PTB header (or of a lead read from it; '' when absent)."""
    for line in header.comments or []:
        key, _, value = line.partition(":")
        if key.strip().lower() == "reason for admission":
            return value.strip()
    return ""
