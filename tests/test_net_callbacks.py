"""Training callbacks: every epoch's metrics reach them, and StopTraining ends a run cleanly."""

from __future__ import annotations

import pytest
import torch

from ecgnet.callbacks import EPOCH_METRICS, StopTraining, TrainCallback
from ecgnet.checkpoint import load_checkpoint, load_model
from ecgnet.train import TrainConfig, train

from .net_helpers import known_rows_csv


@pytest.fixture(scope="module")
def small_csv(kaggle_dir, tmp_path_factory):
    return known_rows_csv(kaggle_dir, tmp_path_factory.mktemp("cb") / "small.csv", 40)


class Recorder(TrainCallback):
    def __init__(self, stop_at: int | None = None):
        self.stop_at, self.calls, self.epochs, self.start, self.result = stop_at, [], [], None, None

    def on_run_start(self, config, run_dir, info):
        self.calls.append("start")
        self.start = (config, run_dir, info)

    def on_epoch_end(self, epoch, metrics):
        self.calls.append(f"epoch {epoch}")
        self.epochs.append((epoch, metrics))
        if epoch == self.stop_at:
            raise StopTraining("pruned")

    def on_run_end(self, result):
        self.calls.append("end")
        self.result = result


def config(data, tmp_path, **kw):
    return TrainConfig(**{**dict(data=[str(data)], out=str(tmp_path), name="run", batch_size=32,
                                 epochs=3, progress=False, threads=1), **kw})


def test_callbacks_receive_every_epoch(small_csv, tmp_path):
    rec, other = Recorder(), Recorder()
    result = train(config(small_csv, tmp_path), callbacks=[rec, other])
    assert rec.calls == other.calls == ["start", "epoch 1", "epoch 2", "epoch 3", "end"]
    cfg, run_dir, info = rec.start
    assert run_dir == result.run_dir and cfg.epochs == 3
    assert info["class_names"] == list("NSVFQ") and info["model"] == "kachuee"
    assert info["n_parameters"] == 55_013 and info["source"]["format"] == "csv"
    assert info["source"]["path"] == str(small_csv)
    for (epoch, metrics), line in zip(rec.epochs, result.history):
        assert epoch == line["epoch"] and set(metrics) == set(EPOCH_METRICS)
        assert {k: metrics[k] for k in EPOCH_METRICS} == {k: line[k] for k in EPOCH_METRICS}
        assert 0 <= metrics["train_accuracy"] <= 1 and set(metrics["val_f1"]) == set("NSVFQ")
        assert all(isinstance(metrics[k], float) for k in EPOCH_METRICS if k != "val_f1")
    assert rec.result is result and result.stopped_by == ""
    assert result.best_checkpoint == result.run_dir / "best.pt"
    assert "confusion_matrix" in result.test


def test_stop_training_ends_the_run_with_a_valid_best_checkpoint(small_csv, tmp_path):
    rec = Recorder(stop_at=2)
    result = train(config(small_csv, tmp_path, epochs=5), callbacks=[rec])
    assert rec.calls == ["start", "epoch 1", "epoch 2", "end"]
    assert result.epochs_run == 2 and len(result.history) == 2 and result.stopped_by == "pruned"
    assert not result.stopped_early  # not by patience
    best = load_checkpoint(result.best_checkpoint)
    assert best["training"]["epoch"] == result.best_epoch <= 2
    model, _ = load_model(result.best_checkpoint)
    assert model(torch.zeros(1, 187)).shape == (1, 5)
    assert result.test["n"] > 0 and (result.run_dir / "test.json").is_file()
    # The stopped run is deterministic: its two epochs are those of a run of two epochs.
    plain = train(config(small_csv, tmp_path, name="two", epochs=2))
    strip = lambda h: [{k: v for k, v in x.items() if k not in ("seconds", "train_beats_per_s")}
                       for x in h]
    assert strip(plain.history) == strip(result.history)

