"""JSON files of runs and reports, written atomically (temporary file, then rename)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ecgseg.atomic import atomic_path
from ecgseg.oserrors import writing


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON (2 spaces, trailing newline), atomically.

    Parameters
    ----------
    path : path
        File to write; its folder is created when missing.
    obj : JSON-serialisable object

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, json
    >>> p = write_json(Path(tempfile.mkdtemp()) / "a.json", {"n": 1})
    >>> json.loads(p.read_text())
    {'n': 1}
    """
    with writing(path), atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(obj, indent=2) + "\n")
    return Path(path)


__all__ = ["write_json"]
