"""The beats HDF5 file: schema, streaming writer and reader.

Layout of a file written by ``ecg segment`` (``n`` beats of ``L`` samples, ``R`` records)::

    /beats        float32 (n, L)   beat values then zero padding; chunked, compressed
    /label        int8    (n,)     class id; -1 = peak matched no reference beat,
                                   -2 = record outside the task (e.g. PTB other diagnosis)
    /symbol       S1      (n,)     reference annotation symbol ('' if none)
    /record_id    int32   (n,)     row of /records
    /sample       int64   (n,)     beat position in the original record, in its samples
                                   (R peak, or annotation sample for the Kaggle recipe)
    /window       int32   (n,)     window index in the record (-1: recipe without windows)
    /n_values     int16   (n,)     real values before the zero padding
    /records/<column>  (R,)        per-record table: name, patient, lead, label_source,
                                   diagnosis and statistics (samples, windows, peaks, ...)

    /source_sha256/file, /source_sha256/sha256  str (k,)  every source file read (path
                                   relative to the database folder) and its SHA-256, one
                                   row per file in record order (:mod:`ecgseg.source_hashes`)

File attributes: ``database``, ``version``, ``recipe``, ``params`` (JSON), ``fs`` (Hz),
``length``, ``classes`` (JSON list of class names), ``toolkit_version``, ``created``
(ISO 8601, UTC), ``format``. Files written before 2026-11-29 keep the source hashes as
an attribute ``source_sha256`` (JSON: relative file path -> sha256) instead of the
group; :func:`read_attrs` and :func:`load_beats` give ``attrs["source_sha256"]`` (that
dict) for both.

Compression: ``lzf`` with the shuffle filter by default (about 2x smaller, and 3x faster
to write than gzip, which would otherwise cost as much time as reading the raw records);
``gzip`` (readable by every HDF5 tool, e.g. MATLAB or R without a filter plugin) or
``none`` on request.

Beats are appended record by record (memory bounded by one record), to a temporary
file renamed to the final name only when the file is complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import h5py
import numpy as np

from .atomic import atomic_path, refuse_existing
from .errors import EcgError, InputError
from .labelling import OUT_OF_TASK, UNMATCHED  # noqa: F401  (schema values, defined once)
from .record_splits import RECORD_SPLITS
from .source_hashes import GROUP as SOURCES_GROUP
from .source_hashes import SourceHashRows, read_source_hashes

if TYPE_CHECKING:  # pandas is imported by the readers only (writing needs none of it)
    import pandas as pd

FORMAT = "ecg-beats/1"
COMPRESSIONS = ("lzf", "gzip", "none")

_PER_BEAT = {
    "label": np.int8,
    "record_id": np.int32,
    "sample": np.int64,
    "window": np.int32,
    "n_values": np.int16,
}


class BeatWriter:
    """Stream beats into a new HDF5 file, atomically.

    Use as a context manager::

        with BeatWriter(path, length=187, attrs={...}) as w:
            w.append_record("100", "100", beats, labels=..., symbols=..., sample=...,
                            window=..., n_values=..., stats={...})

    The file appears under ``path`` only when the block ends without error.

    Parameters
    ----------
    path : path
        Final file name.
    length : int
        Samples per beat (187).
    attrs : mapping
        File attributes; dicts and lists are stored as JSON text.
    overwrite : bool
        Replace an existing file; if False an existing ``path`` is an error.
    chunk_rows : int
        Rows per HDF5 chunk of ``/beats``.
    compression : {"lzf", "gzip", "none"}
        Filter of every dataset (see the module docstring).
    """

    def __init__(self, path: str | os.PathLike, length: int, attrs: Mapping[str, Any],
                 overwrite: bool = False, chunk_rows: int = 1024, compression: str = "lzf"):
        if compression not in COMPRESSIONS:
            raise EcgError(f"unknown compression {compression!r}: choose one of "
                           f"{', '.join(COMPRESSIONS)}")
        self.compression = None if compression == "none" else compression
        self.path = refuse_existing(path, overwrite)
        self.length = int(length)
        self.attrs = dict(attrs)
        self.overwrite = overwrite
        self.chunk_rows = chunk_rows
        self.n = 0
        self.records = RecordsTable()
        self.sources = SourceHashRows()  # add_sources: the /source_sha256 datasets
        self._ctx = None
        self._f: h5py.File | None = None
        # Datasets stay open while writing: closing one flushes its chunk cache, so
        # re-opening it per record would compress, write, read back and decompress
        # the partly filled last chunk at every append (2.5x the cost of the writing).
        self._ds: dict[str, h5py.Dataset] = {}

    def __enter__(self) -> "BeatWriter":
        self._ctx = atomic_path(self.path, overwrite=self.overwrite)
        self._tmp = self._ctx.__enter__()
        # Built in memory, written to the temporary file in one go at the end: HDF5 on a
        # full disk fails half-way, cannot close the file, and crashes the interpreter
        # (segmentation fault) at exit; a plain write fails cleanly (DiskFullError).
        self._f = h5py.File(self._tmp, "w", driver="core", backing_store=False)
        f = self._f
        ds = self._ds
        ds["beats"] = f.create_dataset(
            "beats", shape=(0, self.length), maxshape=(None, self.length),
            dtype=np.float32, chunks=(self.chunk_rows, self.length),
            compression=self.compression, shuffle=self.compression is not None)
        for name, dtype in _PER_BEAT.items():
            ds[name] = f.create_dataset(
                name, shape=(0,), maxshape=(None,), dtype=dtype,
                chunks=(self.chunk_rows * 16,), compression=self.compression,
                shuffle=self.compression is not None)
        ds["symbol"] = f.create_dataset("symbol", shape=(0,), maxshape=(None,), dtype="S1",
                                        chunks=(self.chunk_rows * 16,),
                                        compression=self.compression)
        return self

    def append_record(self, name: str, patient: str, beats: np.ndarray, *,
                      labels: np.ndarray, sample: np.ndarray, window: np.ndarray,
                      n_values: np.ndarray, symbols: Sequence[str] | np.ndarray | None = None,
                      stats: Mapping[str, Any] | None = None) -> None:
        """Append the beats of one record and its row of the per-record table.

        Parameters
        ----------
        name, patient : str
            Record name and patient id.
        beats : ndarray, float32 (m, length)
        labels : ndarray, int (m,)
        sample, window, n_values : ndarray (m,)
            See the module docstring.
        symbols : sequence of str (m,), optional
            Reference annotation symbols (one character or '').
        stats : mapping, optional
            Per-record values (numbers or strings) stored in ``/records``.
        """
        f = self._f
        if f is None:
            raise RuntimeError("BeatWriter used outside its with-block")
        beats = np.asarray(beats, dtype=np.float32)
        m = beats.shape[0]
        if beats.ndim != 2 or beats.shape[1] != self.length:
            raise ValueError(f"beats of {name} have shape {beats.shape}, "
                             f"expected (m, {self.length})")
        rid = len(self.records)
        cols = {
            "label": labels, "record_id": np.full(m, rid), "sample": sample,
            "window": window, "n_values": n_values,
        }
        end = self.n + m
        ds = self._ds
        ds["beats"].resize((end, self.length))
        ds["beats"][self.n:end] = beats
        for key, values in cols.items():
            values = np.asarray(values, dtype=_PER_BEAT[key])
            if values.shape != (m,):
                raise ValueError(f"{key} of {name} has shape {values.shape}, expected ({m},)")
            ds[key].resize((end,))
            ds[key][self.n:end] = values
        ds["symbol"].resize((end,))
        ds["symbol"][self.n:end] = _symbols_s1(symbols, m)
        self.n = end
        row = {"name": name, "patient": patient, "beats": m}
        row.update(stats or {})
        self.records.append(row)

    def add_sources(self, hashes: Mapping[str, str]) -> None:
        """Add source files' SHA-256 (relative path -> hex digest): rows of the file's
        ``/source_sha256`` datasets (:mod:`ecgseg.source_hashes`; the group exists once
        any call was made, even with none)."""
        if self._f is None:
            raise RuntimeError("BeatWriter used outside its with-block")
        self.sources.add(self._f, hashes)

    def __exit__(self, exc_type, exc, tb) -> None:
        def fill(f: h5py.File) -> None:
            self.records.write(f)
            for key, value in self.attrs.items():
                f.attrs[key] = _attr_value(value)
            self.sources.flush(f)
            f.attrs["format"] = FORMAT
            f.attrs.setdefault("created", _dt.datetime.now(_dt.timezone.utc)
                               .isoformat(timespec="seconds"))
            self._ds.clear()

        self._finish(exc_type, exc, tb, fill)

    @staticmethod
    def _take_image(f: h5py.File):
        """The in-memory file's bytes, taken before it is closed (the core driver
        without backing store forgets them at close)."""
        return f.id.get_file_image()

    def _finish(self, exc_type, exc, tb, fill) -> None:
        """Complete the in-memory file: ``fill(f)`` on success, then close it, write its
        image (``self._take_image(f)``: bytes, or a callable giving them once the file is
        closed) under the temporary name in one go and let the atomic context rename it
        (or remove it on failure). Also used by :class:`ecgseg.shards.ShardIndexWriter`."""
        f = self._f
        image = None
        try:
            try:
                if exc_type is None:
                    fill(f)
                    f.flush()
                    image = self._take_image(f)
            finally:
                getattr(self, "_ds", {}).clear()
                f.close()
                self._f = None
            if image is not None:
                with open(self._tmp, "wb") as out:
                    out.write(image() if callable(image) else image)
                del image
        except BaseException:
            if not self._ctx.__exit__(*sys.exc_info()):
                raise
        else:
            self._ctx.__exit__(exc_type, exc, tb)


class RecordsTable:
    """The ``/records`` table while it is built: one column per key, not a dict per row.

    Keys are columns in the order they first appear; a row without a key has None
    there. A column of plain ints (or of floats) is kept as an 8-byte ``array`` while it
    stays so, and otherwise as a list of the values (repeated strings kept once, e.g.
    the lead name of every row). :meth:`write` stores each column with one dtype: int64
    if every value is an int; float64 if every value is a number, bool or None (NaN for
    None); else UTF-8 text ('' for None).

    Examples
    --------
    >>> t = RecordsTable()
    >>> t.append({"name": "100", "beats": 3}); t.append({"name": "101", "fs_in": 360.0})
    >>> len(t), t.column("fs_in"), t.column("beats")
    (2, [None, 360.0], [3, None])
    """

    def __init__(self) -> None:
        self.columns: dict[str, array | list] = {}
        self._n = 0
        self._strings: dict[str, str] = {}

    def __len__(self) -> int:
        return self._n

    def column(self, key: str) -> list:
        """The values of column ``key`` as a list (ints and floats as Python numbers)."""
        return list(self.columns[key])

    def append(self, row: Mapping[str, Any]) -> None:
        """Add one row (a mapping of column name to a number, bool, str or None)."""
        columns = self.columns
        for key, value in row.items():
            col = columns.get(key)
            if col is None:
                col = columns[key] = [None] * self._n if self._n else _typed_column(value)
            if isinstance(col, array):
                if _ARRAY_CODE.get(type(value)) == col.typecode:
                    try:
                        col.append(value)
                        continue
                    except OverflowError:  # an int beyond int64
                        pass
                col = columns[key] = list(col)  # a value of another kind: a plain list
            if isinstance(value, str):
                value = self._strings.setdefault(value, value)
            col.append(value)
        self._n += 1
        for key, col in columns.items():
            if len(col) < self._n:
                if isinstance(col, array):
                    col = columns[key] = list(col)
                col.append(None)

    def write(self, f: h5py.File) -> None:
        """Write the table as the group ``/records`` of ``f``, a dataset per column."""
        g = f.create_group("records")
        for key, values in self.columns.items():
            if isinstance(values, array):
                g.create_dataset(key, data=np.frombuffer(
                    values, dtype=np.int64 if values.typecode == "q" else np.float64))
                continue
            if all(isinstance(v, (bool, np.bool_)) or v is None for v in values):
                values = [np.nan if v is None else float(v) for v in values]
            if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                   for v in values):
                g.create_dataset(key, data=np.asarray(values, dtype=np.int64))
            elif all(isinstance(v, (int, float, np.number)) or v is None for v in values):
                g.create_dataset(key, data=np.asarray(
                    [np.nan if v is None else v for v in values], dtype=np.float64))
            else:
                g.create_dataset(key, data=np.asarray(
                    ["" if v is None else str(v) for v in values], dtype=object),
                    dtype=h5py.string_dtype())


#: ``array`` type codes of the values a :class:`RecordsTable` column keeps compactly
#: (exact types: ``bool`` is not an int column; int64 overflow falls back to a list).
_ARRAY_CODE = {int: "q", np.int64: "q", float: "d", np.float64: "d"}


def _typed_column(value: Any) -> array | list:
    """An empty column for a first value: an ``array`` for an int or float, else a list."""
    code = _ARRAY_CODE.get(type(value))
    return array(code) if code else []


def _symbols_s1(symbols: Sequence[str] | np.ndarray | None, m: int) -> np.ndarray:
    """Symbols as ``S1`` (m,): '' for None or missing; a str array is cast in one go."""
    if symbols is None:
        return np.zeros(m, dtype="S1")
    if isinstance(symbols, np.ndarray) and symbols.dtype.kind in "US":
        return symbols.astype("S1")
    return np.asarray(["" if s is None else s for s in symbols], dtype="S1")


def _attr_value(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=isinstance(value, dict))
    if value is None:
        return ""
    return value


@dataclass
class BeatTable:
    """Beats and their metadata, as read by :func:`load_beats`.

    Attributes
    ----------
    beats : ndarray, float32 (n, L)
    labels : ndarray, int8 (n,)
    meta : DataFrame (n rows)
        Columns ``record``, ``patient``, ``sample``, ``window``, ``symbol``,
        ``n_values``, ``label``.
    records : DataFrame
        The per-record table (one row per record of the file).
    attrs : dict
        File attributes, JSON values decoded.
    """

    beats: np.ndarray
    labels: np.ndarray
    meta: pd.DataFrame
    records: pd.DataFrame
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def classes(self) -> list[str]:
        """Class names, index = label id."""
        return list(self.attrs.get("classes", []))

    def times_s(self) -> np.ndarray | None:
        """Beat positions in seconds from their record's start: ``(n,)`` float64
        (``sample`` over the record's ``fs_in``); None when the file lacks ``fs_in``."""
        if "fs_in" not in self.records:
            return None
        codes = self.meta["record"].cat.codes.to_numpy()  # row of the per-record table
        fs = self.records["fs_in"].to_numpy(dtype=np.float64)[codes]
        return self.meta["sample"].to_numpy() / fs


def read_attrs(path: str | os.PathLike) -> dict:
    """File attributes of a beats HDF5, with JSON values decoded."""
    with _open(path) as f:
        return _decode_attrs(f)


def stored_record_names(path: str | os.PathLike) -> list[str]:
    """Names of the records of a beats HDF5 (``/records/name``), in file order.

    Raises
    ------
    InputError
        No such file, or not a beats file.

    Examples
    --------
    >>> stored_record_names("data/beats/mitdb.h5")[:2]  # doctest: +SKIP
    ['100', '101']
    """
    with _open(path) as f:
        return f["records/name"].asstr()[()].tolist()


def _decode_attrs(f: h5py.File) -> dict:
    """The file's attributes, JSON decoded, and ``source_sha256`` (a dict) from the
    ``/source_sha256`` datasets or an older file's attribute."""
    attrs = {}
    for key, value in f.attrs.items():
        if key == SOURCES_GROUP:
            continue
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        elif isinstance(value, np.generic):
            value = value.item()
        attrs[key] = value
    hashes = read_source_hashes(f)
    if hashes is not None:
        attrs[SOURCES_GROUP] = hashes
    return attrs


def _open(path: str | os.PathLike) -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path} is not a readable HDF5 file ({exc})") from None
    if "beats" not in f or "records" not in f:
        f.close()
        raise InputError(f"{path} is not a beats file written by ecg segment")
    return f


