"""The ``/records`` table of a ``--shards`` index, spooled to disk while records come.

:class:`ecgseg.store.RecordsTable` keeps the per-record table in memory as columns
(~0.3 KB a record with its strings); the ``--shards`` client
(:class:`ecgseg.shards.ShardIndexWriter`) instead appends each row to a nameless
temporary file and writes the table at the end in blocks of rows, so that its memory
does not grow with the records. The datasets written are the same (names, order,
dtypes, values): each column's dtype follows :meth:`RecordsTable.write`'s rules, which
:class:`SpooledRecordsTable` tracks as rows come.

Examples
--------
>>> import h5py, io
>>> t = SpooledRecordsTable()
>>> t.append({"name": "100", "beats": 3}); t.append({"name": "101", "fs_in": 360.0})
>>> with h5py.File(io.BytesIO(), "w") as f:
...     _ = t.write(f)  # (returns the file, reopened or not)
...     f["records/beats"].dtype.name, f["records/fs_in"][()].tolist()
('float64', [nan, 360.0])
>>> t.close()
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from typing import Any, Callable, Mapping

import h5py
import numpy as np

from .fallback_file import DiskFileWithMemoryFallback

_LENGTH = struct.Struct("<I")
#: Rows converted and written at a time by :meth:`SpooledRecordsTable.write` (a block of
#: rows as dicts is ~1.2 KB a row: 512 rows are ~0.6 MB, 4096 were 5 MB).
BLOCK_ROWS = 512


class _Column:
    """What :meth:`RecordsTable.write` needs to know of a column to choose its dtype."""

    __slots__ = ("all_int", "all_number")

    def __init__(self) -> None:
        self.all_int = True     # every value an int (numpy's too), not a bool: int64
        self.all_number = True  # every value a number, bool or None: float64 (NaN)

    def see(self, value: Any) -> None:
        if self.all_int and (isinstance(value, bool) or
                             not isinstance(value, (int, np.integer))):
            self.all_int = False
        if self.all_number and not (value is None or isinstance(value, (int, float, np.number))):
            self.all_number = False

    @property
    def kind(self) -> str:
        return "int" if self.all_int else "float" if self.all_number else "text"


class SpooledRecordsTable:
    """Rows appended to a temporary file; :meth:`write` makes ``/records`` from them.

    Same rules as :class:`ecgseg.store.RecordsTable` (columns in the order they first
    appear; a row without a key has None there; int64, float64 with NaN for None, or
    UTF-8 text with '' for None). A full disk moves the spool into memory
    (:class:`~ecgseg.fallback_file.DiskFileWithMemoryFallback`).

    Parameters
    ----------
    folder : path, optional
        Where the spool goes (default: the system's temporary folder).
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = folder
        self._columns: dict[str, _Column] = {}
        self._n = 0
        self._spool: DiskFileWithMemoryFallback | None = None

    def __len__(self) -> int:
        return self._n

    def append(self, row: Mapping[str, Any]) -> None:
        """Add one row (a mapping of column name to a number, bool, str or None)."""
        for key, value in row.items():
            col = self._columns.get(key)
            if col is None:
                col = self._columns[key] = _Column()
                if self._n:
                    col.see(None)  # the rows before had None here
            col.see(value)
        for key, col in self._columns.items():
            if key not in row:
                col.see(None)
        if self._spool is None:
            self._spool = DiskFileWithMemoryFallback(folder=self.folder)
        data = pickle.dumps(dict(row), protocol=pickle.HIGHEST_PROTOCOL)
        self._spool.write(_LENGTH.pack(len(data)) + data)
        self._n += 1

    def _rows(self):
        """The rows back, in order."""
        if self._spool is None:
            return
        self._spool.seek(0)
        reader = io.BufferedReader(self._spool, buffer_size=1 << 16)
        for _ in range(self._n):
            (size,) = _LENGTH.unpack(reader.read(_LENGTH.size))
            yield pickle.loads(reader.read(size))

    def write(self, f: h5py.File,
              reopen: Callable[[], h5py.File] | None = None) -> h5py.File:
        """Write the table as the group ``/records`` of ``f``, a dataset per column,
        :data:`BLOCK_ROWS` rows at a time.

        ``reopen``, if given, closes the file and returns it open again; it is called
        after each block but the last, and the file open at the end is returned. HDF5
        keeps what it needs of every variable-length string written (the text columns)
        in memory until the file is closed (measured, h5py 3.16 / HDF5 2.0: ~70 bytes a
        string whatever its metadata cache's size: +3.2 MB for 4 columns of 11 520
        rows), so without ``reopen`` the writer's memory grows with the rows.
        """
        g = f.create_group("records")
        kinds = {key: col.kind for key, col in self._columns.items()}
        for key, kind in kinds.items():
            dtype = {"int": np.int64, "float": np.float64}.get(kind, h5py.string_dtype())
            g.create_dataset(key, shape=(self._n,), dtype=dtype)
        start = 0
        block: list[dict] = []
        for row in self._rows():
            block.append(row)
            if len(block) == BLOCK_ROWS:
                self._write_block(f["records"], kinds, block, start)
                start += len(block)
                block = []
                if reopen is not None and start < self._n:
                    f = reopen()
        if block:
            self._write_block(f["records"], kinds, block, start)
        return f

    @staticmethod
    def _write_block(group: h5py.Group, kinds, block: list[dict], start: int) -> None:
        end = start + len(block)
        for key, kind in kinds.items():
            values = [row.get(key) for row in block]
            if kind == "int":
                data = np.asarray(values, dtype=np.int64)
            elif kind == "float":
                data = np.asarray([np.nan if v is None else v for v in values],
                                  dtype=np.float64)
            else:
                data = np.asarray(["" if v is None else str(v) for v in values],
                                  dtype=object)
            group[key][start:end] = data

    def close(self) -> None:
        """Remove the spool."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None
