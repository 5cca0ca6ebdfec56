"""The worker pool: run one function over many tasks in processes, results in task order.

No segmentation logic here: :mod:`ecgseg.pipeline` passes its per-record function.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def fork_context():
    """``fork`` where it is available and safe (Linux): workers inherit what the parent
    compiled (see ``warm_up`` in :func:`ordered_map`). Python 3.14 made ``forkserver``
    the default there; elsewhere (macOS, Windows) the platform default, whose workers
    load the kernels from numba's cache."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def ordered_map(fn: Callable[[T], R], tasks: Sequence[T], workers: int,
                warm_up: Callable[[], None] | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for each task, in task order, with ~2 * workers in flight.

    Parameters
    ----------
    fn : callable
        A picklable module-level function of one task; it should return errors rather
        than raise them (an exception stops the whole map).
    tasks : sequence
        Picklable tasks.
    workers : int
        Worker processes; 1 (or a single task) runs in this process.
    warm_up : callable, optional
        Called in the parent before the pool starts, so that forked workers inherit
        compiled numba kernels instead of each loading them.

    Examples
    --------
    >>> list(ordered_map(abs, [-1, 2, -3], workers=1))
    [1, 2, 3]
    """
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield fn(t)
        return
    if warm_up is not None:
        warm_up()
    with ProcessPoolExecutor(max_workers=workers, mp_context=fork_context()) as pool:
        pending: list[Future] = []
        it = iter(tasks)
        try:
            for t in it:
                pending.append(pool.submit(fn, t))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                result = pending.pop(0).result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(fn, nxt))
                yield result
        except BaseException:
            for f in pending:
                f.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
