"""``ecg tune``: an Optuna study over the training settings (:mod:`ecgnet.tune`).

The training options (``--epochs``, ``--split``, ``--threads`` ... and ``--config``) set
the base of every trial, as for ``ecg train``; ``--space`` names what the study varies.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import Quiet, echo_err, stops_cleanly
from .train_options import Track, TrackingUri, config_options


@config_options(exclude=("resume", "overwrite"))
@stops_cleanly
def tune(
    data: Annotated[Optional[List[Path]], typer.Argument(
        help="Beats, as for `ecg train` \\[default: data of --config].",
        show_default=False)] = None,
    trials: Annotated[Optional[int], typer.Option(
        "--trials", help="Trials this process runs (others sharing --storage add theirs) "
                         "\\[default: 20; none with --timeout].", show_default=False)] = None,
    timeout: Annotated[Optional[float], typer.Option(
        "--timeout", help="Seconds after which no new trial starts.")] = None,
    space: Annotated[Optional[List[str]], typer.Option(
        "--space", help="Settings the study varies, comma-separated: lr, batch_size, "
                        "weight_decay, class_weights, augment, jitter, ema, model "
                        "\\[default: all of them].", show_default=False)] = None,
    storage: Annotated[Optional[str], typer.Option(
        "--storage", help="Optuna storage URL shared by the processes of one study, e.g. "
                          "sqlite:///study.db or postgresql://... "
                          "\\[default: sqlite:///<tune folder>/study.db].",
        show_default=False)] = None,
    study: Annotated[Optional[str], typer.Option(
        "--study", help="Study name; the same name and storage continue the study "
                        "\\[default: the tune folder's name].", show_default=False)] = None,
    name: Annotated[Optional[str], typer.Option(
        "--name", help="Tune folder <out>/tune-NAME \\[default: the data file's stem].",
        show_default=False)] = None,
    sampler_seed: Annotated[Optional[int], typer.Option(
        "--sampler-seed", help="Seed of the TPE sampler (default random, so that parallel "
                               "processes try different settings).")] = None,
    track: Track = None,
    tracking_uri: TrackingUri = None,
    quiet: Quiet = False,
    settings: dict = None,
) -> None:
    """Tune the training settings with Optuna, maximising validation macro-F1; poor trials are pruned early.

    Each trial is a training run in <out>/tune-NAME/trials/.
    The study is stored in <out>/tune-NAME/study.db (or --storage): run the command again to continue it, or start several processes on one storage to share the work.
    Writes best.toml (for ecg train --config), trials.csv, history.png and importances.png.
    """
    import logging

    from ecgnet.tracking import make_trackers
    from ecgnet.train import TrainConfig
    from ecgnet.tune import trial_line, tune as run_tune
    from ecgseg.errors import InputError

    if not data:
        raise InputError("data must be given: the DATA argument, or data = [...] in --config")
    base = TrainConfig(data=[str(p) for p in data], **{"progress": False, **settings})
    make_trackers(track or [], None, tracking_uri)  # fail now on a bad --track
    n_trials = trials if trials is not None else (None if timeout else 20)
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)

    def report(study_, trial):
        if not quiet:
            typer.echo(trial_line(study_, trial))

    try:
        result = run_tune(base, n_trials=n_trials, timeout=timeout, space=space,
                          storage=storage, study_name=study, name=name,
                          callbacks=lambda: make_trackers(track or [], None, tracking_uri),
                          on_trial=report, seed=sampler_seed)
    except KeyboardInterrupt:
        echo_err("interrupted; run the same command again to continue the study")
        raise typer.Exit(130)
    typer.echo(f"study {result.study_name} ({result.storage}): {result.n_trials} trials, "
               f"{result.n_complete} complete, {result.n_pruned} pruned")
    if result.best_config is not None:
        params = ", ".join(f"{k}={v}" for k, v in result.best_params.items())
        typer.echo(f"best validation macro-F1 {result.best_value:.4f}: {params}")
        typer.echo(f"saved {result.best_config} (ecg train --config {result.best_config}), "
                   + ", ".join(p.name for p in result.plots) + ", trials.csv")
