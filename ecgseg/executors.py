"""The one place that chooses where per-record tasks run: the local process pool or Dask.

Examples
--------
>>> list(task_map(abs, [-1, 2, -3], workers=1))
[1, 2, 3]
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def task_map(fn: Callable[[T], R], tasks: Iterable[T], *, workers: int,
             scheduler: str | None = None,
             warm_up: Callable[[], None] | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for each task, in task order.

    Parameters
    ----------
    fn : callable
        Picklable module-level function of one task (returns errors, does not raise).
    tasks : iterable
        Picklable tasks, read as they are submitted (a few in flight: a generator is
        never listed whole).
    workers : int
        Processes of the local pool, or of the ``"local"`` Dask cluster.
    scheduler : str, optional
        None: the process pool of :mod:`ecgseg.workers` (the default, needs nothing).
        ``"local"`` or ``"tcp://host:port"``: a Dask cluster
        (:mod:`ecgseg.distributed`).
    warm_up : callable, optional
        Pool and ``"local"`` cluster: compile the kernels in the parent before the
        workers fork from it.
    """
    if scheduler is None:
        from .workers import ordered_map

        return ordered_map(fn, tasks, workers, warm_up)
    from .distributed import dask_ordered_map

    return dask_ordered_map(fn, tasks, scheduler, workers, warm_up)
