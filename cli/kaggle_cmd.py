"""``ecg export`` and ``ecg verify-kaggle``: the Kaggle CSV side of the toolkit."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import DataDir, Mirror, Quiet


def export(
    beats: Annotated[Path, typer.Argument(help="Beats HDF5 written by ecg segment.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Folder for the CSV files.")] = Path("."),
    split: Annotated[str, typer.Option(
        help="auto | none | published (MIT-BIH Kaggle counts) | interpatient (DS1/DS2) | ptb")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the within-class shuffle (published split).")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace existing files.")] = False,
) -> None:
    """Write Kaggle-format CSV (188 columns, %.18e, label last) from a beats HDF5."""
    from ecgseg.export import export_csv
    from ecgseg.lifecycle import command_lifecycle

    with command_lifecycle():
        for path, rows in export_csv(beats, out_dir, split=split, seed=seed,
                                     overwrite=overwrite).items():
            typer.echo(f"{path}: {rows} rows")


def verify_kaggle(
    files: Annotated[List[Path], typer.Argument(help="Kaggle CSV files (whole or any subset of rows).")],
    rebuild: Annotated[Optional[Path], typer.Option(
        help="Our Kaggle-recipe beats HDF5 \\[default: <data-dir>/beats/<db>-kaggle.h5, "
             "built from the raw records if missing].")] = None,
    details: Annotated[Optional[Path], typer.Option(
        help="Write one line per CSV row (match, record, sample, error) to this CSV.")] = None,
    tolerance: Annotated[float, typer.Option(help="Largest difference of a near match.")] = 1e-6,
    data_dir: DataDir = None,
    mirror: Mirror = None,
    quiet: Quiet = False,
) -> None:
    """Check published Kaggle rows against the rebuild from raw records; exit 1 if any is unmatched."""
    from ecgseg.lifecycle import command_lifecycle
    from ecgseg.pipeline import PTB_KAGGLE_NOTE, default_output, segment_database
    from ecgseg.store import load_beats
    from ecgseg.verify import rebuild_for, verify_kaggle_files

    with command_lifecycle():
        by_db: dict[str, list[Path]] = {}
        for f in files:
            by_db.setdefault(rebuild_for(f), []).append(f)
        if rebuild is not None and len(by_db) > 1:
            from ecgseg.errors import EcgError
            raise EcgError("--rebuild names one file, but the CSVs are of both mitdb and ptbdb")
        unmatched = 0
        frames = []
        for db, paths in by_db.items():
            h5 = rebuild or default_output(db, "kaggle", data_dir)
            if not h5.exists():
                typer.echo(f"{h5} not found: rebuilding it from the raw records "
                           f"(ecg segment --db {db} --recipe kaggle)")
                for line in segment_database(db, data_dir=data_dir, out=h5, recipe="kaggle",
                                             mirror=mirror, progress=not quiet).lines():
                    typer.echo(line)
            table = load_beats(h5)
            if db == "ptbdb":
                typer.echo(PTB_KAGGLE_NOTE)
            for report in verify_kaggle_files(paths, table, tolerance=tolerance):
                for line in report.lines():
                    typer.echo(line)
                unmatched += report.unmatched
                frames.append(report.details.assign(file=report.file))
        if details is not None:
            import pandas as pd

            from ecgseg.atomic import atomic_path
            with atomic_path(details) as tmp:
                pd.concat(frames).to_csv(tmp, index=False)
            typer.echo(f"per-row details -> {details}")
        if unmatched:
            raise typer.Exit(1)
