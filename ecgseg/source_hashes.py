"""The SHA-256 of a beats file's source files: two datasets written as records come.

A run records the SHA-256 of every source file it read (three per MIT-BIH record). A
beats file (:mod:`ecgseg.store`, one file or a ``--shards`` index, and each shard) keeps
them as the group ``/source_sha256`` of two datasets of one row per file, in the order
the records were written::

    /source_sha256/file     str (k,)   file path relative to the database folder
    /source_sha256/sha256   str (k,)   its SHA-256, 64 hex digits

(variable-length UTF-8 strings, chunked). :class:`SourceHashRows` appends the rows a
block at a time as the records come, so that the writing process holds at most one
block of them, whatever the number of records (docs/scaling.md: the ``--shards``
client's memory). Files written before 2026-11-29 hold the same facts as one JSON
attribute ``source_sha256`` instead; :func:`read_source_hashes` reads either into
the same dict (``{file: sha256}``, keys sorted; a file listed twice keeps its last
hash), which :func:`ecgseg.store.read_attrs` and :func:`ecgseg.store.load_beats`
return as ``attrs["source_sha256"]``.

Examples
--------
>>> import h5py, io
>>> with h5py.File(io.BytesIO(), "w") as f:
...     rows = SourceHashRows()
...     rows.add(f, {"101.dat": "b" * 64, "100.dat": "a" * 64})
...     rows.flush(f)
...     f["source_sha256/file"].asstr()[()].tolist(), sorted(read_source_hashes(f))
(['101.dat', '100.dat'], ['100.dat', '101.dat'])
"""

from __future__ import annotations

import json
from typing import Mapping

import h5py
import numpy as np

#: Group (and, in files written before 2026-11-29, attribute) of the source hashes.
GROUP = "source_sha256"
#: Rows buffered before they are written, and rows per chunk of the datasets.
BLOCK_ROWS = 1024


class SourceHashRows:
    """Rows of ``/source_sha256`` (see the module docstring), appended a block at a time.

    The file is passed to every call (writers such as
    :class:`ecgseg.shards.ShardIndexWriter` close and reopen theirs); the group is
    made by the first :meth:`add`, even of no hash (a run that hashed nothing still
    says so: an empty table). Call :meth:`flush` before the file is closed.

    Parameters
    ----------
    block_rows : int, optional
        Rows held before they are written, and rows per HDF5 chunk (default
        :data:`BLOCK_ROWS`).
    """

    def __init__(self, block_rows: int | None = None):
        self.block_rows = max(1, int(BLOCK_ROWS if block_rows is None else block_rows))
        self.added = False
        self.rows = 0  # rows written or buffered
        self._files: list[str] = []
        self._hashes: list[str] = []

    def add(self, f: h5py.File, hashes: Mapping[str, str]) -> None:
        """Append ``{relative file path: hex digest}`` (written once a block is full)."""
        if not self.added:
            g = f.create_group(GROUP)
            for key in ("file", "sha256"):
                g.create_dataset(key, shape=(0,), maxshape=(None,),
                                 dtype=h5py.string_dtype(), chunks=(self.block_rows,))
            self.added = True
        for key, value in hashes.items():
            self._files.append(key)
            self._hashes.append(value)
        self.rows += len(hashes)
        if len(self._files) >= self.block_rows:
            self.flush(f)

    def flush(self, f: h5py.File) -> None:
        """Write the buffered rows."""
        if not self._files:
            return
        g = f[GROUP]
        start = g["file"].shape[0]
        end = start + len(self._files)
        for key, values in (("file", self._files), ("sha256", self._hashes)):
            g[key].resize((end,))
            g[key][start:end] = np.asarray(values, dtype=object)
        self._files, self._hashes = [], []


def read_source_hashes(f: h5py.File) -> dict[str, str] | None:
    """``{file: sha256}`` of a beats file (keys sorted), from ``/source_sha256`` or,
    in older files, from the JSON attribute; None if the file has neither."""
    g = f.get(GROUP)
    if isinstance(g, h5py.Group):
        files, hashes = g["file"].asstr()[()], g["sha256"].asstr()[()]
        return dict(sorted(dict(zip(files.tolist(), hashes.tolist())).items()))
    value = f.attrs.get(GROUP)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return json.loads(value)
