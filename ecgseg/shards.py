"""Beats written as one HDF5 shard per record, joined by HDF5 virtual datasets.

With ``segment_database(..., shards=DIR)`` (``ecg segment --shards DIR``) each task
writes its record's beats to ``DIR/<record>.h5`` itself (the schema of
:mod:`ecgseg.store`, one record, written atomically: a temporary file renamed when
complete, so a task run twice leaves one whole shard), and sends back only its
per-record facts. The client then writes the database file with
:class:`ShardIndexWriter`: ``/beats``, ``/label``, ``/symbol``, ``/sample``,
``/window`` and ``/n_values`` are *virtual datasets* mapping, in record order, onto the
shards' datasets (through partial virtual datasets of up to :data:`PART_RECORDS`
records each, ``/_vds/<dataset>/<part>``, which bound the client's memory);
``/record_id`` (a row of ``/records`` per beat, which a shard cannot
know) is written by the client as real, compressed datasets, one per part
(``/_vds/record_id/<part>``, each growing as its records come), joined by a virtual
``/record_id`` like the others; ``/records`` and the attributes are as in a single file. Beats never pass through the client, so its memory does not grow with the
beats (it keeps one small row per record, as columns).

The file is read by :func:`ecgseg.store.load_beats` and by plain h5py (HDF5 >= 1.10);
shard paths are stored relative to the database file, so the file and ``DIR`` move
together. A missing shard reads as zeros (HDF5's rule for virtual datasets): keep them.

Examples
--------
>>> shard_path("shards", "patient001/s0010_re").as_posix()
'shards/patient001/s0010_re.h5'
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
from pathlib import Path
from typing import Any, Mapping

import h5py
import numpy as np

from .atomic import atomic_path, refuse_existing
from .fallback_file import DiskFileWithMemoryFallback
from .heap_trim import release_free_heap
from .source_hashes import SourceHashRows
from .spooled_records import SpooledRecordsTable
from .store import _PER_BEAT, FORMAT, BeatWriter, _attr_value

#: Datasets of the database file that are virtual (mapped onto the shards).
VIRTUAL = ("beats", "label", "symbol", "sample", "window", "n_values")


def shard_path(shards_dir: str | os.PathLike, name: str) -> Path:
    """Shard file of record ``name``: ``<shards_dir>/<name>.h5`` (names may hold ``/``)."""
    return Path(shards_dir) / f"{name}.h5"


def write_shard(path: str | os.PathLike, res, *, length: int, attrs: Mapping[str, Any],
                compression: str = "lzf") -> None:
    """Write one record's beats (a :class:`ecgseg.pipeline.RecordResult`) as a shard.

    Atomic and idempotent: an existing shard of the same record is replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with BeatWriter(path, length=length, attrs=attrs, overwrite=True,
                    compression=compression) as w:
        w.append_record(res.name, res.patient, res.beats, labels=res.labels,
                        sample=res.sample, window=res.window, n_values=res.n_values,
                        symbols=res.symbols, stats=res.stats)
        w.add_sources(res.sha256)


def process_record_to_shard(task, *, shards_dir: str, length: int, attrs: Mapping[str, Any],
                            compression: str = "lzf"):
    """Segment one record (worker side), write its shard, return a light result.

    The returned :class:`~ecgseg.pipeline.RecordResult` keeps ``labels`` (int8, for the
    class counts) and drops the beats and positions; ``shard`` is the shard's path.
    A record that fails is returned with ``error`` set and no shard, as by
    :func:`ecgseg.pipeline.process_record`.
    """
    from .pipeline import process_record

    res = process_record(task)
    if res.error is not None:
        return res
    path = shard_path(shards_dir, res.name)
    try:
        write_shard(path, res, length=length, attrs=attrs, compression=compression)
    except OSError as exc:
        res.error = f"record {res.name}: cannot write shard {path}: {exc}"
        return res
    res.shard = os.fspath(path)
    res.beats = res.sample = res.window = res.n_values = res.symbols = None
    return res


#: Group of the database file holding the partial virtual datasets (see
#: :class:`ShardIndexWriter`): ``/_vds/<dataset>/<part>``.
PARTS_GROUP = "_vds"
#: Records per partial virtual dataset. The client's memory peaks while HDF5 and h5py
#: build one virtual dataset (measured ~15 KB per mapping, h5py 3.16 / HDF5 2.0), so
#: this bounds it during the run; the top-level datasets have one mapping per part.
PART_RECORDS = 256


