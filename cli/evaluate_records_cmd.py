"""``ecg evaluate-records``: a model scored end to end on raw records (detect, cut, classify)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ecgseg.detectors import detectors_help

from .options import DataDir, Mirror, Quiet, stops_cleanly


@stops_cleanly
def evaluate_records(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt of `ecg train`.")],
    records: Annotated[List[str], typer.Argument(
        help="Records: mitdb/1.0.0/100, a record path, a bare MIT-BIH name, or a split "
             "(DS1, DS2, paced).", show_default=False)],
    detector: Annotated[str, typer.Option(
        help=f"R-peak detector: {detectors_help()}.")] = "qrs",
    recipe: Annotated[Optional[str], typer.Option(
        help="Cut beats with this recipe \\[default: the checkpoint's].")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Also write the table, per-record figures and confusion "
                            "matrix as JSON.")] = None,
    tolerance: Annotated[float, typer.Option(
        help="Detected-to-reference beat match tolerance, s.")] = 0.15,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 512,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")] = "cpu",
    threads: Annotated[Optional[int], typer.Option("--threads")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out file.")] = False,
    data_dir: DataDir = None,
    mirror: Mirror = None,
    quiet: Quiet = False,
) -> None:
    """Detect, cut and classify every beat of many records; print one pooled AAMI table."""
    from ecgnet.device import setup_device
    from ecgnet.evaluate_records import evaluate_records as run
    from ecgnet.jsonfile import write_json
    from ecgseg.atomic import refuse_existing

    if out is not None:
        refuse_existing(out, overwrite)
    dev = setup_device(device, threads)
    result = run(checkpoint, records, detector=detector, recipe=recipe, data_dir=data_dir,
                 mirror=mirror, tolerance_s=tolerance, batch_size=batch_size,
                 device=str(dev), progress=not quiet)
    for note in result.notes:
        typer.echo(f"warning: {note}", err=True)
    for line in result.lines():
        typer.echo(line)
    if out is not None:
        write_json(out, result.to_dict())
        typer.echo(f"-> {out}")
