"""Hyper-parameter tuning with Optuna: a study over the training settings that matter,
maximising validation macro-F1, with a pruner that stops poor trials early.

Each trial is an ordinary training run (:func:`ecgnet.train.train`) in
``<tune folder>/trials/trial-NNNN``: the base :class:`~ecgnet.train.TrainConfig` with the
trial's sampled settings. A :class:`PruningCallback` reports every epoch's validation
macro-F1 to Optuna and, when the pruner says so, ends the run
(:class:`~ecgnet.callbacks.StopTraining`); the trial is then marked pruned.

The study lives in an Optuna storage (default: SQLite ``<tune folder>/study.db``):
running :func:`tune` again with the same folder (or storage and study name) continues the
study, and several processes given one storage URL work on the same study. After the
trials, the tune folder holds ``best.toml`` (the best trial's settings, read by
``ecg train --config best.toml``), ``trials.csv``, ``history.png`` (optimisation
history) and ``importances.png`` (parameter importances, once two trials completed).

The search space is a registry (:data:`SPACE`): name -> a function sampling TrainConfig
values from a trial. :data:`DEFAULT_SPACE` uses all of them.

Optuna is optional: ``pip install "ecg-toolkit[tuning]"``.

Example
-------
>>> sorted(SPACE) == sorted(DEFAULT_SPACE)
True
>>> parse_space("lr,batch_size")
['lr', 'batch_size']
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

from ecgseg.atomic import atomic_path
from ecgseg.errors import InputError

from .callbacks import StopTraining, TrainCallback
from .config_file import ConfigFileWriter, resolved_settings, write_config
from .train_config import TrainConfig

INSTALL_HINT = 'pip install "ecg-toolkit[tuning]"'
PRUNED = "pruned by optuna"
# The study's summary files (best.toml, trials.csv, the plots) are rewritten from the shared
# study by every process working on it: one that finds another writing them waits, s.
SUMMARY_WAIT_S = 120.0
TUNABLE_MODELS = ("kachuee", "deep-cnn", "cnn-lstm")
"""Models the ``model`` dimension chooses from (those that need nothing but the beats)."""


def _float(name, low, high, log=False):
    return lambda trial: {name: trial.suggest_float(name, low, high, log=log)}


SPACE: Dict[str, Callable[[Any], Dict[str, Any]]] = {
    "lr": _float("lr", 1e-4, 1e-2, log=True),
    "batch_size": lambda t: {"batch_size": t.suggest_categorical("batch_size", [32, 64, 128, 256])},
    "weight_decay": lambda t: {"weight_decay": t.suggest_categorical(
        "weight_decay", [0.0, 1e-6, 1e-5, 1e-4, 1e-3])},
    "class_weights": lambda t: {"class_weights": t.suggest_categorical(
        "class_weights", ["none", "sqrt", "balanced"])},
    "augment": lambda t: {"augment": t.suggest_categorical("augment", [0.0, 0.1, 0.25, 0.5])},
    "jitter": lambda t: {"jitter": t.suggest_categorical("jitter", [0.0, 0.25, 0.5])},
    "ema": lambda t: {"ema": t.suggest_categorical("ema", [0.0, 0.99, 0.999])},
    "model": lambda t: {"model": t.suggest_categorical("model", list(TUNABLE_MODELS))},
}
"""Search dimensions: name -> ``f(trial) -> {TrainConfig field: value}``. Ranges: ``lr``
1e-4..1e-2 (log), ``batch_size`` 32/64/128/256, ``weight_decay`` 0/1e-6/1e-5/1e-4/1e-3,
``class_weights`` none/sqrt/balanced (class-weight strength), ``augment`` 0/0.1/0.25/0.5,
``jitter`` 0/0.25/0.5, ``ema`` 0/0.99/0.999, ``model`` kachuee/deep-cnn/cnn-lstm."""

DEFAULT_SPACE = tuple(SPACE)
"""Every dimension of :data:`SPACE`."""


def parse_space(spec: Optional[Iterable[str] | str]) -> List[str]:
    """Dimension names from ``"lr,batch_size"`` (or a list of such strings); the default
    space when empty.

    Raises
    ------
    InputError
        An unknown name (the message names ``space``).
    """
    if isinstance(spec, str):
        spec = [spec]
    names = [n.strip() for item in (spec or []) for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in SPACE]
    if unknown:
        raise InputError(f"space: unknown dimension {unknown[0]!r}; choose from: "
                         f"{', '.join(SPACE)}")
    return list(dict.fromkeys(names)) or list(DEFAULT_SPACE)


def _optuna():
    try:
        import optuna
    except ImportError:
        raise InputError(f"ecg tune needs the optuna package: {INSTALL_HINT}") from None
    return optuna


class PruningCallback(TrainCallback):
    """Report each epoch's validation macro-F1 to an Optuna trial; end the run
    (:class:`StopTraining`) when the study's pruner says the trial is poor.

    Parameters
    ----------
    trial : optuna.Trial
    metric : str
        Key of the epoch metrics to report (maximised).
    """

    def __init__(self, trial, metric: str = "val_macro_f1"):
        self.trial = trial
        self.metric = metric
        self.pruned_at: Optional[int] = None

    def on_epoch_end(self, epoch: int, metrics: dict) -> None:  # noqa: D102
        self.trial.report(float(metrics[self.metric]), epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch
            raise StopTraining(f"{PRUNED} after epoch {epoch}")


@dataclass
class TuneResult:
    """The outcome of :func:`tune`.

    Attributes
    ----------
    folder : Path
        The tune folder (``best.toml``, ``trials.csv``, plots, ``trials/``).
    study_name, storage : str
    n_trials : int
        Trials in the study (all processes, all sessions), any state.
    n_complete, n_pruned : int
    best_value : float or None
        Best validation macro-F1 (None before a trial completed).
    best_params : dict
    best_config : Path or None
        ``best.toml``.
    plots : list of Path
    """

    folder: Path
    study_name: str
    storage: str
    n_trials: int
    n_complete: int
    n_pruned: int
    best_value: Optional[float]
    best_params: Dict[str, Any]
    best_config: Optional[Path]
    plots: List[Path]


def tune_folder(base: TrainConfig, name: Optional[str] = None) -> Path:
    """``<base.out>/tune-<name or data stem>``."""
    return Path(base.out) / f"tune-{name or Path(base.data[0]).stem}"


def trial_config(base: TrainConfig, values: Dict[str, Any], folder: Path,
                 number: int) -> TrainConfig:
    """The TrainConfig of trial ``number``: ``base`` with the sampled ``values``, in
    ``<folder>/trials/trial-NNNN`` (replaced if it exists), no progress bar."""
    return replace(base, **values, out=str(folder / "trials"), name=f"trial-{number:04d}",
                   overwrite=True, resume=False, progress=False)


def default_storage(folder: Path) -> str:
    """``sqlite:///<folder>/study.db`` (absolute path)."""
    return f"sqlite:///{(folder / 'study.db').resolve()}"


