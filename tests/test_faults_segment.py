"""Fault injection for ``ecg segment`` (and the writers under it): real processes, real
signals, a real full filesystem, concurrent writers (issue #14).

Each ``ecg segment`` runs as a subprocess in its own session (process group) over a
data folder that links the PhysioNet mirror (nothing to download), so a run is a few
seconds. After a signal we check the exit status, that stderr holds no traceback, that
no process of the group survives a short grace period, that no file exists under the
final name (or, if it does, that it is complete), and that the next run leaves no
temporary file of ``ecgseg.atomic`` behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecgseg.atomic import LOCK_SUFFIX, OutputBusyError, atomic_path, temporary_name
from ecgseg.workers import ordered_map

from .conftest import MIRROR_DIR, ROOT, mirror_required, require
from .fault_helpers import LAUNCHER, Paused, leftovers
from .fault_helpers import children as _children
from .fault_helpers import group as _group
from .fault_helpers import wait_group_gone as _wait_group_gone

GRACE_S = 3.0          # how long the group may take to disappear after the parent ends
RUN_TIMEOUT_S = 60.0   # a hang fails the test instead of blocking the suite
STOP_TIMEOUT_S = 20.0  # after a signal: far more than the 1-2 s it takes


def _linked_data_dir(mirror: Path, folder: Path) -> Path:
    """``folder`` as a data folder whose ``physionet/mitdb`` links ``mirror``'s (read-only use)."""
    (folder / "physionet").mkdir()
    (folder / "physionet" / "mitdb").symlink_to(mirror / "mitdb", target_is_directory=True)
    return folder


@pytest.fixture(scope="module")
def data_dir(mirror_dir, tmp_path_factory) -> Path:
    """A data folder linking the mirror in use (full, or the shipped mini mirror)."""
    return _linked_data_dir(mirror_dir, tmp_path_factory.mktemp("faults-data"))


@pytest.fixture(scope="module")
def full_data_dir(full_mirror, tmp_path_factory) -> Path:
    """A data folder linking the full mirror: for runs that must last (48 whole records)."""
    return _linked_data_dir(full_mirror, tmp_path_factory.mktemp("faults-full-data"))


def _ecg(*args: str) -> list[str]:
    return [sys.executable, "-X", "faulthandler", "-m", "ecg_cli.main", *args]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), ECG_PHYSIONET_URL="http://127.0.0.1:1/")