class ShardIndexWriter:
    """Write a beats file whose per-beat datasets are virtual, over per-record shards.

    Same use as :class:`ecgseg.store.BeatWriter`, with :meth:`append_shard` instead of
    ``append_record``::

        with ShardIndexWriter(path, length=187, attrs={...}) as w:
            w.append_shard("100", "100", "shards/100.h5", beats=1061, stats={...})

    The file appears under ``path`` only when the block ends without error.

    Two levels of virtual datasets keep the memory of the writing process (the client)
    from growing with the number of records: every ``part_records`` records, each of
    ``/beats``, ``/label``, ... gets a partial virtual dataset
    ``/_vds/<dataset>/<part>`` mapped onto those records' shards, written at once (HDF5
    keeps a virtual dataset's mappings in memory until its file is closed, so the
    file is closed and reopened after each part); at the end ``/beats`` etc.
    are virtual datasets mapped onto their parts (the same file, ``"."``), one mapping
    per part. HDF5 reads through both levels (``h5py``: ``f["beats"][...]``). The
    ``/records`` rows are spooled to a nameless temporary file beside the output and
    written at the end in blocks, the file reopened in between
    (:class:`~ecgseg.spooled_records.SpooledRecordsTable`); glibc's free heap is given
    back before and after each part (:func:`~ecgseg.heap_trim.release_free_heap`);
    the source files' hashes are written as they come, a block of rows at a time
    (:class:`~ecgseg.source_hashes.SourceHashRows`).
    The file is written to its temporary name as it grows (not built in memory), through
    :class:`~ecgseg.fallback_file.DiskFileWithMemoryFallback`: a full disk is one
    :class:`~ecgseg.oserrors.DiskFullError` at the end, and no file.

    Parameters
    ----------
    path : path
        Final file name.
    length : int
        Samples per beat (187).
    attrs : mapping
        File attributes (dicts and lists stored as JSON text).
    overwrite : bool
        Replace an existing file.
    compression : {"lzf", "gzip", "none"}
        Filter of the ``/record_id`` parts (the shards carry their own).
    part_records : int, optional
        Records per partial virtual dataset (default :data:`PART_RECORDS`).
    """

    def __init__(self, path: str | os.PathLike, length: int, attrs: Mapping[str, Any],
                 overwrite: bool = False, compression: str = "lzf",
                 part_records: int | None = None):
        self.path = refuse_existing(path, overwrite)
        self.length = int(length)
        self.attrs = dict(attrs)
        self.overwrite = overwrite
        self.compression = None if compression == "none" else compression
        self.part_records = max(1, int(PART_RECORDS if part_records is None
                                       else part_records))
        self.n = 0
        self.records = SpooledRecordsTable(folder=self.path.parent)  # spool made when used
        self.shards = 0  # shards appended
        self._pending: list[tuple[str, int]] = []  # (path relative to the file, beats)
        self._pending_beats = 0
        self._parts: list[tuple[str, int]] = []  # (part name under /_vds/<key>/, beats)
        self.sources = SourceHashRows()  # add_sources: the /source_sha256 datasets
        self._ctx = None
        self._f: h5py.File | None = None

    def __enter__(self) -> "ShardIndexWriter":
        self._ctx = atomic_path(self.path, overwrite=self.overwrite)
        self._tmp = self._ctx.__enter__()
        # Written to the temporary file as the records come, not built in memory (the
        # file grows ~0.8 KB a record); through a file object that moves into memory if
        # a write fails, so that HDF5 never meets a full disk half-way (it could not
        # close the file) and the failure is raised at the end as one DiskFullError.
        self._file = DiskFileWithMemoryFallback(self._tmp)
        self._f = h5py.File(self._file, "w")
        return self

    def append_shard(self, name: str, patient: str, shard: str | os.PathLike, beats: int,
                     stats: Mapping[str, Any] | None = None) -> None:
        """Add record ``name`` whose ``beats`` beats are in the shard file ``shard``."""
        if self._f is None:
            raise RuntimeError("ShardIndexWriter used outside its with-block")
        m = int(beats)
        rid = len(self.records)
        end = self.n + m
        # /record_id of the current part, grown as its records come: one growing
        # dataset for the whole file made the client's memory step up with its chunk
        # index at every ~61 chunks (docs/scaling.md); a part's stays small
        if m:  # (a part without beats has no /record_id rows, nor a dataset)
            record_id = self._part_record_id()
            start = record_id.shape[0]
            record_id.resize((start + m,))
            record_id[start:] = rid
        rel = os.path.relpath(os.path.abspath(shard), os.path.abspath(self.path.parent))
        self._pending.append((rel, m))
        self._pending_beats += m
        self.shards += 1
        self.n = end
        row = {"name": name, "patient": patient, "beats": m}
        row.update(stats or {})
        self.records.append(row)
        if len(self._pending) >= self.part_records:
            self._write_part()

    def add_sources(self, hashes: Mapping[str, str]) -> None:
        """Add source files' SHA-256 (relative path -> hex digest): rows of the
        ``/source_sha256`` datasets, written a block at a time as they come (as
        :meth:`ecgseg.store.BeatWriter.add_sources`: :mod:`ecgseg.source_hashes`)."""
        if self._f is None:
            raise RuntimeError("ShardIndexWriter used outside its with-block")
        self.sources.add(self._f, hashes)

    def _part_record_id(self) -> h5py.Dataset:
        """The current part's ``/record_id`` rows (made empty on the part's first record)."""
        name = f"{PARTS_GROUP}/record_id/{len(self._parts):06d}"
        if name not in self._f:  # (the file is reopened after each part: look it up)
            self._f.create_dataset(
                name, shape=(0,), maxshape=(None,), dtype=_PER_BEAT["record_id"],
                chunks=(1 << 16,), compression=self.compression,
                shuffle=self.compression is not None)
        return self._f[name]

    def _dtype_shape(self, key: str, n: int):
        dtypes = dict(_PER_BEAT, beats=np.float32, symbol="S1")
        return dtypes[key], ((n, self.length) if key == "beats" else (n,))

    def _virtual(self, key: str, name: str, sources: list[tuple[str, str, int]],
                 n: int) -> None:
        """Create virtual dataset ``name`` of ``n`` beats of ``key`` over ``sources``
        ``(file, dataset, beats)`` in order, then close and reopen the file (frees
        the mappings: HDF5 keeps them until the file is closed)."""
        dtype, shape = self._dtype_shape(key, n)
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        start = 0
        for file, dset, m in sources:
            if m:
                layout[start:start + m] = h5py.VirtualSource(
                    file, dset, shape=self._dtype_shape(key, m)[1])
            start += m
        self._f.create_virtual_dataset(name, layout,
                                       fillvalue=0 if key != "symbol" else b"")
        del layout
        self._reopen()

    def _reopen(self) -> h5py.File:
        """Close the file and open it again: HDF5 frees what it kept in memory of the
        session (a virtual dataset's mappings, variable-length strings written)."""
        self._f.close()
        self._f = h5py.File(self._file, "r+")
        return self._f

    def _write_part(self) -> None:
        """The pending records' partial virtual datasets (none if they hold no beat)."""
        release_free_heap(collect=True)  # HDF5's peak below starts from what is in use
        if self._pending_beats:
            part = f"{len(self._parts):06d}"
            for key in VIRTUAL:
                self._virtual(key, f"{PARTS_GROUP}/{key}/{part}",
                              [(rel, key, m) for rel, m in self._pending],
                              self._pending_beats)
            self._parts.append((part, self._pending_beats))
        self._pending = []
        self._pending_beats = 0
        release_free_heap()  # what HDF5 freed with the part's mappings, given back

    def _write_virtual(self) -> None:
        """The last part, then the top-level virtual datasets over the parts."""
        self._write_part()
        for key in (*VIRTUAL, "record_id"):
            self._virtual(key, key, [(".", f"/{PARTS_GROUP}/{key}/{part}", m)
                                     for part, m in self._parts], self.n)

    def __exit__(self, exc_type, exc, tb) -> None:
        ctx, file = self._ctx, self._file
        done = False
        try:
            try:
                if exc_type is None:
                    self._write_virtual()  # (closes and reopens self._f)
                    self._fill(self._f)
                done = exc_type is None
            finally:
                if self._f is not None:  # quiet if the block or the finishing failed
                    with contextlib.nullcontext() if done else \
                            contextlib.suppress(Exception):
                        self._f.close()
                self._f = self._file = None
                file.close()
                self.records.close()
            if file.error is not None:  # the disk failed: raise it now that HDF5 is done
                raise file.error
        except BaseException:
            if not ctx.__exit__(*sys.exc_info()):
                raise
        else:
            ctx.__exit__(exc_type, exc, tb)

    def _fill(self, f: h5py.File) -> None:
        """The ``/records`` table and the file attributes."""
        f = self._f = self.records.write(f, reopen=self._reopen)
        for key, value in self.attrs.items():
            f.attrs[key] = _attr_value(value)
        self.sources.flush(f)
        f.attrs["format"] = FORMAT
        f.attrs["shards"] = self.shards
        f.attrs.setdefault("created", _dt.datetime.now(_dt.timezone.utc)
                           .isoformat(timespec="seconds"))
