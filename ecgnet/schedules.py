"""Learning-rate schedules, by name: the one place that turns ``--lr-schedule`` into a
torch scheduler (stepped once per training iteration).

- ``step`` (the default, the paper's): the rate times ``lr_decay`` every
  ``lr_decay_every`` iterations.
- ``cosine``: from ``lr`` down to 0 along half a cosine over the run's iterations
  (``epochs`` x iterations per epoch, or ``max_iters`` when smaller); Loshchilov &
  Hutter 2017 without restarts. A short run then ends at small steps instead of at the
  rate it started with.
- ``one-cycle``: Smith & Topin 2019 (the shape of ``torch.optim.lr_scheduler.OneCycleLR``
  with its defaults): up from ``lr / 25`` to ``lr`` along half a cosine over the first
  30 % of the iterations, then down to ``lr / 25e4``. ``lr`` is the peak.

``lr_decay``/``lr_decay_every`` matter only to ``step``. The iteration count of
``cosine`` and ``one-cycle`` is fixed when the run starts: resuming a run with more
``epochs`` does not stretch it (the rate stays at the end of its curve); resuming an
interrupted run with its own settings continues it exactly.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

LR_SCHEDULES = ("step", "cosine", "one-cycle")
"""Names ``--lr-schedule`` accepts."""


def total_iterations(epochs: int, beats_per_epoch: int, batch_size: int,
                     max_iters: Optional[int] = None) -> int:
    """Training iterations of a whole run: ``epochs`` x ``ceil(beats / batch)``, capped
    at ``max_iters``.

    Examples
    --------
    >>> total_iterations(11, 78801, 64)
    13552
    >>> total_iterations(11, 78801, 64, max_iters=100)
    100
    """
    per_epoch = max(1, math.ceil(beats_per_epoch / batch_size))
    total = epochs * per_epoch
    return max(1, min(total, max_iters) if max_iters else total)


def cosine_factor(iteration: int, total: int) -> float:
    """The ``cosine`` schedule's multiplier of ``lr`` after ``iteration`` of ``total``
    iterations: ``(1 + cos(pi t / T)) / 2``, 1 at the start, 0 at the end (and after).

    Examples
    --------
    >>> cosine_factor(0, 100), cosine_factor(50, 100), cosine_factor(100, 100)
    (1.0, 0.5, 0.0)
    """
    t = min(max(iteration, 0), total) / total
    return round(0.5 * (1.0 + math.cos(math.pi * t)), 15)


ONE_CYCLE_WARMUP = 0.3
"""Share of the iterations over which ``one-cycle`` rises to ``lr``."""
ONE_CYCLE_START = 1 / 25
"""``one-cycle`` starts at ``lr`` times this ..."""
ONE_CYCLE_END = 1 / 25e4
"""... and ends at ``lr`` times this."""


def one_cycle_factor(iteration: int, total: int) -> float:
    """The ``one-cycle`` schedule's multiplier of ``lr`` after ``iteration`` of ``total``.

    Examples
    --------
    >>> one_cycle_factor(0, 100), one_cycle_factor(30, 100), one_cycle_factor(100, 100)
    (0.04, 1.0, 4e-06)
    """
    t = min(max(iteration, 0), total)
    rise = max(1, round(ONE_CYCLE_WARMUP * total))
    if t <= rise:
        low, high, u = ONE_CYCLE_START, 1.0, t / rise
    else:
        low, high, u = 1.0, ONE_CYCLE_END, (t - rise) / max(1, total - rise)
    return round(high + (low - high) * 0.5 * (1.0 + math.cos(math.pi * u)), 15)


def build_scheduler(name: str, optimizer: torch.optim.Optimizer, *, lr: float,
                    total: int, lr_decay: float = 0.75, lr_decay_every: int = 10_000):
    """The scheduler ``name`` of :data:`LR_SCHEDULES` for ``optimizer``.

    Parameters
    ----------
    name : str
        ``step``, ``cosine`` or ``one-cycle``.
    optimizer : torch.optim.Optimizer
    lr : float
        The optimiser's learning rate (the peak of ``one-cycle``).
    total : int
        Iterations of the whole run (:func:`total_iterations`).
    lr_decay, lr_decay_every : float, int
        ``step``: factor and period (iterations).

    Examples
    --------
    >>> opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    >>> sched = build_scheduler("cosine", opt, lr=1e-3, total=4)
    >>> for _ in range(2):
    ...     opt.step(); sched.step()
    >>> round(opt.param_groups[0]["lr"], 6)
    0.0005
    """
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, lr_decay_every, lr_decay)
    if name == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, _Cosine(total))
    if name == "one-cycle":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, _OneCycle(total))
    from ecgseg.errors import InputError
    raise InputError(f"lr_schedule {name!r} unknown; choose one of: {', '.join(LR_SCHEDULES)}")


class _OneCycle:
    """Picklable multiplier of :func:`one_cycle_factor`."""

    def __init__(self, total: int):
        self.total = total

    def __call__(self, iteration: int) -> float:
        return one_cycle_factor(iteration, self.total)


class _Cosine:
    """Picklable multiplier of :func:`cosine_factor` (``LambdaLR`` saves it with the run)."""

    def __init__(self, total: int):
        self.total = total

    def __call__(self, iteration: int) -> float:
        return cosine_factor(iteration, self.total)


__all__ = ["LR_SCHEDULES", "build_scheduler", "cosine_factor", "one_cycle_factor",
           "total_iterations"]