def _read_records(f: h5py.File) -> pd.DataFrame:
    import pandas as pd

    g = f["records"]
    cols = {}
    for key in g:
        data = g[key][()]
        if data.dtype.kind in "OS":
            data = np.array([v.decode() if isinstance(v, bytes) else v for v in data],
                            dtype=object)
        cols[key] = data
    return pd.DataFrame(cols)


def _class_ids(classes: Iterable[int | str], names: list[str]) -> list[int]:
    ids = []
    for c in classes:
        if isinstance(c, str) and not c.lstrip("-").isdigit():
            if c not in names:
                raise InputError(f"unknown class {c!r}: the file has {names}")
            ids.append(names.index(c))
        else:
            ids.append(int(c))
    return ids


def load_beats(path: str | os.PathLike, records: Iterable[str] | None = None,
               classes: Iterable[int | str] | None = None, split: str | None = None,
               labelled: bool = True) -> BeatTable:
    """Read a beats HDF5 written by ``ecg segment``.

    Parameters
    ----------
    path : path
        The HDF5 file.
    records : iterable of str, optional
        Keep only these records.
    classes : iterable of int or str, optional
        Keep only these classes (ids, or names such as ``"V"``).
    split : str, optional
        Keep only the records of a named split: ``"DS1"``, ``"DS2"`` (de Chazal, MIT-BIH)
        or ``"paced"``.
    labelled : bool
        Drop beats without a class (label < 0): unmatched peaks and records outside the
        task. Default True.

    Returns
    -------
    BeatTable
    """
    with _open(path) as f:
        attrs = _decode_attrs(f)
        recs = _read_records(f)
        label = f["label"][()]
        record_id = f["record_id"][()]
        keep = np.ones(len(label), dtype=bool)
        names = recs["name"].astype(str).to_numpy()
        wanted_records = None
        if records is not None:
            wanted_records = set(map(str, records))
            unknown = wanted_records - set(names)
            if unknown:
                raise InputError(f"records not in {path}: {', '.join(sorted(unknown))}")
        if split is not None:
            if split not in RECORD_SPLITS:
                raise InputError(f"unknown split {split!r}: choose one of "
                                 f"{', '.join(RECORD_SPLITS)}")
            in_split = set(RECORD_SPLITS[split])
            wanted_records = in_split if wanted_records is None else wanted_records & in_split
        if wanted_records is not None:
            keep &= np.isin(record_id, np.flatnonzero(np.isin(names, list(wanted_records))))
        if classes is not None:
            keep &= np.isin(label, _class_ids(classes, list(attrs.get("classes", []))))
        if labelled:
            keep &= label >= 0
        idx = np.flatnonzero(keep)
        beats = f["beats"][()][idx] if len(idx) > len(label) // 2 else f["beats"][idx]
        import pandas as pd

        meta = pd.DataFrame({
            "record": pd.Categorical.from_codes(record_id[idx], categories=names),
            "patient": recs["patient"].astype(str).to_numpy()[record_id[idx]],
            "sample": f["sample"][()][idx],
            "window": f["window"][()][idx],
            "symbol": np.char.decode(f["symbol"][()][idx], "ascii"),
            "n_values": f["n_values"][()][idx],
            "label": label[idx],
        })
    return BeatTable(beats=np.ascontiguousarray(beats, dtype=np.float32),
                     labels=label[idx].astype(np.int8), meta=meta, records=recs, attrs=attrs)
