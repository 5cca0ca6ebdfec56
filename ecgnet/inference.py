"""Inference: class probabilities of beats from a trained network, in batches."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ecgseg.errors import InputError

from ecgseg.labels import BEAT_SAMPLES

from .models import input_columns

PRECISIONS = ("float32", "bfloat16")
"""Arithmetic of inference (and of the training passes, see :class:`ecgnet.train.TrainConfig`)."""


def predict_proba(model: nn.Module, beats: np.ndarray, batch_size: int = 512,
                  precision: str = "float32") -> np.ndarray:
    """Class probabilities of beats, in batches, without autograd.

    Parameters
    ----------
    model : torch.nn.Module
        From :func:`load_model` (put in eval mode here).
    beats : np.ndarray
        ``(n, 187)`` float32; ``(n, 187 + r)`` for a model with ``r`` RR features
        (``rhythm_features``; see :func:`ecgnet.data.model_inputs`).
    batch_size : int
        Beats per forward pass (memory ~ 25 kB a beat in float32; 512 fits the caches
        of small CPUs best: 2048 measured 1.5-2x slower on 2 Zen 4 cores).
    precision : {"float32", "bfloat16"}
        ``bfloat16`` runs the convolutions in bfloat16 autocast: about twice as fast
        on CPUs with AVX-512 BF16, probabilities within ~1e-2.

    Returns
    -------
    np.ndarray
        ``(n, n_classes)`` float32, rows summing to 1.

    Raises
    ------
    InputError
        Beats of another shape than the model takes, an unknown ``precision``, or a
        ``batch_size`` below 1.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgnet.models import build_model
    >>> model = build_model("kachuee", 5)
    >>> predict_proba(model, np.zeros((3, 187), np.float32)).shape
    (3, 5)
    """
    beats = np.asarray(beats, dtype=np.float32)
    width = input_columns(model)
    if beats.ndim != 2 or beats.shape[1] != width:
        raise InputError(f"beats have shape {beats.shape}, expected (n, {width})")
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; choose float32 or bfloat16")
    if not batch_size >= 1:
        from .train_config import ConfigError

        raise ConfigError("batch_size", "must be at least 1")
    device = next(model.parameters()).device
    model.eval()
    out = None
    use_bf16 = precision == "bfloat16"
    x_all = torch.from_numpy(np.ascontiguousarray(beats))
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                enabled=use_bf16):
        for start in range(0, len(beats), batch_size):
            x = x_all[start:start + batch_size].to(device, non_blocking=True).unsqueeze(1)
            proba = torch.softmax(model(x).float(), dim=1).cpu().numpy()
            if out is None:
                out = np.empty((len(beats), proba.shape[1]), np.float32)
            out[start:start + len(x)] = proba
    if out is None:  # no beats: ask the model for its width
        with torch.inference_mode():
            n_out = model(torch.zeros(1, 1, width, device=device)).shape[1]
        out = np.empty((0, n_out), np.float32)
    return out


__all__ = ["PRECISIONS", "predict_proba"]
