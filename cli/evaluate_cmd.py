"""``ecg evaluate``: score a checkpoint on beats it never trained on."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import comma_list


def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="best.pt or last.pt of `ecg train`.")],
    data: Annotated[List[Path], typer.Argument(help="Beats: HDF5 and/or Kaggle-format CSV.")],
    part: Annotated[str, typer.Option(
        "--part", help="auto | test | all. auto: the run's test part on its own training data, "
                       "DS2 for an inter-patient model on other MIT-BIH data, else all beats. "
                       "Beats the model trained on are always left out.")] = "auto",
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Prefix of the .json and .png written \\[default: <checkpoint "
                      "folder>/eval-<data stem>].")] = None,
    records: Annotated[Optional[List[str]], typer.Option(
        "--records", "-r", help="HDF5 only: these records (repeat, or comma-separated).")] = None,
    classes: Annotated[Optional[List[str]], typer.Option(
        "--classes", help="What DATA's labels mean, comma-separated \\[default: from the data].")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 512,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")] = "auto",
    threads: Annotated[Optional[int], typer.Option("--threads")] = None,
) -> None:
    """Accuracy, per-class precision/recall/F1, ROC AUC, confusion matrix and AAMI Se/+P."""
    from ecgnet.evaluate import evaluate as run_evaluation, format_report
    from ecgnet.device import setup_device

    dev = setup_device(device, threads)
    if out is None:
        out = checkpoint.parent / f"eval-{data[0].stem}"
    result = run_evaluation(checkpoint, [str(p) for p in data], part=part, out=out,
                            batch_size=batch_size, device=str(dev), records=comma_list(records),
                            class_names=comma_list(classes))
    report = result.report
    excluded = report["excluded_training_beats"]
    typer.echo(f"{checkpoint} on {report['part']} of {', '.join(report['data'])}"
               + (f" ({excluded} beats seen in training left out)" if excluded else ""))
    typer.echo(format_report(report))
    typer.echo(f"saved {result.json_path} and {result.png_path}")
