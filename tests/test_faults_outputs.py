"""Fault injection for ``ecg export`` and ``ecg download`` (stopped mid-write), the
messages about existing outputs, and two writers of the same output (issue #14).

Commands run as real processes, paused at a chosen point by :mod:`tests.fault_launch`
(no sleeps that race), then signalled, or let go while a second writer tries.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ecgnet.data import load_data

from .conftest import MIRROR_DIR, require, run_ecg
from .fault_helpers import Paused, leftovers, no_traceback
from .net_helpers import write_h5

DS = ("mitbih_train_DS1.csv", "mitbih_test_DS2.csv")


def one_line(err: str, *words: str) -> str:
    """The single ``error:`` line of ``err`` (warnings may precede it; no traceback)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    no_traceback(err)
    assert lines and lines[-1].startswith("error: "), err
    assert all(ln.startswith("warning: ") for ln in lines[:-1]), err
    for w in words:
        assert w in lines[-1], lines[-1]
    return lines[-1]


def ecg_here(capsys, *args) -> tuple[int, str]:
    """``ecg ARGS`` in this process: (exit status, stderr)."""
    capsys.readouterr()
    code = run_ecg([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def beats_h5(kaggle_dir, tmp_path_factory) -> Path:
    """1496 real MIT-BIH beats as an HDF5 of four records (two of DS1, two of DS2)."""
    rows = load_data(kaggle_dir / "mitbih_test_known_rows.csv")
    return write_h5(tmp_path_factory.mktemp("faults-export") / "beats.h5", rows.beats,
                    rows.labels, ["101", "106", "100", "103"])


@pytest.fixture(scope="module")
def exported(beats_h5, tmp_path_factory) -> dict:
    """The CSVs of an export nobody stopped: {name: bytes}."""
    out = tmp_path_factory.mktemp("exported")
    assert run_ecg(["export", str(beats_h5), "-o", str(out), "--split", "interpatient"]) == 0
    return {name: (out / name).read_bytes() for name in DS}


# --- ecg export stopped while writing its second file: all files or none ------------------------

@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                         (signal.SIGKILL, -9)])
def test_export_stopped_mid_write_leaves_no_file(beats_h5, exported, tmp_path, sig, status):
    out = tmp_path / "csv"
    args = ["export", beats_h5, "-o", out, "--split", "interpatient"]
    # format_rows is called once per file (1496 rows < one chunk): the 2nd call writes DS2
    run = Paused(args, "pause-at-call:ecgseg.kaggle_csv.format_rows:2", tmp_path / "paused")
    run.wait()
    assert [p for p in leftovers(out) if p.startswith(f".{DS[0]}.")]  # the first, as temporary
    code, err, alive = run.stop(sig)
    assert code == status and not alive, (code, err)
    assert not any((out / n).exists() for n in DS)           # nothing under a final name
    if sig != signal.SIGKILL:
        no_traceback(err)
        assert leftovers(out) == []
    # the next run needs no --overwrite, completes and leaves nothing behind
    assert run_ecg([str(a) for a in args]) == 0
    assert {n: (out / n).read_bytes() for n in DS} == exported
    assert leftovers(out) == []


def test_export_stop_signal_during_the_renames_completes_them_first(beats_h5, exported, tmp_path):
    out = tmp_path / "csv"
    args = ["export", beats_h5, "-o", out, "--split", "interpatient"]
    run = Paused(args, f"pause-before-replace:{DS[1]}:1", tmp_path / "paused")
    run.wait()
    assert (out / DS[0]).read_bytes() == exported[DS[0]] and not (out / DS[1]).exists()
    os.kill(run.proc.pid, signal.SIGTERM)           # held back until the renames are done
    code, _, err = run.release()
    assert code == 143, err
    no_traceback(err)
    assert {n: (out / n).read_bytes() for n in DS} == exported and leftovers(out) == []


