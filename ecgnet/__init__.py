"""ecgnet: the CNN of Kachuee et al. (2018) for heartbeat classification, in PyTorch.

Public API::

    from ecgnet import TrainConfig, train, evaluate, load_model, predict_proba, build_model

- :func:`train` / :class:`TrainConfig`: train a model into a run folder (``ecg train``);
  :class:`TrainCallback` / :class:`StopTraining`: hooks into a run (tracking, tuning);
- :func:`evaluate`: score a checkpoint on beats it never trained on (``ecg evaluate``);
- :func:`load_model` / :func:`predict_proba`: batched inference from a checkpoint;
  :func:`model_inputs` adds the RR features a model such as ``kachuee-rr`` takes;
- :func:`load_pretrained`: a model shipped with the package (:mod:`ecgnet.pretrained`,
  ``ecg models``);
- :func:`predict`: every beat of a raw record, beats HDF5 or CSV (``ecg predict``);
- :func:`build_model`, :func:`register_model`, :func:`replace_head`, :func:`freeze`,
  :func:`frozen_parts`, :func:`load_backbone`: the model registry and the
  transfer-learning helpers;
- :func:`transfer` / :func:`transfer_config` / :func:`sweep`: start from a checkpoint,
  new classifier head, train the chosen parts (``ecg transfer``);
- :func:`tune`: an Optuna study over the training settings (``ecg tune``).

Names are imported on first use (PEP 562), so ``import ecgnet.train_config`` (what the
command line reads to build its options) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_WHERE = {
    "BeatData": "data", "load_data": "data", "model_inputs": "data",
    "DS1": "splits", "DS2": "splits", "make_split": "splits",
    "EvalResult": "evaluate", "evaluate": "evaluate",
    "MODELS": "models", "TRAINABLE": "models", "KachueeNet": "models",
    "KachueeRRNet": "models", "build_model": "models", "freeze": "models",
    "frozen_parts": "models", "register_model": "models", "replace_head": "models",
    "load_backbone": "checkpoint", "load_checkpoint": "checkpoint", "load_model": "checkpoint",
    "save_checkpoint": "checkpoint",
    "predict_proba": "inference", "setup_device": "device",
    "Prediction": "prediction", "predict": "predict",
    "RunResult": "train", "train": "train", "TrainConfig": "train_config",
    "StopTraining": "callbacks", "TrainCallback": "callbacks",
    "SWEEP": "transfer", "SweepResult": "transfer", "sweep": "transfer",
    "transfer": "transfer", "transfer_config": "transfer",
    "tune": "tune", "TuneResult": "tune",
    "load_pretrained": "pretrained",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:  # pragma: no cover
    from .callbacks import StopTraining, TrainCallback
    from .checkpoint import load_backbone, load_checkpoint, load_model, save_checkpoint
    from .data import BeatData, load_data, model_inputs
    from .device import setup_device
    from .evaluate import EvalResult, evaluate
    from .inference import predict_proba
    from .models import (MODELS, TRAINABLE, KachueeNet, KachueeRRNet, build_model, freeze,
                         frozen_parts, register_model, replace_head)
    from .predict import predict
    from .pretrained import load_pretrained
    from .prediction import Prediction
    from .splits import DS1, DS2, make_split
    from .train import RunResult, train
    from .train_config import TrainConfig
    from .transfer import SWEEP, SweepResult, sweep, transfer, transfer_config
    from .tune import TuneResult, tune
