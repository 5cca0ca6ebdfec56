"""``ecg transfer``: re-use an arrhythmia checkpoint for another task (MI detection on PTB)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import Quiet, comma_list, echo_err


def transfer(
    checkpoint: Annotated[Path, typer.Argument(
        help="Source checkpoint: best.pt of an `ecg train` run (e.g. on MIT-BIH).")],
    data: Annotated[List[Path], typer.Option(
        "--data", "-d", help="Target beats (repeat for several files): HDF5 from `ecg segment "
                             "--db ptbdb` (patient ids) and/or Kaggle-format CSV such as "
                             "ptbdb_normal.csv and ptbdb_abnormal.csv (labels 0 normal, 1 MI).")],
    trainable: Annotated[str, typer.Option(
        "--trainable", "-t", help="Parts that learn, the rest is frozen: head (the new "
                                  "classifier head only) | fc (fc1, fc2 and the head on the "
                                  "frozen convolutional features: the paper's setting) | "
                                  "blocks:K (also the last K residual blocks) | all.")] = "fc",
    run_sweep: Annotated[bool, typer.Option(
        "--sweep", help="Run head, fc, blocks:1-4 and all, plus a from-scratch baseline with "
                        "the same budget; write sweep.md, sweep.json and sweep.png.")] = False,
    name: Annotated[Optional[str], typer.Option(
        "--name", help="Run (or sweep) folder name [default: <data stem>-transfer-<trainable>, "
                       "or <data stem>-transfer for --sweep].")] = None,
    out: Annotated[Path, typer.Option("--out", help="Parent folder of the run folders.")] = Path("runs"),
    classes: Annotated[Optional[List[str]], typer.Option(
        "--classes", help="Class names of the target data in label order, comma-separated "
                          "[default: from the data; normal,MI for PTB].")] = None,
    split: Annotated[str, typer.Option(
        "--split", help="auto (by patient when the data have patient ids, else stratified by "
                        "beat) | patient | random.")] = "auto",
    test_fraction: Annotated[float, typer.Option("--test-fraction")] = 0.2,
    val_fraction: Annotated[float, typer.Option(
        "--val-fraction", help="Share of the training side kept for early stopping.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 128,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 1e-3,
    lr_decay: Annotated[float, typer.Option("--lr-decay")] = 0.75,
    lr_decay_every: Annotated[int, typer.Option("--lr-decay-every", help="Iterations.")] = 10_000,
    epochs: Annotated[int, typer.Option("--epochs", help="Most epochs (of every run).")] = 50,
    patience: Annotated[int, typer.Option(
        "--patience", help="Stop after this many epochs without better validation macro-F1.")] = 8,
    max_iters: Annotated[Optional[int], typer.Option(
        "--max-iters", help="Stop after this many iterations in all (of every run).")] = None,
    class_weights: Annotated[str, typer.Option(
        "--class-weights", help="none | balanced | sqrt (loss weights from training counts).")] = "none",
    augment: Annotated[float, typer.Option(
        "--augment", help="Top minority classes up to this share of the largest class "
                          "(0 = off).")] = 0.0,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda.")] = "auto",
    threads: Annotated[Optional[int], typer.Option(
        "--threads", help="CPU threads [default: the usable cores].")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run(s) from last.pt.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing runs.")] = False,
    quiet: Quiet = False,
) -> None:
    """Start from CHECKPOINT, give it a new classifier head for the target classes, and
    train the chosen parts on the target beats (as `ecg train`: run folder, best.pt,
    last.pt, metrics.jsonl, test.json)."""
    from ecgnet.evaluate import format_report
    from ecgnet.train import train as run_training
    from ecgnet.transfer import check_target_data, format_sweep, sweep, transfer_config

    data_paths = [str(p) for p in data]
    settings = dict(
        name=name, out=str(out), classes=comma_list(classes), split=split,
        test_fraction=test_fraction, val_fraction=val_fraction, seed=seed,
        batch_size=batch_size, lr=lr, lr_decay=lr_decay, lr_decay_every=lr_decay_every,
        epochs=epochs, patience=patience, max_iters=max_iters, class_weights=class_weights,
        augment=augment, device=device, threads=threads, resume=resume, overwrite=overwrite,
        progress=not quiet)
    if run_sweep and name is None:
        settings["name"] = f"{Path(data_paths[0]).stem}-transfer"
    config = transfer_config(checkpoint, data_paths, trainable, **settings)
    again = (f"ecg transfer {checkpoint} ... --name {config.run_dir.name} --out {config.out} "
             f"{'--sweep ' if run_sweep else ''}--resume")
    try:
        if run_sweep:
            def report_run(setting, result):
                t = result.test
                typer.echo(f"{setting:>9}: accuracy {100 * t['accuracy']:.2f} %, "
                           f"{result.trainable_parameters:,} weights learnt, "
                           f"{result.epochs_run} epochs -> {result.run_dir}")

            outcome = sweep(config, on_run=report_run)
            typer.echo(f"{outcome.split}")
            typer.echo(format_sweep(outcome.rows))
            typer.echo(f"saved {outcome.folder / 'sweep.md'}, sweep.json and sweep.png")
            return
        check_target_data(config)
        result = run_training(config)
    except KeyboardInterrupt:
        echo_err(f"interrupted; continue with: {again}")
        raise typer.Exit(130)
    typer.echo(f"transfer from {checkpoint}, trainable {config.trainable}: "
               f"{result.trainable_parameters:,} weights learnt")
    typer.echo(result.split)
    typer.echo(f"run {result.run_dir}: {result.epochs_run} epochs, {result.iterations} iterations"
               f"{' (early stop)' if result.stopped_early else ''}; best epoch "
               f"{result.best_epoch}, validation macro-F1 {result.best_val_macro_f1:.4f}")
    typer.echo(f"test part ({result.test['n']} beats never trained on), best.pt:")
    typer.echo(format_report(result.test))
