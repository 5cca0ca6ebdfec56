"""Atomic file writes: write under a temporary name in the target folder, then rename.

An interrupted run (exception, Ctrl-C, kill) never leaves a half-written file under
the final name; at worst a hidden ``.<name>.*.tmp`` file that the next run ignores.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import OutputExistsError


@functools.cache
def _umask() -> int:
    """The process umask, read once without changing it where the OS tells it.

    Linux reports it in ``/proc/self/status`` (``Umask:``); elsewhere it is read the
    only portable way (set and restore, once per process, at first use).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def default_mode() -> int:
    """Permission bits of a new file under the process umask (``0o666 & ~umask``).

    Examples
    --------
    >>> default_mode() & 0o600
    384
    """
    return 0o666 & ~_umask()


def refuse_existing(path: str | os.PathLike, overwrite: bool, *, parameter: str = "--overwrite") -> Path:
    """Return ``path`` as a Path; raise if it exists and ``overwrite`` is False.

    The one place that words the "output exists" error.

    Parameters
    ----------
    path : path
        Output file or folder about to be written.
    overwrite : bool
        Whether replacing an existing output is allowed.
    parameter : str
        Name of the API parameter (or CLI flag) that allows it, named in the message.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> refuse_existing("/nonexistent/out.h5", overwrite=False)
    PosixPath('/nonexistent/out.h5')
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise OutputExistsError(f"output {path} exists (use {parameter} to replace it)")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    Parameters
    ----------
    path : path
        Final file name.
    overwrite : bool
        If False, refuse (``FileExistsError``) when ``path`` exists, before and after.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if not overwrite and path.exists():
            raise FileExistsError(path)
        os.chmod(tmp, default_mode())  # mkstemp makes 0600 files; give the usual mode
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
