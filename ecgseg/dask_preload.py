"""Worker preload for ``dask worker``: import ecgseg and load its kernels at start-up.

A spawned ``dask worker`` process imports nothing of ours until its first task, which
then pays for importing ecgseg and loading every numba kernel it calls from the cache
(seconds: ``docs/scaling.md``). Preloaded, the worker does this once when it starts,
before it takes tasks, as the process pool's and the ``LocalCluster``'s forked workers
inherit it from their warmed-up parent::

    dask worker tcp://host:8786 --nthreads 1 --preload ecgseg.dask_preload

(or ``distributed.worker.preload: [ecgseg.dask_preload]`` in the worker's Dask
configuration). :func:`ecgseg.distributed.loopback_cluster` starts its workers so.

Examples
--------
>>> warm_up_all()  # doctest: +SKIP
"""

from __future__ import annotations


def warm_up_all() -> None:
    """Load (or compile) the kernels of every registered recipe in this process."""
    from .pipeline import warm_up
    from .recipes.registry import recipe_names

    for name in recipe_names():
        warm_up(name)


def dask_setup(worker=None) -> None:
    """Called by distributed when a worker (or nanny) loads this preload module."""
    warm_up_all()
