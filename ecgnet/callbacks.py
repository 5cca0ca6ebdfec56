"""Hooks into a training run: tracking (TensorBoard, MLflow) and tuning (Optuna pruning).

A callback is any object with the three methods of :class:`TrainCallback` (subclass it
and override what you need); give them to :func:`ecgnet.train.train` or
:func:`ecgnet.transfer.transfer` as ``callbacks=[...]``. They are called in order:

1. ``on_run_start(config, run_dir, info)`` once, after the run folder is ready;
2. ``on_epoch_end(epoch, metrics)`` after every epoch, once its checkpoints are saved;
   raising :class:`StopTraining` there ends the run cleanly: the run is tested with its
   ``best.pt`` and ``on_run_end`` is called as for any other end;
3. ``on_run_end(result)`` with the :class:`~ecgnet.train.RunResult`.

Examples
--------
>>> class Losses(TrainCallback):
...     def __init__(self):
...         self.val_loss = []
...     def on_epoch_end(self, epoch, metrics):
...         self.val_loss.append(metrics["val_loss"])
...         if epoch >= 3:
...             raise StopTraining("three epochs are enough")
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .train import RunResult
    from .train_config import TrainConfig

EPOCH_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_macro_f1",
                 "val_f1", "lr")
"""Keys of the ``metrics`` dict given to :meth:`TrainCallback.on_epoch_end`."""


class StopTraining(Exception):
    """Raised by a callback's ``on_epoch_end`` to end the run after that epoch (e.g. a
    pruned Optuna trial). The message, if any, is kept in ``RunResult.stopped_by``."""


class TrainCallback:
    """Base class of training callbacks: every method does nothing."""

    def on_run_start(self, config: "TrainConfig", run_dir: Path, info: dict) -> None:
        """The run starts (or resumes).

        Parameters
        ----------
        config : TrainConfig
        run_dir : Path
            The run folder (``config.json`` is written).
        info : dict
            ``source``: provenance of the (first) data file (path, format and, for HDF5,
            database, recipe, params, fs ...); ``sources``: that of every data file;
            ``class_names``: list of str; ``n_parameters``: int (all weights);
            ``model``: str (registered name); ``start_epoch``: epochs already done
            (resume).
        """

    def on_epoch_end(self, epoch: int, metrics: dict) -> None:
        """An epoch ended; ``best.pt``/``last.pt`` and ``metrics.jsonl`` are up to date.

        Parameters
        ----------
        epoch : int
            1-based.
        metrics : dict
            Floats ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``,
            ``val_macro_f1``, ``lr`` and ``val_f1``: {class name: F1 on validation}.

        Raises
        ------
        StopTraining
            To end the run after this epoch.
        """

    def on_run_end(self, result: "RunResult") -> None:
        """The run ended and was tested: ``result.test`` (with its ``confusion_matrix``),
        ``result.best_checkpoint``, ``result.run_dir``, ``result.history``."""


class CallbackList(TrainCallback):
    """Several callbacks called in order, as one."""

    def __init__(self, callbacks: Iterable[TrainCallback] = ()):
        self.callbacks: Sequence[TrainCallback] = list(callbacks)

    def on_run_start(self, config, run_dir, info) -> None:  # noqa: D102
        for cb in self.callbacks:
            cb.on_run_start(config, run_dir, info)

    def on_epoch_end(self, epoch, metrics) -> None:  # noqa: D102
        stop = None
        for cb in self.callbacks:  # every callback sees the epoch, even after a stop
            try:
                cb.on_epoch_end(epoch, metrics)
            except StopTraining as exc:
                stop = stop or exc
        if stop is not None:
            raise stop

    def on_run_end(self, result) -> None:  # noqa: D102
        for cb in self.callbacks:
            cb.on_run_end(result)


__all__ = ["CallbackList", "EPOCH_METRICS", "StopTraining", "TrainCallback"]
