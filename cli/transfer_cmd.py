"""``ecg transfer``: re-use an arrhythmia checkpoint for another task (MI detection on PTB)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ecgnet.train_config import TRANSFER_DEFAULTS

from .options import Quiet, echo_err, resumable_run
from .train_options import Track, TrackingUri, config_options, run_callbacks


@config_options(defaults=TRANSFER_DEFAULTS, helps={
    "split": "auto (by patient when the data have patient ids, else stratified by beat) | "
             "patient | random."}, aliases={"init_checkpoint": "checkpoint"})
def transfer(
    checkpoint: Annotated[Optional[Path], typer.Argument(
        help="Source checkpoint: best.pt of an `ecg train` run (e.g. on MIT-BIH) "
             "\\[default: init_checkpoint of --config].", show_default=False)] = None,
    data: Annotated[Optional[List[Path]], typer.Option(
        "--data", "-d", help="Target beats (repeat for several files): HDF5 from `ecg segment "
                             "--db ptbdb` (patient ids) and/or Kaggle-format CSV such as "
                             "ptbdb_normal.csv and ptbdb_abnormal.csv (labels 0 normal, 1 MI).")] = None,
    trainable: Annotated[Optional[str], typer.Option(
        "--trainable", "-t", help="Parts that learn, the rest is frozen: head (the new "
                                  "classifier head only) | fc (fc1, fc2 and the head on the "
                                  "frozen convolutional features: the paper's setting) | "
                                  "blocks:K (also the last K residual blocks) | all. With "
                                  "--sweep: the settings to compare, comma-separated "
                                  "\\[default: fc; with --sweep: all of them].")] = None,
    run_sweep: Annotated[bool, typer.Option(
        "--sweep", help="Run head, fc, blocks:1-4 and all (or the --trainable list), plus a "
                        "from-scratch baseline with the same budget; write sweep.md, "
                        "sweep.json and sweep.png.")] = False,
    name: Annotated[Optional[str], typer.Option(
        "--name", help="Run (or sweep) folder name \\[default: <data stem>-transfer-<trainable>, "
                       "or <data stem>-transfer for --sweep].")] = None,
    track: Track = None,
    tracking_uri: TrackingUri = None,
    quiet: Quiet = False,
    settings: dict = None,
) -> None:
    """Re-use a trained checkpoint for new target classes (e.g. MI on PTB): new head, chosen parts trained.

    Starts from CHECKPOINT, gives it a new classifier head for the target classes, and trains the chosen parts on the target beats.
    Writes a run folder as `ecg train` does: best.pt, last.pt, metrics.jsonl, test.json, config.toml.
    """
    from ecgnet.evaluate import format_report
    from ecgnet.train import train as run_training
    from ecgnet.transfer import SWEEP, check_target_data, format_sweep, sweep, transfer_config
    from ecgseg.errors import InputError

    if checkpoint is None:
        raise InputError("checkpoint must be given: the CHECKPOINT argument, or "
                         "init_checkpoint in --config")
    if not data:
        raise InputError("data must be given: --data, or data = [...] in --config")
    callbacks = run_callbacks(track, tracking_uri)
    settings_list = [t.strip() for t in (trainable or "").split(",") if t.strip()]
    if len(settings_list) > 1 and not run_sweep:
        echo_err("several --trainable settings need --sweep (one run trains one setting)")
        raise typer.Exit(1)
    if run_sweep and not settings_list:
        settings_list = list(SWEEP)
    settings_list = settings_list or ["fc"]

    data_paths = [str(p) for p in data]
    settings = {"progress": not quiet, **settings, "name": name}
    if run_sweep and name is None:
        settings["name"] = f"{Path(data_paths[0]).stem}-transfer"
    config = transfer_config(checkpoint, data_paths, settings_list[0], **settings)
    again = (f"ecg transfer {checkpoint} ... --name {config.run_dir.name} --out {config.out} "
             f"{'--sweep ' if run_sweep else ''}--resume")
    with resumable_run(again):
        if run_sweep:
            def report_run(setting, result):
                t = result.test
                typer.echo(f"{setting:>9}: accuracy {100 * t['accuracy']:.2f} %, "
                           f"{result.trainable_parameters:,} weights learnt, "
                           f"{result.epochs_run} epochs -> {result.run_dir}")

            outcome = sweep(config, settings_list, on_run=report_run, callbacks=callbacks)
            typer.echo(f"{outcome.split}")
            typer.echo(format_sweep(outcome.rows))
            typer.echo(f"saved {outcome.folder / 'sweep.md'}, sweep.json and sweep.png")
            return
        check_target_data(config)
        result = run_training(config, callbacks)
    if result is None:  # a rank other than 0 under torchrun: rank 0 reports
        return
    typer.echo(f"transfer from {checkpoint}, trainable {config.trainable}: "
               f"{result.trainable_parameters:,} weights learnt")
    typer.echo(result.split)
    typer.echo(f"run {result.run_dir}: {result.epochs_run} epochs, {result.iterations} iterations"
               f"{' (early stop)' if result.stopped_early else ''}; best epoch "
               f"{result.best_epoch}, validation macro-F1 {result.best_val_macro_f1:.4f}")
    typer.echo(f"test part ({result.test['n']} beats never trained on), best.pt:")
    typer.echo(format_report(result.test))
