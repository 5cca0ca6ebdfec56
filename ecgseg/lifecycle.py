"""Process lifecycle: clean exits on SIGTERM, worker processes that die with their parent.

One job: how the toolkit's processes start and end. :mod:`ecgseg.workers` uses it for
its pool; the ``ecg`` commands call :func:`exit_cleanly_on_sigterm` once.

- **SIGINT** (Ctrl-C) raises ``KeyboardInterrupt`` in the main thread, as Python does by
  default; ``finally`` blocks run (temporary files are removed, the pool is torn down)
  and the command exits with status 130.
- **SIGTERM** (``kill``, ``timeout``, schedulers, containers) raises :class:`Terminated`,
  a ``SystemExit`` with status 143 (128 + 15): the same clean-up, then exit.
- **Workers** ignore SIGINT and SIGTERM (the parent alone decides, then kills them with
  SIGKILL) and die when their parent dies, even by SIGKILL: on Linux through
  ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, elsewhere through a thread that watches the
  parent's pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from typing import Iterator

#: Exit status after SIGTERM (128 + signal number, what shells report).
EXIT_TERMINATED = 128 + signal.SIGTERM
#: Exit status after SIGINT (Ctrl-C).
EXIT_INTERRUPTED = 128 + signal.SIGINT

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1


class Terminated(SystemExit):
    """Raised in the main thread on SIGTERM; exits with status 143 after clean-up.

    A ``SystemExit``, so ``except Exception`` does not swallow it, ``finally`` blocks
    run, and the interpreter exits with :data:`EXIT_TERMINATED` without a traceback.
    """

    def __init__(self) -> None:
        super().__init__(EXIT_TERMINATED)


def _raise_terminated(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut clean-up
    try:
        sys.stderr.write("terminated\n")
        sys.stderr.flush()
    except Exception:  # pragma: no cover - stderr closed
        pass
    raise Terminated()


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM raise :class:`Terminated` in this (main) thread.

    Does nothing outside the main thread (Python only runs handlers there).

    Examples
    --------
    >>> exit_cleanly_on_sigterm()
    >>> signal.getsignal(signal.SIGTERM) is _raise_terminated
    True
    >>> _ = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back in this thread for the block, then deliver them.

    Processes forked and threads started inside the block inherit the blocked mask, so
    a worker cannot be hit by a Ctrl-C before it has set its own handlers, and the
    pool's helper threads never take a signal meant for the main thread. A signal that
    arrives meanwhile is delivered (and its handler raises) when the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _exit_now(status: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


@contextlib.contextmanager
def command_lifecycle() -> Iterator[None]:
    """Around the body of an ``ecg`` command: SIGTERM and Ctrl-C end it cleanly and fast.

    Installs :func:`exit_cleanly_on_sigterm`; when ``KeyboardInterrupt`` (130) or
    :class:`Terminated` (143) leaves the block, every ``finally`` inside has already
    run (temporary files removed, worker pool killed), so the process ends at once
    with ``os._exit``: the interpreter's own shutdown joins the threads of
    ``concurrent.futures`` and ``multiprocessing``, which can wait forever on a pipe
    that a killed worker left half-written.
    """
    exit_cleanly_on_sigterm()
    try:
        yield
    except KeyboardInterrupt:
        _exit_now(EXIT_INTERRUPTED)
    except Terminated:
        _exit_now(EXIT_TERMINATED)


class DeferredStopSignals:
    """Within the block, SIGINT and SIGTERM only take note; :meth:`check` raises.

    Python raises ``KeyboardInterrupt`` wherever the main thread happens to be, inside
    a garbage-collection callback (where it is swallowed: the run carries on) or inside
    ``concurrent.futures``' own locking (which can then hang). A loop that waits on
    worker processes uses this instead and calls :meth:`check` at safe points: the
    signal becomes ``KeyboardInterrupt`` (SIGINT) or :class:`Terminated` (SIGTERM)
    there, at most one polling period later. Only signals whose handler is Python's
    default (or :func:`exit_cleanly_on_sigterm`'s) are taken over; outside the main
    thread the block does nothing.

    Examples
    --------
    >>> with DeferredStopSignals() as stop:
    ...     os.kill(os.getpid(), signal.SIGINT)
    ...     time.sleep(0.01)
    ...     try:
    ...         stop.check()
    ...     except KeyboardInterrupt:
    ...         print("interrupted at a safe point")
    interrupted at a safe point
    """

    _DEFAULTS = {signal.SIGINT: (signal.default_int_handler,),
                 signal.SIGTERM: (signal.SIG_DFL, _raise_terminated)}

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def _note(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum

    def __enter__(self) -> "DeferredStopSignals":
        if threading.current_thread() is threading.main_thread():
            for s, defaults in self._DEFAULTS.items():
                current = signal.getsignal(s)
                if current in defaults:
                    self._previous[s] = current
                    signal.signal(s, self._note)
        return self

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` or :class:`Terminated` if a signal came."""
        if self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received == signal.SIGTERM:
            self.restore()
            _raise_terminated(signal.SIGTERM, None)

    def restore(self) -> None:
        """Give the signals back their handlers (idempotent)."""
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous.clear()

    def __exit__(self, *exc) -> None:
        self.restore()


def _set_parent_death_signal(signum: int) -> bool:
    """``prctl(PR_SET_PDEATHSIG, signum)`` on Linux; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's prctl
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - unusual libc
        return False


def _watch_parent(parent_pid: int, interval_s: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval_s)
    os._exit(1)


def die_with_parent(parent_pid: int, interval_s: float = 0.5) -> str:
    """Make this process end when ``parent_pid`` ends (call it in a child process).

    Parameters
    ----------
    parent_pid : int
        The parent's pid, read in the parent before the child started (if the parent
        is already gone, this process exits at once).
    interval_s : float
        Polling period of the fallback watcher thread, s.

    Returns
    -------
    str
        ``"prctl"`` (Linux: the kernel sends SIGKILL when the parent dies) or
        ``"thread"`` (a daemon thread polls ``os.getppid()``).
    """
    how = "prctl" if _set_parent_death_signal(signal.SIGKILL) else "thread"
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    if how == "thread":
        threading.Thread(target=_watch_parent, args=(parent_pid, interval_s),
                         name="ecg-parent-watch", daemon=True).start()
    return how


def init_worker(parent_pid: int) -> None:
    """Initializer of a pool worker: ignore stop signals, die with the parent.

    Ctrl-C reaches the whole process group; only the parent acts on it (it cancels the
    work and kills its workers), so a worker never dies half-way and breaks the pool.
    """
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    die_with_parent(parent_pid)
