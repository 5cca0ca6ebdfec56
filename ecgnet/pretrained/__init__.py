"""Pretrained models shipped inside the package: weights + model card, one pair per model.

Each model is ``NAME.pt`` (a checkpoint as ``ecg train`` writes it, without optimiser and
resume state; loads with ``torch.load(..., weights_only=True)``) and ``NAME.toml`` (its
:class:`~ecgnet.pretrained.card.ModelCard`: data, split, recipe, detector, leads, beat
sampling rate, classes, metrics with the commands that reproduce them, licence). This
folder is the registry: a model is shipped by putting the pair here
(``python benchmarks/pretrained.py --only NAME`` rebuilds one from raw records).

Examples
--------
>>> from ecgnet.pretrained import list_models, load_pretrained
>>> [card.name for card in list_models()]  # doctest: +SKIP
['mitbih-interpatient', 'mitbih-random', 'ptb-mi']
>>> model, meta = load_pretrained("mitbih-interpatient")  # doctest: +SKIP
>>> meta["class_names"]  # doctest: +SKIP
('N', 'S', 'V', 'F', 'Q')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ecgseg.errors import InputError

from .card import ModelCard, read_card

PRETRAINED_DIR = Path(__file__).resolve().parent
"""The folder of the shipped weights and cards."""

DEFAULT_MODEL = "mitbih-interpatient"
"""What ``ecg predict RECORD`` uses when no checkpoint and no ``--model`` is given: the
model trained on other patients than those it is scored on (MIT-BIH DS1)."""


def model_names() -> List[str]:
    """Names of the shipped models (those with a card), sorted."""
    return sorted(p.stem for p in PRETRAINED_DIR.glob("*.toml"))


def get_card(name: str) -> ModelCard:
    """The card of a shipped model.

    Raises
    ------
    InputError
        ``name`` is not a shipped model (the message lists the known ones).
    """
    names = model_names()
    if name not in names:
        raise InputError(f"model {name!r} is not a pretrained model; choose one of: "
                         f"{', '.join(names) or '(none shipped)'} (see `ecg models`)")
    return read_card(PRETRAINED_DIR / f"{name}.toml")


def list_models() -> List[ModelCard]:
    """The cards of every shipped model, sorted by name."""
    return [get_card(name) for name in model_names()]


def weights_path(name: str) -> Path:
    """Path of a shipped model's checkpoint file (``InputError`` if unknown or missing)."""
    card = get_card(name)
    path = PRETRAINED_DIR / card.weights
    if not path.is_file():
        raise InputError(f"model {name!r}: its weights file {path} is missing from the "
                         f"installation (reinstall the package)")
    return path


def load_pretrained(name: str, device: str = "cpu") -> Tuple[Any, Dict[str, Any]]:
    """Load a shipped model for inference.

    Parameters
    ----------
    name : str
        One of :func:`model_names` (``ecg models`` lists them).
    device : str
        ``"cpu"``, ``"cuda"``...

    Returns
    -------
    model : torch.nn.Module
        In eval mode.
    meta : dict
        As :func:`ecgnet.checkpoint.load_model` (``model``, ``n_classes``, ``class_names``,
        ``config``, ``training``, ``path``), plus ``card``: the :class:`ModelCard`.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgnet import predict_proba
    >>> model, meta = load_pretrained("ptb-mi")  # doctest: +SKIP
    >>> predict_proba(model, np.zeros((1, 187), np.float32)).shape  # doctest: +SKIP
    (1, 2)
    """
    from ..checkpoint import load_model

    path = weights_path(name)
    model, meta = load_model(path, device)
    meta["card"] = get_card(name)
    return model, meta


def resolve_checkpoint(checkpoint: str | os.PathLike | None = None, model: str | None = None,
                       default: str | None = None) -> Path:
    """The checkpoint file a command uses: a CHECKPOINT path or a shipped ``--model NAME``.

    Parameters
    ----------
    checkpoint : path, optional
        A checkpoint written by ``ecg train`` / ``ecg transfer``.
    model : str, optional
        A shipped model's name.
    default : str, optional
        The shipped model used when neither is given (``ecg predict``: :data:`DEFAULT_MODEL`);
        None makes one of the two required.

    Raises
    ------
    InputError
        Both given, neither given (without ``default``), or an unknown model name.

    Examples
    --------
    >>> resolve_checkpoint("runs/r/best.pt")
    PosixPath('runs/r/best.pt')
    >>> resolve_checkpoint("runs/r/best.pt", "ptb-mi")
    Traceback (most recent call last):
    ...
    ecgseg.errors.InputError: give a CHECKPOINT or --model NAME, not both
    """
    if checkpoint is not None and model is not None:
        raise InputError("give a CHECKPOINT or --model NAME, not both")
    if checkpoint is not None:
        return Path(checkpoint)
    if model is None and default is None:
        raise InputError("give a CHECKPOINT or --model NAME (`ecg models` lists the "
                         "pretrained models)")
    return weights_path(model if model is not None else default)


__all__ = ["DEFAULT_MODEL", "PRETRAINED_DIR", "ModelCard", "get_card", "list_models",
           "load_pretrained", "model_names", "resolve_checkpoint", "weights_path"]
