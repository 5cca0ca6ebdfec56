"""TOML in and out, one place: the reader (``tomllib``, or ``tomli`` before Python 3.11)
and :func:`toml_value` / :func:`toml_key`, which write values as TOML text for a run's
``config.toml`` (:mod:`ecgnet.config_file`) and the model cards
(:mod:`ecgnet.pretrained.card`).

Examples
--------
>>> toml_value(["a", 1, 0.5, True])
'["a", 1, 0.5, true]'
>>> toml_value({"se": 97.5, "name": "N"})
'{ se = 97.5, name = "N" }'
>>> tomllib.loads("x = " + toml_value('tab\\t"quoted"'))["x"]
'tab\\t"quoted"'
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["tomllib", "toml_key", "toml_value"]


def toml_key(key: str) -> str:
    """``key`` as a TOML key: bare when it can be, else a quoted string."""
    return key if key and key.replace("_", "").replace("-", "").isalnum() and key.isascii() \
        else json.dumps(key)


def toml_value(value: Any) -> str:
    """One value as TOML text.

    Parameters
    ----------
    value : bool, int, float, str, path, list/tuple or dict of these
        Non-finite floats become ``nan`` / ``inf`` / ``-inf``; strings and paths become
        TOML basic strings (JSON escapes, which TOML shares); dicts inline tables.

    Raises
    ------
    TypeError
        Any other type (``None`` included: TOML has no null).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, (str, os.PathLike)):
        return json.dumps(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write a {type(value).__name__} to TOML")
