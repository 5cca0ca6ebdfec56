"""Fault injection for ``ecg train`` and ``ecg transfer`` (issue #14): a run killed,
terminated or interrupted at a chosen point, then continued with ``--resume``, ends
exactly where the uninterrupted run ends (same epochs, same weights, same test report),
and leaves no temporary file behind.

The command runs as a real process in its own session; :mod:`tests.fault_launch` pauses
it at the chosen point (no sleeps that race), the test sends the signal, then runs
``ecg train ... --resume`` (in this process, which is faster) and compares.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from ecgnet.checkpoint import load_checkpoint
from ecgnet.data import load_data

from .conftest import run_ecg
from .fault_helpers import Paused, leftovers, no_traceback
from .net_helpers import known_rows_csv, write_csv

TIMING = ("train_beats_per_s", "seconds")
EPOCHS = 3
BATCHES_PER_EPOCH = 6  # 480 beats, 384 for training and validation, batch 64 (checked below)


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory) -> Path:
    """480 real MIT-BIH beats: 160 N and 80 of each other class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("faults-train") / "small.csv", 80,
                          extra_normal=80)


def train_args(data: Path, out: Path, name: str, *extra) -> list:
    return ["train", data, "--out", out, "--name", name, "--epochs", EPOCHS, "--batch-size", 64,
            "--threads", 1, "-q", *extra]


def ecg_in_process(*args) -> int:
    return run_ecg([str(a) for a in args])


