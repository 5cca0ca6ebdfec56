"""Segmentation on Dask and HDF5 shards: byte-identical to the local process pool.

Real components on loopback: a ``LocalCluster`` of two worker processes, and a real
``dask scheduler`` with two ``dask worker`` processes (one SIGKILLed mid-run).
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

pytest.importorskip("distributed")

from ecgseg.distributed import loopback_cluster  # noqa: E402
from ecgseg.errors import EcgError  # noqa: E402
from ecgseg.pipeline import segment_database  # noqa: E402
from ecgseg.store import load_beats  # noqa: E402

from .conftest import ROOT, run_ecg  # noqa: E402
from .fault_helpers import group as _group  # noqa: E402

PER_BEAT = ("beats", "label", "symbol", "record_id", "sample", "window", "n_values")


@pytest.fixture(scope="module")
def records(mitdb_names) -> list[str]:
    """Eight records (102: no MLII, lead V5), enough for tasks to be in flight."""
    names = [n for n in mitdb_names if n != "102"][:7] + ["102"]
    return sorted(names, key=mitdb_names.index)


@pytest.fixture(scope="module")
def local_h5(session_data_dir, records, tmp_path_factory, on_full_mirror) -> Path:
    """The reference: the same records in this process (no pool, no Dask)."""
    out = tmp_path_factory.mktemp("local") / "mitdb.h5"
    segment_database("mitdb", data_dir=session_data_dir, out=out, records=records,
                     workers=1, progress=False)
    with h5py.File(out, "r") as f:  # the shipped first 150 s of the eight records: 808 beats
        assert f["beats"].shape[0] > (1000 if on_full_mirror else 800)
    return out


def assert_same_file(expected: Path, got: Path) -> None:
    """Every per-beat dataset (dtype, shape, bytes), the /records table, the source
    hashes (/source_sha256 rows, in record order) and the attributes except the
    creation time are equal."""
    with h5py.File(expected, "r") as a, h5py.File(got, "r") as b:
        for key in PER_BEAT:
            x, y = a[key][()], b[key][()]
            assert x.dtype == y.dtype and x.shape == y.shape, key
            assert x.tobytes() == y.tobytes(), key
        for key in ("file", "sha256"):
            x, y = a[f"source_sha256/{key}"], b[f"source_sha256/{key}"]
            assert x.dtype == y.dtype and x.shape == y.shape and x.shape[0] > 0, key
            assert x[()].tolist() == y[()].tolist(), key
        assert sorted(a["records"]) == sorted(b["records"])
        for key in a["records"]:
            assert np.array_equal(a["records"][key][()], b["records"][key][()]), key
        attrs_a = {k: v for k, v in a.attrs.items() if k not in ("created", "shards")}
        attrs_b = {k: v for k, v in b.attrs.items() if k not in ("created", "shards")}
        assert attrs_a == attrs_b


def test_local_cluster_equals_local_run(session_data_dir, records, local_h5, tmp_path):
    out = tmp_path / "dask.h5"
    s = segment_database("mitdb", data_dir=session_data_dir, out=out, records=records,
                         workers=2, scheduler="local", progress=False)
    assert s.records == records
    assert_same_file(local_h5, out)


def test_shards_read_back_equal_to_single_file(session_data_dir, records, local_h5,
                                               tmp_path, monkeypatch):
    import ecgseg.spooled_records

    # /records written 3 rows at a time, the index file closed and reopened in between
    monkeypatch.setattr(ecgseg.spooled_records, "BLOCK_ROWS", 3)
    out, shards = tmp_path / "out" / "mitdb.h5", tmp_path / "shards"
    s = segment_database("mitdb", data_dir=session_data_dir, out=out, records=records,
                         workers=2, shards=shards, progress=False)
    assert s.records == records and s.n_records == len(records)
    assert sorted(p.stem for p in shards.glob("*.h5")) == sorted(records)
    with h5py.File(out, "r") as f:
        assert f["beats"].is_virtual and f["record_id"].is_virtual
        # /record_id over its parts, which are real datasets of this file
        assert [m.dset_name for m in f["record_id"].virtual_sources()] == ["/_vds/record_id/000000"]
        assert not f["/_vds/record_id/000000"].is_virtual
        # two levels: /beats over its parts in this file, the parts over the shards
        top = f["beats"].virtual_sources()
        assert [(m.file_name, m.dset_name) for m in top] == [(".", "/_vds/beats/000000")]
        parts = [f[m.dset_name].virtual_sources() for m in top]
        assert [Path(m.file_name).stem for p in parts for m in p] == records
    assert_same_file(local_h5, out)  # plain h5py
    for labelled in (True, False):  # and the toolkit's reader
        a, b = load_beats(local_h5, labelled=labelled), load_beats(out, labelled=labelled)
        assert a.beats.tobytes() == b.beats.tobytes()
        assert a.meta.equals(b.meta) and a.records.equals(b.records)
    # a shard is itself a one-record beats file of the same schema
    one = load_beats(shards / f"{records[0]}.h5", labelled=False)
    ref = load_beats(local_h5, records=[records[0]], labelled=False)
    assert one.beats.tobytes() == ref.beats.tobytes()
    # file and shards move together (paths stored relative to the file)
    moved = tmp_path / "moved"
    moved.mkdir()
    (tmp_path / "out").rename(moved / "out")
    shards.rename(moved / "shards")
    b = load_beats(moved / "out" / "mitdb.h5", labelled=False)
    assert b.beats.tobytes() == load_beats(local_h5, labelled=False).beats.tobytes()


class _SlowHandler(http.server.SimpleHTTPRequestHandler):
    """A PhysioNet mirror that takes 0.3 s per request, so that tasks last long
    enough to kill a worker while it holds some."""

    def do_GET(self):
        time.sleep(0.3)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_mirror(mirror_dir):
    handler = functools.partial(_SlowHandler, directory=str(mirror_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_scheduler_and_workers_processes_survive_a_killed_worker(
        session_data_dir, records, local_h5, slow_mirror, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    with loopback_cluster(2, env=env, log_dir=tmp_path) as cluster:
        # 0. the workers run as docs/scaling.md tells users to start theirs (DASK_ENV and
        # the preload): glibc's malloc left adaptive, no profiler, kernels loaded
        from distributed import Client

        with Client(cluster.address) as client:
            state = client.run(lambda: (
                os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                __import__("dask").config.get("distributed.worker.profile.enabled"),
                "ecgseg.recipes.paper_record" in __import__("sys").modules))
        assert list(state.values()) == [(None, False, True)] * 2, state
        # 1. records on a shared path, results streamed to one file
        out = tmp_path / "remote.h5"
        segment_database("mitdb", data_dir=session_data_dir, out=out, records=records,
                         scheduler=cluster.address, progress=False)
        assert_same_file(local_h5, out)

        # 2. workers fetch their records through the download layer into their cache,
        #    write shards, and one of them is SIGKILLed while it holds tasks
        shards, cache = tmp_path / "shards", tmp_path / "worker-cache"
        result: dict = {}

        def run():
            try:
                result["summary"] = segment_database(
                    "mitdb", data_dir=tmp_path / "client-has-no-records",
                    out=tmp_path / "killed.h5", records=records,
                    scheduler=cluster.address, shards=shards, worker_data_dir=cache,
                    mirror=slow_mirror, progress=False)
            except BaseException as exc:  # reported below
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 120
        while not list(shards.glob("*.h5")) and time.monotonic() < deadline:
            assert thread.is_alive() or "error" not in result, result.get("error")
            time.sleep(0.05)
        done_before_kill = len(list(shards.glob("*.h5")))
        victim = cluster.workers[1]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        thread.join(timeout=300)
        assert not thread.is_alive()
        assert "error" not in result, result.get("error")
        assert 1 <= done_before_kill < len(records)  # killed mid-run
        assert result["summary"].records == records and not result["summary"].failed, \
            result["summary"].failed
        assert_same_file(local_h5, tmp_path / "killed.h5")
        # the cache holds verified copies of what the workers fetched
        assert (cache / "physionet" / "mitdb" / "1.0.0" / f"{records[0]}.dat").exists()
    assert all(p.poll() is not None for p in [cluster.scheduler, *cluster.workers])


def test_bad_scheduler_is_one_line_error(session_data_dir, tmp_path, capsys):
    with pytest.raises(EcgError, match="scheduler must be"):
        segment_database("mitdb", data_dir=session_data_dir, out=tmp_path / "x.h5",
                         records=["100"], scheduler=" ", progress=False)
    code = run_ecg(["segment", "--data-dir", str(session_data_dir), "--records", "100",
                    "--out", str(tmp_path / "y.h5"), "--scheduler", " ", "--quiet"])
    assert code != 0
    assert "scheduler must be" in capsys.readouterr().err
    assert not (tmp_path / "y.h5").exists()


@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_cancels_closes_the_cluster_and_leaves_no_output(records, slow_mirror,
                                                                 tmp_path, sig, status):
    """SIGINT (what a terminal's Ctrl-C does) or SIGTERM to the command's process group
    while tasks run on a LocalCluster: exit 130/143 within seconds and without a
    traceback, no file under the final name, no temporary or lock file (output folder
    and shards folder), no process left.

    The workers fetch their records from a slow mirror (0.3 s a request) into their
    cache, so the run lasts far longer than it takes to interrupt it, on an idle machine
    as under load; the signal goes out as soon as the first record file reached a
    worker's cache (tasks are running)."""
    import subprocess
    import sys

    from ecgseg.atomic import LOCK_SUFFIX

    out = tmp_path / "out" / "mitdb.h5"
    out.parent.mkdir()
    shards, cache = tmp_path / "shards", tmp_path / "worker-cache"
    records_dir = cache / "physionet" / "mitdb" / "1.0.0"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "ecg_cli.main", "segment",
         "--data-dir", str(tmp_path / "client-has-no-records"),
         "--records", ",".join(records), "--out", str(out), "--scheduler", "local",
         "--workers", "2", "--shards", str(shards), "--worker-data-dir", str(cache),
         "--mirror", slow_mirror, "--quiet"],
        env=env, cwd=tmp_path, start_new_session=True, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not list(records_dir.glob("*.hea")):
            assert proc.poll() is None, f"ended before its tasks ran: {proc.communicate()}"
            assert time.monotonic() < deadline, "no task started"
            time.sleep(0.02)
        group = _group(proc.pid)
        assert len(group) >= 3, group  # the command and its 2 workers at least
        os.killpg(proc.pid, sig)
        sent = time.monotonic()
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"ecg segment hung after signal {sig}:\n{err[-4000:]}")
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == status, err
    assert "Traceback" not in err, err
    assert took < 15, f"{took:.1f} s to stop"  # 1-2 s when idle; a hang is 30 s
    assert not out.exists() and not list(out.parent.iterdir())
    left = [p for p in shards.rglob("*") if p.name.endswith((".tmp", LOCK_SUFFIX))]
    assert not left, left
    deadline = time.monotonic() + 5
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group(proc.pid), _group(proc.pid)