def open_storage(url: str, attempts: int = 8):
    """An Optuna RDB storage at ``url``, safe to open from several processes at once.

    SQLite gets a 60 s busy timeout (writers of parallel trials wait for each other);
    when two processes create the tables of a new database at the same moment, the
    loser retries (the tables then exist).

    Raises
    ------
    InputError
        An unusable URL (the message names ``storage``).
    """
    import random
    import time

    optuna = _optuna()
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except Exception as exc:  # sqlalchemy's errors: not importable without its extras
            # A bad URL fails at once; anything else (tables or alembic's version row being
            # created by another process: OperationalError, IntegrityError) is retried.
            fatal = isinstance(exc, (ValueError, ImportError)) or type(exc).__name__ in (
                "ArgumentError", "NoSuchModuleError")
            if fatal or attempt == attempts - 1:
                raise InputError(f"storage {url!r}: {type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0]}") from None
            time.sleep(0.2 + random.random())


def tune(base: TrainConfig, n_trials: Optional[int] = 20, timeout: Optional[float] = None,
         space: Optional[Sequence[str]] = None, storage: Optional[str] = None,
         study_name: Optional[str] = None, name: Optional[str] = None,
         callbacks: Callable[[], Sequence[TrainCallback]] = lambda: (),
         on_trial: Optional[Callable[[Any, Any], None]] = None, seed: Optional[int] = None,
         pruner_startup_trials: int = 2, pruner_warmup_epochs: int = 1) -> TuneResult:
    """Run (or continue) an Optuna study over the training settings.

    Parameters
    ----------
    base : TrainConfig
        Settings of every trial (data, split, epochs ...); the space's dimensions replace
        theirs.
    n_trials : int, optional
        Trials this call runs (other processes on the same storage add theirs); None:
        until ``timeout``.
    timeout : float, optional
        Seconds after which this call starts no new trial.
    space : sequence of str, optional
        Dimensions of :data:`SPACE` (default :data:`DEFAULT_SPACE`).
    storage : str, optional
        Optuna storage URL (default :func:`default_storage` of the tune folder).
    study_name : str, optional
        Default: the tune folder's name.
    name : str, optional
        Tune folder ``<base.out>/tune-<name>`` (default: the data file's stem).
    callbacks : callable
        Returns fresh training callbacks for each trial (e.g. trackers).
    on_trial : callable, optional
        ``on_trial(study, frozen_trial)`` after each trial (progress lines).
    seed : int, optional
        Seed of the TPE sampler (None: random, so that parallel workers differ).
    pruner_startup_trials, pruner_warmup_epochs : int
        :class:`optuna.pruners.MedianPruner`: no pruning before this many trials
        completed, nor before this many epochs of a trial.

    Returns
    -------
    TuneResult

    Raises
    ------
    InputError
        optuna missing, an unknown dimension, ``n_trials`` below 1, a bad storage URL.
    """
    optuna = _optuna()
    if n_trials is not None and n_trials < 1:
        raise InputError("trials must be at least 1")
    if timeout is not None and timeout <= 0:
        raise InputError("timeout must be positive")
    dims = parse_space(space)
    folder = tune_folder(base, name)
    folder.mkdir(parents=True, exist_ok=True)
    storage = storage or default_storage(folder)
    study_name = study_name or folder.name
    study = optuna.create_study(
        study_name=study_name, storage=open_storage(storage), direction="maximize",
        load_if_exists=True, sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=pruner_startup_trials,
                                           n_warmup_steps=pruner_warmup_epochs))
    from .train import train

    def objective(trial) -> float:
        values: Dict[str, Any] = {}
        for dim in dims:
            values.update(SPACE[dim](trial))
        config = trial_config(base, values, folder, trial.number)
        pruning = PruningCallback(trial)
        result = train(config, [pruning, ConfigFileWriter(), *callbacks()])
        trial.set_user_attr("run_dir", str(result.run_dir))
        trial.set_user_attr("test_accuracy", result.test.get("accuracy"))
        if pruning.pruned_at is not None:
            raise optuna.TrialPruned(f"epoch {pruning.pruned_at}")
        return float(result.best_val_macro_f1)

    hooks = [on_trial] if on_trial is not None else []
    study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=hooks,
                   catch=())
    return summarise(study, base, folder, storage)


