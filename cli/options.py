"""Options shared by several ``ecg`` sub-commands."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import typer
from typing_extensions import Annotated

DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", envvar="ECG_DATA_DIR", show_envvar=True,
                 help="Data folder (downloads under physionet/, outputs beside) \\[default: ./data]."),
]
Mirror = Annotated[
    Optional[str],
    typer.Option("--mirror", envvar="ECG_PHYSIONET_URL", show_envvar=True,
                 help="Base URL of a PhysioNet files/ mirror \\[default: https://physionet.org/files/]."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def echo_err(message: str) -> None:
    """Print a message on stderr."""
    typer.echo(message, err=True)


def stops_cleanly(command: Callable) -> Callable:
    """Decorate an ``ecg`` command: Ctrl-C and SIGTERM end it cleanly.

    The body runs in :func:`ecgseg.lifecycle.command_lifecycle`: a signal unwinds it
    (temporary files removed), then the process exits with 130 (Ctrl-C) or 143 (SIGTERM)
    and no traceback, instead of dying of SIGTERM half-way through a write.
    """
    @functools.wraps(command)
    def run(*args, **kwargs):
        from ecgseg.lifecycle import command_lifecycle

        with command_lifecycle():
            return command(*args, **kwargs)

    return run


@contextlib.contextmanager
def resumable_run(again: str) -> Iterator[None]:
    """Around a run that can be continued (``ecg train``, ``ecg transfer``).

    Ctrl-C and SIGTERM (``kill``, ``timeout``, schedulers) end it cleanly
    (:func:`ecgseg.lifecycle.command_lifecycle`: temporary files removed, exit status
    130 or 143, no traceback) after one line saying how to continue:
    ``interrupted; continue with: AGAIN``.
    """
    from ecgseg.lifecycle import Terminated, command_lifecycle

    with command_lifecycle():
        try:
            yield
        except (KeyboardInterrupt, Terminated):
            echo_err(f"interrupted; continue with: {again}")
            raise


def comma_list(values: Optional[List[str]]) -> Optional[List[str]]:
    """Flatten repeated and comma-separated option values (``-r 100,101 -r 102``); None if empty."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()] or None
