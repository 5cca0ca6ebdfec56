"""Checkpoints: atomic writes, safe loads (``weights_only=True``), clear errors.

A checkpoint is a plain dict of tensors and JSON-like values:

``format``, ``version``
    ``"ecgnet-checkpoint"`` and 1.
``model``, ``n_classes``, ``class_names``, ``model_kwargs``
    What :func:`ecgnet.models.build_model` needs to rebuild the network.
``state_dict``
    The weights.
``config``
    The :class:`~ecgnet.train.TrainConfig` that trained it, as a dict.
``training``
    Resume state: epoch, iteration, best score, optimizer and scheduler state dicts,
    torch RNG state, data fingerprint, hashes of the beats trained on, and
    ``data_sources``: how the training beats were made (format, and for HDF5 the
    database, recipe, recipe parameters and sampling rate; absent in older checkpoints);
    with weight averaging (``--ema``), ``raw_state_dict``: the weights being trained, while
    ``state_dict`` holds their moving average, the model to use.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, Dict, Sequence, Tuple

import torch
from torch import nn

from ecgseg.atomic import atomic_path
from ecgseg.errors import InputError
from ecgseg.oserrors import writing

from .models import MODELS, build_model

FORMAT = "ecgnet-checkpoint"
VERSION = 1


def make_checkpoint(model: nn.Module, model_name: str, class_names: Sequence[str],
                    config: Dict[str, Any] | None = None,
                    training: Dict[str, Any] | None = None,
                    model_kwargs: Dict[str, Any] | None = None) -> Dict[str, Any]:
    """Assemble a checkpoint dict (see the module docstring)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": model_name,
        "n_classes": len(class_names),
        "class_names": list(class_names),
        "model_kwargs": dict(model_kwargs or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": dict(config or {}),
        "training": dict(training or {}),
    }