def summarise(study, base: TrainConfig, folder: Path, storage: str) -> TuneResult:
    """Write ``best.toml``, ``trials.csv`` and the plots of a study; its :class:`TuneResult`."""
    optuna = _optuna()
    states = [t.state for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best_config, best_value, best_params = None, None, {}
    if complete:
        best = study.best_trial
        best_value, best_params = best.value, dict(best.params)
        config = replace(base, **best_params, name=f"{folder.name}-best", overwrite=False,
                         resume=False)
        best_config = write_config(
            resolved_settings(config), folder / "best.toml", overwrite=True,
            header=f"Best trial {best.number} of study {study.study_name}: validation "
                   f"macro-F1 {best.value:.4f}\nTrain it with: ecg train --config "
                   f"{folder / 'best.toml'}", wait_s=SUMMARY_WAIT_S)
    frame = study.trials_dataframe()
    with atomic_path(folder / "trials.csv", wait_s=SUMMARY_WAIT_S) as tmp:
        frame.to_csv(tmp, index=False)
    plots = write_plots(study, folder) if complete else []
    return TuneResult(folder=folder, study_name=study.study_name, storage=storage,
                      n_trials=len(states), n_complete=len(complete),
                      n_pruned=sum(s == optuna.trial.TrialState.PRUNED for s in states),
                      best_value=best_value, best_params=best_params, best_config=best_config,
                      plots=plots)


def write_plots(study, folder: Path) -> List[Path]:
    """``history.png`` (optimisation history) and, with two or more completed trials and a
    varying parameter, ``importances.png`` (fANOVA parameter importances)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    written = []
    plots = [("history.png", ovm.plot_optimization_history)]
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(complete) >= 2 and any(len({repr(t.params.get(k)) for t in complete}) > 1
                                  for k in complete[0].params):
        plots.append(("importances.png", ovm.plot_param_importances))
    for filename, plot in plots:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna's "experimental" warnings
            ax = plot(study)
        fig = ax.figure
        fig.set_size_inches(8, 5)
        fig.tight_layout()
        path = folder / filename
        with atomic_path(path, wait_s=SUMMARY_WAIT_S) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        written.append(path)
    return written


def trial_line(study, trial) -> str:
    """One progress line after a trial: its state and value, the best so far, the count.

    Examples
    --------
    >>> class T:  # a stand-in for optuna's FrozenTrial
    ...     number, value, params = 3, 0.8123, {"lr": 0.002}
    ...     class state: name = "COMPLETE"
    >>> class S:
    ...     trials = [T] * 4
    ...     best_trial = T
    >>> trial_line(S, T)
    'trial 3 complete: val macro-F1 0.8123 (lr=0.002); best 0.8123 (trial 3); 4 trials in the study'
    """
    state = trial.state.name.lower()
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in trial.params.items())
    value = f"val macro-F1 {trial.value:.4f}" if trial.value is not None else "no value"
    if state == "pruned" and getattr(trial, "last_step", None) is not None:
        value = f"after epoch {trial.last_step}, {value}"
    try:
        best = study.best_trial
        best_text = f"best {best.value:.4f} (trial {best.number})"
    except ValueError:
        best_text = "no completed trial yet"
    return (f"trial {trial.number} {state}: {value} ({params}); {best_text}; "
            f"{len(study.trials)} trials in the study")


__all__ = ["DEFAULT_SPACE", "PruningCallback", "SPACE", "TUNABLE_MODELS", "TuneResult",
           "default_storage", "open_storage", "parse_space", "summarise", "trial_config",
           "trial_line", "tune", "tune_folder", "write_plots"]
