"""The README's walkthrough runs as written, in order, in a folder like a fresh clone's.

Which blocks are the walkthrough (the convention, stated in a comment at the top of
``README.md``; the parsing is in ``tests/readme_walkthrough.py``):

- fenced ``bash`` blocks are commands, run one line at a time in README order;
  fenced ``python`` blocks are code, run with ``python -c`` at their place in the order;
- the first two ``bash`` blocks are the set-up (``pip install -c constraints.txt -e
  ".[dev]"``, ``python -m pytest``), checked word for word and not run;
- ``console`` / ``text`` blocks are output (a ``$ ecg ...`` line in a ``console``
  transcript must be one of the walkthrough's commands); every block carries a tag.

How they run: in ``tmp/clone`` (the working folder of a fresh clone: nothing in it, the
data folder ``./data`` made by the commands themselves), with ``tmp/shared/kaggle`` beside
it holding the Kaggle rows as ``../shared`` does in CI (the full set, or the rows the
shipped mini mirror rebuilds when ``../shared`` is absent). The word ``ecg`` becomes
``sys.executable -m ecg_cli.main`` and ``python`` becomes ``sys.executable``, with this
checkout first on ``PYTHONPATH``, so the checkout's code runs. The PhysioNet mirror
(``../shared`` or the shipped one in ``tests/data/``) is served on 127.0.0.1 and given as
``ECG_PHYSIONET_URL``; ``ECG_DATA_DIR`` is unset, so ``./data`` is used.

The one override (``readme_walkthrough.shorten``): ``ecg train`` and ``ecg transfer``
run with ``--epochs 1 --max-iters 20`` in place of the README's ``--epochs N``, so the
whole walkthrough takes a few minutes instead of hours. Every other word runs as written,
except on the shipped mini mirror, where ``ecg export data/beats/mitdb-kaggle.h5`` gets
``--split interpatient`` (``readme_walkthrough.MINI_MIRROR_EXTRA``): the published split
needs the class totals of all 48 records.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import readme_walkthrough as rw
from tests.conftest import MIRROR_DIR

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 900


@pytest.fixture(scope="module")
def readme() -> str:
    return rw.README.read_text(encoding="utf-8")


def test_every_fenced_block_is_tagged(readme):
    untagged = [b.line - 1 for b in rw.fenced_blocks(readme)
                if b.tag not in rw.RUN_TAGS + rw.OUTPUT_TAGS]
    assert not untagged, (f"README fenced blocks at lines {untagged} need a tag: "
                          f"{rw.RUN_TAGS} (walkthrough) or {rw.OUTPUT_TAGS} (output)")


def test_setup_is_two_commands_then_the_main_job(readme):
    setup, walkthrough = rw.setup_and_walkthrough(readme)
    assert tuple(s.text for s in setup) == rw.SETUP_COMMANDS
    assert "ecg segment --db mitdb" in [s.command for s in walkthrough[:2]]


def test_every_run_folder_is_made_earlier(readme):
    _, walkthrough = rw.setup_and_walkthrough(readme)
    made: set[str] = set()
    for step in walkthrough:
        missing = [name for name in rw.run_folders_named(step) if name not in made]
        assert not missing, (f"README line {step.line}: runs/{missing[0]} is not made by an "
                             f"earlier walkthrough command (ecg train/transfer --name):\n{step.text}")
        if (name := rw.run_folder_made(step)) is not None:
            made.add(name)


def test_transcripts_show_walkthrough_commands(readme):
    _, walkthrough = rw.setup_and_walkthrough(readme)
    commands = {s.command for s in walkthrough if s.kind == "bash"}
    stray = [(line, c) for line, c in rw.transcript_commands(readme) if c not in commands]
    assert not stray, f"transcript commands that the walkthrough does not run: {stray}"


def test_shorten_only_touches_training():
    export = ["ecg", "export", "data/beats/mitdb-kaggle.h5", "-o", "x"]
    assert rw.shorten(export) == export
    assert rw.shorten(export, mini_mirror=True) == [*export, "--split", "interpatient"]
    assert rw.shorten(["ecg", "predict", "x.pt", "--epochs", "3"]) == [
        "ecg", "predict", "x.pt", "--epochs", "3"]
    assert rw.shorten(["ecg", "transfer", "x.pt", "--epochs=9", "--sweep"]) == [
        "ecg", "transfer", "x.pt", "--sweep", *rw.SHORT_TRAINING]


@pytest.fixture()
def fresh_clone(tmp_path, kaggle_dir, rebuildable_known_lines) -> Path:
    """``tmp/clone`` (empty) with ``tmp/shared/kaggle`` beside it, as in CI."""
    shared_kaggle = tmp_path / "shared" / "kaggle"
    shared_kaggle.mkdir(parents=True)
    for source in kaggle_dir.glob("*_known_rows.csv"):
        (shared_kaggle / source.name).symlink_to(source)
    # the MIT-BIH rows the mirror in use rebuilds: all 1 496 on the full mirror
    known = shared_kaggle / "mitbih_test_known_rows.csv"
    known.unlink()
    known.write_bytes(b"".join(rebuildable_known_lines))
    clone = tmp_path / "clone"
    clone.mkdir()
    return clone


def _environment(mirror_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ECG_DATA_DIR",)}
    env["ECG_PHYSIONET_URL"] = mirror_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


def _local(argv: list[str]) -> list[str]:
    """``ecg`` -> this interpreter running the checkout's CLI; ``python`` -> this interpreter."""
    if argv[0] == "ecg":
        return [sys.executable, "-m", "ecg_cli.main", *argv[1:]]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    return argv


@pytest.mark.slow
def test_walkthrough_runs_in_order(readme, fresh_clone, mirror_dir, mirror_url):
    _, walkthrough = rw.setup_and_walkthrough(readme)
    assert len(walkthrough) >= 10, "the README walkthrough lost its commands"
    env = _environment(mirror_url)
    for step in walkthrough:
        argv = _local(rw.shorten(step.argv(), mini_mirror=mirror_dir != MIRROR_DIR))
        done = subprocess.run(argv, cwd=fresh_clone, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
        assert done.returncode == 0, (
            f"README line {step.line} failed (exit {done.returncode}):\n{step.text}\n"
            f"ran: {argv}\n--- stderr (end) ---\n{done.stderr[-3000:]}\n"
            f"--- stdout (end) ---\n{done.stdout[-2000:]}")
    # what the walkthrough promises to leave behind
    for made in ("data/beats/mitdb.h5", "data/beats/mitdb-kaggle.h5", "kaggle_csv/ptbdb_normal.csv",
                 "runs/random-ema-jitter/best.pt", "runs/random-ema-jitter/best.onnx",
                 "208.predictions.csv"):
        assert (fresh_clone / made).is_file(), f"{made} missing after the walkthrough"
