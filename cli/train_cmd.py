"""``ecg train``: train the paper's CNN (or another registered model) on labelled beats.

Its training options are generated from :class:`~ecgnet.train_config.TrainConfig`
(:func:`cli.train_options.config_options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import Quiet, resumable_run
from .train_options import Track, TrackingUri, config_options, run_callbacks


@config_options()
def train(
    data: Annotated[Optional[List[Path]], typer.Argument(
        help="Beats: HDF5 from `ecg segment` and/or Kaggle-format CSV (188 values a line, "
             "label last). Several files are concatenated \\[default: data of --config].",
        show_default=False)] = None,
    track: Track = None,
    tracking_uri: TrackingUri = None,
    quiet: Quiet = False,
    settings: dict = None,
) -> None:
    """Train a heartbeat classifier; keep the best model on validation macro-F1 and test it."""
    from ecgnet.evaluate import format_report
    from ecgnet.train import TrainConfig, train as run_training
    from ecgseg.errors import InputError

    if not data:
        raise InputError("data must be given: the DATA argument, or data = [...] in --config")
    settings = {"progress": not quiet, **settings}
    config = TrainConfig(data=[str(p) for p in data], **settings)
    with resumable_run(f"ecg train ... --name {config.run_dir.name} --out {config.out} --resume"):
        result = run_training(config, run_callbacks(track, tracking_uri))
    if result is None:  # a rank other than 0 under torchrun: rank 0 reports
        return
    typer.echo(f"run {result.run_dir}: {result.epochs_run} epochs, {result.iterations} iterations"
               f"{' (early stop)' if result.stopped_early else ''}; best epoch "
               f"{result.best_epoch}, validation macro-F1 {result.best_val_macro_f1:.4f}; "
               f"{result.train_beats_per_s:.0f} training beats/s")
    typer.echo(f"test part ({result.test['n']} beats never trained on), best.pt:")
    typer.echo(format_report(result.test))
