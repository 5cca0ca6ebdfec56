"""Training losses, by name: the one place that turns ``--loss`` into a loss module.

``cross-entropy`` (the default) is ``torch.nn.functional.cross_entropy``; ``focal`` is
the focal loss of Lin et al. (2017), ``-(1 - p_t)^gamma log p_t``, which shrinks the
loss of beats the model already classifies confidently so that the rare, hard ones
(supraventricular beats of a new patient) weigh more. Both take optional per-class
weights (``--class-weights``) and average like ``nn.CrossEntropyLoss``: the weighted
sum over the batch divided by the sum of the beats' weights.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("cross-entropy", "focal")
"""Names ``--loss`` accepts."""

FOCAL_GAMMA = 2.0
"""Focusing parameter of ``focal`` (Lin et al. 2017's choice; 0 gives cross-entropy)."""


class ClassLoss(nn.Module):
    """Cross-entropy (``gamma = 0``) or focal loss (``gamma > 0``) of logits and labels.

    Parameters
    ----------
    weight : torch.Tensor, optional
        ``(n_classes,)`` float32 class weights, or None for none.
    gamma : float
        Focusing parameter, >= 0.

    Examples
    --------
    >>> logits, labels = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])
    >>> round(float(ClassLoss()(logits, labels)), 4)
    0.7204
    >>> round(float(ClassLoss(gamma=2.0)(logits, labels)), 4)
    0.3629
    """

    def __init__(self, weight: Optional[torch.Tensor] = None, gamma: float = 0.0):
        super().__init__()
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        self.weight = weight
        self.gamma = float(gamma)

    def summed(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Weighted sum of the beats' losses (a scalar); ``logits (n, k)``, ``labels (n,)``."""
        if self.gamma == 0:
            return F.cross_entropy(logits, labels, weight=self.weight, reduction="sum")
        log_p = F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
        loss = -(1 - log_p.exp()).pow(self.gamma) * log_p
        if self.weight is not None:
            loss = loss * self.weight[labels]
        return loss.sum()

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean loss: :meth:`summed` over the sum of the beats' weights (their number
        without class weights)."""
        if self.gamma == 0:
            return F.cross_entropy(logits, labels, weight=self.weight)
        total = (float(len(labels)) if self.weight is None
                 else self.weight[labels].sum())
        return self.summed(logits, labels) / total


def build_loss(name: str, weight: Optional[torch.Tensor] = None) -> ClassLoss:
    """The loss named ``name`` (one of :data:`LOSSES`) with optional class weights.

    Raises
    ------
    InputError
        Unknown name.

    Examples
    --------
    >>> build_loss("focal").gamma
    2.0
    """
    from ecgseg.errors import InputError

    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return ClassLoss(weight, gamma=FOCAL_GAMMA if name == "focal" else 0.0)
