"""Forking a process that has threads, without inheriting a half-written log line.

A ``fork`` copies every lock in the state it is in. Python's :mod:`logging` gives each
handler a fresh lock in the child, but not the locks *inside* a handler's stream (the
buffer of a file or of ``sys.stderr``): if another thread was writing a log record at the
moment of the fork, the child's first log record waits forever for a lock nobody holds.
Dask forks its ``LocalCluster`` workers from a thread of its event loop while the loop
thread logs (seen in the test suite: a worker hung in ``StreamHandler.flush`` of pytest's
log file handler), and :mod:`ecgseg.workers` forks its pool from the main thread.

:func:`hold_log_handlers_across_fork` makes every fork of this process wait until no
thread is inside a handler (each handler's lock is taken just before the fork and given
back just after, in the parent; the child gets fresh locks from :mod:`logging` itself).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import List

_installed = False
_held: List[logging.Handler] = []
_guard = threading.Lock()


def _handlers() -> List[logging.Handler]:
    """Every handler attached to a logger of this process, once each, in a fixed order."""
    loggers = [logging.getLogger()] + [
        lg for lg in list(logging.Logger.manager.loggerDict.values())
        if isinstance(lg, logging.Logger)]
    found = {id(h): h for lg in loggers for h in list(lg.handlers)}
    return [found[k] for k in sorted(found)]


def _before_fork() -> None:
    _guard.acquire()
    for handler in _handlers():
        handler.acquire()  # waits for a thread that is writing a record through it
        _held.append(handler)


def _after_fork_in_parent() -> None:
    while _held:
        _held.pop().release()
    _guard.release()


def _after_fork_in_child() -> None:
    # logging's own at-fork hook has given every handler a new, free lock; the stream
    # locks are free because no thread was inside a handler at the fork.
    _held.clear()
    if _guard.locked():
        try:
            _guard.release()
        except RuntimeError:  # pragma: no cover - a lock of another thread
            pass


def hold_log_handlers_across_fork() -> bool:
    """From now on, every ``fork`` of this process waits until no thread is writing a log
    record (idempotent; call it before starting workers that are forked).

    Returns
    -------
    bool
        False where ``os.register_at_fork`` does not exist (no ``fork``: nothing to do).

    Examples
    --------
    >>> hold_log_handlers_across_fork() in (True, False)
    True
    """
    global _installed
    if not hasattr(os, "register_at_fork"):
        return False
    with _guard:
        if not _installed:
            os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                                after_in_child=_after_fork_in_child)
            _installed = True
    return True