def _task_key(x: int) -> tuple[int, str]:
    """The task and the key of the Dask task that ran it (worker side)."""
    from distributed import get_worker

    return x, get_worker().get_current_task()


def test_batch_size_keeps_tasks_per_thread_and_bound():
    from ecgseg.distributed import MAX_BATCH, TASKS_PER_THREAD, batch_size

    assert batch_size(0, 2) == 1 and batch_size(7, 2) == 1
    for n in (8, 50, 100, 480, 10_000):
        for threads in (1, 2, 8):
            b = batch_size(n, threads)
            assert 1 <= b <= MAX_BATCH
            groups = -(-n // b)
            assert groups >= min(n, TASKS_PER_THREAD * threads)
    assert batch_size(480, 2) == MAX_BATCH and batch_size(480, 2, max_batch=1) == 1


def test_records_travel_in_groups_and_come_back_in_order():
    """24 tasks on one single-threaded worker: 4 Dask tasks of 6 consecutive tasks each
    (the rule of batch_size), results in task order; ``max_batch=1``: 24 Dask tasks."""
    from ecgseg.distributed import dask_ordered_map

    got = list(dask_ordered_map(_task_key, list(range(24)), "local", workers=1))
    assert [x for x, _ in got] == list(range(24))
    keys = [k for _, k in got]
    assert len(set(keys)) == 4
    assert all(len(set(keys[i:i + 6])) == 1 for i in range(0, 24, 6))
    one = list(dask_ordered_map(_task_key, list(range(24)), "local", workers=1, max_batch=1))
    assert [x for x, _ in one] == list(range(24)) and len({k for _, k in one}) == 24


class _CountingTasks:
    """A sequence of ints that counts how many of its items were read."""

    def __init__(self, n):
        self.n, self.read = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = list(range(self.n))[i]
            self.read += len(out)
            return out
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.read += 1
        return i


def test_tasks_are_read_as_the_window_moves_not_up_front():
    """The client holds a bounded window of tasks (2 x threads groups of at most
    MAX_BATCH) whatever their number: a sequence of tasks is read lazily by both
    executors (``segment_database`` passes one that makes a RecordTask when read)."""
    from collections.abc import Sequence

    from ecgseg.distributed import MAX_BATCH, dask_ordered_map
    from ecgseg.workers import ordered_map

    Sequence.register(_CountingTasks)
    tasks = _CountingTasks(400)
    it = dask_ordered_map(abs, tasks, "local", workers=1)
    assert next(it) == 0
    # 2 groups in flight for 1 thread, and the next one submitted before a result is
    # yielded: 3 groups of at most MAX_BATCH read, not 400 tasks
    assert tasks.read <= 3 * MAX_BATCH
    assert list(it) == list(range(1, 400)) and tasks.read == 400
    tasks = _CountingTasks(400)
    it = ordered_map(abs, tasks, workers=2)
    assert next(it) == 0 and tasks.read <= 2 * 2 + 1
    assert list(it) == list(range(1, 400))
    it.close()


def _counting(n: int, read: list):
    """``iter(range(n))`` as a generator that notes in ``read[0]`` how many it gave."""
    for i in range(n):
        read[0] += 1
        yield i


def test_streamed_tasks_are_read_as_groups_are_submitted():
    """An iterable without a length (a generator) is never listed: Dask reads it only
    as far as the group size can depend on the count (MAX_BATCH x TASKS_PER_THREAD x
    threads), the pool as its window moves; the groups are those of the same list."""
    from ecgseg.distributed import MAX_BATCH, TASKS_PER_THREAD, _groups, dask_ordered_map
    from ecgseg.workers import ordered_map

    for n in (0, 1, 7, 8, 20, 31, 32, 33, 63, 64, 65, 200):
        for threads in (1, 2):
            listed = [len(g) for g in _groups(list(range(n)), threads, MAX_BATCH)]
            streamed = [len(g) for g in _groups(iter(range(n)), threads, MAX_BATCH)]
            assert streamed == listed and sum(listed) == n, (n, threads)
    read = [0]
    groups = _groups(_counting(10_000, read), threads=2, max_batch=MAX_BATCH)
    assert len(next(groups)) == MAX_BATCH and read[0] == MAX_BATCH * TASKS_PER_THREAD * 2
    read = [0]
    it = dask_ordered_map(abs, _counting(400, read), "local", workers=1)
    assert next(it) == 0 and read[0] <= MAX_BATCH * TASKS_PER_THREAD * 1
    assert list(it) == list(range(1, 400)) and read[0] == 400
    read = [0]
    it = ordered_map(abs, _counting(400, read), workers=2)
    assert next(it) == 0 and read[0] <= 2 * 2 + 1
    assert list(it) == list(range(1, 400))
    it.close()


def test_streamed_record_names_on_a_local_cluster_equal_the_list_run(
        session_data_dir, records, local_h5, tmp_path):
    """``records`` as a generator: the same file as the local run, the generator read
    to its end, and a summary that holds a count, not the names (read back from the
    file when asked)."""
    from ecgseg.errors import InputError

    names = (n for n in records)
    out = tmp_path / "streamed.h5"
    s = segment_database("mitdb", data_dir=session_data_dir, out=out, records=names,
                         workers=2, scheduler="local", shards=tmp_path / "shards",
                         progress=False)
    assert next(names, None) is None
    assert_same_file(local_h5, out)
    assert s.n_records == len(records) and "records" not in vars(s)
    assert s.records == records
    assert s.lines()[0].startswith(f"mitdb/1.0.0 (paper recipe): {len(records)} records, ")
    out.unlink()
    with pytest.raises(InputError, match="no such file"):
        s.records


def test_client_keeps_short_debug_logs_while_a_run_lasts():
    """The client's log of its recent batches of messages to the scheduler and a local
    scheduler's transition log hold CLIENT_CONFIG's few entries during a run (with
    Dask's default, 1 000 entries, they grow the client's memory with the tasks until
    full: docs/scaling.md); the process's configuration is restored after."""
    import dask

    from ecgseg.distributed import CLIENT_CONFIG, dask_client

    key = "distributed.admin.low-level-log-length"
    before, n = dask.config.get(key), CLIENT_CONFIG[key]
    assert before != n
    with dask_client("local", 1) as client:
        assert client.scheduler_comm.recent_message_log.maxlen == n
        assert client.cluster.scheduler.transition_log.maxlen == n
        assert client.submit(abs, -3).result() == 3
    assert dask.config.get(key) == before