def _leftovers(folder: Path) -> list[str]:
    """Temporary and lock files of ecgseg.atomic in ``folder``."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name.endswith(".tmp") or p.name.endswith(LOCK_SUFFIX))



def _assert_disk_full_in_one_line(done, out, full_disk):
    """A full disk ends ``ecg segment`` with exit 1, one stderr line naming ``out``, no file
    under its final name and no temporary left on the disk."""
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "disk is full" in lines[0] and str(out) in lines[0], done.stderr
    assert not out.exists() and _leftovers(full_disk) == []

def _start(args: list[str], slow_record_s: float = 0.0) -> subprocess.Popen:
    """Start ``ecg ARGS`` in a new session; with ``slow_record_s`` each record takes that
    much longer (:mod:`tests.fault_launch`), so that a signal always finds it mid-run."""
    if not slow_record_s:
        return subprocess.Popen(_ecg(*args), cwd=ROOT, env=_env(), start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.Popen([sys.executable, "-X", "faulthandler", str(LAUNCHER), *args],
                            cwd=ROOT, env=dict(_env(), ECG_FAULT=f"slow-record:{slow_record_s}"),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _segment_args(data_dir: Path, out: Path, recipe: str, *extra: str) -> list[str]:
    return ["segment", "--db", "mitdb", "--recipe", recipe, "--data-dir", str(data_dir),
            "-o", str(out), "-j", "2", "-q", *extra]


# Each record of an interrupted run takes this much longer: 48 records on 2 workers last
# at least 48 * 0.5 / 2 = 12 s, so a signal sent within 1 s of the workers' start always
# lands in the middle of the run, however fast the machine.
SLOW_RECORD_S = 0.5


def _interrupt(data_dir: Path, out: Path, recipe: str, sig: int, delay_s: float):
    """Start a whole-MIT-BIH segment, send ``sig`` ``delay_s`` after its workers exist."""
    assert delay_s < 1.0, "the run may end before the signal"
    p = _start(_segment_args(data_dir, out, recipe), slow_record_s=SLOW_RECORD_S)
    t0 = time.monotonic()
    try:
        while not _children(p.pid):
            assert p.poll() is None, f"ended before its workers started: {p.communicate()}"
            assert time.monotonic() - t0 < RUN_TIMEOUT_S, "no worker started"
            time.sleep(0.01)
        time.sleep(delay_s)
        if sig == signal.SIGKILL:
            os.kill(p.pid, sig)            # the parent alone, as the OOM killer does
        else:
            os.killpg(p.pid, sig)          # the whole group, as a terminal's Ctrl-C does
        sent = time.monotonic()
        try:
            _, err = p.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
            time.sleep(1)
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
            stacks = err.split("\nExtension modules")[0]
            pytest.fail(f"ecg segment hung after signal {sig}:\n{stacks[-4000:]}")
        return p.returncode, err, time.monotonic() - sent, _wait_group_gone(p.pid)
    finally:
        if p.poll() is None:  # pragma: no cover - only on a failed assertion above
            os.killpg(p.pid, signal.SIGKILL)


# (signal, expected exit status, recipe, delay after the workers start, s): SIGINT five
# times (a one-in-five hang was reported), at start-up and in the middle of the records.
CASES = [
    (signal.SIGINT, 130, "paper", 0.0),
    (signal.SIGINT, 130, "paper", 0.3),
    (signal.SIGINT, 130, "kaggle", 0.1),
    (signal.SIGINT, 130, "kaggle", 0.5),
    (signal.SIGINT, 130, "paper", 0.8),
    (signal.SIGTERM, 143, "paper", 0.0),
    (signal.SIGTERM, 143, "kaggle", 0.4),
    (signal.SIGKILL, -9, "paper", 0.3),
    (signal.SIGKILL, -9, "kaggle", 0.0),
]


@pytest.mark.parametrize("sig, status, recipe, delay_s", CASES,
                         ids=[f"{signal.Signals(c[0]).name}-{c[2]}-{c[3]}" for c in CASES])
def test_signal_stops_segment_cleanly(full_data_dir, tmp_path, sig, status, recipe, delay_s):
    data_dir = full_data_dir
    out = tmp_path / "beats.h5"
    code, err, seconds, alive = _interrupt(data_dir, out, recipe, sig, delay_s)
    assert code == status, err  # the run is slowed down: it cannot end before the signal
    assert not alive, f"processes of the group still alive {GRACE_S} s later: {alive}"
    assert not out.exists()  # stopped mid-run: nothing under the final name
    if sig != signal.SIGKILL:
        assert "Traceback" not in err, err
        assert seconds < 10, f"took {seconds:.1f} s to stop"
        assert _leftovers(tmp_path) == []
    if sig != signal.SIGKILL:
        return
    # The next run writing the same output removes what the killed run left, and works.
    done = subprocess.run(_ecg(*_segment_args(data_dir, out, recipe, "-r", "100,101",
                                              "--overwrite")),
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert _leftovers(tmp_path) == []


def test_stale_temporaries_removed_by_next_writer(data_dir, tmp_path):
    out = tmp_path / "beats.h5"
    dead = temporary_name(out).with_name(f".{out.name}.ecg-999999999-dead.tmp")
    legacy = tmp_path / f".{out.name}.ab12cd_9.tmp"          # an earlier version's name
    other = tmp_path / ".other.h5.ecg-999999999-dead.tmp"    # another output's: kept
    for p in (dead, legacy, other):
        p.write_bytes(b"x" * 1000)
    (tmp_path / f".{out.name}{LOCK_SUFFIX}").write_text("999999999\n")  # a dead holder's lock
    done = subprocess.run(_ecg(*_segment_args(data_dir, out, "paper", "-r", "100")),
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, other.name])


def test_concurrent_writer_of_same_output_gets_one_line(data_dir, tmp_path):
    out = tmp_path / "beats.h5"
    with atomic_path(out):  # this test process is "the other writer"
        done = subprocess.run(_ecg(*_segment_args(data_dir, out, "paper", "-r", "100")),
                              cwd=ROOT, env=_env(), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"another process (pid {os.getpid()}) is writing" in lines[0], \
        done.stderr
    assert out.read_bytes() == b""  # what "the other writer" (this test) wrote
    assert _leftovers(tmp_path) == []


def test_two_segment_runs_one_wins(data_dir, tmp_path):
    out = tmp_path / "beats.h5"
    args = _segment_args(data_dir, out, "paper", "-r", "100,101,102,103")
    a, b = _start(args), _start(args)
    (_, err_a), (_, err_b) = a.communicate(timeout=RUN_TIMEOUT_S), b.communicate(timeout=RUN_TIMEOUT_S)
    codes = sorted([a.returncode, b.returncode])
    assert codes == [0, 1], (err_a, err_b)
    loser = err_a if a.returncode else err_b
    assert len(loser.strip().splitlines()) == 1, loser
    assert "is writing" in loser or "exists" in loser, loser
    assert out.exists() and _leftovers(tmp_path) == []


def test_atomic_path_refuses_a_second_writer_and_cleans_up(tmp_path):
    out = tmp_path / "x.bin"
    with atomic_path(out) as tmp:
        assert tmp.name.startswith(f".x.bin.ecg-{os.getpid()}-") and tmp.suffix == ".tmp"
        with pytest.raises(OutputBusyError, match="is writing"):
            with atomic_path(out):
                pass
        tmp.write_bytes(b"done")
    assert out.read_bytes() == b"done" and _leftovers(tmp_path) == []
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(out) as tmp:
            tmp.write_bytes(b"half")
            raise KeyboardInterrupt
    assert out.read_bytes() == b"done" and _leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------
# Worker pool: workers die with their parent, even when it is killed.

_POOL_SCRIPT = """
import sys, time
from ecgseg.workers import ordered_map
def slow(x):
    time.sleep(60)
    return x
