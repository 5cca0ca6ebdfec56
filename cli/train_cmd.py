"""``ecg train``: train the paper's CNN (or another registered model) on labelled beats."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import Quiet, echo_err
from .train_options import (Augment, BatchSize, Classes, ClassWeights, Device, Ema, Epochs,
                            Jitter, Lr, LrDecay, LrDecayEvery, MaxIters, Out, Overwrite, Patience,
                            Precision, Resume, Seed, TestFraction, Threads, ValBy, ValFraction,
                            training_settings)


def train(
    data: Annotated[List[Path], typer.Argument(
        help="Beats: HDF5 from `ecg segment` and/or Kaggle-format CSV (188 values a line, "
             "label last). Several files are concatenated.")],
    name: Annotated[Optional[str], typer.Option(
        "--name", help="Run folder name [default: <data stem>-<split>].")] = None,
    out: Out = Path("runs"),
    model: Annotated[str, typer.Option("--model", help=(
        "Registered model name: kachuee (the paper's CNN) or kachuee-rr (the same "
        "with each beat's RR intervals; needs the HDF5 of ecg segment)."))] = "kachuee",
    classes: Classes = None,
    split: Annotated[str, typer.Option(
        "--split", help="random (stratified by beat) | interpatient (MIT-BIH DS1 -> DS2) | "
                        "patient (grouped by patient).")] = "random",
    test_fraction: TestFraction = 0.2,
    val_fraction: ValFraction = 0.1,
    val_by: ValBy = "auto",
    seed: Seed = 0,
    batch_size: BatchSize = 128,
    lr: Lr = 1e-3,
    lr_decay: LrDecay = 0.75,
    lr_decay_every: LrDecayEvery = 10_000,
    epochs: Epochs = 50,
    patience: Patience = 8,
    max_iters: MaxIters = None,
    class_weights: ClassWeights = "none",
    augment: Augment = 0.0,
    jitter: Jitter = 0.0,
    ema: Ema = 0.0,
    device: Device = "auto",
    threads: Threads = None,
    resume: Resume = False,
    overwrite: Overwrite = False,
    precision: Precision = "float32",
    quiet: Quiet = False,
) -> None:
    """Train a heartbeat classifier; keep the best model on validation macro-F1 and test it."""
    options = dict(locals())
    from ecgnet.evaluate import format_report
    from ecgnet.train import TrainConfig, train as run_training

    config = TrainConfig(**training_settings(options))
    try:
        result = run_training(config)
    except KeyboardInterrupt:
        echo_err(f"interrupted; continue with: ecg train ... --name {config.run_dir.name} "
                 f"--out {config.out} --resume")
        raise typer.Exit(130)
    typer.echo(f"run {result.run_dir}: {result.epochs_run} epochs, {result.iterations} iterations"
               f"{' (early stop)' if result.stopped_early else ''}; best epoch "
               f"{result.best_epoch}, validation macro-F1 {result.best_val_macro_f1:.4f}; "
               f"{result.train_beats_per_s:.0f} training beats/s")
    typer.echo(f"test part ({result.test['n']} beats never trained on), best.pt:")
    typer.echo(format_report(result.test))