def test_export_killed_during_its_first_file_runs_again_without_overwrite(beats_h5, exported,
                                                                         tmp_path):
    out = tmp_path / "csv"
    args = ["export", beats_h5, "-o", out, "--split", "interpatient"]
    run = Paused(args, "pause-at-call:ecgseg.kaggle_csv.format_rows:1", tmp_path / "paused")
    run.wait()
    run.stop(signal.SIGKILL)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == []
    assert run_ecg([str(a) for a in args]) == 0  # nothing exists: no --overwrite needed
    assert {n: (out / n).read_bytes() for n in DS} == exported and leftovers(out) == []


# --- ecg download killed mid-file ------------------------------------------------------------

def test_download_killed_mid_file_then_completed_and_verified(tmp_path, mirror_url, capsys):
    mirror = require(MIRROR_DIR, "PhysioNet mirror") / "mitdb" / "1.0.0"
    local = tmp_path / "physionet" / "mitdb" / "1.0.0"
    args = ["download", "--db", "mitdb", "-r", "100", "--data-dir", tmp_path, "--mirror",
            mirror_url, "-q"]
    run = Paused(args, "pause-mid-download:100.dat", tmp_path / "paused")
    run.wait()
    half = [p for p in leftovers(local) if p.startswith(".100.dat.")]
    assert half and 0 < (local / half[0]).stat().st_size < (mirror / "100.dat").stat().st_size
    code, _, alive = run.stop(signal.SIGKILL)
    assert code == -9 and not alive
    assert not (local / "100.dat").exists()  # no partial file under the final name
    code, _ = ecg_here(capsys, *args)
    assert code == 0
    for ext in ("hea", "dat", "atr"):
        assert (local / f"100.{ext}").read_bytes() == (mirror / f"100.{ext}").read_bytes()
    assert leftovers(tmp_path) == []
    code, _ = ecg_here(capsys, "download", "--db", "mitdb", "-r", "100", "--data-dir", tmp_path,
                       "--mirror", "http://127.0.0.1:1/", "-q")
    assert code == 0  # every file verified against SHA256SUMS.txt: nothing to fetch


# --- messages about existing outputs -------------------------------------------------------

