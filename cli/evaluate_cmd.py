"""``ecg evaluate``: score a checkpoint on beats it never trained on."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import comma_list, stops_cleanly


@stops_cleanly
def evaluate(
    paths: Annotated[List[Path], typer.Argument(
        metavar="[CHECKPOINT] DATA...",
        help="CHECKPOINT: best.pt or last.pt of `ecg train` (left out with --model). DATA: "
             "beats, HDF5 and/or Kaggle-format CSV.", show_default=False)],
    model: Annotated[Optional[str], typer.Option(
        "--model", "-m", help="A pretrained model shipped with the toolkit (`ecg models`) "
                              "instead of a CHECKPOINT.")] = None,
    part: Annotated[str, typer.Option(
        "--part", help="auto | test | all. auto: the run's test part on its own training data, "
                       "DS2 for an inter-patient model on other MIT-BIH data, else all beats. "
                       "Beats the model trained on are always left out.")] = "auto",
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Prefix of the .json and .png written \\[default: <checkpoint "
                      "folder>/eval-<data stem>; with --model ./eval-<NAME>-<data stem>].")] = None,
    records: Annotated[Optional[List[str]], typer.Option(
        "--records", "-r", help="HDF5 only: these records (repeat, or comma-separated).")] = None,
    classes: Annotated[Optional[List[str]], typer.Option(
        "--classes", help="What DATA's labels mean, comma-separated \\[default: from the data].")] = None,
    second_lead: Annotated[Optional[List[Path]], typer.Option(
        "--second-lead", help="HDF5 beats of the same rows on the records' second lead, one "
                              "per DATA file (ecg segment --recipe kaggle --signal 1): for "
                              "2-lead models (kachuee-rrmd2).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 512,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")] = "auto",
    threads: Annotated[Optional[int], typer.Option("--threads")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing report (.json/.png).")] = False,
) -> None:
    """Accuracy, per-class precision/recall/F1, ROC AUC, confusion matrix and AAMI Se/+P.

    `ecg evaluate CHECKPOINT DATA...` or `ecg evaluate --model NAME DATA...`.
    """
    from ecgnet.evaluate import evaluate as run_evaluation, format_report
    from ecgnet.device import setup_device

    from ecgnet.pretrained import resolve_checkpoint
    from ecgseg.errors import InputError

    if model is None and len(paths) < 2:
        raise InputError("give CHECKPOINT DATA..., or --model NAME DATA... (`ecg models` "
                         "lists the pretrained models)")
    if model is not None and paths[0].suffix == ".pt":  # with --model every path is DATA
        raise InputError("give a CHECKPOINT or --model NAME, not both")
    checkpoint = resolve_checkpoint(None if model else paths[0], model)
    data = list(paths) if model else list(paths[1:])
    dev = setup_device(device, threads)
    if out is None:  # a shipped model's folder is the installation: write beside the data
        out = (Path(f"eval-{model}-{data[0].stem}") if model
               else checkpoint.parent / f"eval-{data[0].stem}")
    result = run_evaluation(checkpoint, [str(p) for p in data], part=part, out=out,
                            batch_size=batch_size, device=str(dev), records=comma_list(records),
                            class_names=comma_list(classes), overwrite=overwrite,
                            second_lead=[str(p) for p in second_lead] if second_lead else None)
    report = result.report
    excluded = report["excluded_training_beats"]
    typer.echo(f"{model or checkpoint} on {report['part']} of {', '.join(report['data'])}"
               + (f" ({excluded} beats seen in training left out)" if excluded else ""))
    typer.echo(format_report(report))
    typer.echo(f"saved {result.json_path} and {result.png_path}")
