"""Experiment tracking: training callbacks that log a run to TensorBoard and MLflow.

Both trackers implement :class:`ecgnet.callbacks.TrainCallback` and log the same things:
the whole configuration as hyper-parameters, every epoch metric (losses, accuracies,
macro-F1, per-class F1, learning rate), the final test metrics, and the confusion
matrix and learning curves as images. :class:`MLflowTracker` also stores the best
checkpoint as an artifact and the data's provenance (recipe, detector, source sha256)
as tags.

* TensorBoard: event files in the run folder (``tensorboard --logdir runs`` shows all runs).
* MLflow: by default a local SQLite store under ``<run folder>/mlruns`` (artifacts beside
  it); ``tracking_uri`` sends the run to a server (``http://host:5000``) or another store.

Both libraries are optional: ``pip install "ecg-toolkit[tracking]"``.

Example
-------
>>> trackers = make_trackers(["none"], "runs/demo")
>>> trackers
[]
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from ecgseg.errors import InputError

from .callbacks import TrainCallback

INSTALL_HINT = 'pip install "ecg-toolkit[tracking]"'


# ------------------------------------------------------------------ what is logged (pure)

def config_params(config) -> Dict[str, object]:
    """The configuration as flat hyper-parameters: scalars kept, lists/None as text.

    Parameters
    ----------
    config : dataclass or dict
        A :class:`~ecgnet.train.TrainConfig` (or its ``asdict``).
    """
    items = asdict(config) if is_dataclass(config) else dict(config or {})
    out: Dict[str, object] = {}
    for key, value in items.items():
        if isinstance(value, bool) or isinstance(value, (int, float, str)):
            out[key] = value
        else:
            out[key] = json.dumps(value, default=str)
    return out


def epoch_scalars(metrics: dict) -> Dict[str, float]:
    """Epoch metrics as flat, slash-grouped scalar names.

    ``train_loss`` -> ``train/loss``, ``val_macro_f1`` -> ``val/macro_f1``, ``val_f1``
    ``{"N": ...}`` -> ``val/f1_N``, ``lr`` -> ``lr``; non-numbers are left out.

    Examples
    --------
    >>> epoch_scalars({"train_loss": 0.5, "val_f1": {"N": 0.9}, "lr": 0.001})
    {'train/loss': 0.5, 'val/f1_N': 0.9, 'lr': 0.001}
    """
    out: Dict[str, float] = {}
    for key, value in metrics.items():
        prefix, _, rest = key.partition("_")
        name = f"{prefix}/{rest}" if prefix in ("train", "val") and rest else key
        if isinstance(value, dict):
            for cls, v in value.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[f"{name}_{cls}"] = float(v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def final_scalars(report: dict) -> Dict[str, float]:
    """Final test figures of a report (:func:`ecgnet.metrics.classification_report`):
    ``test/accuracy``, ``test/macro_f1`` (precision, recall, ROC AUC) and ``test/f1_<class>``."""
    out: Dict[str, float] = {}
    if report.get("accuracy") is not None:
        out["test/accuracy"] = float(report["accuracy"])
    for key, value in (report.get("macro") or {}).items():
        if value is not None:
            out[f"test/macro_{key}"] = float(value)
    for cls, figures in (report.get("per_class") or {}).items():
        if figures.get("f1") is not None:
            out[f"test/f1_{cls}"] = float(figures["f1"])
    return {k: v for k, v in out.items() if math.isfinite(v)}


def provenance_tags(source) -> Dict[str, str]:
    """Tags from the data file's provenance: ``data.recipe``, ``data.detector``,
    ``data.source_sha256``, ``data.database`` ... (the first source when there are several)."""
    if isinstance(source, (list, tuple)):
        source = source[0] if source else {}
    tags: Dict[str, str] = {}
    for key, value in (source or {}).items():
        if value is None or isinstance(value, (dict, list)):
            continue
        tags[f"data.{key}"] = str(value)[:500]
    return tags


def _run_images(result, folder: Path) -> Dict[str, Path]:
    """Render the confusion matrix and the learning curves of a RunResult as PNGs."""
    from .plots import plot_confusion_matrix, plot_learning_curves

    images = {}
    report = getattr(result, "test", None) or {}
    if report.get("confusion_matrix") is not None:
        images["confusion_matrix"] = plot_confusion_matrix(
            np.asarray(report["confusion_matrix"]), report.get("class_names") or
            [str(i) for i in range(len(report["confusion_matrix"]))],
            folder / "confusion_matrix.png", title="test part, best checkpoint")
    history = getattr(result, "history", None) or []
    if history and all(k in history[0] for k in ("train_loss", "val_loss", "val_accuracy",
                                                 "val_macro_f1")):
        images["learning_curves"] = plot_learning_curves(history, folder / "learning_curves.png")
    return images


# ------------------------------------------------------------------------ trackers

class TensorBoardTracker(TrainCallback):
    """Log a run as TensorBoard event files in its run folder.

    Parameters
    ----------
    run_dir : path, optional
        Where the event files go (default: the ``run_dir`` of ``on_run_start``).

    Raises
    ------
    InputError
        ``tensorboard`` is not installed (the message names ``track``).
    """

    name = "tensorboard"

    def __init__(self, run_dir: str | os.PathLike | None = None):
        try:
            from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package
        except ImportError:
            raise InputError(f"track tensorboard needs the tensorboard package: "
                             f"{INSTALL_HINT}") from None
        self._writer_class = SummaryWriter
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.writer = None
        self.params: Dict[str, object] = {}

    def on_run_start(self, config, run_dir: Path, info: dict) -> None:  # noqa: D102
        self.run_dir = Path(run_dir) if run_dir is not None else self.run_dir
        self.writer = self._writer_class(log_dir=str(self.run_dir))
        self.params = config_params(config)
        self.params.update({k: v for k, v in (("model", info.get("model")),
                                              ("n_parameters", info.get("n_parameters")))
                            if v is not None})
        text = "\n".join(f"    {k} = {v}" for k, v in self.params.items())
        self.writer.add_text("config", text, 0)
        tags = provenance_tags(info.get("source"))
        if tags:
            self.writer.add_text("data", "\n".join(f"    {k} = {v}" for k, v in tags.items()), 0)
        self.writer.flush()

    def on_epoch_end(self, epoch: int, metrics: dict) -> None:  # noqa: D102
        for tag, value in epoch_scalars(metrics).items():
            self.writer.add_scalar(tag, value, epoch)
        self.writer.flush()

    def on_run_end(self, result) -> None:  # noqa: D102
        from torch.utils.tensorboard.summary import hparams
        import matplotlib.image

        final = final_scalars(getattr(result, "test", None) or {})
        step = int(getattr(result, "best_epoch", 0) or 0)
        for tag, value in final.items():
            self.writer.add_scalar(tag, value, step)
        for summary in hparams(self.params, final):
            self.writer.file_writer.add_summary(summary)
        with tempfile.TemporaryDirectory() as tmp:
            for tag, png in _run_images(result, Path(tmp)).items():
                image = matplotlib.image.imread(png)[..., :3]
                self.writer.add_image(tag, image, step, dataformats="HWC")
        self.writer.close()


class MLflowTracker(TrainCallback):
    """Log a run to MLflow: parameters, metrics per epoch, test metrics, images, the best
    checkpoint, provenance tags.

    Parameters
    ----------
    run_dir : path, optional
        The run folder (default: the ``run_dir`` of ``on_run_start``).
    tracking_uri : str, optional
        An MLflow tracking URI (``http://127.0.0.1:5000``, ``sqlite:///...``). Default: a
        SQLite store ``<run_dir>/mlruns/mlflow.db``, artifacts in ``<run_dir>/mlruns/artifacts``.
    experiment : str
        Experiment name (created when missing).

    Raises
    ------
    InputError
        ``mlflow`` is not installed (the message names ``track``).
    """

    name = "mlflow"

    def __init__(self, run_dir: str | os.PathLike | None = None,
                 tracking_uri: Optional[str] = None, experiment: str = "ecg"):
        try:
            import mlflow  # noqa: F401
        except ImportError:
            raise InputError(f"track mlflow needs the mlflow package: {INSTALL_HINT}") from None
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.client = None
        self.run_id: Optional[str] = None

    def default_uri(self) -> str:
        """``sqlite:///<run_dir>/mlruns/mlflow.db`` (absolute path)."""
        return f"sqlite:///{(self.run_dir / 'mlruns' / 'mlflow.db').resolve()}"

    def on_run_start(self, config, run_dir: Path, info: dict) -> None:  # noqa: D102
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        self.run_dir = Path(run_dir) if run_dir is not None else self.run_dir
        local = self.tracking_uri is None
        if local:
            (self.run_dir / "mlruns").mkdir(parents=True, exist_ok=True)
        uri = self.default_uri() if local else self.tracking_uri
        self.client = MlflowClient(tracking_uri=uri)
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is not None:
            exp_id = exp.experiment_id
        else:
            location = (self.run_dir / "mlruns" / "artifacts").resolve().as_uri() if local else None
            exp_id = self.client.create_experiment(self.experiment, artifact_location=location)
        tags = {"model": str(info.get("model", "")), "run_dir": str(self.run_dir),
                **provenance_tags(info.get("source"))}
        if info.get("class_names"):
            tags["class_names"] = ",".join(map(str, info["class_names"]))
        run = self.client.create_run(exp_id, run_name=self.run_dir.name, tags=tags)
        self.run_id = run.info.run_id
        params = config_params(config)
        if info.get("n_parameters") is not None:
            params["n_parameters"] = info["n_parameters"]
        self.client.log_batch(self.run_id, params=[Param(k, str(v)[:6000])
                                                   for k, v in params.items()])

    def on_epoch_end(self, epoch: int, metrics: dict) -> None:  # noqa: D102
        from mlflow.entities import Metric
        import time

        now = int(time.time() * 1000)
        batch = [Metric(k, v, now, epoch) for k, v in epoch_scalars(metrics).items()]
        self.client.log_batch(self.run_id, metrics=batch)

    def on_run_end(self, result) -> None:  # noqa: D102
        from mlflow.entities import Metric
        import time

        now = int(time.time() * 1000)
        step = int(getattr(result, "best_epoch", 0) or 0)
        final = final_scalars(getattr(result, "test", None) or {})
        if final:
            self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, step)
                                                        for k, v in final.items()])
        self.client.set_tag(self.run_id, "best_epoch", str(step))
        with tempfile.TemporaryDirectory() as tmp:
            for png in _run_images(result, Path(tmp)).values():
                self.client.log_artifact(self.run_id, str(png), "figures")
        run_dir = Path(getattr(result, "run_dir", None) or self.run_dir)
        best = run_dir / "best.pt"
        if best.is_file():
            self.client.log_artifact(self.run_id, str(best), "checkpoint")
        self.client.set_terminated(self.run_id, "FINISHED")


