"""Fault injection for the ecgnet commands (issue #14): full disks, read-only places,
existing outputs, options checked before any output, runs stopped before their first
epoch, and the wording of input errors.

The commands run as real processes (``python -m ecg_cli.main``) on real file systems: a
size-limited tmpfs for a full disk, a read-only tmpfs for a read-only place. Mounting
needs root; without it the tests skip with the reason, and fail under
``ECG_REQUIRE_MIRROR=1`` (CI runs as root).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecgnet.checkpoint import load_checkpoint
from ecgnet.data import load_data
from ecgnet.train import TrainConfig, train
from ecgseg.errors import InputError

from .conftest import mirror_required
from .net_helpers import known_rows_csv

ROOT = Path(__file__).resolve().parents[1]


def ecg_here(capsys, *args) -> subprocess.CompletedProcess:
    """Run ``ecg ARGS`` in this process (faster); the same result as :func:`ecg`."""
    from .conftest import run_ecg

    capsys.readouterr()
    code = run_ecg([str(a) for a in args])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def ecg(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run ``ecg ARGS`` of this worktree in a new process; its exit status and output."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ecg_cli.main", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    """Assert exit status 1 and a single ``error:`` line (no traceback) containing ``words``."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert lines and lines[-1].startswith("error: "), proc.stderr
    assert all(not ln.startswith(("  File", "error")) for ln in lines[:-1]), proc.stderr
    for w in words:
        assert w in lines[-1], lines[-1]
    return lines[-1]


def temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith((".tmp", ".part"))]


def _mount(folder: Path, options: str) -> None:
    if os.geteuid() != 0:
        reason = "mounting a tmpfs needs root"
        if mirror_required():
            pytest.fail(f"{reason}; ECG_REQUIRE_MIRROR=1 (CI) requires these tests")
        pytest.skip(reason)
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True)


