"""Atomic file writes: write under a temporary name in the target folder, then rename.

An interrupted run (exception, Ctrl-C, kill) never leaves a half-written file under
the final name. Its temporary file (hidden, ``.<name>.ecg-<pid>-<random>.tmp``) is
removed on every exit path the process controls; after a SIGKILL or a power cut, the
next run that writes the same output removes it. A lock file (``.<name>.ecg-lock``,
``flock``, removed at the end) keeps two processes from writing the same output.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import secrets
import time
from pathlib import Path
from typing import Iterator

from .errors import EcgError, OutputExistsError
from .oserrors import from_os_error, writing


@functools.cache
def _umask() -> int:
    """The process umask, read once without changing it where the OS tells it.

    Linux reports it in ``/proc/self/status`` (``Umask:``); elsewhere it is read the
    only portable way (set and restore, once per process, at first use).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def default_mode() -> int:
    """Permission bits of a new file under the process umask (``0o666 & ~umask``).

    Examples
    --------
    >>> default_mode() & 0o600
    384
    """
    return 0o666 & ~_umask()


def refuse_existing(path: str | os.PathLike, overwrite: bool, *, parameter: str = "--overwrite") -> Path:
    """Return ``path`` as a Path; raise if it exists and ``overwrite`` is False.

    The one place that words the "output exists" error.

    Parameters
    ----------
    path : path
        Output file about to be written.
    overwrite : bool
        Whether replacing an existing output is allowed.
    parameter : str
        Name of the API parameter (or CLI flag) that allows it, named in the message.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    ecgseg.oserrors.IsADirectoryPathError
        ``path`` is a folder (``overwrite`` or not: a folder is not replaced by a file).

    Examples
    --------
    >>> refuse_existing("/nonexistent/out.h5", overwrite=False)
    PosixPath('/nonexistent/out.h5')
    """
    path = Path(path)
    if path.is_dir():  # no --overwrite can replace a folder by a file
        err = from_os_error(IsADirectoryError(errno.EISDIR, "Is a directory"), path)
        raise err
    if not overwrite and path.exists():
        raise OutputExistsError(f"output {path} exists (use {parameter} to replace it)")
    return path


#: Marks every temporary file of the toolkit: ``.<name>.ecg-<pid>-<random>.tmp``.
TMP_MARK = "ecg"
#: Suffix of the lock file held while ``<name>`` is written: ``.<name>.ecg-lock``.
LOCK_SUFFIX = ".ecg-lock"
# Names of the temporary files of earlier versions (tempfile.mkstemp: 8 random characters).
_LEGACY_TMP = re.compile(r"\.[a-z0-9_]{8}\.tmp\Z")


class OutputBusyError(EcgError):
    """Another process is writing the same output file right now."""


def temporary_name(path: str | os.PathLike, token: str = "") -> Path:
    """The temporary file of ``path`` for this process: ``.<name>.ecg-<pid>-<token>.tmp``.

    Hidden, beside ``path`` (so the final rename stays on one filesystem), and
    recognisable: it names the output, the toolkit and the writing process.

    Examples
    --------
    >>> temporary_name("out/mitdb.h5", "x").name == f".mitdb.h5.ecg-{os.getpid()}-x.tmp"
    True
    """
    path = Path(path)
    return path.parent / f".{path.name}.{TMP_MARK}-{os.getpid()}-{token}.tmp"


def stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Temporary files of ``path`` left in its folder (this version's and earlier ones').

    Only call this while holding the output's lock (:func:`atomic_path` does): then no
    other writer is alive and every one of them is stale.
    """
    path = Path(path)
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(prefix) or not name.endswith(".tmp"):
            continue
        rest = name[len(prefix) - 1:]
        if rest.startswith(f".{TMP_MARK}-") or _LEGACY_TMP.match(rest):
            found.append(path.parent / name)
    return sorted(found)


_TMP_PID = re.compile(r"\A\..+\." + TMP_MARK + r"-(\d+)-[0-9a-f]*\.tmp\Z")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) said it exists
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def remove_orphaned_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove this machine's temporary files under ``folder`` whose writer is gone.

    For folders that processes of this machine write without a common output lock
    (the ``--shards`` folder of an interrupted run, whose workers were killed): a
    temporary file (:func:`temporary_name`) names its writer's pid; when no process
    of that pid lives, nobody will rename it. Returns the removed paths.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / ".a.h5.ecg-999999999-ab.tmp").write_text("x")
    >>> [p.name for p in remove_orphaned_temporaries(d)]
    ['.a.h5.ecg-999999999-ab.tmp']
    """
    removed = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            m = _TMP_PID.match(name)
            if m is None:
                continue
            if _alive(int(m.group(1))):
                continue
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(root, name))
                removed.append(Path(root) / name)
    return sorted(removed)


