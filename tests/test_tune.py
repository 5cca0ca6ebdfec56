"""``ecg tune``: Optuna studies over tiny real training runs; pruning through the training
callbacks; two processes sharing one SQLite storage; resuming; best.toml for ecg train."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecg_cli.main import main
from ecgnet.config_file import read_config
from ecgnet.train import TrainConfig, train
from ecgnet.tune import PruningCallback, parse_space
from ecgseg.errors import InputError

from .net_helpers import known_rows_csv

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "2", "--batch-size", "32", "--threads", "1"]


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    """250 real MIT-BIH beats: 50 of each class."""
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("tune") / "small.csv", 50)


def run_cli(argv) -> int:
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code
    return 0


def test_space_names():
    assert parse_space(None)[:3] == ["lr", "batch_size", "weight_decay"]
    assert parse_space(["lr,ema", "lr"]) == ["lr", "ema"]
    with pytest.raises(InputError, match="space: unknown dimension 'dropout'"):
        parse_space("lr,dropout")


def test_pruning_callback_stops_the_run_and_reports_each_epoch(small_csv, tmp_path):
    import optuna

    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.ThresholdPruner(lower=2.0))
    trial = study.ask()
    callback = PruningCallback(trial)
    result = train(TrainConfig(data=[str(small_csv)], out=str(tmp_path), name="p", epochs=3,
                               batch_size=32, threads=1, progress=False), [callback])
    assert result.stopped_by == "pruned by optuna after epoch 1" and result.epochs_run == 1
    assert callback.pruned_at == 1 and (result.run_dir / "test.json").is_file()
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    (frozen,) = study.trials
    assert frozen.intermediate_values == {1: pytest.approx(result.history[0]["val_macro_f1"])}


def test_processes_opening_a_new_storage_at_once_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = ("import sys, time; from ecgnet.tune import open_storage; "
            "time.sleep(max(0.0, float(sys.argv[1]) - time.time())); open_storage(sys.argv[2])")
    start = __import__("time").time() + 8  # every process past its imports by then
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(start), url], env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors


def test_two_processes_share_a_study_which_resumes(small_csv, tmp_path, capsys):
    import optuna

    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    argv = [sys.executable, "-m", "ecg_cli.main", "tune", str(small_csv), "--out", str(tmp_path),
            "--name", "t", "--storage", storage, "--study", "shared", "--trials", "2",
            "--space", "lr,batch_size,class_weights", *FAST]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        assert out.count("trials in the study") == 2
    study = optuna.load_study(study_name="shared", storage=storage)
    assert len(study.trials) == 4
    assert len({t.number for t in study.trials}) == 4
    trials_dir = tmp_path / "tune-t" / "trials"
    assert sorted(p.name for p in trials_dir.iterdir()) == [f"trial-{i:04d}" for i in range(4)]
    # Running the command again continues the same study.
    assert run_cli(["tune", small_csv, "--out", tmp_path, "--name", "t", "--storage", storage,
                    "--study", "shared", "--trials", "1", "--space", "lr", *FAST]) == 0
    out = capsys.readouterr().out
    assert "study shared" in out and ": 5 trials" in out
    assert len(optuna.load_study(study_name="shared", storage=storage).trials) == 5
    folder = tmp_path / "tune-t"
    for png in ("history.png", "importances.png"):
        assert (folder / png).read_bytes()[:4] == b"\x89PNG", png
    assert len((folder / "trials.csv").read_text().splitlines()) == 6
    # best.toml holds the best trial's settings and ecg train --config reads it.
    best = read_config(folder / "best.toml")
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    top = max(complete, key=lambda t: t.value)
    assert best["lr"] == pytest.approx(top.params["lr"]) and best["epochs"] == 2
    assert run_cli(["train", "--config", folder / "best.toml", "--out", tmp_path, "--quiet",
                    "--epochs", "1"]) == 0
    assert (tmp_path / "tune-t-best" / "best.pt").is_file()


def test_default_storage_is_in_the_tune_folder(small_csv, tmp_path, capsys):
    assert run_cli(["tune", small_csv, "--out", tmp_path, "--trials", "1", "--space", "ema",
                    *FAST, "--track", "tensorboard"]) == 0
    folder = tmp_path / "tune-small"
    assert (folder / "study.db").is_file() and (folder / "best.toml").is_file()
    trial = folder / "trials" / "trial-0000"
    assert any(p.name.startswith("events.out.tfevents") for p in trial.iterdir())
    assert read_config(trial / "config.toml")["ema"] in (0.0, 0.99, 0.999)
    out = capsys.readouterr().out
    assert "trial 0 complete: val macro-F1" in out and "best validation macro-F1" in out
    assert run_cli(["tune", small_csv, "--out", tmp_path, "--trials", "0", *FAST]) == 1
    assert "trials must be at least 1" in capsys.readouterr().err


def test_weight_decay_setting_reaches_adam(small_csv, tmp_path):
    from ecgnet.train import prepare
    from ecgnet.train_config import ConfigError

    with pytest.raises(ConfigError, match="weight_decay must be 0 \\(off\\) or positive"):
        TrainConfig(data=[str(small_csv)], weight_decay=-1e-4)
    run = prepare(TrainConfig(data=[str(small_csv)], out=str(tmp_path), weight_decay=1e-4,
                              threads=1, progress=False))
    assert run.optimizer.param_groups[0]["weight_decay"] == 1e-4


def test_summary_plots_wait_for_another_process_writing_them(tmp_path):
    """Every process of a shared study rewrites the study's plots at its end: one that finds
    another writing history.png waits for it instead of failing ('another process is
    writing .../history.png' failed the two-process test under load)."""
    import fcntl
    import threading

    import optuna

    from ecgnet.tune import write_plots
    from ecgseg.atomic import LOCK_SUFFIX

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    fd = os.open(tmp_path / f".history.png{LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "another process" is writing it
    release = threading.Timer(1.0, os.close, args=(fd,))
    release.start()
    try:
        written = write_plots(study, tmp_path)
    finally:
        release.join()
    assert [p.name for p in written] == ["history.png", "importances.png"]
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
