"""``ecg download``: fetch and verify a PhysioNet database."""

from __future__ import annotations

from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import DataDir, Mirror, Quiet, comma_list


def download(
    db: Annotated[str, typer.Option("--db", help="Database: mitdb or ptbdb.")] = "mitdb",
    records: Annotated[Optional[List[str]], typer.Option(
        "--records", "-r", help="Only these records (repeat, or comma-separated).")] = None,
    data_dir: DataDir = None,
    mirror: Mirror = None,
    quiet: Quiet = False,
) -> None:
    """Download a PhysioNet database (resumable, verified against SHA256SUMS.txt)."""
    from ecgseg.download import download_database
    from ecgseg.lifecycle import command_lifecycle

    with command_lifecycle():
        summary = download_database(db, data_dir=data_dir, records=comma_list(records),
                                    mirror=mirror, progress=not quiet)
        typer.echo(summary.line())
        if summary.unverified:
            typer.echo(f"note: {len(summary.unverified)} file(s) have no line in SHA256SUMS.txt "
                       f"and were not verified: {', '.join(summary.unverified[:5])}")
