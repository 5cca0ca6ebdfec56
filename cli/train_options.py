"""The options of ``ecg train`` and ``ecg transfer``, generated from
:class:`~ecgnet.train_config.TrainConfig`'s fields (flag, type, default and help: one source).

:func:`config_options` decorates a command: every exposed field (``metadata["cli"]``)
not among the command's own parameters becomes an option, and the command receives them
as one ``settings`` dict of TrainConfig keyword arguments.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from typing import Any, Callable, Dict, Iterable, Mapping, Optional

import typer
from typing_extensions import Annotated

from .options import comma_list

SETTINGS = "settings"
"""Name of the command's parameter that receives the generated options."""


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
        info = typer.Option(flag_of(f.name), help=helps.get(f.name, f.metadata.get("help")))
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default, annotation=Annotated[hint, info]))
    return params


def config_options(exclude: Iterable[str] = (), defaults: Optional[Mapping[str, Any]] = None,
                   helps: Optional[Mapping[str, str]] = None) -> Callable:
    """Decorate a command so that it takes every exposed TrainConfig field as an option.

    The command declares a ``settings`` parameter (not shown to Typer); it receives the
    generated options' values as a dict of TrainConfig keyword arguments (``classes``
    comma-separated lists flattened).

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

        @functools.wraps(func)
        def command(**kwargs):
            settings: Dict[str, Any] = {n: kwargs.pop(n) for n in names if n in kwargs}
            if "classes" in settings:
                settings["classes"] = comma_list(settings["classes"])
            return func(**kwargs, **{SETTINGS: settings})

        positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        signature = inspect.Signature(
            [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in positional]
            + generated + keyword)
        del command.__wrapped__  # Typer reads __signature__, not the wrapped function's
        command.__signature__ = signature
        command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return command

    return decorate
