"""`ecg train` / `ecg transfer` with ``--track`` (read back with TensorBoard's and MLflow's
own readers) and ``--config`` (TOML; command line overrides; a run's config.toml
reproduces it), on tiny real training runs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecg_cli.main import main
from ecgnet.config_file import read_config
from ecgnet.data import load_data

from .net_helpers import known_rows_csv, write_csv

TIMING = ("train_beats_per_s", "seconds")
FAST = ["--epochs", "2", "--batch-size", "32", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """400 real MIT-BIH beats: 80 of each class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("track") / "small.csv", 80)


def run_cli(argv) -> int:
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code
    return 0


def history(run_dir):
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in h.items() if k not in TIMING} for h in lines]


def test_train_tracks_to_tensorboard_and_mlflow(small_csv, tmp_path):
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert run_cli(["train", small_csv, "--out", tmp_path, "--name", "t", *FAST,
                    "--track", "tensorboard,mlflow", "--lr", "0.002"]) == 0
    run_dir = tmp_path / "t"
    metrics = history(run_dir)
    test = json.loads((run_dir / "test.json").read_text())
    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert [e.value for e in acc.Scalars("val/macro_f1")] == pytest.approx(
        [h["val_macro_f1"] for h in metrics])
    assert [e.step for e in acc.Scalars("train/loss")] == [1, 2]
    assert {"val/f1_N", "val/f1_Q", "lr", "test/accuracy"} <= set(acc.Tags()["scalars"])
    assert set(acc.Tags()["images"]) == {"confusion_matrix", "learning_curves"}

    uri = f"sqlite:///{run_dir / 'mlruns' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("ecg").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["lr"] == "0.002" and run.data.params["model"] == "kachuee"
    assert run.data.tags["data.format"] == "csv" and run.data.tags["model"] == "kachuee"
    assert [m.value for m in client.get_metric_history(run.info.run_id, "train/loss")] == \
        pytest.approx([h["train_loss"] for h in metrics])
    assert run.data.metrics["test/accuracy"] == pytest.approx(test["accuracy"])
    local = client.download_artifacts(run.info.run_id, "checkpoint/best.pt")
    assert open(local, "rb").read() == (run_dir / "best.pt").read_bytes()


def test_track_errors_are_one_line(small_csv, tmp_path, capsys):
    assert run_cli(["train", small_csv, "--out", tmp_path, *FAST, "--track", "wandb"]) == 1
    err = capsys.readouterr().err
    assert "unknown track 'wandb'" in err and err.count("\n") == 1
    assert not (tmp_path / "small-random").exists()


def test_config_file_with_command_line_overrides_and_reproduction(small_csv, tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(f'data = ["{small_csv}"]\nout = "{tmp_path}"\nname = "from-file"\n'
                      'epochs = 3\nbatch-size = 32\nthreads = 1\nlr = 0.002\n'
                      'class_weights = "sqrt"\neval_batch_size = 256\n')
    # The file gives data and everything else; --epochs on the command line wins.
    assert run_cli(["train", "--config", config, "--epochs", "2", "--quiet"]) == 0
    run_dir = tmp_path / "from-file"
    saved = read_config(run_dir / "config.toml")
    assert saved["epochs"] == 2 and saved["lr"] == 0.002 and saved["class_weights"] == "sqrt"
    assert saved["eval_batch_size"] == 256 and saved["data"] == [str(small_csv.resolve())]
    assert "resume" not in saved and "overwrite" not in saved
    assert len(history(run_dir)) == 2
    # The run folder's config.toml trains the same run again (another name).
    capsys.readouterr()
    assert run_cli(["train", "--config", run_dir / "config.toml", "--name", "again",
                    "--quiet"]) == 0
    again = tmp_path / "again"
    assert history(again) == history(run_dir)
    assert json.loads((again / "test.json").read_text())["accuracy"] == \
        json.loads((run_dir / "test.json").read_text())["accuracy"]
    # Without data anywhere, or with a bad key: one line, exit 1.
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = 2\n")
    assert run_cli(["train", "--config", bad]) == 1
    assert "data must be given" in capsys.readouterr().err
    bad.write_text("epoch = 2\n")
    assert run_cli(["train", small_csv, "--config", bad]) == 1
    assert "unknown key 'epoch'" in capsys.readouterr().err


def test_transfer_with_config_and_tracking(small_csv, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert run_cli(["train", small_csv, "--out", tmp_path, "--name", "src", *FAST]) == 0
    best = tmp_path / "src" / "best.pt"
    rows = load_data(small_csv)
    two = write_csv(tmp_path / "two.csv", rows.beats[rows.labels < 2],
                    rows.labels[rows.labels < 2])
    assert run_cli(["transfer", best, "--data", two, "--out", tmp_path, "--name", "tr",
                    "--classes", "N,S", "--split", "random", *FAST,
                    "--track", "tensorboard"]) == 0
    saved = read_config(tmp_path / "tr" / "config.toml")
    assert saved["init_checkpoint"] == str(best.resolve()) and saved["trainable"] == "fc"
    acc = EventAccumulator(str(tmp_path / "tr"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("val/macro_f1")] == [1, 2]
    # The transfer run's config.toml: CHECKPOINT and --data come from the file.
    assert run_cli(["transfer", "--config", tmp_path / "tr" / "config.toml", "--name", "tr2",
                    "--quiet"]) == 0
    assert history(tmp_path / "tr2") == history(tmp_path / "tr")
    assert np.isfinite(json.loads((tmp_path / "tr2" / "test.json").read_text())["accuracy"])


def test_help_shows_defaults_written_in_help_texts_and_one_line_summaries(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    for argv, text in ((["train", "--help"], "Run folder name [default: <data stem>-<split>]."),
                       (["segment", "--help"], "at least 1 [default: all cores]."),
                       (["tune", "--help"], "[default: sqlite:///<tune folder>/study.db]"),
                       (["transfer", "--help"], "[default: fc; with --sweep: all of them]")):
        assert run_cli(argv) == 0
        assert text in capsys.readouterr().out, argv
    assert run_cli(["--help"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = next(i for i, row in enumerate(lines) if "Commands" in row)
    rows = [row.strip("│ ") for row in lines[start + 1:] if row.startswith("│")]
    names = [row.split(" ")[0] for row in rows]
    # At 250 columns every summary fits one row: no continuation lines (hard breaks).
    assert {"transfer", "explain", "runs", "tune", "train"} <= set(names)
    import typer

    from ecg_cli.main import app

    commands = set(typer.main.get_command(app).commands)
    assert all(name in commands for name in names), rows
