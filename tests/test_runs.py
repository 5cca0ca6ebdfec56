"""``ecgnet.runs`` and ``ecg runs``: the run browser over real run folders."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from ecgnet.runs import COLUMNS, format_runs, list_runs
from ecgnet.train import TrainConfig, train
from ecgseg.errors import InputError

from .conftest import run_ecg
from .net_helpers import known_rows_csv


@pytest.fixture(scope="module")
def runs_root(kaggle_dir, tmp_path_factory):
    """runs/ with a real 2-epoch run, a copy scoring higher in a nested folder, a run
    without test figures and a folder that is no run."""
    folder = tmp_path_factory.mktemp("browse")
    csv = known_rows_csv(kaggle_dir, folder / "small.csv", 40)
    root = folder / "runs"
    train(TrainConfig(data=[str(csv)], out=str(root), name="real", epochs=2, batch_size=32,
                      threads=1, progress=False))
    better = root / "sweep" / "better"
    shutil.copytree(root / "real", better)
    test = json.loads((better / "test.json").read_text())
    test["macro"]["f1"], test["accuracy"] = 0.99, 0.98
    (better / "test.json").write_text(json.dumps(test))
    unfinished = root / "unfinished"
    unfinished.mkdir()
    shutil.copy(root / "real" / "config.json", unfinished)
    (root / "notes").mkdir()
    (root / "notes" / "config.json").write_text("not json")
    return root


def test_list_runs_reads_the_run_folders(runs_root):
    frame = list_runs(runs_root, sort="macro_f1")
    assert list(frame.columns) == COLUMNS
    assert frame["run"].tolist() == ["sweep/better", "real", "unfinished"]
    real = frame.set_index("run").loc["real"]
    test = json.loads((runs_root / "real" / "test.json").read_text())
    history = [json.loads(x) for x in (runs_root / "real" / "metrics.jsonl").read_text().splitlines()]
    assert real["model"] == "kachuee" and real["data"] == "small.csv" and real["split"] == "random"
    assert real["epochs"] == 2 and real["best_epoch"] == test["best_epoch"]
    assert real["val_macro_f1"] == max(h["val_macro_f1"] for h in history)
    assert real["test_macro_f1"] == test["macro"]["f1"] and real["test_n"] == test["n"]
    assert real["parameters"] == 55_013 and real["status"] == "complete"
    assert frame["test_macro_f1"].iloc[0] == 0.99
    unfinished = frame.iloc[2]
    assert unfinished["status"] == "incomplete" and math.isnan(unfinished["test_macro_f1"])
    assert list_runs(runs_root, sort="macro_f1", descending=False)["run"].tolist() == [
        "real", "sweep/better", "unfinished"]  # without the figure: last either way
    assert list_runs(runs_root / "missing").empty
    with pytest.raises(InputError, match="sort must be one of: run, model"):
        list_runs(runs_root, sort="loss")
    table = format_runs(frame)
    assert table.splitlines()[0].split()[:3] == ["run", "model", "data"]
    assert "99.00" in table.splitlines()[1] and "incomplete" in table.splitlines()[3]


def test_cli_runs(runs_root, capsys):
    assert run_ecg(["runs", str(runs_root), "--sort", "macro_f1", "-n", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1].startswith("sweep/better") and lines[2].startswith("real")
    assert run_ecg(["runs", str(runs_root / "none")]) == 0
    assert "no runs under" in capsys.readouterr().out
    assert run_ecg(["runs", str(runs_root), "--sort", "bogus"]) == 1
    err = capsys.readouterr().err
    assert "sort must be one of" in err and err.count("\n") == 1
