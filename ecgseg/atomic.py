"""Atomic file writes: write under a temporary name in the target folder, then rename.

An interrupted run (exception, Ctrl-C, kill) never leaves a half-written file under
the final name; at worst a hidden ``.<name>.*.tmp`` file that the next run ignores.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def default_mode() -> int:
    """Permission bits of a new file under the current umask (``0o666 & ~umask``)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


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
