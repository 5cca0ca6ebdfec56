"""The options of ``ecg train`` and ``ecg transfer``, generated from
:class:`~ecgnet.train_config.TrainConfig`'s fields (flag, type, default and help: one source).

:func:`config_options` decorates a command: every exposed field (``metadata["cli"]``)
not among the command's own parameters becomes an option, and the command receives them
as one ``settings`` dict of TrainConfig keyword arguments. It also adds ``--config FILE``
(a TOML file of settings, :mod:`ecgnet.config_file`): every value the file sets is used
unless the option was given on the command line (click's parameter source tells which).

:data:`Track` and :data:`TrackingUri` are the tracking options of the training commands;
:func:`run_callbacks` turns them into the callbacks of a run.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import typer
from typing_extensions import Annotated

from .options import comma_list

SETTINGS = "settings"
"""Name of the command's parameter that receives the generated options."""

CONFIG = "config_file"
"""Name of the generated ``--config`` parameter."""

CONTEXT = "_typer_context"
"""Name of the generated parameter that receives the command's ``typer.Context``."""

Track = Annotated[Optional[List[str]], typer.Option(
    "--track", help="Log the run to: tensorboard (event files in the run folder) | mlflow "
                    "(a local store in the run folder, or --tracking-uri) | none; repeat or "
                    "comma-separate for several \\[default: none].")]
TrackingUri = Annotated[Optional[str], typer.Option(
    "--tracking-uri", help="MLflow tracking URI, e.g. http://127.0.0.1:5000 "
                           "\\[default: <run folder>/mlruns].")]


def run_callbacks(track: Optional[List[str]], tracking_uri: Optional[str]) -> list:
    """The callbacks of a run started from the command line: the trackers named by
    ``--track`` (:func:`ecgnet.tracking.make_trackers`) and the writer of the run's
    resolved ``config.toml`` (:class:`ecgnet.config_file.ConfigFileWriter`)."""
    from ecgnet.config_file import ConfigFileWriter
    from ecgnet.tracking import make_trackers

    return [ConfigFileWriter(), *make_trackers(track or [], None, tracking_uri)]


def merge_config_file(path: Path, values: Dict[str, Any], aliases: Mapping[str, str],
                      ctx: Optional[typer.Context] = None) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Fill the command's parameters from a TOML settings file.

    Parameters
    ----------
    path : Path
        The ``--config`` file (:func:`ecgnet.config_file.read_config`).
    values : dict
        The command's parameter values as click passed them.
    aliases : mapping
        TrainConfig field -> the command's parameter of another name (``ecg transfer``:
        ``init_checkpoint`` -> ``checkpoint``).

    Returns
    -------
    (values, extra)
        ``values`` with each parameter not given on the command line taken from the file;
        ``extra``: the file's settings that are not parameters of the command (fields
        hidden from the command line, e.g. ``eval_batch_size``).
    """
    from ecgnet.config_file import read_config

    given = set()
    if ctx is not None:
        sources = {name: ctx.get_parameter_source(name) for name in values}
        given = {name for name, source in sources.items()
                 if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")}
    values, extra = dict(values), {}
    for key, value in read_config(path).items():
        name = aliases.get(key, key)
        if name in values:
            if name not in given:
                values[name] = value
        else:
            extra[key] = value
    return values, extra


def _config_fields():
    from ecgnet.train_config import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    return [(f, hints[f.name]) for f in dataclasses.fields(TrainConfig) if f.metadata.get("cli")]


def option_parameters(exclude: Iterable[str] = (), defaults: Optional[Mapping[str, Any]] = None,
                      helps: Optional[Mapping[str, str]] = None) -> list[inspect.Parameter]:
    """``inspect.Parameter`` objects, one per exposed TrainConfig field, as Typer reads them.

    Parameters
    ----------
    exclude : iterable of str
        Fields the command declares itself (or sets otherwise).
    defaults, helps : mapping, optional
        A command's own default or help text for some fields (e.g. ``ecg transfer``'s
        ``split``); everything else comes from the field.
    """
    from ecgnet.train_config import flag_of

    exclude, defaults, helps = set(exclude), dict(defaults or {}), dict(helps or {})
    params = []
    for f, hint in _config_fields():
        if f.name in exclude:
            continue
        default = defaults.get(f.name, f.default)
        text = helps.get(f.name, f.metadata.get("help")) or ""
        info = typer.Option(flag_of(f.name), help=text.replace("[", "\\["))  # Rich markup
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default, annotation=Annotated[hint, info]))
    return params


def config_options(exclude: Iterable[str] = (), defaults: Optional[Mapping[str, Any]] = None,
                   helps: Optional[Mapping[str, str]] = None,
                   aliases: Optional[Mapping[str, str]] = None) -> Callable:
    """Decorate a command so that it takes every exposed TrainConfig field as an option.

    The command declares a ``settings`` parameter (not shown to Typer); it receives the
    generated options' values as a dict of TrainConfig keyword arguments (``classes``
    comma-separated lists flattened). ``--config FILE`` fills every parameter not given
    on the command line from the file (``aliases``: TrainConfig field -> parameter of
    another name); settings of the file that are no option go into ``settings`` too.

    Examples
    --------
    >>> @config_options(exclude=("data",))
    ... def cmd(data: str, settings: dict) -> None:
    ...     print(settings["batch_size"])
    >>> cmd(data="x.csv", **{p.name: p.default for p in
    ...                      inspect.signature(cmd).parameters.values() if p.name != "data"})
    128
    """
    def decorate(func: Callable) -> Callable:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values()
               if p.name != SETTINGS]
        generated = option_parameters({p.name for p in own} | set(exclude), defaults, helps)
        names = [p.name for p in generated]
        config_param = inspect.Parameter(
            CONFIG, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
                Optional[Path], typer.Option(
                    "--config", help="TOML file of settings (keys as the options, e.g. "
                                     "batch_size = 64, data = [\"beats.h5\"]); options given "
                                     "on the command line override it. A run folder's "
                                     "config.toml reproduces its run.")])

        @functools.wraps(func)
        def command(**kwargs):
            extra: Dict[str, Any] = {}
            config_path = kwargs.pop(CONFIG, None)
            ctx = kwargs.pop(CONTEXT, None)
            if config_path is not None:
                kwargs, extra = merge_config_file(config_path, kwargs, dict(aliases or {}), ctx)
            settings: Dict[str, Any] = {n: kwargs.pop(n) for n in names if n in kwargs}
            settings.update(extra)
            if "classes" in settings:
                settings["classes"] = comma_list(settings["classes"])
            return func(**kwargs, **{SETTINGS: settings})

        positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        signature = inspect.Signature(
            [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in positional]
            + [config_param] + generated + keyword
            + [inspect.Parameter(CONTEXT, inspect.Parameter.KEYWORD_ONLY, default=None,
                                 annotation=typer.Context)])
        del command.__wrapped__  # Typer reads __signature__, not the wrapped function's
        command.__signature__ = signature
        command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return command

    return decorate
