"""ecgseg.oserrors: OS failures become one-line toolkit errors naming the path."""

from __future__ import annotations

import errno

import pytest

from ecgseg.errors import EcgError, OutputExistsError
from ecgseg.oserrors import (DiskFullError, IsADirectoryPathError, MissingFolderError,
                             PathPermissionError, ReadOnlyPathError, from_os_error, reading, writing)


@pytest.mark.parametrize("code, kind, words", [
    (errno.ENOSPC, DiskFullError, "the disk is full"),
    (errno.EACCES, PathPermissionError, "permission denied"),
    (errno.EROFS, ReadOnlyPathError, "read-only"),
    (errno.EISDIR, IsADirectoryPathError, "is a directory"),
    (errno.ENOENT, MissingFolderError, "no such file"),
])
def test_errno_maps_to_a_one_line_error_naming_the_path(code, kind, words):
    err = from_os_error(OSError(code, "x", "/tmp/.out.csv.123.tmp"), "/data/out.csv")
    assert isinstance(err, kind) and isinstance(err, EcgError) and isinstance(err, OSError)
    assert err.errno == code and err.filename == "/data/out.csv"
    text = str(err)
    assert "\n" not in text and "/data/out.csv" in text and words in text and "tmp" not in text


def test_exists_uses_the_overwrite_wording():
    err = from_os_error(FileExistsError(errno.EEXIST, "File exists"), "a.csv", parameter="--force")
    assert isinstance(err, OutputExistsError)
    assert str(err) == "output a.csv exists (use --force to replace it)"


def test_library_messages_with_the_system_text_are_recognised():
    h5 = OSError("Unable to synchronously write data (file write failed: errno = 28, "
                 "error message = 'No space left on device')")
    assert isinstance(from_os_error(h5, "b.h5"), DiskFullError)
    torch_error = RuntimeError("[enforce fail at inline_container.cc:820] . PytorchStreamWriter "
                               "failed writing file data/0: file write failed")
    assert isinstance(from_os_error(torch_error, "m.pt"), DiskFullError)


def test_unexpected_errors_are_left_alone():
    assert from_os_error(ValueError("bad"), "a") is None
    assert from_os_error(RuntimeError("no such file"), "a") is None
    assert from_os_error(OSError(errno.EIO, "I/O error"), "a") is None
    with pytest.raises(ValueError):
        with writing("a"):
            raise ValueError("bad")


def test_writing_and_reading_chain_the_original(tmp_path):
    with pytest.raises(IsADirectoryPathError) as info:
        with writing(tmp_path):
            open(tmp_path, "w")
    assert isinstance(info.value.__cause__, IsADirectoryError)
    with pytest.raises(MissingFolderError, match="cannot read .*nope.csv"):
        with reading(tmp_path / "nope.csv"):
            open(tmp_path / "nope.csv")
