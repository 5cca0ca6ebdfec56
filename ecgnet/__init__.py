"""ecgnet: the CNN of Kachuee et al. (2018) for heartbeat classification, in PyTorch.

Public API::

    from ecgnet import TrainConfig, train, evaluate, load_model, predict_proba, build_model

- :func:`train` / :class:`TrainConfig`: train a model into a run folder (``ecg train``);
- :func:`evaluate`: score a checkpoint on beats it never trained on (``ecg evaluate``);
- :func:`load_model` / :func:`predict_proba`: batched inference from a checkpoint;
  :func:`model_inputs` adds the RR features a model such as ``kachuee-rr`` takes;
- :func:`build_model`, :func:`register_model`, :func:`replace_head`, :func:`freeze`,
  :func:`frozen_parts`, :func:`load_backbone`: the model registry and the
  transfer-learning helpers;
- :func:`transfer` / :func:`transfer_config` / :func:`sweep`: start from a checkpoint,
  new classifier head, train the chosen parts (``ecg transfer``).
"""

from __future__ import annotations

from .checkpoint import load_backbone, load_checkpoint, load_model, save_checkpoint
from .inference import predict_proba
from .data import BeatData, load_data, model_inputs
from .evaluate import EvalResult, evaluate
from .models import (MODELS, TRAINABLE, KachueeNet, KachueeRRNet, build_model, freeze,
                     frozen_parts, register_model, replace_head)
from .splits import DS1, DS2, make_split
from .train import RunResult, TrainConfig, train
from .transfer import SWEEP, SweepResult, sweep, transfer, transfer_config

__all__ = [
    "BeatData", "DS1", "DS2", "EvalResult", "KachueeNet", "KachueeRRNet", "MODELS", "RunResult", "SWEEP",
    "SweepResult", "TRAINABLE", "TrainConfig", "build_model", "evaluate", "freeze",
    "frozen_parts", "load_backbone", "load_checkpoint", "load_data", "load_model", "make_split",
    "model_inputs", "predict_proba", "register_model", "replace_head", "save_checkpoint", "sweep", "train",
    "transfer", "transfer_config",
]