def remove_stale_locks(folder: str | os.PathLike) -> list[Path]:
    """Remove the lock files (``.<name>.ecg-lock``) in ``folder`` that no process holds.

    A writer killed inside :func:`atomic_path` leaves its lock file (the kernel drops
    the lock itself); the next writer of the same output removes it when it finishes,
    but an output that is never written again (the ``last.pt`` of a run killed after its
    last epoch) would keep it for ever. A lock that this process can take is stale:
    it is taken, unlinked and let go (a writer that opened it meanwhile finds it gone
    and locks the new one, see :func:`_acquire_lock`). Not recursive; returns the
    removed paths.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / f".a.h5{LOCK_SUFFIX}").write_text("999999999")
    >>> [p.name for p in remove_stale_locks(d)]
    ['.a.h5.ecg-lock']
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock files
        return []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    removed = []
    for name in names:
        if not (name.startswith(".") and name.endswith(LOCK_SUFFIX)):
            continue
        lock = Path(folder) / name
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(lock)
            removed.append(lock)
        except OSError:  # held by a live writer (BlockingIOError), or gone already
            pass
        finally:
            os.close(fd)
    return removed


def _lock_owner(fd: int) -> str:
    """`` (pid N)`` from the lock file, or "" (not written yet: the holder writes it after locking)."""
    fields = b""
    with contextlib.suppress(OSError):
        fields = os.pread(fd, 32, 0).split()
    if fields and fields[0].isdigit():
        return f" (pid {int(fields[0])})"
    return ""


def _acquire_lock(path: Path, wait_s: float = 0.0) -> int | None:
    """Take the output's lock file, waiting at most ``wait_s`` s; return its descriptor.

    The lock is ``flock`` on ``.<name>.ecg-lock``: the kernel drops it when its holder
    dies, however it dies. Returns None where ``fcntl`` does not exist (Windows).
    While waiting, this process polls (every 50 ms, so Ctrl-C still ends it).

    Raises
    ------
    OutputBusyError
        Another live process holds it (still, after ``wait_s``).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    lock = path.parent / f".{path.name}{LOCK_SUFFIX}"
    deadline = time.monotonic() + wait_s
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _lock_owner(fd)
            os.close(fd)
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise OutputBusyError(
                f"another process{owner} is writing {path} right now: wait for it to end "
                f"or choose another output") from None
        except BaseException:
            os.close(fd)
            raise
        # The holder before us may have unlinked the file we opened: lock the one on disk.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            with contextlib.suppress(OSError):  # only informative (and the disk may be full)
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


def _release_lock(path: Path, fd: int | None) -> None:
    if fd is None:
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path.parent / f".{path.name}{LOCK_SUFFIX}")
    os.close(fd)


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold the writer lock of ``path`` (a file or a folder) for the block.

    For an output written in many steps over a long time (the run folder of ``ecg
    train``): a second writer of the same ``path`` fails at once with
    :class:`OutputBusyError` instead of mixing its files with ours. It is the lock that
    :func:`atomic_path` takes (``.<name>.ecg-lock`` beside ``path``), so the two exclude
    each other.

    Raises
    ------
    OutputBusyError
        Another process holds the lock (still, after ``wait_s`` s).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with output_lock(d / "run"):
    ...     try:
    ...         with atomic_path(d / "run"):
    ...             pass
    ...     except OutputBusyError as err:
    ...         print("busy")
    busy
    """
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire_lock(path, wait_s)
    try:
        yield path
    finally:
        _release_lock(path, fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True,
                wait_s: float = 0.0) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    While the block runs, this process holds the output's lock (``.<name>.ecg-lock``):
    a second writer of the same ``path`` fails at once with :class:`OutputBusyError`
    instead of racing. Temporary files of ``path`` that earlier, killed runs left
    behind are removed first (holding the lock proves their writers are gone). The
    temporary file (:func:`temporary_name`) is removed on every way out of the block
    that this process controls (error, Ctrl-C, SIGTERM with
    :func:`ecgseg.lifecycle.exit_cleanly_on_sigterm`), full disks included.

    Parameters
    ----------
    path : path
        Final file name.
    overwrite : bool
        If False, refuse (:class:`~ecgseg.errors.OutputExistsError`, a
        ``FileExistsError``) when ``path`` exists, before and after.
    wait_s : float
        How long to wait, s, for another writer of ``path`` to finish (default 0: fail
        at once). For idempotent writes (verified downloads into a cache that several
        processes share), where the other writer's result is as good as ours.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    OutputBusyError
        Another process is writing ``path``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> sorted(p.name for p in d.iterdir())
    ['out.txt']
    """
    path = Path(path)
    if not overwrite:
        refuse_existing(path, overwrite)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = _acquire_lock(path, wait_s)
    tmp = None
    try:
        for stale in stale_temporaries(path):
            with contextlib.suppress(OSError):
                stale.unlink()
        with writing(path):  # a full disk or a read-only place: one line naming path
            while tmp is None:
                candidate = temporary_name(path, secrets.token_hex(4))
                try:
                    os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                    tmp = candidate
                except FileExistsError:  # pragma: no cover - 1 in 4 billion
                    continue
            yield tmp
            if not overwrite:
                refuse_existing(path, overwrite)
            os.chmod(tmp, default_mode())  # created 0600 while written; give the usual mode
            os.replace(tmp, path)
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        _release_lock(path, lock)
