"""``ecg app``: start the Streamlit web app on 127.0.0.1 and stop it with the command.

Streamlit runs as a child process in its own process group; Ctrl-C or SIGTERM of
``ecg app`` ends the whole group, so no server outlives the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .options import DataDir, Mirror

#: Seconds the server gets to stop after SIGTERM before it is killed.
GRACE_S = 10.0


def streamlit_command(port: int, address: str = "127.0.0.1") -> List[str]:
    """The ``streamlit run`` command line of the app (server on ``address:port``, headless)."""
    from .app import SCRIPT

    return [sys.executable, "-m", "streamlit", "run", str(SCRIPT),
            "--server.address", address, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def app_environment(data_dir: Optional[Path], runs_dir: Optional[Path],
                    mirror: Optional[str]) -> dict:
    """The child's environment: folders as absolute paths, this source tree importable first."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p and p != root])
    env["ECG_APP_PACKAGE"] = __package__  # the script imports its views from this package
    if data_dir is not None:
        env["ECG_DATA_DIR"] = str(Path(data_dir).resolve())
    if runs_dir is not None:
        env["ECG_RUNS_DIR"] = str(Path(runs_dir).resolve())
    if mirror:
        env["ECG_PHYSIONET_URL"] = mirror
    return env


def app(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8501,
    data_dir: DataDir = None,
    runs_dir: Annotated[Optional[Path], typer.Option(
        "--runs-dir", envvar="ECG_RUNS_DIR", show_envvar=True,
        help="Folder of `ecg train` runs whose checkpoints the app offers [default: ./runs].")] = None,
    mirror: Mirror = None,
) -> None:
    """Start the web app (recordings, beats, data sets, runs, Kaggle check) on 127.0.0.1."""
    from ecgseg.errors import EcgError

    try:
        import streamlit  # noqa: F401
    except ImportError:
        raise EcgError('ecg app needs streamlit: pip install -e ".[app]"') from None
    if not 1 <= port <= 65535:
        raise EcgError(f"port must be between 1 and 65535, got {port}")
    child = subprocess.Popen(streamlit_command(port), env=app_environment(data_dir, runs_dir,
                                                                          mirror),
                             start_new_session=True)
    typer.echo(f"ecg app: http://127.0.0.1:{port}/  (Ctrl-C to stop)")

    def end_group(sig: int) -> None:
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass

    stopped_by: list = []

    def on_sigterm(signum, frame) -> None:
        # No waiting here: the main thread's child.wait() returns once the group is gone.
        stopped_by.append(signum)
        end_group(signal.SIGTERM)
        killer = threading.Timer(GRACE_S, end_group, args=(signal.SIGKILL,))
        killer.daemon = True
        killer.start()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        code = child.wait()
    except KeyboardInterrupt:
        end_group(signal.SIGTERM)
        try:
            child.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            end_group(signal.SIGKILL)
            child.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:  # any other way out: never leave the server behind
            end_group(signal.SIGKILL)
            child.wait()
    if stopped_by:
        raise SystemExit(128 + stopped_by[0])
    if code:
        raise EcgError(f"streamlit exited with status {code}")
