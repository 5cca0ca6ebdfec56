"""Where the networks run: the torch device and, on the CPU, its threads."""

from __future__ import annotations

import os

import torch

from ecgseg.errors import InputError


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one).

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def setup_device(device: str = "auto", threads: int | None = None) -> torch.device:
    """Pick the device (``auto``: CUDA when available) and, on CPU, the torch threads.

    Parameters
    ----------
    device : str
        ``auto``, ``cpu``, ``cuda``, ``cuda:N``.
    threads : int, optional
        CPU threads; default the cores this process may run on.

    Returns
    -------
    torch.device

    Raises
    ------
    InputError
        An unknown device name, ``cuda`` without a GPU, or ``threads`` below 1.

    Examples
    --------
    >>> setup_device("cpu", threads=1)
    device(type='cpu')
    """
    if threads is not None and threads < 1:
        from .train_config import ConfigError

        raise ConfigError("threads", "must be at least 1")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InputError(f"unknown device {device!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device cuda: no CUDA GPU is available here")
    if dev.type == "cpu":
        torch.set_num_threads(max(1, threads or usable_cores()))
    return dev


__all__ = ["setup_device", "usable_cores"]
