"""A binary file on disk that moves into memory when a write fails (a full disk).

For HDF5 files written through h5py's file-object driver
(``h5py.File(DiskFileWithMemoryFallback(tmp), "w")``): HDF5 that meets a failing write
half-way cannot close its file and may crash the interpreter at exit, which is why
:class:`ecgseg.store.BeatWriter` builds its file in memory. A file that grows with the
number of records (the ``--shards`` index, :mod:`ecgseg.shards`) should not live in
memory, so it is written to disk through this object instead: the first write (or
truncate) that fails copies what is on disk into memory, and every later read and write
goes there, so HDF5 never sees an error and closes its file normally. The owner then
finds the failure in :attr:`~DiskFileWithMemoryFallback.error`, raises it (a full disk
becomes one :class:`~ecgseg.oserrors.DiskFullError` line through
:func:`ecgseg.atomic.atomic_path`) and removes the file. Memory is used only after a
failure.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
>>> f = DiskFileWithMemoryFallback(path)
>>> f.write(b"hello"), f.seek(0), f.read(5), f.error
(5, 0, b'hello', None)
>>> f.close()
"""

from __future__ import annotations

import io
import os
import tempfile


class DiskFileWithMemoryFallback(io.RawIOBase):
    """Read/write binary file at ``path`` (created or truncated), falling back to memory.

    Parameters
    ----------
    path : path, optional
        The file (opened ``w+b``, unbuffered: HDF5 does its own caching). None: a
        nameless temporary file in ``folder`` (:func:`tempfile.TemporaryFile`).
    folder : path, optional
        Where the nameless file goes (default: the system's temporary folder).

    Attributes
    ----------
    error : OSError or None
        The first failure of the disk file; None while everything went to disk.
    """

    def __init__(self, path: str | os.PathLike | None = None, *,
                 folder: str | os.PathLike | None = None):
        super().__init__()
        self.path = None if path is None else os.fspath(path)
        if path is None:  # nameless, gone when closed or when this process dies
            self._file = tempfile.TemporaryFile(dir=folder, buffering=0)
        else:
            self._file = open(self.path, "w+b", buffering=0)  # noqa: SIM115
        self.error: OSError | None = None

    # -- the fallback ----------------------------------------------------------------
    def _to_memory(self, exc: OSError) -> None:
        """Copy the disk file into memory and use that from now on."""
        disk = self._file
        self.error = exc
        disk.seek(0)
        self._file = io.BytesIO(disk.read())
        disk.close()

    @property
    def in_memory(self) -> bool:
        """Whether a failure moved the file into memory."""
        return self.error is not None

    # -- the file interface h5py uses -------------------------------------------------
    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._file.readinto(buffer)

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)  # one bytes object of the size read, no join of chunks

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        if self.error is None:
            start = self._file.tell()
            done = 0
            try:
                while done < len(view):
                    n = self._file.write(view[done:])
                    if not n:  # pragma: no cover - a regular file never returns 0
                        raise OSError("write returned 0 bytes")
                    done += n
                return done
            except OSError as exc:
                self._to_memory(exc)
                self._file.seek(start)
        return self._file.write(view)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def truncate(self, size: int | None = None) -> int:
        if self.error is None:
            pos = self._file.tell()
            try:
                return self._file.truncate(size)
            except OSError as exc:
                self._to_memory(exc)
                self._file.seek(pos)
        return self._file.truncate(size)

    def flush(self) -> None:
        pass  # unbuffered (FileIO) or memory: nothing to flush

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")  # h5py must use read/write, not the fd

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()