if __name__ == "__main__":
    for _ in ordered_map(slow, list(range(8)), workers=2):
        pass
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_pool_workers_die_with_killed_parent(tmp_path, sig):
    script = tmp_path / "pool.py"
    script.write_text(_POOL_SCRIPT)
    p = subprocess.Popen([sys.executable, str(script)], env=_env(), start_new_session=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        while len(_children(p.pid)) < 2:
            assert time.monotonic() - t0 < 60, "workers did not start"
            time.sleep(0.02)
        os.kill(p.pid, sig)  # the parent only: nobody tells the workers
        p.communicate(timeout=30)
        assert _wait_group_gone(p.pid) == []
    finally:
        if _group(p.pid):
            os.killpg(p.pid, signal.SIGKILL)


def test_ordered_map_stops_workers_when_consumer_stops():
    before = set(_children(os.getpid()))
    gen = ordered_map(abs, list(range(-50, 0)), workers=2)
    assert next(gen) == 50
    gen.close()
    time.sleep(0.2)
    assert set(_children(os.getpid())) - before == set()


# ---------------------------------------------------------------------------------
# A real full filesystem (size-limited tmpfs; needs root, as in CI).

@pytest.fixture()
def full_disk(tmp_path):
    """A 2 MB tmpfs mounted on a fresh folder, unmounted afterwards."""
    if os.geteuid() != 0:
        if mirror_required():
            pytest.fail("mounting a tmpfs needs root; ECG_REQUIRE_MIRROR=1 forbids skipping",
                        pytrace=False)
        pytest.skip("mounting a size-limited tmpfs needs root")
    mnt = tmp_path / "full"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_segment_on_full_disk_one_line_no_temporary(full_data_dir, full_disk):
    data_dir = full_data_dir  # eight whole records: more beats than the 2 MB disk holds
    earlier = full_disk / "earlier.h5"
    ok = subprocess.run(_ecg(*_segment_args(data_dir, earlier, "paper", "-r", "100")),
                        cwd=ROOT, env=_env(), capture_output=True, text=True,
                        timeout=RUN_TIMEOUT_S)
    assert ok.returncode == 0, ok.stderr
    before = earlier.read_bytes()
    out = full_disk / "beats.h5"
    done = subprocess.run(_ecg(*_segment_args(data_dir, out, "paper",
                                              "-r", "100,101,102,103,105,106,107,108")),
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    _assert_disk_full_in_one_line(done, out, full_disk)
    assert earlier.read_bytes() == before


def test_shards_index_on_full_disk_one_line_no_temporary(data_dir, full_disk, tmp_path):
    """The ``--shards`` index is written to disk as records come (not built in memory):
    a disk that fills under it is still one line and no file, not an HDF5 crash."""
    filler = full_disk / "filler"
    with open(filler, "wb", buffering=0) as f:  # then leave 4 KB: less than the index
        while True:
            try:
                f.write(b"\0" * 4096)
            except OSError:
                break
    os.truncate(filler, max(0, filler.stat().st_size - 4096))
    out = full_disk / "beats.h5"
    done = subprocess.run(_ecg(*_segment_args(data_dir, out, "paper", "-r", "100,101,102",
                                              "--shards", str(tmp_path / "shards"))),
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    _assert_disk_full_in_one_line(done, out, full_disk)
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == [
        "100.h5", "101.h5", "102.h5"]  # the workers wrote theirs; only the index failed


# ---------------------------------------------------------------------------------
# Failed records, and options checked before any work.

def test_failed_records_exit_2_with_the_list(mirror_dir, tmp_path):
    mirror = mirror_dir
    local = tmp_path / "data" / "physionet" / "mitdb" / "1.0.0"
    local.mkdir(parents=True)
    src = mirror / "mitdb" / "1.0.0"
    for name in ("RECORDS", "SHA256SUMS.txt"):
        (local / name).symlink_to(src / name)
    for rec in ("100", "101", "102"):
        for ext in ("hea", "dat", "atr"):
            (local / f"{rec}.{ext}").symlink_to(src / f"{rec}.{ext}")
    (local / "101.hea").unlink()
    (local / "101.hea").write_text("101 2 360 650000\nthis is not a header\n")
    out = tmp_path / "beats.h5"
    done = subprocess.run(_ecg("segment", "--db", "mitdb", "--data-dir", str(tmp_path / "data"),
                               "-o", str(out), "-r", "100,101,102", "-j", "1", "-q"),
                          cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "1 record(s) failed" in done.stderr and "101" in done.stderr.splitlines()[-1]
    from ecgseg import load_beats

    assert list(load_beats(out, labelled=False).records["name"]) == ["100", "102"]


@pytest.mark.parametrize("option, message", [
    (["-j", "0"], "workers must be at least 1"),
    (["-j", "-3"], "workers must be at least 1"),
    (["--threshold", "2"], "threshold must be in [0, 1)"),
    (["--threshold", "1"], "threshold must be in [0, 1)"),
    (["--threshold", "-0.5"], "threshold must be in [0, 1)"),
])
def test_bad_options_fail_before_any_output(data_dir, tmp_path, option, message):
    out = tmp_path / "beats.h5"
    done = subprocess.run(_ecg(*_segment_args(data_dir, out, "paper", "-r", "100"))
                          + option, cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: {message}" +
                                                done.stderr.split(message, 1)[1].rstrip()]
    assert list(tmp_path.iterdir()) == []



# ---------------------------------------------------------------------------------
# Corrupt and missing local files.

def _local_copy(mirror: Path, tmp_path: Path, records: list[str]) -> Path:
    """A data folder with real copies (safe to damage) of ``records`` of ``mirror`` and the
    index files."""
    src = mirror / "mitdb" / "1.0.0"
    local = tmp_path / "data" / "physionet" / "mitdb" / "1.0.0"
    local.mkdir(parents=True)
    for name in ("RECORDS", "SHA256SUMS.txt", "ANNOTATORS"):
        if (src / name).exists():
            shutil.copy(src / name, local / name)
    for rec in records:
        for ext in ("hea", "dat", "atr"):
            shutil.copy(src / f"{rec}.{ext}", local / f"{rec}.{ext}")
    return tmp_path / "data"


def _segment(data: Path, out: Path, mirror: str, *extra: str) -> subprocess.CompletedProcess:
    env = dict(_env(), ECG_PHYSIONET_URL=mirror)
    return subprocess.run(_ecg("segment", "--db", "mitdb", "--data-dir", str(data), "-o",
                               str(out), "-r", "100,101", "-j", "1", "-q", *extra),
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


def _corrupt(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[5000] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_corrupt_file_named_when_source_unreachable(mirror_dir, tmp_path):
    data = _local_copy(mirror_dir, tmp_path, ["100", "101"])
    _corrupt(data / "physionet" / "mitdb" / "1.0.0" / "101.dat")
    out = tmp_path / "beats.h5"
    done = _segment(data, out, "http://127.0.0.1:1/")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "101.dat fails its SHA-256 checksum" in lines[0], done.stderr
    assert not out.exists() and _leftovers(tmp_path) == []


def test_corrupt_file_fetched_again_when_source_reachable(mirror_dir, tmp_path, mirror_url):
    data = _local_copy(mirror_dir, tmp_path, ["100", "101"])
    dat = data / "physionet" / "mitdb" / "1.0.0" / "101.dat"
    _corrupt(dat)
    out = tmp_path / "beats.h5"
    done = _segment(data, out, mirror_url)
    assert done.returncode == 0, done.stderr
    assert dat.read_bytes() == (mirror_dir / "mitdb" / "1.0.0" / "101.dat").read_bytes()
    from ecgseg import load_beats

    assert list(load_beats(out, labelled=False).records["name"]) == ["100", "101"]


def test_missing_atr_unreachable_source_leaves_beats_unlabelled(mirror_dir, tmp_path):
    data = _local_copy(mirror_dir, tmp_path, ["100", "101"])
    (data / "physionet" / "mitdb" / "1.0.0" / "101.atr").unlink()
    out = tmp_path / "beats.h5"
    done = _segment(data, out, "http://127.0.0.1:1/")
    assert done.returncode == 0, done.stderr
    assert "101" in done.stdout + done.stderr and "unlabelled" in done.stdout + done.stderr
    from ecgseg import load_beats

    t = load_beats(out, labelled=False)
    assert list(t.records["name"]) == ["100", "101"]
    assert (t.labels[t.meta["record"] == "101"] == -1).all()


# ---------------------------------------------------------------------------------
# ecg download interrupted mid-file.

@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_download_interrupted_leaves_no_temporary(tmp_path, mirror_url, sig, status):
    """Ctrl-C/SIGTERM while 100.dat is half downloaded (the fault launcher pauses there:
    the signal always lands mid-file; a slowed server and a sleep raced under load and
    the run could end first)."""
    local = tmp_path / "physionet" / "mitdb" / "1.0.0"
    args = ["download", "--db", "mitdb", "-r", "100", "--data-dir", str(tmp_path),
            "--mirror", mirror_url, "-q"]
    run = Paused(args, "pause-mid-download:100.dat", tmp_path / "paused")
    run.wait()
    assert any(name.startswith(".100.dat.") for name in leftovers(local))  # half a file
    code, err, alive = run.stop(sig)
    assert code == status, err
    assert "Traceback" not in err, err
    assert alive == []
    assert leftovers(local) == []
    assert not (local / "100.dat").exists()  # never a partial file under the final name
