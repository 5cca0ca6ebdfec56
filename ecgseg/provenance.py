"""HDF5 provenance of a beats file: what made it (attributes), and the source files' hashes."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
from pathlib import Path
from typing import Any


def file_hashes(path: str | Path, name: str, extensions) -> dict[str, str]:
    """SHA-256 of each existing ``<path>.<ext>``, keyed ``<name>.<ext>``."""
    out = {}
    for ext in extensions:
        p = Path(f"{path}.{ext}")
        if p.exists():
            out[f"{name}.{ext}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def params_dict(params: Any) -> dict:
    """A parameter object (dataclass, mapping or None) as a plain dict.

    Examples
    --------
    >>> from ecgseg.recipes.params import PaperParams
    >>> params_dict(PaperParams())["threshold"], params_dict(None)
    (0.9, {})
    """
    if params is None:
        return {}
    if dataclasses.is_dataclass(params):
        return dataclasses.asdict(params)
    return dict(params)


def beats_attrs(db, recipe, params: Any, *, fs: float, length: int, lead: str | None,
                tolerance_s: float, detector: str, detector_params: Any) -> dict:
    """File attributes written before the first record (see :mod:`ecgseg.store`).

    ``detector`` is ``{"name": ..., "params": {...}}``; :func:`detector_score_attrs`
    adds the overall Se/+P at the end.
    """
    from . import __version__

    return {
        "database": db.name, "version": db.version, "recipe": recipe.name,
        "params": params_dict(params) | {"tolerance_s": tolerance_s, "lead": lead},
        "classes": list(db.class_names), "length": int(length), "fs": float(fs),
        "detector": {"name": detector, "params": params_dict(detector_params)},
        "toolkit_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def detector_score_attrs(name: str, params: Any, score) -> dict:
    """The ``detector`` attribute with the overall score (when there are reference beats)."""
    out: dict = {"name": name, "params": params_dict(params)}
    if score is not None:
        out.update(reference_beats=score.reference, detected=score.detected,
                   matched=score.matched, sensitivity=score.sensitivity,
                   positive_predictivity=score.positive_predictivity)
    return out