def outcome(run_dir: Path) -> dict:
    """What a finished run is: its epochs, weights and test report (timings aside)."""
    history = [{k: v for k, v in json.loads(line).items() if k not in TIMING}
               for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    test = json.loads((run_dir / "test.json").read_text())
    test.pop("checkpoint")
    last, best = load_checkpoint(run_dir / "last.pt"), load_checkpoint(run_dir / "best.pt")
    for ckpt in (last, best):
        ckpt["training"]["history"] = [{k: v for k, v in h.items() if k not in TIMING}
                                       for h in ckpt["training"]["history"]]
    return {"history": history, "test": test, "last": last, "best": best}


def assert_same_run(got: dict, want: dict) -> None:
    assert got["history"] == want["history"]
    assert got["test"] == want["test"]
    for which in ("last", "best"):
        a, b = got[which], want[which]
        assert a["state_dict"].keys() == b["state_dict"].keys()
        assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
        for key in ("epoch", "iteration", "best_score", "best_epoch", "history"):
            assert a["training"][key] == b["training"][key], (which, key)
        assert torch.equal(a["training"]["torch_rng"], b["training"]["torch_rng"])


@pytest.fixture(scope="module")
def uninterrupted(small_csv, tmp_path_factory) -> dict:
    """The run that nobody stopped (``ecg train``, in this process)."""
    out = tmp_path_factory.mktemp("whole")
    assert ecg_in_process(*train_args(small_csv, out, "whole")) == 0
    result = outcome(out / "whole")
    assert [h["iteration"] for h in result["history"]] == \
        [BATCHES_PER_EPOCH * e for e in range(1, EPOCHS + 1)]
    return result


# Where the run is stopped (hooks of tests/fault_launch.py), epoch by epoch.
POINTS = {
    "epoch1-mid": "pause-at-batch:3",                      # before the first epoch ends
    "epoch1-best-written": "pause-after-replace:best.pt:1",  # best.pt but no last.pt yet
    "epoch1-done": "pause-after-replace:last.pt:1",        # right after the first checkpoint
    "epoch2-mid": f"pause-at-batch:{BATCHES_PER_EPOCH + 3}",
    "epoch2-last-half-written": "pause-before-replace:last.pt:2",  # its temporary complete
    "epoch3-done": f"pause-after-replace:last.pt:{EPOCHS}",  # before the test report
}


@pytest.mark.parametrize("point", POINTS)
def test_train_killed_then_resumed_ends_as_uninterrupted(small_csv, uninterrupted, tmp_path, point):
    run = Paused(train_args(small_csv, tmp_path, "r"), POINTS[point], tmp_path / "paused")
    run.wait()
    code, err, alive = run.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL and not alive, (code, err, alive)
    assert not (tmp_path / "r" / "test.json").exists()
    # `ecg train ... --resume` continues the run (or starts it again if no epoch ended)
    assert ecg_in_process(*train_args(small_csv, tmp_path, "r", "--resume")) == 0
    assert_same_run(outcome(tmp_path / "r"), uninterrupted)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_train_stopped_while_writing_a_checkpoint(small_csv, uninterrupted, tmp_path, sig, status):
    """SIGTERM (``kill``, ``timeout``, schedulers) and Ctrl-C end ``ecg train`` cleanly: its
    status, no traceback, the temporary file of the checkpoint removed, a hint to resume."""
    run = Paused(train_args(small_csv, tmp_path, "r"), POINTS["epoch2-last-half-written"],
                 tmp_path / "paused")
    run.wait()
    assert [p for p in leftovers(tmp_path) if p.endswith(".tmp")]  # the half-written last.pt
    code, err, alive = run.stop(sig)
    assert code == status and not alive, (code, err, alive)
    no_traceback(err)
    assert "--resume" in err.strip().splitlines()[-1], err
    assert leftovers(tmp_path) == []
    assert ecg_in_process(*train_args(small_csv, tmp_path, "r", "--resume")) == 0
    assert_same_run(outcome(tmp_path / "r"), uninterrupted)


def test_train_killed_before_its_first_epoch_can_be_run_again(small_csv, uninterrupted, tmp_path):
    """Without ``--resume``, the same command starts a run that never finished an epoch again."""
    run = Paused(train_args(small_csv, tmp_path, "r"), POINTS["epoch1-mid"], tmp_path / "paused")
    run.wait()
    run.stop(signal.SIGKILL)
    assert ecg_in_process(*train_args(small_csv, tmp_path, "r")) == 0
    assert_same_run(outcome(tmp_path / "r"), uninterrupted)


# --- ecg transfer --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ptb_csv(kaggle_dir, tmp_path_factory) -> Path:
    """300 real PTB beats: 150 normal, 150 MI."""
    folder = tmp_path_factory.mktemp("faults-ptb")
    parts = []
    for name in ("ptbdb_normal_known_rows.csv", "ptbdb_abnormal_known_rows.csv"):
        rows = load_data(kaggle_dir / name)
        parts.append((rows.beats[:150], rows.labels[:150]))
    return write_csv(folder / "ptb.csv", np.concatenate([p[0] for p in parts]),
                     np.concatenate([p[1] for p in parts]))


@pytest.fixture(scope="module")
def source(small_csv, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("source")
    assert ecg_in_process("train", small_csv, "--out", out, "--name", "s", "--epochs", 1,
                          "--batch-size", 64, "--threads", 1, "-q") == 0
    return out / "s" / "best.pt"


def transfer_args(source: Path, data: Path, out: Path, name: str, *extra) -> list:
    return ["transfer", source, "-d", data, "--out", out, "--name", name, "--epochs", 2,
            "--batch-size", 32, "--threads", 1, "-q", *extra]


@pytest.mark.parametrize("point", ["pause-at-batch:3", "pause-before-replace:last.pt:1",
                                   "pause-after-replace:last.pt:1", "pause-at-batch:12"])
def test_transfer_killed_then_resumed_ends_as_uninterrupted(source, ptb_csv, tmp_path, point):
    assert ecg_in_process(*transfer_args(source, ptb_csv, tmp_path, "whole")) == 0
    want = outcome(tmp_path / "whole")
    run = Paused(transfer_args(source, ptb_csv, tmp_path, "r"), point, tmp_path / "paused")
    run.wait()
    code, _, alive = run.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL and not alive
    assert ecg_in_process(*transfer_args(source, ptb_csv, tmp_path, "r", "--resume")) == 0
    assert_same_run(outcome(tmp_path / "r"), want)
    assert leftovers(tmp_path) == []


def test_transfer_terminated_says_how_to_resume(source, ptb_csv, tmp_path):
    run = Paused(transfer_args(source, ptb_csv, tmp_path, "r"), "pause-before-replace:last.pt:1",
                 tmp_path / "paused")
    run.wait()
    code, err, alive = run.stop(signal.SIGTERM)
    assert code == 143 and not alive, (code, err)
    no_traceback(err)
    assert "--resume" in err.strip().splitlines()[-1], err
    assert leftovers(tmp_path) == []


def test_stale_locks_are_removed_but_not_a_live_writers(tmp_path):
    from ecgseg.atomic import LOCK_SUFFIX, atomic_path, remove_stale_locks

    stale = tmp_path / f".a.pt{LOCK_SUFFIX}"
    stale.write_text("999999999\n")
    with atomic_path(tmp_path / "b.pt") as tmp:  # a live writer holds b.pt's lock
        tmp.write_bytes(b"b")
        assert remove_stale_locks(tmp_path) == [stale]
        assert (tmp_path / f".b.pt{LOCK_SUFFIX}").exists()
    assert (tmp_path / "b.pt").read_bytes() == b"b" and leftovers(tmp_path) == []


def test_two_trainings_of_one_run_folder_one_wins(small_csv, uninterrupted, tmp_path, capsys):
    """A second ``ecg train`` (or ``--resume``) of a run that is training gets one line, exit 1,
    and leaves the first run alone (it used to clear the files of a run in its first epoch)."""
    first = Paused(train_args(small_csv, tmp_path, "r"), POINTS["epoch1-mid"], tmp_path / "paused")
    first.wait()
    for extra in ([], ["--resume"], ["--overwrite"]):
        capsys.readouterr()
        assert ecg_in_process(*train_args(small_csv, tmp_path, "r", *extra)) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "is writing" in err and str(tmp_path / "r") in err, err
    code, _, err = first.release()
    assert code == 0, err
    assert_same_run(outcome(tmp_path / "r"), uninterrupted)
    assert leftovers(tmp_path) == []
