"""``ecgseg.fallback_file``: a disk file that moves into memory when a write fails."""

from __future__ import annotations

import errno

import h5py
import numpy as np

from ecgseg.fallback_file import DiskFileWithMemoryFallback


class _FailingDisk:
    def __init__(self, file, room):
        self._file, self.room = file, room

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self.room:  # a partial write, then the error
            n = self._file.write(data[: self.room])
            self.room = 0
            if n:
                return n
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


def test_writes_after_a_failure_go_to_memory_with_what_was_on_disk(tmp_path):
    f = DiskFileWithMemoryFallback(tmp_path / "a.bin")
    f.write(b"0123456789")
    f._file = _FailingDisk(f._file, 3)
    f.seek(5)
    assert f.write(b"abcdefgh") == 8  # 3 bytes reach the disk, then ENOSPC: all in memory
    assert f.in_memory and f.error.errno == errno.ENOSPC
    f.seek(0)
    assert f.read() == b"01234abcdefgh"
    f.truncate(4)
    f.seek(0, 2)
    assert f.tell() == 4
    f.close()


def test_hdf5_file_through_it_reads_back_before_and_after_a_failure(tmp_path):
    data = np.arange(200_000, dtype=np.int64)
    for room in (None, 50_000):
        f = DiskFileWithMemoryFallback(tmp_path / f"{room}.h5")
        if room is not None:
            f._file = _FailingDisk(f._file, room)
        with h5py.File(f, "w") as h:
            h["x"] = data
        with h5py.File(f, "r") as h:
            assert np.array_equal(h["x"][()], data)
        assert f.in_memory == (room is not None)
        f.close()
