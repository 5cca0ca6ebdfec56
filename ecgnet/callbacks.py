"""Hooks into a training run: :class:`TrainCallback` and :class:`StopTraining`.

(Interface shared with the training loop; see :func:`ecgnet.train.train`.)
"""

from __future__ import annotations

from pathlib import Path


class TrainCallback:
    """Base class of training callbacks; every method is a no-op."""

    def on_run_start(self, config, run_dir: Path, info: dict) -> None:
        """Called once before the first epoch.

        ``info``: ``{"source": provenance dict of the data file, "class_names": [...],
        "n_parameters": int, "model": str}``.
        """

    def on_epoch_end(self, epoch: int, metrics: dict) -> None:
        """Called after each epoch with ``train_loss``, ``train_accuracy``, ``val_loss``,
        ``val_accuracy``, ``val_macro_f1``, ``val_f1`` ({class: f1}) and ``lr``.
        Raising :class:`StopTraining` ends the run cleanly."""

    def on_run_end(self, result) -> None:
        """Called once with the :class:`ecgnet.train.RunResult`."""


class StopTraining(Exception):
    """Raised by a callback to end the run cleanly after the current epoch."""