TRACKERS: Dict[str, Callable[..., TrainCallback]] = {
    "tensorboard": lambda run_dir, tracking_uri: TensorBoardTracker(run_dir),
    "mlflow": lambda run_dir, tracking_uri: MLflowTracker(run_dir, tracking_uri),
}
"""``--track`` name -> ``f(run_dir, tracking_uri) -> TrainCallback``."""


def make_trackers(names: Sequence[str], run_dir: str | os.PathLike | None = None,
                  tracking_uri: Optional[str] = None) -> List[TrainCallback]:
    """Build the trackers named by ``--track`` (``tensorboard``, ``mlflow``, ``none``).

    Parameters
    ----------
    names : sequence of str
        Tracker names, each also comma-separated (``["tensorboard,mlflow"]``); ``none``
        adds nothing; duplicates count once.
    run_dir : path, optional
        The run folder (event files, the default MLflow store).
    tracking_uri : str, optional
        MLflow tracking URI (default: a local store in the run folder).

    Returns
    -------
    list of TrainCallback

    Raises
    ------
    InputError
        An unknown name, or a library that is not installed (both name ``track``).
    """
    wanted: List[str] = []
    for item in names or []:
        for name in str(item).split(","):
            name = name.strip().lower()
            if not name or name == "none" or name in wanted:
                continue
            if name not in TRACKERS:
                raise InputError(f"unknown track {name!r}; choose from: "
                                 f"{', '.join([*TRACKERS, 'none'])}")
            wanted.append(name)
    return [TRACKERS[name](run_dir, tracking_uri) for name in wanted]
