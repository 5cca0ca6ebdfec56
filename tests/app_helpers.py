"""Shared by the app tests: a tiny trained run, the app's folders, ``ecg app`` as a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ecgnet.data import load_data
from ecgnet.train import TrainConfig, train

from .net_helpers import small_rows, write_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kaggle_rows(kaggle_dir):
    return load_data(kaggle_dir / "mitbih_test_known_rows.csv")


@pytest.fixture(scope="session")
def app_dirs(kaggle_rows, tmp_path_factory):
    """Data and runs folders and a tiny run trained on 300 real Kaggle rows."""
    base = tmp_path_factory.mktemp("app")
    runs = base / "runs"
    idx = small_rows(kaggle_rows.beats, kaggle_rows.labels, 60)
    csv = write_csv(base / "small.csv", kaggle_rows.beats[idx], kaggle_rows.labels[idx])
    result = train(TrainConfig(data=[str(csv)], out=str(runs), name="tiny", batch_size=32,
                               max_iters=20, progress=False, threads=1))
    return {"base": base, "data": base / "data", "runs": runs,
            "checkpoint": result.run_dir / "best.pt", "csv": csv}


def app_environment(data: Path, runs: Path, mirror: str) -> dict:
    """The variables ``ecg app`` gives its Streamlit script (for AppTest, in-process)."""
    return {"ECG_DATA_DIR": str(data), "ECG_RUNS_DIR": str(runs), "ECG_PHYSIONET_URL": mirror}


# --- the command -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, data: Path, runs: Path, mirror: str) -> subprocess.Popen:
    """``python -m ecg_cli.main app`` of this tree, in its own process group."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "ecg_cli.main", "app", "--port", str(port),
                             "--data-dir", str(data), "--runs-dir", str(runs), "--mirror", mirror],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"ecg app exited: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"ecg app not up on port {port} after {timeout} s")


def children(pid: int) -> list[int]:
    """Every descendant process id of ``pid`` (from /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                kids = []
            out += kids
            todo += kids
    return out


def stop_group(proc: subprocess.Popen) -> None:
    """End a process started by :func:`start_app` and every process it started.

    SIGTERM first (``ecg app`` then stops its server's group), then SIGKILL for
    anything left, by process id.
    """
    kids = children(proc.pid) if proc.poll() is None else []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for pid in kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
