"""Turn a trained checkpoint into a shipped model: stripped weights + model card.

Used by ``benchmarks/pretrained.py``, which trains each shipped model from raw records and
then calls :func:`ship_model`; replacing a shipped model is that one step on a better run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from pathlib import Path
from typing import Any, Dict

import torch

from ecgseg.atomic import atomic_path
from ecgseg.oserrors import writing

from . import PRETRAINED_DIR
from .card import ModelCard, write_card

#: Entries of a checkpoint's ``training`` dict that only resuming needs (dropped when shipped).
RESUME_STATE = ("optimizer", "scheduler", "torch_rng", "raw_state_dict")


def strip_checkpoint(ckpt: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of a checkpoint without its resume state (:data:`RESUME_STATE`).

    Kept: the weights (``state_dict``), the model's name, classes and arguments, the
    training configuration, the data's provenance (``data_sources``, which ``ecg
    predict`` reads for the recipe), the data fingerprint and the hashes of the beats
    trained on (which ``ecg evaluate`` leaves out).

    Examples
    --------
    >>> strip_checkpoint({"training": {"optimizer": {}, "epoch": 3}})["training"]
    {'epoch': 3}
    """
    out = dict(ckpt)
    out["training"] = {k: v for k, v in ckpt.get("training", {}).items()
                       if k not in RESUME_STATE}
    return out


def ship_model(checkpoint: str | os.PathLike, name: str, out_dir: str | os.PathLike | None = None,
               **card_fields: Any) -> ModelCard:
    """Write ``<out_dir>/<name>.pt`` (stripped checkpoint) and ``<out_dir>/<name>.toml``.

    Parameters
    ----------
    checkpoint : path
        ``best.pt`` of an ``ecg train`` or ``ecg transfer`` run.
    name : str
        The model's name (``ecg predict --model NAME``).
    out_dir : path, optional
        Default: the package's :data:`~ecgnet.pretrained.PRETRAINED_DIR`.
    **card_fields
        The card's other keys (:class:`~ecgnet.pretrained.card.ModelCard`); ``weights``,
        ``sha256``, ``model``, ``parameters`` and ``classes`` are taken from the file.

    Returns
    -------
    ModelCard
        The card written.
    """
    from ..checkpoint import load_checkpoint, model_from_checkpoint
    from ..models import count_parameters

    out_dir = Path(out_dir) if out_dir is not None else PRETRAINED_DIR
    ckpt = load_checkpoint(checkpoint)
    model = model_from_checkpoint(ckpt, checkpoint)
    buffer = io.BytesIO()
    torch.save(strip_checkpoint(ckpt), buffer)
    weights = out_dir / f"{name}.pt"
    with writing(weights), atomic_path(weights) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    card = ModelCard(name=name, weights=weights.name,
                     sha256=hashlib.sha256(buffer.getbuffer()).hexdigest(),
                     model=ckpt["model"], parameters=count_parameters(model),
                     classes=tuple(ckpt["class_names"]), **card_fields)
    write_card(card, out_dir / f"{name}.toml")
    return card


def replace_card(card: ModelCard, out_dir: str | os.PathLike | None = None,
                 **changes: Any) -> ModelCard:
    """Rewrite a shipped card with some keys changed (e.g. its ``check`` figure)."""
    new = dataclasses.replace(card, **changes)
    write_card(new, Path(out_dir or PRETRAINED_DIR) / f"{card.name}.toml")
    return new