@pytest.fixture
def full_disk(tmp_path):
    """A 2 MB tmpfs filled up, holding an earlier output ``earlier.txt``; unmounted after."""
    folder = tmp_path / "full"
    _mount(folder, "size=2m")
    try:
        (folder / "earlier.txt").write_text("earlier output\n")
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield folder
        assert (folder / "earlier.txt").read_text() == "earlier output\n"
        assert temporary_files(folder) == []
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def read_only(tmp_path):
    """A read-only tmpfs; unmounted after."""
    folder = tmp_path / "ro"
    _mount(folder, "size=1m,ro")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """480 real MIT-BIH beats: 160 N and 80 of each other class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("faults") / "small.csv", 80,
                          extra_normal=80)


def tiny_config(data, out, **kw) -> TrainConfig:
    base = dict(data=[str(data)], out=str(out), name="run", batch_size=64, epochs=1,
                progress=False, threads=1, eval_batch_size=512)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def checkpoint(small_csv, tmp_path_factory) -> Path:
    return train(tiny_config(small_csv, tmp_path_factory.mktemp("ckpt"))).best_checkpoint


@pytest.fixture(scope="module")
def record(mitdb_dir, mitdb_names) -> Path:
    """A raw MIT-BIH record (path without suffix)."""
    return mitdb_dir / mitdb_names[0]


# --- full disk ----------------------------------------------------------------------------

def test_train_on_a_full_disk_says_so_and_the_run_can_be_resumed(small_csv, full_disk, tmp_path):
    proc = ecg("train", small_csv, "--out", full_disk / "runs", "--name", "r", "--epochs", "1",
               "--batch-size", "64", "--threads", "1", "-q")
    one_line_error(proc, "disk is full", str(full_disk))
    # the run stopped before its first epoch was saved: moved to a roomy disk, it resumes
    import shutil
    shutil.copytree(full_disk / "runs", tmp_path / "runs")
    result = train(tiny_config(small_csv, tmp_path / "runs", name="r", resume=True))
    assert result.epochs_run == 1 and (tmp_path / "runs" / "r" / "last.pt").is_file()


def test_export_model_on_a_full_disk_writes_nothing(checkpoint, full_disk):
    proc = ecg("export-model", checkpoint, "-o", full_disk / "m")
    one_line_error(proc, "disk is full", str(full_disk / "m"))  # was a C++ abort (exit 134)
    assert sorted(p.name for p in full_disk.iterdir()) == ["earlier.txt", "filler"]


def test_predict_on_a_full_disk(checkpoint, record, full_disk, capsys):
    proc = ecg_here(capsys, "predict", checkpoint, record, "-o", full_disk / "p.csv", "-q", "--threads", "1")
    one_line_error(proc, "disk is full", str(full_disk / "p.csv"))
    assert not (full_disk / "p.csv").exists()


def test_evaluate_on_a_full_disk(checkpoint, small_csv, full_disk, capsys):
    proc = ecg_here(capsys, "evaluate", checkpoint, small_csv, "--out", full_disk / "eval", "--threads", "1")
    one_line_error(proc, "disk is full", str(full_disk))


# --- read-only places and existing outputs -------------------------------------------------

def test_every_output_option_in_a_read_only_place(checkpoint, small_csv, record, read_only, capsys):
    for args in (["train", small_csv, "--out", read_only / "runs", "--epochs", "1"],
                 ["predict", checkpoint, record, "-o", read_only / "p.csv", "-q"],
                 ["export-model", checkpoint, "-o", read_only / "m"],
                 ["evaluate", checkpoint, small_csv, "--out", read_only / "sub" / "eval"]):
        threads = ["--threads", "1"] if args[0] != "export-model" else []
        one_line_error(ecg_here(capsys, *args, *threads), "read-only", str(read_only))


def test_existing_outputs_are_refused_or_named(checkpoint, record, tmp_path, capsys):
    csv = tmp_path / "p.csv"
    csv.write_text("mine\n")
    one_line_error(ecg_here(capsys, "predict", checkpoint, record, "-o", csv, "-q"),
                   "exists", "--overwrite")
    assert csv.read_text() == "mine\n"
    folder = tmp_path / "adir"
    folder.mkdir()
    one_line_error(ecg_here(capsys, "predict", checkpoint, record, "-o", folder, "--overwrite", "-q"),
                   "is a directory", str(folder))
    (tmp_path / "m.onnx").write_text("mine\n")
    one_line_error(ecg_here(capsys, "export-model", checkpoint, "-o", tmp_path / "m"), "exists")
    assert not (tmp_path / "m.ts.pt").exists() and (tmp_path / "m.onnx").read_text() == "mine\n"


# --- options checked before any output -----------------------------------------------------

@pytest.mark.parametrize("option, words", [
    (["--plot", "--start", "99999"], "--start 99999 s is outside the record"),
    (["--plot", "--seconds", "-1"], "--seconds must be > 0"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--threads", "0"], "--threads must be at least 1"),
])
def test_predict_checks_every_option_before_writing(checkpoint, record, tmp_path, option, words,
                                                    capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proc = ecg_here(capsys, "predict", checkpoint, record, "-q", *option)
    one_line_error(proc, words)
    assert list(tmp_path.iterdir()) == []  # no CSV, no PNG: the corrected run is not refused


# --- runs stopped before their first epoch ---------------------------------------------------

def test_a_run_stopped_before_its_first_epoch_can_be_rerun_or_resumed(small_csv, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text("{}\n")  # what a run killed during epoch 1 leaves
    (run_dir / "metrics.jsonl").write_text("")
    first = train(tiny_config(small_csv, tmp_path))  # no overwrite needed
    (run_dir / "last.pt").unlink()
    (run_dir / "best.pt").unlink()  # as if killed after writing config.json again
    again = train(tiny_config(small_csv, tmp_path, resume=True))  # resume starts it again
    assert again.history[0]["val_macro_f1"] == first.history[0]["val_macro_f1"]
    with pytest.raises(InputError, match="already holds a run"):  # a real run is kept
        train(tiny_config(small_csv, tmp_path))


# --- messages --------------------------------------------------------------------------------

@pytest.mark.parametrize("column, value, words", [
    (187, "-1", ":4: label -1 is not a class id 0..4"),
    (187, "1.5", ":4: label 1.5 is not a class id 0..4"),
    (10, "nan", ":4: column 11 is 'nan' (not a finite number)"),
])
def test_csv_errors_name_the_line_and_the_classes(small_csv, tmp_path, column, value, words):
    lines = small_csv.read_text().splitlines()
    fields = lines[3].split(",")
    fields[column] = value
    lines[3] = ",".join(fields)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        load_data(bad)
    assert words in str(info.value)


def test_a_refused_pickle_says_why_in_whole_words(tmp_path):
    import torch

    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())

    path = tmp_path / "evil.pt"
    torch.save({"format": "ecgnet-checkpoint", "x": Payload()}, path)
    with pytest.raises(InputError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert "refused" in text and text.endswith("written by ecg train") and "\n" not in text


def test_unexpected_errors_keep_their_traceback():
    from ecg_cli.main import expected_error

    assert expected_error(ZeroDivisionError()) is None
    assert expected_error(RuntimeError("CUDA out of memory")) is None
