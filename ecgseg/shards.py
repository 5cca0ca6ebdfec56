"""Beats written as one HDF5 shard per record, joined by HDF5 virtual datasets.

With ``segment_database(..., shards=DIR)`` (``ecg segment --shards DIR``) each task
writes its record's beats to ``DIR/<record>.h5`` itself (the schema of
:mod:`ecgseg.store`, one record, written atomically: a temporary file renamed when
complete, so a task run twice leaves one whole shard), and sends back only its
per-record facts. The client then writes the database file with
:class:`ShardIndexWriter`: ``/beats``, ``/label``, ``/symbol``, ``/sample``,
``/window`` and ``/n_values`` are *virtual datasets* mapping, in record order, onto the
shards' datasets; ``/record_id`` (a row of ``/records`` per beat, which a shard cannot
know) is a real, compressed dataset; ``/records`` and the attributes are as in a
single file. Beats never pass through the client, so its memory does not grow with the
beats (it keeps one small row per record).

The file is read by :func:`ecgseg.store.load_beats` and by plain h5py (HDF5 >= 1.10);
shard paths are stored relative to the database file, so the file and ``DIR`` move
together. A missing shard reads as zeros (HDF5's rule for virtual datasets): keep them.

Examples
--------
>>> shard_path("shards", "patient001/s0010_re").as_posix()
'shards/patient001/s0010_re.h5'
"""

from __future__ import annotations

import datetime as _dt
import io
import os
from pathlib import Path
from typing import Any, Mapping

import h5py
import numpy as np

from .atomic import atomic_path, refuse_existing
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
    shard_attrs = dict(attrs)
    shard_attrs["source_sha256"] = res.sha256
    with BeatWriter(path, length=length, attrs=shard_attrs, overwrite=True,
                    compression=compression) as w:
        w.append_record(res.name, res.patient, res.beats, labels=res.labels,
                        sample=res.sample, window=res.window, n_values=res.n_values,
                        symbols=res.symbols, stats=res.stats)


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


class ShardIndexWriter:
    """Write a beats file whose per-beat datasets are virtual, over per-record shards.

    Same use as :class:`ecgseg.store.BeatWriter`, with :meth:`append_shard` instead of
    ``append_record``::

        with ShardIndexWriter(path, length=187, attrs={...}) as w:
            w.append_shard("100", "100", "shards/100.h5", beats=1061, stats={...})

    The file appears under ``path`` only when the block ends without error.

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
        Filter of ``/record_id`` (the shards carry their own).
    """

    def __init__(self, path: str | os.PathLike, length: int, attrs: Mapping[str, Any],
                 overwrite: bool = False, compression: str = "lzf"):
        self.path = refuse_existing(path, overwrite)
        self.length = int(length)
        self.attrs = dict(attrs)
        self.overwrite = overwrite
        self.compression = None if compression == "none" else compression
        self.n = 0
        self.records: list[dict[str, Any]] = []
        self._shards: list[tuple[str, int]] = []  # (path relative to the file, beats)
        self._ctx = None
        self._f: h5py.File | None = None

    def __enter__(self) -> "ShardIndexWriter":
        self._ctx = atomic_path(self.path, overwrite=self.overwrite)
        self._tmp = self._ctx.__enter__()
        # Built in memory and written in one go, as BeatWriter does (a full disk is one
        # DiskFullError line, never an HDF5 crash); in a BytesIO rather than the core
        # driver so that it can be closed and reopened between virtual datasets.
        self._image = io.BytesIO()
        self._f = h5py.File(self._image, "w")
        self._record_id = self._f.create_dataset(
            "record_id", shape=(0,), maxshape=(None,), dtype=_PER_BEAT["record_id"],
            chunks=(1 << 16,), compression=self.compression,
            shuffle=self.compression is not None)
        return self

    def append_shard(self, name: str, patient: str, shard: str | os.PathLike, beats: int,
                     stats: Mapping[str, Any] | None = None) -> None:
        """Add record ``name`` whose ``beats`` beats are in the shard file ``shard``."""
        if self._f is None:
            raise RuntimeError("ShardIndexWriter used outside its with-block")
        m = int(beats)
        rid = len(self.records)
        end = self.n + m
        self._record_id.resize((end,))
        self._record_id[self.n:end] = rid
        rel = os.path.relpath(os.path.abspath(shard), os.path.abspath(self.path.parent))
        self._shards.append((rel, m))
        self.n = end
        row = {"name": name, "patient": patient, "beats": m}
        row.update(stats or {})
        self.records.append(row)

    def _write_virtual(self) -> None:
        """The virtual datasets, each in a session of its own of the in-memory file.

        HDF5 keeps a virtual dataset's mappings in memory until the file is closed
        (measured with h5py 3.16 / HDF5 2.0: ~4 KB per mapping, i.e. per record, for each
        of the 6 datasets, plus as much again while one is created); closing and
        reopening the file after each one bounds the client's peak to one dataset's
        worth (``benchmarks/shard_index_memory.py``).
        """
        shapes = {"beats": (self.n, self.length)}
        dtypes = dict(_PER_BEAT, beats=np.float32, symbol="S1")
        for key in VIRTUAL:
            shape = shapes.get(key, (self.n,))
            layout = h5py.VirtualLayout(shape=shape, dtype=dtypes[key])
            start = 0
            for rel, m in self._shards:
                if m:
                    src_shape = (m, self.length) if key == "beats" else (m,)
                    layout[start:start + m] = h5py.VirtualSource(rel, key, shape=src_shape)
                start += m
            self._f.create_virtual_dataset(key, layout, fillvalue=0 if key != "symbol"
                                           else b"")
            del layout
            self._f.close()
            self._f = h5py.File(self._image, "r+")

    def __exit__(self, exc_type, exc, tb) -> None:
        def fill(f: h5py.File) -> None:
            BeatWriter._write_records(self, f)  # the /records table, one definition
            for key, value in self.attrs.items():
                f.attrs[key] = _attr_value(value)
            f.attrs["format"] = FORMAT
            f.attrs["shards"] = len(self._shards)
            f.attrs.setdefault("created", _dt.datetime.now(_dt.timezone.utc)
                               .isoformat(timespec="seconds"))

        try:
            if exc_type is None:
                try:
                    self._record_id = None  # closed with the file below
                    self._write_virtual()
                except BaseException as err:  # remove the temporary file, then fail
                    BeatWriter._finish(self, type(err), err, err.__traceback__, fill)
                    raise
            BeatWriter._finish(self, exc_type, exc, tb, fill)  # one definition
        finally:
            self._image = None
