"""``ecg runs``: list the run folders with their model, data, split and test figures."""

from __future__ import annotations

from pathlib import Path

import typer
from typing_extensions import Annotated


def runs(
    root: Annotated[Path, typer.Argument(
        help="Folder of the runs (ecg train --out).")] = Path("runs"),
    sort: Annotated[str, typer.Option(
        "--sort", help="Column to sort by: macro_f1 (test), accuracy, val_f1, epochs, "
                       "model, run, modified...")] = "modified",
    ascending: Annotated[bool, typer.Option("--ascending", help="Smallest first.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many runs "
                                                             "(0: all).")] = 0,
) -> None:
    """List the run folders, one line each: model, data, split, epochs, validation and test figures.

    Columns: model, data, split, epochs, best epoch, validation and test macro-F1, test accuracy (best runs or newest first).
    """
    from ecgnet.runs import format_runs, list_runs

    frame = list_runs(root, sort=sort, descending=not ascending)
    if limit > 0:
        frame = frame.head(limit)
    typer.echo(format_runs(frame) if len(frame) else f"no runs under {root}")
