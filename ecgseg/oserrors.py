"""Turn operating-system failures of reads and writes into one-line toolkit errors.

A full disk, a read-only place, a permission problem, a folder where a file is
expected or an existing output are *expected* failures: the user can fix them. They
arrive as :class:`OSError` (or as a library error whose message carries the system's
text, as HDF5 and PyTorch report them); this module maps them onto
:class:`~ecgseg.errors.EcgError` subclasses whose message names the path and says
what to do. They stay exceptions for API users, and they remain :class:`OSError`
(with ``errno`` and ``filename`` set), so ``except OSError`` still catches them.

The ``ecg`` command prints such an error on one line and exits with status 1;
anything this module does not recognise is re-raised unchanged (a traceback: a bug).

Examples
--------
>>> import errno
>>> err = from_os_error(OSError(errno.ENOSPC, "No space left on device"), "out/beats.h5")
>>> print(err)
cannot write out/beats.h5: the disk is full (free some space or write somewhere else)
>>> isinstance(err, DiskFullError), isinstance(err, OSError)
(True, True)
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
from pathlib import Path
from typing import Iterator

from .errors import EcgError, OutputExistsError

__all__ = [
    "PathError", "DiskFullError", "PathPermissionError", "ReadOnlyPathError",
    "IsADirectoryPathError", "MissingFolderError", "from_os_error", "writing", "reading",
]


class PathError(EcgError, OSError):
    """A file or folder cannot be read or written for a reason outside the toolkit.

    Attributes ``errno`` and ``filename`` are those of an :class:`OSError`.
    """

    def __init__(self, message: str, errno: int | None = None, filename: str | None = None):
        super().__init__(message)
        self.errno = errno
        self.filename = filename

    def __str__(self) -> str:  # OSError's __str__ would show "[Errno 28] ..." when errno is set
        return str(self.args[0])


class DiskFullError(PathError):
    """No space left on the device (``ENOSPC``) or quota exceeded (``EDQUOT``)."""


class PathPermissionError(PathError, PermissionError):
    """The process may not read or write the path (``EACCES``, ``EPERM``)."""


class ReadOnlyPathError(PathError):
    """The path is on a read-only file system (``EROFS``)."""


class IsADirectoryPathError(PathError, IsADirectoryError):
    """A file was expected but the path is a directory (``EISDIR``)."""


class MissingFolderError(PathError, FileNotFoundError):
    """The path, or the folder it should be in, does not exist (``ENOENT``, ``ENOTDIR``)."""


# errno -> (class, what went wrong, what to do); one place for the wording.
_KINDS: dict[int, tuple[type[PathError], str, str]] = {
    _errno.ENOSPC: (DiskFullError, "the disk is full", "free some space or write somewhere else"),
    _errno.EDQUOT: (DiskFullError, "the disk quota is exceeded",
                    "free some space or write somewhere else"),
    _errno.EACCES: (PathPermissionError, "permission denied",
                    "choose a place you may write to, or change its permissions"),
    _errno.EPERM: (PathPermissionError, "operation not permitted",
                   "choose a place you may write to, or change its permissions"),
    _errno.EROFS: (ReadOnlyPathError, "the file system is read-only", "write somewhere else"),
    _errno.EISDIR: (IsADirectoryPathError, "it is a directory", "name a file instead"),
    _errno.ENOENT: (MissingFolderError, "no such file or folder",
                    "check the path, or create its folder first"),
    _errno.ENOTDIR: (MissingFolderError, "a part of the path is not a folder", "check the path"),
}

# The system's own words, for libraries (HDF5, PyTorch) that lose ``errno`` on the way.
_STRERRORS: dict[str, int] = {os.strerror(code): code for code in _KINDS if code != _errno.ENOENT}
_STRERRORS.update({"file write failed": _errno.ENOSPC})  # PyTorch's zip writer on a full disk


def _errno_of(exc: BaseException) -> int | None:
    """The ``errno`` of ``exc``, or one recognised in its message (``None`` if neither)."""
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code:
        return code
    text = str(exc)
    for words, code in _STRERRORS.items():
        if words in text:
            return code
    return None


def _file_in_path(path: str | os.PathLike) -> bool:
    """Whether a folder of ``path`` (a parent of it) is an existing non-folder."""
    for parent in Path(path).parents:
        if os.path.lexists(parent):
            return not os.path.isdir(parent)
    return False


def from_os_error(exc: BaseException, path: str | os.PathLike | None = None, *,
                  action: str = "write", parameter: str = "--overwrite") -> EcgError | None:
    """The one-line toolkit error for a failed read or write, or ``None`` if unexpected.

    Parameters
    ----------
    exc : BaseException
        The failure: an :class:`OSError`, or a library error whose message carries the
        system's text (``No space left on device``).
    path : path, optional
        The file or folder the user named; defaults to ``exc.filename``. Naming the
        final output rather than a temporary file tells the user what to fix.
    action : str
        ``"write"`` or ``"read"``, used in the message (``cannot write out.csv: ...``).
    parameter : str
        The option that allows replacing an existing output (``EEXIST``).

    Returns
    -------
    EcgError or None
        An error to raise ``from exc``; ``None`` when ``exc`` is not an expected
        failure of the file system (re-raise it unchanged).

    Examples
    --------
    >>> import errno
    >>> print(from_os_error(OSError(errno.EROFS, "Read-only file system"), "/mnt/a.csv"))
    cannot write /mnt/a.csv: the file system is read-only (write somewhere else)
    >>> from_os_error(ValueError("bad"), "a.csv") is None
    True
    >>> print(from_os_error(FileExistsError(errno.EEXIST, "File exists"), "/etc/hostname/a.csv"))
    cannot write /etc/hostname/a.csv: a part of the path is not a folder (check the path)
    """
    if isinstance(exc, EcgError):
        return exc
    code = _errno_of(exc)
    name = os.fspath(path) if path is not None else getattr(exc, "filename", None)
    if code == _errno.EEXIST:
        if name is None or not _file_in_path(name):
            return OutputExistsError(f"output {name} exists (use {parameter} to replace it)")
        # What exists is not the output but a file where a folder of its path should be
        # (``mkdir`` of the parent): replacing the output would not help.
        code = _errno.ENOTDIR
    if code not in _KINDS or (code in (_errno.ENOENT, _errno.ENOTDIR) and not isinstance(exc, OSError)):
        return None
    kind, what, todo = _KINDS[code]
    where = f" {name}" if name is not None else ""
    return kind(f"cannot {action}{where}: {what} ({todo})", code, None if name is None else str(name))


@contextlib.contextmanager
def writing(path: str | os.PathLike | None = None, *, parameter: str = "--overwrite") -> Iterator[None]:
    """Around a write: expected OS failures become a one-line :class:`PathError`.

    Parameters
    ----------
    path : path, optional
        The output the user named (used in the message).
    parameter : str
        The option that allows replacing an existing output.

    Raises
    ------
    PathError or OutputExistsError
        The write failed for a reason the user can fix; chained to the original error.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> try:
    ...     with writing(folder):
    ...         open(folder, "w").write("x")
    ... except PathError as err:
    ...     print(type(err).__name__)
    IsADirectoryPathError
    """
    try:
        yield
    except EcgError:
        raise
    except (OSError, RuntimeError) as exc:
        err = from_os_error(exc, path, action="write", parameter=parameter)
        if err is None:
            raise
        raise err from exc


@contextlib.contextmanager
def reading(path: str | os.PathLike | None = None) -> Iterator[None]:
    """Around a read: expected OS failures become a one-line :class:`PathError`.

    Examples
    --------
    >>> try:
    ...     with reading("/nonexistent/x.csv"):
    ...         open("/nonexistent/x.csv").read()
    ... except MissingFolderError as err:
    ...     print(err)
    cannot read /nonexistent/x.csv: no such file or folder (check the path, or create its folder first)
    """
    try:
        yield
    except EcgError:
        raise
    except OSError as exc:
        err = from_os_error(exc, path, action="read")
        if err is None:
            raise
        raise err from exc