def save_checkpoint(checkpoint: Dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (temporary file, then ``os.replace``).

    An interruption leaves either the old file or the new one, never half a file. The
    checkpoint is serialised in memory first, so a full disk is an ordinary ``ENOSPC``
    (PyTorch's own file writer reports it as ``unexpected pos ...``).

    Raises
    ------
    ecgseg.oserrors.PathError
        The file cannot be written (disk full, permission, read-only...).
    """
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    with writing(path), atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return Path(path)


def _first_words(exc: BaseException, limit: int = 120) -> str:
    """The first line of an error's message, cut at a word boundary to ``limit`` characters.

    Examples
    --------
    >>> _first_words(ValueError("a long message here"), limit=12)
    'a long ...'
    """
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if len(first) <= limit:
        return first
    return first[:limit - 3].rsplit(" ", 1)[0] + " ..."


def load_checkpoint(path: str | os.PathLike) -> Dict[str, Any]:
    """Read and check a checkpoint (``torch.load(..., weights_only=True)``, on the CPU).

    Raises
    ------
    InputError
        Missing file, not a torch file, not an ecgnet checkpoint, newer format, or an
        unknown model name.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a readable checkpoint (not a PyTorch file)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(f"{path}: refused: it holds Python objects other than weights and "
                         f"plain values, which could run code when loaded; use a checkpoint "
                         f"written by ecg train") from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable checkpoint ({_first_words(exc)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise InputError(f"{path}: not an ecgnet checkpoint (a bare state_dict or another "
                         f"program's file?)")
    if ckpt.get("version", 0) > VERSION:
        raise InputError(f"{path}: checkpoint format {ckpt['version']} is newer than this "
                         f"ecgnet ({VERSION}); upgrade the toolkit")
    if ckpt.get("model") not in MODELS:
        raise InputError(f"{path}: checkpoint of model {ckpt.get('model')!r}, which this "
                         f"toolkit does not know (known: {', '.join(sorted(MODELS))})")
    return ckpt


def model_from_checkpoint(ckpt: Dict[str, Any], path: str | os.PathLike = "checkpoint",
                          expect_model: str | None = None) -> nn.Module:
    """Rebuild the model of a loaded checkpoint and load its weights.

    Parameters
    ----------
    ckpt : dict
        From :func:`load_checkpoint`.
    path : str or PathLike
        Used in error messages only.
    expect_model : str, optional
        Fail unless the checkpoint is of this model (e.g. resuming ``--model kachuee``).

    Raises
    ------
    InputError
        The checkpoint is of another model, or its weights do not fit the architecture.
    """
    name = ckpt["model"]
    if expect_model is not None and name != expect_model:
        raise InputError(f"{path}: checkpoint of model {name!r}, not {expect_model!r}")
    model = build_model(name, int(ckpt["n_classes"]), **ckpt.get("model_kwargs", {}))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"{path}: its weights do not fit model {name!r} with "
                         f"{ckpt['n_classes']} classes ({detail})") from None
    return model


def load_backbone(model: nn.Module, ckpt: Dict[str, Any],
                  path: str | os.PathLike = "checkpoint") -> nn.Module:
    """Copy every weight of a checkpoint but its classifier ``head`` into ``model``.

    Transfer learning: ``model`` has the checkpoint's architecture with a new head
    (e.g. 2 classes instead of 5, see :func:`ecgnet.models.replace_head`), which keeps
    its fresh initialisation.

    Parameters
    ----------
    model : torch.nn.Module
        The network to fill, with a ``head`` part.
    ckpt : dict
        From :func:`load_checkpoint`.
    path : str or PathLike
        Used in error messages only.

    Raises
    ------
    InputError
        ``model`` has no ``head``, or the checkpoint's other weights do not fit it (missing
        or extra layers, other shapes: another architecture).
    """
    target = model.state_dict()
    if not any(k.startswith("head.") for k in target):
        raise InputError(f"model {ckpt['model']!r} has no 'head' part to replace")
    state = {k: v for k, v in ckpt["state_dict"].items() if not k.startswith("head.")}
    body = [k for k in target if not k.startswith("head.")]
    missing = [k for k in body if k not in state]
    extra = [k for k in state if k not in target]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(target[k].shape)}" for k in body
              if k in state and state[k].shape != target[k].shape]
    if missing or extra or shapes:
        problems = [f"{label}: {', '.join(items[:3])}{' ...' if len(items) > 3 else ''}"
                    for label, items in (("missing", missing), ("unexpected", extra),
                                         ("other shapes", shapes)) if items]
        raise InputError(f"{path}: its weights do not fit model {ckpt['model']!r} (another "
                         f"architecture? {'; '.join(problems)})")
    model.load_state_dict(state, strict=False)
    return model


def load_model(checkpoint_path: str | os.PathLike, device: str | torch.device = "cpu"
               ) -> Tuple[nn.Module, Dict[str, Any]]:
    """Load a trained model for inference.

    Parameters
    ----------
    checkpoint_path : str or PathLike
        A checkpoint written by ``ecg train`` (``best.pt`` or ``last.pt``).
    device : str or torch.device
        Where to put the model (``"cpu"``, ``"cuda"``...).

    Returns
    -------
    model : torch.nn.Module
        In eval mode, on ``device``.
    meta : dict
        ``model``, ``n_classes``, ``class_names``, ``config``, ``training`` (without
        the optimizer state), ``path``.
    """
    ckpt = load_checkpoint(checkpoint_path)
    model = model_from_checkpoint(ckpt, checkpoint_path).to(device).eval()
    training = {k: v for k, v in ckpt.get("training", {}).items()
                if k not in ("optimizer", "scheduler", "torch_rng")}
    meta = {"model": ckpt["model"], "n_classes": int(ckpt["n_classes"]),
            "class_names": tuple(ckpt["class_names"]), "config": ckpt.get("config", {}),
            "training": training, "path": str(checkpoint_path)}
    return model, meta
