"""Heartbeat classifiers and the registry that builds them by name.

The default, ``kachuee``, is the network of Kachuee, Fazeli & Sarrafzadeh (2018),
exactly as the paper draws it. Other architectures register themselves with
:func:`register_model` and are then available as ``ecg train --model NAME``.

Every model takes beats of shape ``(n, 187)`` or ``(n, 1, 187)`` (float32, one lead at
125 Hz, min-max normalised) and returns class logits of shape ``(n, n_classes)``.
"""

from __future__ import annotations

from typing import Callable, Dict, Iterable

import torch
from torch import nn

from ecgseg.errors import InputError

BEAT_LENGTH = 187
"""Samples per beat (1.496 s at 125 Hz) that every model takes."""

MODELS: Dict[str, Callable[..., nn.Module]] = {}
"""Model name -> constructor ``f(n_classes, **kwargs) -> nn.Module``."""


def register_model(name: str) -> Callable:
    """Class or function decorator: make a model buildable as ``build_model(name, ...)``.

    Parameters
    ----------
    name : str
        Registry name (lower case, used by ``--model`` and stored in checkpoints).
    """
    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in MODELS:
            raise ValueError(f"model {name!r} is already registered")
        MODELS[name] = factory
        return factory
    return decorate


def build_model(name: str, n_classes: int, **kwargs) -> nn.Module:
    """Build a registered model with freshly initialised weights.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`, e.g. ``"kachuee"``.
    n_classes : int
        Number of output classes (>= 2).
    **kwargs
        Extra keyword arguments of that model's constructor.

    Returns
    -------
    torch.nn.Module
        Maps beats ``(n, 187)`` float32 to logits ``(n, n_classes)``.

    Raises
    ------
    InputError
        Unknown model name or fewer than two classes.
    """
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    if n_classes < 2:
        raise InputError(f"a classifier needs at least 2 classes, got {n_classes}")
    return MODELS[name](n_classes=n_classes, **kwargs)


class ResidualBlock(nn.Module):
    """Conv(5, same) -> ReLU -> Conv(5, same) -> + input -> ReLU -> MaxPool(5, stride 2).

    Maps ``(n, channels, L)`` to ``(n, channels, (L - 5) // 2 + 1)``.
    """

    def __init__(self, channels: int = 32, kernel: int = 5):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, kernel, padding="same")
        self.conv2 = nn.Conv1d(channels, channels, kernel, padding="same")
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool1d(5, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.relu(self.conv1(x)))
        return self.pool(self.relu(y + x))


@register_model("kachuee")
class KachueeNet(nn.Module):
    """The CNN of Kachuee et al. (2018), Fig. 2: 55 013 parameters for 5 classes.

    Parts, named for transfer learning (freeze or replace them by name):

    - ``stem``: Conv1d(1, 32, 5), no padding: ``(n, 1, 187) -> (n, 32, 183)``;
    - ``blocks``: 5 :class:`ResidualBlock` (ModuleList): lengths 183 -> 90 -> 43 -> 20 -> 8 -> 2;
    - flatten to 64 features;
    - ``fc1``: Linear(64, 32) + ReLU; ``fc2``: Linear(32, 32);
    - ``head``: Linear(32, n_classes), logits (softmax is in the loss).

    Parameters
    ----------
    n_classes : int
        Number of output classes (5 for AAMI N/S/V/F/Q, 2 for PTB normal/MI).
    channels : int
        Filters of every convolution (32 in the paper).
    n_blocks : int
        Residual blocks (5 in the paper; 187 samples allow at most 5).
    """

    def __init__(self, n_classes: int = 5, channels: int = 32, n_blocks: int = 5):
        super().__init__()
        self.n_classes = n_classes
        self.stem = nn.Conv1d(1, channels, 5)
        self.blocks = nn.ModuleList(ResidualBlock(channels) for _ in range(n_blocks))
        length = BEAT_LENGTH - 4
        for _ in range(n_blocks):
            length = (length - 5) // 2 + 1
        if length < 1:
            raise ValueError(f"{n_blocks} blocks shrink a {BEAT_LENGTH}-sample beat to nothing")
        self.n_features = channels * length
        self.fc1 = nn.Linear(self.n_features, 32)
        self.fc2 = nn.Linear(32, 32)
        self.head = nn.Linear(32, n_classes)
        self.relu = nn.ReLU()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolutional features: beats ``(n, 187)`` or ``(n, 1, 187)`` -> ``(n, 64)``."""
        if x.dim() == 2:
            x = x.unsqueeze(1)
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return x.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of beats ``(n, 187)`` or ``(n, 1, 187)``."""
        z = self.relu(self.fc1(self.features(x)))
        return self.head(self.fc2(z))


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters of ``model`` (trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def replace_head(model: nn.Module, n_classes: int) -> nn.Module:
    """Give ``model`` a new, freshly initialised ``head`` with ``n_classes`` outputs.

    For transfer learning (e.g. an arrhythmia model re-used for 2-class MI detection).
    Returns the same model, modified in place.
    """
    old = model.head
    model.head = nn.Linear(old.in_features, n_classes).to(old.weight.device)
    model.n_classes = n_classes
    return model


def freeze(model: nn.Module, parts: Iterable[str]) -> nn.Module:
    """Stop training the named parts of ``model`` (e.g. ``["stem", "blocks"]``).

    Parameters
    ----------
    model : torch.nn.Module
        A model with named children (``stem``, ``blocks``, ``fc1``, ``fc2``, ``head``).
    parts : iterable of str
        Child names; ``"blocks.0"`` ... addresses one residual block.

    Raises
    ------
    InputError
        A name that is not a part of the model.
    """
    for name in parts:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            parts_known = ", ".join(n for n, _ in model.named_children())
            raise InputError(f"model has no part {name!r}; parts: {parts_known}") from None
        for p in module.parameters():
            p.requires_grad_(False)
    return model
