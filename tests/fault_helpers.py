"""Helpers of the fault-injection tests: start ``ecg`` as a process group, stop it at a
chosen point (:mod:`tests.fault_launch`), look for survivors and left-over files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ecgseg.atomic import LOCK_SUFFIX

from .conftest import ROOT

GRACE_S = 3.0          # how long the group may take to disappear after the parent ends
RUN_TIMEOUT_S = 180.0  # a hang fails the test instead of blocking the suite (loaded machine)
STOP_TIMEOUT_S = 30.0  # after a signal: far more than the 1-2 s it takes
LAUNCHER = Path(__file__).with_name("fault_launch.py")


def group(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def children(pid: int) -> list[int]:
    """The other live processes of ``pid``'s group (it leads its own session)."""
    return [p for p in group(pid) if p != pid]


def wait_group_gone(pgid: int) -> list[int]:
    """Wait up to :data:`GRACE_S` for group ``pgid`` to end; the processes still alive."""
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        if not group(pgid):
            return []
        time.sleep(0.05)
    return group(pgid)


def leftovers(folder: Path) -> list[str]:
    """Temporary, partial and lock files of ``ecgseg.atomic`` under ``folder`` (recursive)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith((".tmp", ".part", LOCK_SUFFIX)))


def env(**extra: str) -> dict:
    """The environment of an ``ecg`` process of this worktree (no network by default)."""
    return dict(os.environ, PYTHONPATH=str(ROOT), ECG_PHYSIONET_URL="http://127.0.0.1:1/",
                **extra)


class Paused:
    """``ecg ARGS`` started with fault hooks (:mod:`tests.fault_launch`) in a new session.

    :meth:`wait` returns once the command paused at its hook; :meth:`stop` sends a
    signal (to the whole group, or to the parent alone) and collects the outcome.
    """

    def __init__(self, args: list, hooks: str, marker: Path, cwd: Path = ROOT, **extra_env: str):
        self.marker = marker
        marker.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), *map(str, args)], cwd=cwd,
            env=env(ECG_FAULT=hooks, ECG_FAULT_PAUSED=str(marker), **extra_env),
            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait(self) -> str:
        """Wait until the command pauses; what the hook says about where."""
        t0 = time.monotonic()
        while not self.marker.exists():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"ended ({self.proc.returncode}) before its pause point:\n"
                                     f"{out}\n{err}")
            if time.monotonic() - t0 > RUN_TIMEOUT_S:
                self.kill()
                raise AssertionError(f"did not reach its pause point in {RUN_TIMEOUT_S} s")
            time.sleep(0.02)
        return self.marker.read_text()

    def stop(self, sig: int, whole_group: bool = True) -> tuple[int, str, list[int]]:
        """Send ``sig``; (exit status, stderr, processes of the group alive after a grace)."""
        if whole_group:
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)
        try:
            _, err = self.proc.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {STOP_TIMEOUT_S} s after signal {sig}")
        return self.proc.returncode, err, wait_group_gone(self.proc.pid)

    def release(self) -> tuple[int, str, str]:
        """Let the paused command carry on; (exit status, stdout, stderr) when it ends."""
        self.marker.unlink()
        out, err = self.proc.communicate(timeout=RUN_TIMEOUT_S)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if group(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.communicate()


def no_traceback(err: str) -> None:
    assert "Traceback" not in err, err
