"""Transfer learning: from an arrhythmia checkpoint to another task (MI detection on PTB).

Kachuee et al. (2018) re-use the representation their arrhythmia network learnt on
MIT-BIH to detect myocardial infarction on PTB. Here a transfer run is an ordinary
:func:`ecgnet.train.train` run whose :class:`~ecgnet.train.TrainConfig` has
``init_checkpoint`` (every weight of the source network but its classifier head, which
is new, for the data's classes) and ``trainable`` (which parts learn, see
:data:`ecgnet.models.TRAINABLE`): same loop, run folder, checkpoints, metrics, resume
and determinism as ``ecg train``.

- :func:`transfer_config` / :func:`transfer`: one run (``ecg transfer``);
- :func:`sweep`: every ``trainable`` setting of :data:`SWEEP` plus a from-scratch
  baseline with the same budget, and one comparison table and plot (``ecg transfer
  --sweep``).

The split is ``auto`` by default: by patient when the beats come with patient ids (HDF5
from ``ecg segment --db ptbdb``), stratified by beat otherwise (Kaggle CSV); the run
reports which.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from ecgseg.atomic import atomic_path
from ecgseg.errors import InputError
from ecgseg.oserrors import writing

from .callbacks import TrainCallback
from .checkpoint import load_checkpoint
from .data import load_data
from .jsonfile import write_json
from .train import RunResult, train
from .train_config import TRANSFER_DEFAULTS, TrainConfig

SWEEP = ("head", "fc", "blocks:1", "blocks:2", "blocks:3", "blocks:4", "all")
"""The ``trainable`` settings of a sweep, from fewest to most weights learnt."""
SCRATCH = "scratch"
"""Name of the baseline of a sweep: the same network and budget, randomly initialised."""
METRICS = ("accuracy", "f1", "sensitivity", "specificity", "precision")
"""Figures of the sweep table (fractions; F1, sensitivity and precision of the positive
class for two classes, macro averages otherwise)."""


def setting_dirname(setting: str) -> str:
    """Folder name of a setting: ``blocks:2`` -> ``blocks2``."""
    return setting.replace(":", "")


def transfer_config(checkpoint: str | os.PathLike, data: Sequence[str | os.PathLike] | str,
                    trainable: str = "fc", **settings) -> TrainConfig:
    """The :class:`~ecgnet.train.TrainConfig` of a transfer run.

    Parameters
    ----------
    checkpoint : path
        Source checkpoint (``best.pt`` of an ``ecg train`` run).
    data : path or sequence of paths
        Target beats: HDF5 (``ecg segment --db ptbdb``) and/or Kaggle CSV.
    trainable : str
        ``head``, ``fc`` (the paper's), ``blocks:K`` or ``all``.
    **settings
        Any other :class:`TrainConfig` field. Defaults differing from ``ecg train``:
        :data:`~ecgnet.train_config.TRANSFER_DEFAULTS` (``split="auto"``), ``name="<data stem>-transfer-<trainable>"``; ``model`` is the
        checkpoint's.

    Raises
    ------
    InputError
        Unreadable checkpoint, or ``model`` given and not the checkpoint's.
    """
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    for key, value in TRANSFER_DEFAULTS.items():
        settings.setdefault(key, value)
    if settings.get("name") is None:
        settings["name"] = f"{Path(data[0]).stem}-transfer-{setting_dirname(trainable)}"
    last = Path(settings.get("out", "runs")) / settings["name"] / "last.pt"
    if settings.get("resume") and last.is_file():
        source = load_checkpoint(last)  # resuming needs no source checkpoint
    else:
        source = load_checkpoint(checkpoint)
    if settings.get("model") not in (None, source["model"]):
        raise InputError(f"{checkpoint}: checkpoint of model {source['model']!r}, "
                         f"not {settings['model']!r}")
    settings["model"] = source["model"]
    return TrainConfig(data=[str(p) for p in data], init_checkpoint=str(checkpoint),
                       trainable=trainable, **settings)


def check_target_data(config: TrainConfig) -> None:
    """Fail clearly when the target data lack a class (e.g. only ``ptbdb_abnormal.csv``)."""
    data = load_data(config.data, class_names=config.classes, second_lead=config.second_lead)
    empty = [n for n, c in zip(data.class_names, data.counts()) if c == 0]
    if empty:
        raise InputError(f"{', '.join(data.sources)}: no beats of class {', '.join(empty)} "
                         f"(classes {' '.join(data.class_names)}); give the beats of every "
                         f"class, e.g. ptbdb_normal.csv and ptbdb_abnormal.csv")


def transfer(checkpoint: str | os.PathLike, data: Sequence[str | os.PathLike] | str,
             trainable: str = "fc", callbacks: Iterable[TrainCallback] = (),
             **settings) -> RunResult:
    """Train a model started from ``checkpoint`` on ``data`` (see :func:`transfer_config`).

    ``callbacks`` are those of :func:`ecgnet.train.train` (see :mod:`ecgnet.callbacks`).
    """
    config = transfer_config(checkpoint, data, trainable, **settings)
    check_target_data(config)
    return train(config, callbacks)


def summary(report: dict) -> Dict[str, Optional[float]]:
    """The :data:`METRICS` of a test report (``RunResult.test``)."""
    b = report.get("binary")
    if b:
        return {"accuracy": report["accuracy"], "f1": b["f1"], "sensitivity": b["sensitivity"],
                "specificity": b["specificity"], "precision": b["precision"]}
    m = report["macro"]
    return {"accuracy": report["accuracy"], "f1": m["f1"], "sensitivity": m["recall"],
            "specificity": None, "precision": m["precision"]}


@dataclass
class SweepResult:
    """The outcome of :func:`sweep`.

    Attributes
    ----------
    folder : Path
        ``<out>/<name>``: one run folder per setting, and ``sweep.md``, ``sweep.json``,
        ``sweep.png``.
    rows : list of dict
        One per setting: ``setting``, :data:`METRICS`, ``macro_f1``, ``test_beats``,
        ``trainable_parameters``, ``epochs``, ``best_epoch``, ``iterations``, ``seconds``,
        ``run_dir``.
    runs : dict
        Setting -> :class:`~ecgnet.train.RunResult`.
    split : str
        The split (the same for every run).
    """

    folder: Path
    rows: List[dict]
    runs: Dict[str, RunResult] = field(default_factory=dict)
    split: str = ""


def sweep(base: TrainConfig, settings: Sequence[str] = SWEEP, scratch: bool = True,
          on_run=None, callbacks: Iterable[TrainCallback] = ()) -> SweepResult:
    """Run every ``trainable`` setting from ``base.init_checkpoint``, plus a scratch baseline.

    Parameters
    ----------
    base : TrainConfig
        A transfer configuration (:func:`transfer_config`); its ``name`` is the sweep
        folder, its ``trainable`` is ignored. Every run has its budget (epochs,
        patience, max_iters), seed and split.
    settings : sequence of str
        ``trainable`` settings to run.
    scratch : bool
        Also train the same network from random weights (:data:`SCRATCH`), everything
        trainable.
    on_run : callable, optional
        Called as ``on_run(setting, RunResult)`` after each run (progress output).
    callbacks : iterable of TrainCallback
        Given to every run (see :mod:`ecgnet.callbacks`).

    Returns
    -------
    SweepResult
    """
    if base.init_checkpoint is None:
        raise InputError("a sweep starts from a checkpoint: set init_checkpoint")
    check_target_data(base)
    folder = Path(base.out) / (base.name or f"{Path(base.data[0]).stem}-transfer")
    jobs = [(s, dict(trainable=s)) for s in settings]
    if scratch:
        jobs.append((SCRATCH, dict(trainable="all", init_checkpoint=None)))
    rows, runs, split = [], {}, ""
    for setting, change in jobs:
        config = dataclasses.replace(base, out=str(folder), name=setting_dirname(setting),
                                     **change)
        if config.resume and not (config.run_dir / "last.pt").is_file():
            config = dataclasses.replace(config, resume=False)  # not started yet
        started = time.perf_counter()
        result = train(config, callbacks)
        seconds = time.perf_counter() - started
        runs[setting], split = result, result.split
        rows.append({"setting": setting, **summary(result.test),
                     "macro_f1": result.test["macro"]["f1"], "test_beats": result.test["n"],
                     "trainable_parameters": result.trainable_parameters,
                     "epochs": result.epochs_run, "best_epoch": result.best_epoch,
                     "iterations": result.iterations, "seconds": seconds,
                     "run_dir": str(result.run_dir)})
        if on_run is not None:
            on_run(setting, result)
    from .plots import plot_sweep

    positive = (runs[jobs[0][0]].test.get("binary") or {}).get("positive")
    header = {"split": split, "source": base.init_checkpoint, "data": list(base.data),
              "positive_class": positive, "config": dataclasses.asdict(base)}
    write_json(folder / "sweep.json", {**header, "rows": rows})
    with writing(folder / "sweep.md"), atomic_path(folder / "sweep.md") as tmp:
        tmp.write_text(format_sweep(rows, split, positive) + "\n")
    src = Path(base.init_checkpoint)
    plot_sweep(rows, folder / "sweep.png", title=f"{src.parent.name}/{src.name} -> "
                                                 f"{', '.join(Path(d).stem for d in base.data)}")
    return SweepResult(folder, rows, runs, split)


def format_sweep(rows: Sequence[dict], split: str = "", positive: str | None = None) -> str:
    """The sweep table as Markdown (percentages)."""
    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}"

    lines = []
    if split:
        lines += [f"split: {split}", ""]
    if positive:
        lines += [f"positive class: {positive} (F1, sensitivity, precision of {positive})", ""]
    lines += ["| trainable | accuracy % | F1 % | sensitivity % | specificity % | precision % "
              "| weights learnt | epochs (best) | time s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | " + " | ".join(pct(r[m]) for m in METRICS)
                     + f" | {r['trainable_parameters']:,} | {r['epochs']} ({r['best_epoch']}) "
                       f"| {r['seconds']:.0f} |")
    return "\n".join(lines)

