"""``ecg train``: train the paper's CNN (or another registered model) on labelled beats."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import Quiet, comma_list, echo_err


def train(
    data: Annotated[List[Path], typer.Argument(
        help="Beats: HDF5 from `ecg segment` and/or Kaggle-format CSV (188 values a line, "
             "label last). Several files are concatenated.")],
    name: Annotated[Optional[str], typer.Option(
        "--name", help="Run folder name [default: <data stem>-<split>].")] = None,
    out: Annotated[Path, typer.Option("--out", help="Parent folder of the run folders.")] = Path("runs"),
    model: Annotated[str, typer.Option("--model", help="Registered model name.")] = "kachuee",
    classes: Annotated[Optional[List[str]], typer.Option(
        "--classes", help="Class names in label order, comma-separated [default: from the "
                          "data; N,S,V,F,Q for MIT-BIH, normal,MI for PTB].")] = None,
    split: Annotated[str, typer.Option(
        "--split", help="random (stratified by beat) | interpatient (MIT-BIH DS1 -> DS2) | "
                        "patient (grouped by patient).")] = "random",
    test_fraction: Annotated[float, typer.Option("--test-fraction")] = 0.2,
    val_fraction: Annotated[float, typer.Option(
        "--val-fraction", help="Share of the training side kept for early stopping.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 128,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 1e-3,
    lr_decay: Annotated[float, typer.Option("--lr-decay")] = 0.75,
    lr_decay_every: Annotated[int, typer.Option("--lr-decay-every", help="Iterations.")] = 10_000,
    epochs: Annotated[int, typer.Option("--epochs", help="Most epochs.")] = 50,
    patience: Annotated[int, typer.Option(
        "--patience", help="Stop after this many epochs without better validation macro-F1.")] = 8,
    max_iters: Annotated[Optional[int], typer.Option(
        "--max-iters", help="Stop after this many iterations in all.")] = None,
    class_weights: Annotated[str, typer.Option(
        "--class-weights", help="none | balanced | sqrt (loss weights from training counts).")] = "none",
    augment: Annotated[float, typer.Option(
        "--augment", help="Top minority classes up to this share of the largest class with "
                          "stretched and scaled copies (0 = off; e.g. 0.25).")] = 0.0,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")] = "auto",
    threads: Annotated[Optional[int], typer.Option(
        "--threads", help="CPU threads [default: the usable cores].")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run from its last.pt.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing run.")] = False,
    precision: Annotated[str, typer.Option(
        "--precision", help="float32 | bfloat16 (autocast; ~1.6x faster training on CPUs "
                            "with bfloat16 instructions, weights stay float32).")] = "float32",
    quiet: Quiet = False,
) -> None:
    """Train a heartbeat classifier; keep the best model on validation macro-F1 and test it."""
    from ecgnet.evaluate import format_report
    from ecgnet.train import TrainConfig, train as run_training

    config = TrainConfig(
        data=[str(p) for p in data], name=name, out=str(out), model=model,
        classes=comma_list(classes), split=split, test_fraction=test_fraction,
        val_fraction=val_fraction, seed=seed, batch_size=batch_size, lr=lr, lr_decay=lr_decay,
        lr_decay_every=lr_decay_every, epochs=epochs, patience=patience, max_iters=max_iters,
        class_weights=class_weights, augment=augment, device=device, threads=threads,
        resume=resume, overwrite=overwrite, progress=not quiet,
        precision=precision)
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