def test_export_into_a_file_says_it_is_not_a_folder(beats_h5, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("mine\n")
    code, err = ecg_here(capsys, "export", beats_h5, "-o", afile, "--split", "interpatient")
    line = one_line(err, "not a folder", str(afile))
    assert code == 1 and "--overwrite" not in line  # it cannot help
    assert afile.read_text() == "mine\n"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_export_onto_a_folder_says_it_is_a_directory(beats_h5, tmp_path, capsys, overwrite):
    (tmp_path / DS[1]).mkdir()
    code, err = ecg_here(capsys, "export", beats_h5, "-o", tmp_path, "--split", "interpatient",
                         *overwrite)
    line = one_line(err, "is a directory", str(tmp_path / DS[1]))
    assert code == 1 and "--overwrite" not in line
    assert not (tmp_path / DS[0]).exists()  # checked before anything was written


@pytest.fixture(scope="module")
def checkpoint(kaggle_dir, tmp_path_factory) -> Path:
    from ecgnet.train import TrainConfig, train

    from .net_helpers import known_rows_csv

    folder = tmp_path_factory.mktemp("faults-ckpt")
    csv = known_rows_csv(kaggle_dir, folder / "small.csv", 60)
    result = train(TrainConfig(data=[str(csv)], out=str(folder), name="run", batch_size=64,
                               epochs=1, max_iters=2, progress=False, threads=1))
    return result.best_checkpoint, csv


def test_evaluate_refuses_an_existing_report_unless_overwrite(checkpoint, tmp_path, capsys):
    ckpt, csv = checkpoint
    prefix = tmp_path / "eval"
    args = ["evaluate", ckpt, csv, "--out", prefix, "--threads", 1]
    assert ecg_here(capsys, *args)[0] == 0
    before = (prefix.with_suffix(".json")).read_bytes()
    (prefix.with_suffix(".json")).write_text("mine\n")
    code, err = ecg_here(capsys, *args)
    assert code == 1
    one_line(err, "eval.json exists", "--overwrite")
    assert (prefix.with_suffix(".json")).read_text() == "mine\n"
    assert ecg_here(capsys, *args, "--overwrite")[0] == 0
    assert (prefix.with_suffix(".json")).read_bytes() == before


# --- two writers of one output ---------------------------------------------------------------

@pytest.mark.parametrize("command, output, paused_at", [
    (["predict", "{ckpt}", "{record}", "-o", "{out}/same.csv", "-q", "--threads", "1"],
     "same.csv", "same.csv"),
    (["export-model", "{ckpt}", "-o", "{out}/m"], "m.ts.pt", "m.ts.pt"),
])
def test_two_writers_of_one_output_one_wins(checkpoint, mitdb_dir, mitdb_names, tmp_path, capsys,
                                            command, output, paused_at):
    fill = dict(ckpt=checkpoint[0], record=mitdb_dir / mitdb_names[0], out=tmp_path / "o")
    args = [a.format(**fill) for a in command]
    first = Paused(args, f"pause-before-replace:{paused_at}:1", tmp_path / "paused")
    first.wait()  # the first writer holds the output, its temporary complete
    code, err = ecg_here(capsys, *args)
    assert code == 1
    one_line(err, "another process", "is writing", str(tmp_path / "o" / output))
    code, _, err = first.release()
    assert code == 0, err
    assert (tmp_path / "o" / output).stat().st_size > 0 and leftovers(tmp_path / "o") == []
    code, err = ecg_here(capsys, *args)  # and once it is there: exists
    assert code == 1
    one_line(err, "exists", "--overwrite")


@pytest.mark.parametrize("command, paused_at", [
    (["predict", "{ckpt}", "{record}", "-o", "{out}/p.csv", "-q", "--threads", "1"], "p.csv"),
    (["export-model", "{ckpt}", "-o", "{out}/m"], "m.ts.pt"),
    (["evaluate", "{ckpt}", "{csv}", "--out", "{out}/eval", "--threads", "1"], "eval.json"),
    (["explain", "{ckpt}", "{csv}", "--beat", "0", "-o", "{out}/x.png", "--threads", "1"],
     "x.png"),
    (["evaluate-records", "{ckpt}", "{record}", "-o", "{out}/er.json", "--threads", "1"],
     "er.json"),
])
def test_sigterm_while_writing_ends_cleanly(checkpoint, mitdb_dir, mitdb_names, tmp_path, command,
                                            paused_at):
    """SIGTERM (``kill``, ``timeout``) in the middle of a write: exit 143, no traceback, no
    temporary file (these commands used to die of the signal and leave it)."""
    fill = dict(ckpt=checkpoint[0], csv=checkpoint[1], record=mitdb_dir / mitdb_names[0],
                out=tmp_path / "o")
    run = Paused([a.format(**fill) for a in command], f"pause-before-replace:{paused_at}:1",
                 tmp_path / "paused")
    run.wait()
    assert leftovers(tmp_path / "o")
    code, err, alive = run.stop(signal.SIGTERM)
    assert code == 143 and not alive, (code, err)
    no_traceback(err)
    assert leftovers(tmp_path / "o") == [] and not (tmp_path / "o" / paused_at).exists()


def test_sigterm_during_a_tuning_trial_ends_cleanly(checkpoint, tmp_path):
    """``ecg tune`` stopped by SIGTERM in the middle of a trial's training: exit 143, no
    traceback, no temporary or lock file left (it used to die of the signal)."""
    out = tmp_path / "o"
    run = Paused(["tune", checkpoint[1], "--out", out, "--trials", "1", "--epochs", "1",
                  "--batch-size", "32", "--threads", "1", "--space", "lr"],
                 "pause-at-batch:2", tmp_path / "paused")
    run.wait()
    code, err, alive = run.stop(signal.SIGTERM)
    assert code == 143 and not alive, (code, err)
    no_traceback(err)
    assert out.is_dir() and leftovers(out) == []
