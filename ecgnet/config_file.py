"""Training settings in TOML files: read them into :class:`~ecgnet.train.TrainConfig`
field values, and write a resolved configuration back.

A file holds flat ``key = value`` lines, one per setting, named like the dataclass
fields (``batch_size``) or like the command-line options (``batch-size``)::

    data = ["data/beats/mitdb-kaggle.h5"]
    model = "cnn-lstm"
    batch_size = 64
    lr = 0.0005
    class_weights = "sqrt"

TOML has no null: a setting left out keeps its default (``None`` for the optional ones),
and :func:`write_config` leaves ``None`` values out (as a comment line).

Example
-------
>>> import tempfile, pathlib
>>> from ecgnet.train_config import TrainConfig
>>> path = pathlib.Path(tempfile.mkdtemp()) / "run.toml"
>>> _ = write_config(TrainConfig(data=["beats.h5"], lr=0.0005), path)
>>> read_config(path)["lr"]
0.0005
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, Dict, Optional, Type

from ecgseg.atomic import atomic_path, refuse_existing
from ecgseg.errors import InputError

from .callbacks import TrainCallback
from .toml_text import toml_value, tomllib



class ConfigFileError(InputError):
    """A configuration file cannot be read or does not fit the settings."""


def _default_class():
    from .train import TrainConfig

    return TrainConfig


def _check_type(value: Any, kind: Any, where: str) -> Any:
    """``value`` checked against the type annotation ``kind``; returns it (ints widened
    to float where a float is expected)."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is typing.Union:
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _check_type(value, option, where)
            except ConfigFileError as exc:
                errors.append(exc)
        raise errors[0]
    if origin in (list, typing.List):
        if not isinstance(value, list):
            raise ConfigFileError(f"{where} must be a list, got {type(value).__name__} {value!r}")
        inner = args[0] if args else Any
        return [_check_type(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind is Any:
        return value
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is str:
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, kind)
    if not ok:
        name = getattr(kind, "__name__", str(kind))
        raise ConfigFileError(f"{where} must be {name}, got {type(value).__name__} {value!r}")
    return value


def read_config(path: str | os.PathLike, config_class: Optional[Type] = None) -> Dict[str, Any]:
    """Read a TOML file into a dict of ``config_class`` field values.

    Parameters
    ----------
    path : path
        TOML file with flat ``key = value`` settings (``-`` in keys read as ``_``).
    config_class : dataclass type, optional
        Whose fields the keys name (default :class:`~ecgnet.train.TrainConfig`).

    Returns
    -------
    dict
        Field name -> value, only the keys the file sets, type-checked by the field's
        annotation (an integer is accepted for a float field).

    Raises
    ------
    ConfigFileError
        Missing or unparsable file, a table where a value was expected, an unknown key
        (the message names the key and the file), a value of the wrong type.
    """
    path = Path(path)
    config_class = config_class or _default_class()
    if not path.is_file():
        raise ConfigFileError(f"config file {path} does not exist")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: not a valid TOML file ({exc})") from None
    hints = typing.get_type_hints(config_class)
    fields = {f.name for f in dataclasses.fields(config_class)}
    values: Dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in fields:
            raise ConfigFileError(f"{path}: unknown key {key!r} (settings: "
                                  f"{', '.join(sorted(fields))})")
        if name in values:
            raise ConfigFileError(f"{path}: key {key!r} is given twice")
        values[name] = _check_type(value, hints[name], f"{path}: {key}")
    return values


def _toml_value(value: Any, where: str) -> str:
    try:
        return toml_value(value)
    except TypeError as exc:
        raise ConfigFileError(f"{where}: {exc}") from None


def dumps_config(values: Any) -> str:
    """TOML text of flat settings (a dataclass or a dict of str/int/float/bool/list).

    ``None`` values are written as comment lines (``# name = (not set)``).

    Examples
    --------
    >>> print(dumps_config({"model": "kachuee", "lr": 0.001, "name": None}), end="")
    model = "kachuee"
    lr = 0.001
    # name = (not set)
    """
    items = dataclasses.asdict(values) if dataclasses.is_dataclass(values) else dict(values)
    lines = []
    for key, value in items.items():
        if value is None:
            lines.append(f"# {key} = (not set)")
        else:
            lines.append(f"{key} = {_toml_value(value, key)}")
    return "\n".join(lines) + "\n"


RUN_CONTROL = ("resume", "overwrite", "progress")
"""Settings that say how to run, not what the run is: left out of a run's ``config.toml``."""


def resolved_settings(config: Any) -> Dict[str, Any]:
    """The settings a run's ``config.toml`` keeps: every field of ``config`` but
    :data:`RUN_CONTROL`, with the data files and ``init_checkpoint`` as absolute paths
    (the file reproduces the run from any working folder).

    Examples
    --------
    >>> from ecgnet.train_config import TrainConfig
    >>> s = resolved_settings(TrainConfig(data=["/d/beats.h5"], overwrite=True))
    >>> s["data"], "overwrite" in s
    (['/d/beats.h5'], False)
    """
    items = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    out = {k: v for k, v in items.items() if k not in RUN_CONTROL}
    if out.get("data"):
        out["data"] = [str(Path(p).resolve()) for p in out["data"]]
    if out.get("init_checkpoint"):
        out["init_checkpoint"] = str(Path(out["init_checkpoint"]).resolve())
    return out


def write_config(values: Any, path: str | os.PathLike, overwrite: bool = True,
                 header: str = "", wait_s: float = 0.0) -> Path:
    """Write settings as TOML, atomically; :func:`read_config` reads them back.

    Parameters
    ----------
    values : dataclass or dict
        E.g. a :class:`~ecgnet.train.TrainConfig`.
    path : path
        TOML file to write.
    overwrite : bool
        Replace an existing file (otherwise :class:`~ecgseg.errors.OutputExistsError`).
    header : str
        Comment lines put first (``#`` added).
    wait_s : float
        How long to wait, s, for another process writing ``path`` (default 0: fail at
        once with :class:`~ecgseg.atomic.OutputBusyError`); see
        :func:`~ecgseg.atomic.atomic_path`.

    Returns
    -------
    Path
    """
    path = refuse_existing(path, overwrite, parameter="overwrite")
    text = "".join(f"# {line}\n" for line in header.splitlines()) + dumps_config(values)
    with atomic_path(path, wait_s=wait_s) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


class ConfigFileWriter(TrainCallback):
    """Training callback that writes the run's resolved settings to ``<run>/config.toml``
    (atomically, :func:`resolved_settings`) when the run starts:
    ``ecg train --config runs/NAME/config.toml`` trains the same run again.

    Parameters
    ----------
    filename : str
        Name of the file in the run folder.
    """

    def __init__(self, filename: str = "config.toml"):
        self.filename = filename
        self.path: Optional[Path] = None

    def on_run_start(self, config, run_dir, info) -> None:  # noqa: D102
        self.path = write_config(
            resolved_settings(config), Path(run_dir) / self.filename, overwrite=True,
            header=f"Settings of the run in {run_dir}; reproduce it with\n"
                   f"  ecg train --config {Path(run_dir) / self.filename} --name NEW_NAME")
