"""The ``source_sha256`` attribute of a beats file, gathered without holding it in memory.

A run records the SHA-256 of every source file it read (three per MIT-BIH record); the
beats file keeps them as one JSON attribute (``json.dumps(hashes, sort_keys=True)``,
:mod:`ecgseg.store`). :class:`SpooledSourceHashes` appends them to a nameless temporary
file as the records come, and builds the attribute's bytes at the end with one copy of
the JSON text and two fixed-width arrays (~85 bytes per file) instead of a dict of
Python strings (~200 bytes per file) plus the JSON encoder's copies: the ``--shards``
client's memory then does not grow with the records while they come (docs/scaling.md).

Examples
--------
>>> h = SpooledSourceHashes()
>>> h.add({"101.dat": "b" * 4, "100.dat": "a" * 4}); h.add({"100.hea": "c" * 4})
>>> h.json_bytes()
b'{"100.dat": "aaaa", "100.hea": "cccc", "101.dat": "bbbb"}'
>>> h.close()
"""

from __future__ import annotations

import io
import json
import os
import struct
from typing import Mapping

import numpy as np

from .fallback_file import DiskFileWithMemoryFallback

_LENGTHS = struct.Struct("<II")


class SpooledSourceHashes:
    """File -> SHA-256 pairs, spooled to a temporary file (see the module docstring).

    Same meaning as ``dict.update`` of every :meth:`add`: a file added twice keeps its
    last hash. A full disk moves the spool into memory
    (:class:`~ecgseg.fallback_file.DiskFileWithMemoryFallback`), never fails.

    Parameters
    ----------
    folder : path, optional
        Where the spool goes (default: the system's temporary folder).

    Attributes
    ----------
    added : bool
        Whether :meth:`add` was called (the attribute is written then, even if empty).
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = folder
        self.added = False
        self._spool: DiskFileWithMemoryFallback | None = None
        self._count = 0
        self._key_len = self._value_len = 1

    def add(self, hashes: Mapping[str, str]) -> None:
        """Append ``{relative file path: hex digest}``."""
        self.added = True
        if not hashes:
            return
        if self._spool is None:
            self._spool = DiskFileWithMemoryFallback(folder=self.folder)
        out = []
        for key, value in hashes.items():
            k, v = key.encode("utf-8", "surrogatepass"), value.encode("utf-8")
            out += [_LENGTHS.pack(len(k), len(v)), k, v]
            self._key_len = max(self._key_len, len(k))
            self._value_len = max(self._value_len, len(v))
        self._spool.write(b"".join(out))
        self._count += len(hashes)

    def json_bytes(self) -> bytes:
        """``json.dumps(dict_of_every_add, sort_keys=True)``, ASCII-encoded."""
        if self._spool is None:
            return b"{}"
        keys = np.empty(self._count, dtype=f"S{self._key_len}")
        values = np.empty(self._count, dtype=f"S{self._value_len}")
        self._spool.seek(0)
        reader = io.BufferedReader(self._spool)
        for i in range(self._count):
            nk, nv = _LENGTHS.unpack(reader.read(_LENGTHS.size))
            keys[i], values[i] = reader.read(nk), reader.read(nv)
        # UTF-8 bytes sort as their code points, i.e. as sort_keys sorts the str keys;
        # stable, so the last of equal keys is the last added (dict.update)
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        del order
        keep = np.ones(len(keys), dtype=bool)
        keep[:-1] = keys[1:] != keys[:-1]
        text = DiskFileWithMemoryFallback(folder=self.folder)
        try:
            pieces = [b"{"]
            for i, (k, v) in enumerate(zip(keys[keep], values[keep])):
                pieces.append((b", " if i else b"")
                              + json.dumps(k.decode("utf-8", "surrogatepass")).encode()
                              + b": " + json.dumps(v.decode("utf-8")).encode())
                if len(pieces) >= 4096:
                    text.write(b"".join(pieces))
                    pieces.clear()
            pieces.append(b"}")
            text.write(b"".join(pieces))
            del keys, values, keep, pieces
            text.seek(0)
            return text.read()
        finally:
            text.close()

    def close(self) -> None:
        """Remove the spool."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None
