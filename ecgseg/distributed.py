"""Run per-record tasks on a ``dask.distributed`` cluster, results in task order.

The Dask twin of :func:`ecgseg.workers.ordered_map`; :func:`ecgseg.executors.task_map`
chooses between them. No segmentation logic here.

``scheduler`` is either a scheduler address (``"tcp://host:8786"``: workers started
elsewhere with ``dask scheduler`` / ``dask worker``) or ``"local"``: a
:class:`distributed.LocalCluster` of ``workers`` single-threaded processes on this machine,
bound to 127.0.0.1, started for the call and closed after it.

Consecutive tasks travel in groups, one Dask task per group (:func:`batch_size`): each
Dask task costs ~9 ms of CPU in the client, scheduler and worker together, a quarter of
a 30-minute MIT-BIH record's work (docs/scaling.md).

Fault tolerance is Dask's: a task whose worker dies is run again on another worker
(``distributed.scheduler.allowed-failures``, 3 by default); tasks must therefore be pure
and idempotent (the per-record function returns its errors instead of raising them, so a
bad record is reported once instead of being retried, and shards are written atomically).
A task that kills every worker it lands on ends the run with an :class:`EcgError`.

Workers need ``ecgseg`` importable (``pip install -e ".[distributed]"`` on every machine)
and the records: either a path every worker sees (shared file system), or a per-machine
cache filled through the download layer (:class:`WorkerSource`).

Examples
--------
>>> list(dask_ordered_map(abs, [-1, 2, -3], "local", workers=1))  # doctest: +SKIP
[1, 2, 3]
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Iterable, Sized
from dataclasses import dataclass
from itertools import chain, islice
from typing import Callable, Iterator, Sequence, TypeVar

from .errors import EcgError, InputError
from .lifecycle import DeferredStopSignals, stop_signals_blocked

T = TypeVar("T")
R = TypeVar("R")

LOCAL = "local"

#: Dask's monitoring for our clusters: tasks here last ~0.1 s a record, and the
#: defaults (event-loop tick 20 ms, memory monitor 100 ms, system monitor 500 ms) cost
#: the workers ~30 % more CPU than the process pool on a busy 2-core machine (measured:
#: 96 records, 4.5 s of worker CPU vs 3.5 s with these). The worker's statistical
#: profiler (a thread sampling every thread's stack every 10 ms, for the dashboard's
#: profile page) is off: it was 29 of the 41 ms of CPU per second that an idle
#: ``dask scheduler`` + 2 nannies + 2 workers used (2026-11-29, docs/scaling.md), and it
#: samples running tasks too. Applied to the ``"local"`` cluster and to
#: :func:`loopback_cluster`; remote workers take them as environment variables
#: (:data:`DASK_ENV`: ``DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=500ms`` etc.), which a
#: client cannot set for workers started elsewhere: docs/scaling.md gives the command.
DASK_CONFIG = {
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "500ms",
    "distributed.worker.profile.enabled": False,
}
#: What Dask's nanny puts in the environment of the worker process it spawns, on top of
#: Dask's defaults (``distributed.nanny.pre-spawn-environ``; None removes a variable).
#: Dask sets ``MALLOC_TRIM_THRESHOLD_=65536``, and setting it turns off glibc's adaptive
#: mmap threshold: every array above 128 KB (a record's signal is MBs) is then mmap'ed
#: and unmapped, its pages faulted in and zeroed again for each record. Measured on
#: 480 records with ``--shards`` (2026-11-29, 3 interleaved rounds, load 4.7-6.6): the
#: scheduler + 2 workers used 20.2 s of CPU with it and 16.9 s without (medians), the
#: process pool 17.7 s.
#: The ``"local"`` cluster's workers are forked, so an environment variable changes
#: nothing for them (they keep the parent's malloc settings); it is applied there too so
#: that its nannies do not leave the variable in this process's environment.
NANNY_PRE_SPAWN_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": None}
#: :data:`DASK_CONFIG` and :data:`NANNY_PRE_SPAWN_ENVIRON` as the environment variables
#: of ``dask scheduler`` / ``dask worker`` processes (:func:`loopback_cluster`,
#: docs/scaling.md).
DASK_ENV = {"DASK_" + k.upper().replace(".", "__").replace("-", "_"): str(v)
            for k, v in DASK_CONFIG.items()}
DASK_ENV["DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON"] = repr(NANNY_PRE_SPAWN_ENVIRON)
#: Dask's settings in this process while a run lasts (:func:`dask_client`): the client,
#: and the ``"local"`` cluster's scheduler and nannies, which run here.
#: ``distributed.admin.low-level-log-length`` (default 1 000) bounds logs kept for
#: debugging, among them the client's last 1 000 batches of messages to the scheduler
#: (each task's ``update-graph`` and release messages) and a local scheduler's last
#: 1 000 transitions; until they are full they grow with the tasks: measured with the
#: client alone (scheduler + 2 workers, tasks returning a record's result without
#: segmenting, 2026-11-29), the client's RSS at the last result grew 1.8 MB from 480
#: to 2 880 records and 1.5 MB more to 8 000 with the default, 1.1 and 0.2 MB with 10,
#: and glibc's heap in use stayed flat (+0.3 MB with the default).
CLIENT_CONFIG = {"distributed.admin.low-level-log-length": 10}
#: What ``dask worker`` is given to import ecgseg and load its kernels at start-up,
#: instead of in its first task (:mod:`ecgseg.dask_preload`).
WORKER_PRELOAD = ("--preload", "ecgseg.dask_preload")


def check_scheduler(scheduler: str) -> str:
    """Validate a ``scheduler`` value (``"local"`` or ``tcp://host:port`` and the like).

    Raises
    ------
    InputError
        Empty value, or dask.distributed not installed.

    Examples
    --------
    >>> check_scheduler("tcp://127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    """
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InputError(f"scheduler must be 'local' or an address such as "
                         f"tcp://host:8786; got {scheduler!r}")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("scheduler needs dask.distributed: pip install -e \".[distributed]\"") \
            from None
    return scheduler.strip()


def _local_cluster(workers: int, warm_up: Callable[[], None] | None):
    """A :class:`distributed.LocalCluster` of single-threaded worker processes on 127.0.0.1.

    Where ``fork`` is available and safe (:func:`ecgseg.workers.fork_context`), the
    parent runs ``warm_up`` and the workers are forked from it, as the process pool's
    are: they start with ``ecgseg`` imported and its kernels compiled (measured on 2
    cores: 0.5 s to start and 0.1 s to stop, against 3.3 s + 11 s of first-task
    kernel loading + 3.5 s for spawned workers).
    """
    import dask
    from distributed import LocalCluster

    from .workers import fork_context

    config = dict(DASK_CONFIG)
    # Also here: a LocalCluster's nannies run in this process and put their
    # pre-spawn-environ into its os.environ, which every process started from it later
    # would inherit (e.g. the dask workers of a test's loopback_cluster).
    config.update({f"distributed.nanny.pre-spawn-environ.{k}": v
                   for k, v in NANNY_PRE_SPAWN_ENVIRON.items()})
    if fork_context() is not None:
        if warm_up is not None:
            warm_up()
        config["distributed.worker.multiprocessing-method"] = "fork"
    # The cluster's event-loop thread, the nannies' helper threads and the worker
    # processes forked from them start with SIGINT/SIGTERM blocked: a Ctrl-C reaches
    # this process's main thread only (the workers never die half-way and get restarted);
    # the parent alone stops them (kill_local_workers). They die with this process
    # through distributed's parent-alive pipe, however it dies.
    with dask.config.set(config), stop_signals_blocked():
        return LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                            processes=True, host="127.0.0.1", dashboard_address=None,
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                            silence_logs=logging.ERROR)


def kill_local_workers(cluster) -> None:
    """SIGKILL the worker processes of a :class:`distributed.LocalCluster` now.

    The tear-down of an interrupted run (as :func:`ecgseg.workers.tear_down` for the
    pool): a graceful close waits for running tasks; the workers only compute (shards
    are written atomically), so killing them loses nothing. Each nanny is first put in
    its ``closing_gracefully`` state, in which it closes when its worker exits instead of
    starting a new one (a start that the cluster's close would then cancel, and the
    nanny log as an ERROR with a traceback).
    """
    import signal

    from distributed.core import Status

    for nanny in list(getattr(cluster, "workers", {}).values()):
        with contextlib.suppress(Exception):
            if nanny.status == Status.running:
                nanny.status = Status.closing_gracefully
            pid = nanny.process.process.pid
            if pid:
                os.kill(pid, signal.SIGKILL)


#: Seconds the client and the local cluster get to close after an interruption or error.
CLOSE_TIMEOUT_S = 2


@contextlib.contextmanager
def dask_client(scheduler: str, workers: int = 1, timeout_s: float = 30,
                warm_up: Callable[[], None] | None = None) -> Iterator:
    """A connected :class:`distributed.Client`, closed (with its local cluster) on exit.

    Parameters
    ----------
    scheduler : str
        ``"local"`` or a scheduler address.
    workers : int
        Worker processes of the ``"local"`` cluster (ignored for an address).
    timeout_s : float
        Connection timeout, s.
    warm_up : callable, optional
        ``"local"`` only: run here before the workers fork (compiled kernels).
    """
    import dask
    from distributed import Client

    scheduler = check_scheduler(scheduler)
    cluster = client = None
    failed = True
    with dask.config.set(CLIENT_CONFIG):  # restored when the run ends
        try:
            if scheduler == LOCAL:
                cluster = _local_cluster(workers, warm_up)
                client = Client(cluster, timeout=f"{timeout_s}s")
            else:
                try:
                    client = Client(scheduler, timeout=f"{timeout_s}s")
                except (OSError, TimeoutError, ValueError) as exc:
                    raise EcgError(f"scheduler {scheduler}: cannot connect ({exc})") \
                        from None
            yield client
            failed = False
        finally:
            if failed:
                # Interrupted or failed: kill the local workers first, then close with
                # bounded waits (closing releases every future of the client: the
                # scheduler drops them); distributed's own logs of the broken
                # connections stay quiet.
                with _distributed_logs_quiet():
                    if cluster is not None:
                        kill_local_workers(cluster)
                    _close(client, cluster, CLOSE_TIMEOUT_S)
            else:
                _close(client, cluster, None)


@contextlib.contextmanager
def _distributed_logs_quiet(level: int = logging.ERROR) -> Iterator[None]:
    """Hold the ``distributed`` loggers of this process at ``level`` until the block ends.

    ``LocalCluster(silence_logs=...)`` quiets them only while the cluster is open: its
    close restores them while the event loop still runs, so an interrupted run could
    print distributed's INFO tracebacks (``Batched Comm Closed ... CommClosedError``)
    after its one line (seen once in CI, ``test_ctrl_c_cancels_closes_the_cluster_and_
    leaves_no_output[SIGINT]``). Here the level comes back only once the close is done.
    """
    logger = logging.getLogger("distributed")
    old = logger.level
    logger.setLevel(max(level, logger.getEffectiveLevel()))
    try:
        yield
    finally:
        logger.setLevel(old)


def _close(client, cluster, timeout: float | None) -> None:
    """Close ``client`` then ``cluster`` (None: absent); with a ``timeout``, s, errors of
    the close are ignored (the run is already failing)."""
    kw = {"timeout": timeout} if timeout is not None else {}
    quiet = contextlib.suppress(Exception) if timeout is not None else contextlib.nullcontext()
    try:
        if client is not None:
            with quiet:
                client.close(**kw)
    finally:
        if cluster is not None:
            with quiet:
                cluster.close(**kw)


def _threads(client) -> int:
    """Threads of the cluster's workers (at least 1)."""
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # pragma: no cover - scheduler gone
        return 1


#: Most tasks of ``fn`` per Dask task (see :func:`batch_size`). Measured on 240
#: MIT-BIH records without ``--shards`` (the beats come back to the client): 16 cost the
#: client ~90 MB more peak RSS than 1, 4 cost 9 MB; Dask's ~8 ms of CPU per task is
#: ~2.5 % of a record's ~40 ms at 8.
MAX_BATCH = 8
#: Fewest Dask tasks per worker thread that :func:`batch_size` keeps, for load balance
#: and so that a dying worker loses little finished work.
TASKS_PER_THREAD = 4


def batch_size(n_tasks: int, threads: int, max_batch: int = MAX_BATCH) -> int:
    """How many tasks of ``fn`` one Dask task runs.

    Each Dask task costs a few messages between client, scheduler and worker (ms of CPU
    in three processes), as much as a few percent of a 30-minute MIT-BIH record's
    ~40 ms; grouping records amortises it. The groups stay small enough that every
    thread still gets at least :data:`TASKS_PER_THREAD` of them (load balance; a
    killed worker's group is recomputed elsewhere) and hold at most ``max_batch``
    records (the results of a group travel and wait in the client together).

    Parameters
    ----------
    n_tasks : int
        Tasks of ``fn`` in the run.
    threads : int
        Worker threads of the cluster.
    max_batch : int
        Upper bound.

    Examples
    --------
    >>> batch_size(480, threads=2), batch_size(8, threads=2), batch_size(50, threads=2)
    (8, 1, 6)
    """
    return max(1, min(int(max_batch), n_tasks // (TASKS_PER_THREAD * max(1, threads))))


def run_batch(fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
    """``[fn(t) for t in tasks]``: one Dask task (worker side) for a group of tasks."""
    return [fn(t) for t in tasks]


def _groups(tasks: Iterable[T], threads: int, max_batch: int) -> Iterator[list[T]]:
    """``tasks`` in consecutive groups of :func:`batch_size`, read as groups are taken.

    The size needs the number of tasks only while it is below
    ``max_batch * TASKS_PER_THREAD * threads`` (past that it is ``max_batch``), so
    an iterable without a length is read that far ahead, no further: the groups are
    those of the same tasks as a list.

    Examples
    --------
    >>> [len(g) for g in _groups(iter(range(20)), threads=2, max_batch=8)]
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    >>> [len(g) for g in _groups(iter(range(80)), threads=2, max_batch=8)][:3]
    [8, 8, 8]
    """
    if isinstance(tasks, Sized):
        n, it = len(tasks), iter(tasks)
    else:  # a stream: look ahead as far as the size can depend on the count
        it = iter(tasks)
        head = list(islice(it, max(1, max_batch) * TASKS_PER_THREAD * max(1, threads)))
        n, it = len(head), chain(head, it)
        del head
    size = batch_size(n, threads, max_batch)
    return iter(lambda: list(islice(it, size)), [])


def dask_ordered_map(fn: Callable[[T], R], tasks: Iterable[T], scheduler: str,
                     workers: int = 1,
                     warm_up: Callable[[], None] | None = None,
                     max_batch: int | None = None) -> Iterator[R]:
    """Yield ``fn(task)`` for each task, in task order, computed on a Dask cluster.

    Consecutive tasks go to the workers in groups (:func:`batch_size`: up to
    ``max_batch``, at least :data:`TASKS_PER_THREAD` groups per worker thread), one
    Dask task per group; about twice as many groups as the cluster has threads are in
    flight, and a finished group's results stay on its worker until this process asks
    for them in order, so the results held here are one group's whatever the number of
    tasks. Closing the iterator early (an exception in the consumer, Ctrl-C) cancels
    the pending futures and closes the client and the local cluster.

    Parameters
    ----------
    fn : callable
        A picklable module-level function of one task (or a ``functools.partial`` of
        one), importable on the workers; it should return errors, not raise them.
    tasks : iterable
        Picklable tasks, read as groups are submitted (an iterable without a length,
        e.g. a generator, is never listed whole: :func:`_groups`).
    scheduler : str
        ``"local"`` or a scheduler address.
    workers : int
        Processes of the ``"local"`` cluster.
    warm_up : callable, optional
        ``"local"`` only: compile the kernels here before the workers fork.
    max_batch : int, optional
        Most tasks per Dask task (1: one Dask task per task; default
        :data:`MAX_BATCH`).

    Raises
    ------
    EcgError
        Cannot connect, or a task killed its workers ``allowed-failures`` times.
    """
    from distributed import KilledWorker

    # Ctrl-C and SIGTERM are noted and raised at safe points (between polls of a future),
    # never inside distributed's locks or its event-loop calls (ecgseg.lifecycle).
    with DeferredStopSignals() as stop, \
            dask_client(scheduler, workers, warm_up=warm_up) as client:
        stop.check()
        threads = _threads(client)
        groups = _groups(tasks, threads, MAX_BATCH if max_batch is None else max_batch)
        slots = max(2, 2 * threads)

        def submit(group):
            # pure=False: a unique key per group, never a cached result of another run
            return client.submit(run_batch, fn, group, pure=False)

        pending: deque = deque()
        try:
            for g in groups:
                pending.append(submit(g))
                if len(pending) >= slots:
                    break
            while pending:
                fut = pending.popleft()
                try:
                    results = _result(fut, stop)
                except KilledWorker as exc:
                    raise EcgError(f"scheduler {scheduler}: a task killed its workers "
                                   f"repeatedly ({exc})") from None
                fut.release()
                nxt = next(groups, None)
                if nxt is not None:
                    pending.append(submit(nxt))
                stop.check()
                while results:
                    result = results.pop(0)  # the consumer's copy only: freed as it goes
                    yield result
                    stop.check()
        except BaseException:  # Ctrl-C, SIGTERM, an error, or the consumer closed us
            if pending and scheduler != LOCAL:  # a local cluster's workers are killed
                with contextlib.suppress(Exception):
                    client.cancel(list(pending))
            pending.clear()
            raise


def _result(fut, stop: DeferredStopSignals, poll_s: float = 0.05):
    """``fut.result()``, raising a noted stop signal within ``poll_s`` seconds."""
    import time

    while not fut.done():
        stop.check()
        time.sleep(poll_s)
    stop.check()
    return fut.result()


@dataclass(frozen=True)
class WorkerSource:
    """Where a worker finds records it does not see on a shared path (picklable).

    Attributes
    ----------
    data_dir : str
        Data folder on the worker's machine (the per-worker cache): records go to
        ``<data_dir>/physionet/<db>/<version>/``.
    mirror : str or None
        PhysioNet mirror URL (None: ``ECG_PHYSIONET_URL`` or physionet.org, as for
        ``ecg download``).

    Several workers of one machine may share ``data_dir``: every file is verified
    against ``SHA256SUMS.txt`` and renamed into place atomically.
    """

    data_dir: str
    mirror: str | None = None

    def ensure(self, db: str, name: str) -> None:
        """Download record ``name`` of ``db`` into the cache unless present and verified."""
        from .download import download_database

        download_database(db, data_dir=self.data_dir, records=[name], mirror=self.mirror,
                          progress=False)

    def record_path(self, db, name: str) -> str:
        """Path (without extension) of the record on the worker."""
        from .databases import get_database

        return os.fspath(get_database(db).local_dir(self.data_dir) / name)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LoopbackCluster:
    """A ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 (see
    :func:`loopback_cluster`).

    Attributes
    ----------
    address : str
        ``tcp://127.0.0.1:<port>`` of the scheduler.
    scheduler : subprocess.Popen
    workers : list of subprocess.Popen
        One per worker; each is its own process group (nanny and worker), so
        ``os.killpg(p.pid, signal.SIGKILL)`` kills one worker for good.
    """

    address: str
    scheduler: object
    workers: list


def _stop(proc, timeout_s: float = 10) -> None:
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def loopback_cluster(workers: int = 2, *, env: dict | None = None, log_dir=None,
                     timeout_s: float = 120, preload: bool = True,
                     worker_args: Sequence[str] = ()) -> Iterator[LoopbackCluster]:
    """Start ``dask scheduler`` and ``workers`` single-threaded ``dask worker`` processes
    on 127.0.0.1 (free port, no dashboard), wait for them, and kill them all on exit.

    For tests and benchmarks of the real command-line cluster on one machine; each
    process is its own process group, stopped with SIGTERM then SIGKILL (bounded waits).

    Parameters
    ----------
    workers : int
        ``dask worker`` processes (``--nworkers 1 --nthreads 1`` each).
    env : dict, optional
        Environment of the processes (e.g. ``PYTHONPATH`` so they import this ``ecgseg``),
        on top of :data:`DASK_ENV` (its ``DASK_*`` variables win).
    log_dir : path, optional
        Where their output goes (``scheduler.log``, ``worker-<i>.log``); default discarded.
    timeout_s : float
        How long to wait for the scheduler and all workers.
    preload : bool
        Start the workers with :data:`WORKER_PRELOAD` (ecgseg imported and its kernels
        loaded before they take tasks); False: as a bare ``dask worker``.
    worker_args : sequence of str
        More ``dask worker`` options (e.g. ``("--no-nanny",)``).

    Examples
    --------
    >>> with loopback_cluster(2) as c:                     # doctest: +SKIP
    ...     list(dask_ordered_map(abs, [-1, -2], c.address))
    [1, 2]
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    from distributed import Client

    dask_cmd = [sys.executable, "-m", "dask"]  # the `dask` command of this interpreter
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []

    def start(args, log_name):
        out = subprocess.DEVNULL
        if log_dir is not None:
            out = open(Path(log_dir) / log_name, "wb")  # noqa: SIM115  (closed below)
        try:
            p = subprocess.Popen(dask_cmd + args, env={**DASK_ENV, **(env or os.environ)},
                                 stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        procs.append(p)
        return p

    try:
        sched = start(["scheduler", "--host", "127.0.0.1", "--port", str(port),
                       "--no-dashboard"], "scheduler.log")
        wk = [start(["worker", address, "--nworkers", "1", "--nthreads", "1",
                     "--host", "127.0.0.1", "--no-dashboard",
                     *(WORKER_PRELOAD if preload else ()), *worker_args],
                    f"worker-{i}.log")
              for i in range(workers)]
        t0 = time.monotonic()
        with Client(address, timeout=f"{timeout_s}s") as client:
            client.wait_for_workers(workers, timeout=max(1.0, timeout_s
                                                         - (time.monotonic() - t0)))
        yield LoopbackCluster(address=address, scheduler=sched, workers=wk)
    finally:
        for p in reversed(procs):
            _stop(p)
