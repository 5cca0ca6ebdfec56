"""The worker pool: run one function over many tasks in processes, results in task order.

No segmentation logic here: :mod:`ecgseg.pipeline` passes its per-record function.

Lifecycle (:mod:`ecgseg.lifecycle`): workers ignore Ctrl-C and SIGTERM and die with
their parent (even after SIGKILL); while the pool runs, the parent notes Ctrl-C and
SIGTERM and raises them at safe points (:class:`~ecgseg.lifecycle.DeferredStopSignals`:
while waiting for a result, and each time the consumer asks for the next one). On any
exception in the parent (Ctrl-C, SIGTERM, an error) or when the consumer stops iterating, :func:`tear_down` cancels the queued tasks
and kills the workers at once. Close the iterator when you stop early
(``contextlib.closing``) so that this happens at once rather than at garbage collection.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, wait
from itertools import chain, islice
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from .fork_safety import hold_log_handlers_across_fork
from .lifecycle import DeferredStopSignals, init_worker, stop_signals_blocked

T = TypeVar("T")
R = TypeVar("R")


def fork_context():
    """``fork`` where it is available and safe (Linux): workers inherit what the parent
    compiled (see ``warm_up`` in :func:`ordered_map`). Python 3.14 made ``forkserver``
    the default there; elsewhere (macOS, Windows) the platform default, whose workers
    load the kernels from numba's cache. Forks wait for threads writing a log record
    (:func:`ecgseg.fork_safety.hold_log_handlers_across_fork`)."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        hold_log_handlers_across_fork()  # a forked child never waits on a log line's lock
        return multiprocessing.get_context("fork")
    return None


def ordered_map(fn: Callable[[T], R], tasks: Iterable[T], workers: int,
                warm_up: Callable[[], None] | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for each task, in task order, with ~2 * workers in flight.

    Parameters
    ----------
    fn : callable
        A picklable module-level function of one task; it should return errors rather
        than raise them (an exception stops the whole map).
    tasks : iterable
        Picklable tasks, read as they are submitted (a generator is never listed whole).
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
    it = iter(tasks)  # read as the window moves on (a stream too: never listed whole)
    head = list(islice(it, 2))
    if workers <= 1 or len(head) <= 1:
        for t in chain(head, it):
            yield fn(t)
        return
    it = chain(head, it)
    del head
    if warm_up is not None:
        warm_up()
    with DeferredStopSignals() as stop:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=fork_context(),
                                   initializer=init_worker, initargs=(os.getpid(),))
        pending: list[Future] = []
        try:
            with stop_signals_blocked():  # the workers fork here, before their handlers exist
                for t in it:
                    pending.append(pool.submit(fn, t))
                    if len(pending) >= 2 * workers:
                        break
            while pending:
                result = _result(pending.pop(0), stop)
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(fn, nxt))
                stop.check()
                yield result
                stop.check()
        except BaseException:  # Ctrl-C, SIGTERM, an error, or the consumer closed us
            tear_down(pool, pending)
            raise
        pool.shutdown(wait=True)
        stop.check()


def _result(future: Future, stop: DeferredStopSignals, poll_s: float = 0.1):
    """``future.result()``, raising a noted stop signal within ``poll_s``."""
    while True:
        stop.check()
        done, _ = wait([future], timeout=poll_s)
        if done:
            return future.result()


def tear_down(pool: ProcessPoolExecutor, pending: Sequence[Future] = (),
              grace_s: float = 2.0) -> None:
    """Stop a pool now: cancel its queued tasks and SIGKILL its worker processes.

    ``ProcessPoolExecutor.shutdown`` waits for running tasks (minutes for a long
    record) and can hang when a worker died; killing them is safe here because the
    workers only compute (the parent does all writing).
    """
    del pending  # cancelled by shutdown(cancel_futures=True) below, in the pool's own
    # thread: cancelling them here races with it (InvalidStateError tracebacks)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # (read before shutdown(), which drops the executor's reference to the queue)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    for p in processes:
        with contextlib.suppress(Exception):
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace_s
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=max(0.0, deadline - time.monotonic()))
    # A worker killed half-way through sending a result leaves the pool's reader thread
    # waiting for the rest, forever: this process holds the last open write end of that
    # pipe. Closing it ends the wait (EOF); otherwise the interpreter hangs at exit,
    # where it joins that thread.
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.close()
