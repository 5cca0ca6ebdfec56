"""Training options shared by ``ecg train`` and ``ecg transfer``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from typing_extensions import Annotated

from .options import comma_list

Out = Annotated[Path, typer.Option("--out", help="Parent folder of the run folders.")]
TestFraction = Annotated[float, typer.Option("--test-fraction")]
ValFraction = Annotated[float, typer.Option(
    "--val-fraction", help="Share of the training side kept for early stopping.")]
Seed = Annotated[int, typer.Option("--seed")]
BatchSize = Annotated[int, typer.Option("--batch-size")]
Lr = Annotated[float, typer.Option("--lr", help="Adam learning rate.")]
LrDecay = Annotated[float, typer.Option("--lr-decay")]
LrDecayEvery = Annotated[int, typer.Option("--lr-decay-every", help="Iterations.")]
Epochs = Annotated[int, typer.Option("--epochs", help="Most epochs (of every run).")]
Patience = Annotated[int, typer.Option(
    "--patience", help="Stop after this many epochs without better validation macro-F1.")]
MaxIters = Annotated[Optional[int], typer.Option(
    "--max-iters", help="Stop after this many iterations in all (of every run).")]
ClassWeights = Annotated[str, typer.Option(
    "--class-weights", help="none | balanced | sqrt (loss weights from training counts).")]
Augment = Annotated[float, typer.Option(
    "--augment", help="Top minority classes up to this share of the largest class with "
                      "stretched and scaled copies (0 = off; e.g. 0.25).")]
Jitter = Annotated[float, typer.Option(
    "--jitter", help="Share of all training beats replaced every epoch by stretched and "
                     "scaled versions (0 = off; e.g. 0.5).")]
Ema = Annotated[float, typer.Option(
    "--ema", help="Moving average of the weights, decay per iteration (0 = off; e.g. 0.999): "
                  "the averaged weights are validated, tested and saved.")]
ValBy = Annotated[str, typer.Option(
    "--val-by", help="auto | beat | patient: how the validation part is carved from the "
                     "training side (auto: by beat for the random split, else by patient).")]
Device = Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")]
Threads = Annotated[Optional[int], typer.Option(
    "--threads", help="CPU threads [default: the usable cores].")]
Precision = Annotated[str, typer.Option(
    "--precision", help="float32 | bfloat16 (autocast; ~1.6x faster training on CPUs with "
                        "bfloat16 instructions, weights stay float32).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue the run(s) from last.pt.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace existing runs.")]
Classes = Annotated[Optional[List[str]], typer.Option(
    "--classes", help="Class names in label order, comma-separated [default: from the data; "
                      "N,S,V,F,Q for MIT-BIH, normal,MI for PTB].")]


def training_settings(options: Dict[str, Any], exclude: tuple = ()) -> Dict[str, Any]:
    """The :class:`~ecgnet.train.TrainConfig` fields among a command's options.

    Parameters
    ----------
    options : dict
        The command's parameters (``locals()`` on entry): every one named like a
        TrainConfig field is taken as is, except ``out`` (as str), ``classes``
        (comma-separated lists split) and ``quiet`` (becomes ``progress``).
    exclude : tuple of str
        Fields the command sets otherwise.
    """
    from ecgnet.train import TrainConfig

    fields = {f.name for f in dataclasses.fields(TrainConfig)} - set(exclude)
    settings = {k: v for k, v in options.items() if k in fields}
    settings.update(out=str(options["out"]), classes=comma_list(options["classes"]),
                    progress=not options["quiet"])
    return settings
