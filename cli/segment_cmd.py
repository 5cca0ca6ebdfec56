"""``ecg segment``: raw records -> beats HDF5."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ecgseg.detectors import detectors_help

from .options import DataDir, Mirror, Quiet, comma_list

#: Exit status of ``ecg segment`` when the output was written but some records failed.
EXIT_RECORDS_FAILED = 2


def segment(
    db: Annotated[str, typer.Option("--db", help="Database: mitdb or ptbdb.")] = "mitdb",
    recipe: Annotated[str, typer.Option(
        help="paper: the paper's method (10 s windows, R peaks > 0.9, 1.2 T crops). "
             "kaggle: how the published Kaggle CSVs were made.")] = "paper",
    detector: Annotated[Optional[str], typer.Option(
        help=f"R-peak detector the recipe cuts beats from: {detectors_help()} "
             "\\[default: the recipe's own: paper; kaggle on mitdb: reference].")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Output HDF5 \\[default: <data-dir>/beats/<db>.h5, "
                            "<db>-kaggle.h5 for --recipe kaggle; then -<detector> for a "
                            "detector other than the recipe's own, -snap with --snap-peaks, "
                            "-sig<k> with --signal k].")] = None,
    records: Annotated[Optional[List[str]], typer.Option(
        "--records", "-r", help="Only these records (repeat, or comma-separated).")] = None,
    records_from: Annotated[Optional[Path], typer.Option(
        help="Only the records named in this text file, one per line ('-': standard "
             "input; blank lines and # comments skipped), read as the run goes: for "
             "lists too long for a command line.")] = None,
    lead: Annotated[Optional[str], typer.Option(
        help="Signal name to use \\[default: MLII for mitdb, ii for ptbdb].")] = None,
    fs: Annotated[Optional[float], typer.Option(
        help="Paper recipe: sampling rate of the beats, Hz \\[default: 125].")] = None,
    threshold: Annotated[Optional[float], typer.Option(
        help="R-peak threshold on the normalised window \\[default: 0.9].")] = None,
    length: Annotated[Optional[int], typer.Option(
        help="Paper recipe: samples per beat after zero padding \\[default: 187].")] = None,
    window: Annotated[Optional[float], typer.Option(
        help="Paper recipe: window length, s \\[default: 10].")] = None,
    record_choice: Annotated[Optional[str], typer.Option(
        help="Kaggle PTB recipe: which record of each patient: last, first or all "
             "\\[default: last].")] = None,
    snap_peaks: Annotated[bool, typer.Option(
        "--snap-peaks", help="Kaggle MIT-BIH recipe: move every peak (annotation or detected) "
                             "to the qrs detector's R-peak fiducial before cutting, so beats "
                             "cut from annotations and from any detector start at the same "
                             "sample (rows then run beat to beat; off: the published rows, "
                             "bit for bit).")] = False,
    signal: Annotated[Optional[int], typer.Option(
        "--signal", help="Kaggle MIT-BIH recipe: index of the record's signal the rows are "
                         "cut from (1: the second lead, V1 in most records), at signal 0's "
                         "peaks, bounds and labels, so the file pairs row by row with the "
                         "signal-0 file \\[default: 0, the published rows; output gets "
                         "-sig<k>].")] = None,
    tolerance: Annotated[float, typer.Option(
        help="Peak-to-annotation match tolerance for MIT-BIH labels and Se/+P, s.")] = 0.15,
    compression: Annotated[str, typer.Option(
        help="HDF5 compression: lzf (fast), gzip (portable to any HDF5 tool) or none.")] = "lzf",
    workers: Annotated[Optional[int], typer.Option(
        "--workers", "-j", help="Worker processes (of the pool, or of --scheduler local), "
                                "at least 1 \\[default: all cores].")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
    scheduler: Annotated[Optional[str], typer.Option(
        help="Run the records on a Dask cluster: a scheduler address (tcp://host:8786) or "
             "'local' (a LocalCluster of --workers processes on 127.0.0.1) "
             "\\[default: the local process pool]. Needs pip install -e \".[distributed]\".")
    ] = None,
    shards: Annotated[Optional[Path], typer.Option(
        help="Each task writes its record's beats to DIR/<record>.h5; the output file "
             "holds HDF5 virtual datasets over these shards (keep them beside it).")] = None,
    worker_data_dir: Annotated[Optional[Path], typer.Option(
        help="Data folder on the workers' machines: each worker downloads its records "
             "there (from --mirror, verified) instead of reading --data-dir.")] = None,
    data_dir: DataDir = None,
    mirror: Mirror = None,
    quiet: Quiet = False,
) -> None:
    """Segment every record of a database into beats (HDF5), downloading what is missing.

    Exit status: 0 when every record was segmented; 2 when the file was written but
    some records failed (listed on stderr); 1 on an error (nothing written); 130 after
    Ctrl-C and 143 after SIGTERM (nothing written, workers stopped, no temporary file).
    """
    from ecgseg.errors import EcgError
    from ecgseg.lifecycle import command_lifecycle
    from ecgseg.numba_start import start_numba_without_blas
    from ecgseg.pipeline import segment_database
    from ecgseg.recipes import get_recipe
    from ecgseg.recipes.params import UnknownParameterError, override_params

    start_numba_without_blas()  # this process runs only the toolkit's kernels: no BLAS
    with command_lifecycle():
        overrides = {"fs": fs, "threshold": threshold, "length": length, "window_s": window,
                     "record_choice": record_choice, "snap_peaks": snap_peaks or None,
                     "signal": signal}
        try:
            params = override_params(get_recipe(recipe).default_params(db), overrides)
        except UnknownParameterError as exc:
            opts = ", ".join("--" + k.replace("_s", "").replace("_", "-") for k in exc.names)
            raise EcgError(f"{opts} does not apply to --db {db} --recipe {recipe}") from None
        wanted = comma_list(records)
        if records_from is not None:
            if wanted is not None:
                raise EcgError("give --records or --records-from, not both")
            wanted = _streamed_names(records_from)
        summary = segment_database(
            db, data_dir=data_dir, out=out, recipe=recipe, params=params, records=wanted,
            lead=lead, workers=workers, overwrite=overwrite, mirror=mirror,
            tolerance_s=tolerance, compression=compression, progress=not quiet,
            detector=detector, scheduler=scheduler, shards=shards,
            worker_data_dir=worker_data_dir)
        if quiet:  # without a progress bar the warnings were not shown as they came
            for w in summary.warnings:
                typer.echo(f"warning: {w}", err=True)
        for line in summary.lines():
            typer.echo(line)
        if summary.failed:
            failed = ", ".join(name for name, _ in summary.failed)
            typer.echo(f"error: {len(summary.failed)} record(s) failed and are not in "
                       f"{summary.out}: {failed}", err=True)
            raise typer.Exit(EXIT_RECORDS_FAILED)


def _streamed_names(path: Path):
    """The names of ``--records-from``, read lazily (:mod:`ecgseg.record_names`); an
    unreadable file is one error line before the run starts."""
    import sys

    from ecgseg.errors import InputError
    from ecgseg.record_names import read_record_names

    if str(path) == "-":
        return read_record_names(sys.stdin)
    try:
        f = open(path, encoding="utf-8")  # noqa: SIM115  (closed when the names end)
    except OSError as exc:
        raise InputError(f"--records-from {path}: cannot read ({exc.strerror or exc})") \
            from None
    return _closing_names(f)


def _closing_names(f):
    from ecgseg.record_names import read_record_names

    with f:
        yield from read_record_names(f)
