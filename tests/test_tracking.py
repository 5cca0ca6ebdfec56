"""TensorBoard and MLflow trackers, driven by a fake run and read back with each library's
own reader; one run is sent to a real ``mlflow server`` on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from ecgnet.callbacks import TrainCallback
from ecgnet.tracking import (MLflowTracker, TensorBoardTracker, epoch_scalars, make_trackers,
                             final_scalars)
from ecgnet.train import RunResult, TrainConfig
from ecgseg.errors import InputError

CLASSES = ["N", "S", "V", "F", "Q"]
SOURCE = {"format": "hdf5", "database": "mitdb", "recipe": "kaggle", "detector": "annotations",
          "source_sha256": "ab" * 32, "fs": 125.0}


def epoch_metrics(epoch: int) -> dict:
    f1 = {c: 0.5 + 0.05 * epoch + 0.01 * i for i, c in enumerate(CLASSES)}
    return {"train_loss": 1.0 / epoch, "train_accuracy": 0.6 + 0.1 * epoch,
            "val_loss": 1.2 / epoch, "val_accuracy": 0.55 + 0.1 * epoch,
            "val_macro_f1": float(np.mean(list(f1.values()))), "val_f1": f1,
            "lr": 1e-3 * 0.75 ** (epoch - 1)}


def fake_run(tracker: TrainCallback, run_dir: Path) -> RunResult:
    """Drive ``tracker`` through a 3-epoch run with real metric dicts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "best.pt").write_bytes(b"checkpoint bytes")
    config = TrainConfig(data=["data/beats/mitdb-kaggle.h5"], out=str(run_dir.parent),
                         name=run_dir.name, epochs=3, lr=0.002, classes=CLASSES)
    tracker.on_run_start(config, run_dir, {"source": SOURCE, "class_names": CLASSES,
                                           "n_parameters": 55013, "model": "kachuee"})
    history = []
    for epoch in (1, 2, 3):
        m = epoch_metrics(epoch)
        tracker.on_epoch_end(epoch, m)
        history.append({"epoch": epoch, **{k: v for k, v in m.items() if k != "val_f1"}})
    cm = np.diag([50, 8, 9, 4, 10]) + 1
    test = {"n": int(cm.sum()), "accuracy": 0.9, "class_names": CLASSES,
            "macro": {"precision": 0.8, "recall": 0.7, "f1": 0.75, "roc_auc": 0.95},
            "per_class": {c: {"f1": 0.6 + 0.05 * i} for i, c in enumerate(CLASSES)},
            "confusion_matrix": cm.tolist()}
    result = RunResult(run_dir=run_dir, best_epoch=3, best_val_macro_f1=0.7, epochs_run=3,
                       iterations=30, stopped_early=False, test=test, history=history)
    tracker.on_run_end(result)
    return result


def test_metric_names():
    s = epoch_scalars(epoch_metrics(2))
    assert set(s) == {"train/loss", "train/accuracy", "val/loss", "val/accuracy",
                      "val/macro_f1", "lr", *(f"val/f1_{c}" for c in CLASSES)}
    assert s["val/f1_V"] == pytest.approx(0.62)
    assert final_scalars({"accuracy": 0.5, "macro": {"f1": 0.4, "roc_auc": None},
                         "per_class": {"N": {"f1": 0.3}}}) == {
        "test/accuracy": 0.5, "test/macro_f1": 0.4, "test/f1_N": 0.3}


def test_make_trackers(tmp_path, monkeypatch):
    assert make_trackers(["none"], tmp_path) == [] and make_trackers([], tmp_path) == []
    trackers = make_trackers(["tensorboard,mlflow", "mlflow"], tmp_path)
    assert [type(t) for t in trackers] == [TensorBoardTracker, MLflowTracker]
    with pytest.raises(InputError, match="unknown track 'wandb'; choose from: tensorboard, mlflow, none"):
        make_trackers(["wandb"], tmp_path)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed
    with pytest.raises(InputError, match=r'track mlflow needs .*pip install "ecg-toolkit\[tracking\]"'):
        make_trackers(["mlflow"], tmp_path)


def test_tensorboard_tracker_reads_back(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = tmp_path / "runs" / "tb"
    fake_run(TensorBoardTracker(), run_dir)
    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    tags = acc.Tags()
    assert [e.value for e in acc.Scalars("train/loss")] == pytest.approx([1.0, 0.5, 1 / 3])
    assert [e.step for e in acc.Scalars("val/macro_f1")] == [1, 2, 3]
    assert acc.Scalars("val/f1_Q")[-1].value == pytest.approx(0.69)
    assert acc.Scalars("lr")[1].value == pytest.approx(0.00075)
    assert acc.Scalars("test/macro_f1")[0].value == pytest.approx(0.75)
    assert set(tags["images"]) == {"confusion_matrix", "learning_curves"}
    image = acc.Images("confusion_matrix")[0]
    assert image.width > 200 and image.encoded_image_string[:4] == b"\x89PNG"
    config_text = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "lr = 0.002" in config_text and "model = kachuee" in config_text
    # The hyper-parameters and the final metrics, for TensorBoard's HPARAMS tab.
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(0.002)
    assert start.hparams["split"].string_value == "random"
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]).experiment
    assert "test/macro_f1" in {m.name.tag for m in experiment.metric_infos}


def check_mlflow_run(client, run_id: str, artifacts: bool = True):
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["lr"] == "0.002" and run.data.params["model"] == "kachuee"
    assert run.data.params["classes"] == '["N", "S", "V", "F", "Q"]'
    assert run.data.params["n_parameters"] == "55013"
    tags = run.data.tags
    assert tags["data.recipe"] == "kaggle" and tags["data.detector"] == "annotations"
    assert tags["data.source_sha256"] == "ab" * 32 and tags["model"] == "kachuee"
    history = client.get_metric_history(run_id, "val/macro_f1")
    assert [m.step for m in history] == [1, 2, 3]
    assert [m.value for m in client.get_metric_history(run_id, "train/loss")] == pytest.approx(
        [1.0, 0.5, 1 / 3])
    assert run.data.metrics["test/macro_f1"] == pytest.approx(0.75)
    assert run.data.metrics["val/f1_S"] == pytest.approx(0.66)
    if artifacts:
        paths = {a.path for a in client.list_artifacts(run_id, "figures")}
        assert paths == {"figures/confusion_matrix.png", "figures/learning_curves.png"}
        assert [a.path for a in client.list_artifacts(run_id, "checkpoint")] == ["checkpoint/best.pt"]
        local = client.download_artifacts(run_id, "checkpoint/best.pt")
        assert Path(local).read_bytes() == b"checkpoint bytes"


def test_mlflow_tracker_writes_a_local_store_in_the_run_folder(tmp_path, monkeypatch):
    import mlflow
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # nothing may land in the working directory
    run_dir = tmp_path / "runs" / "ml"
    tracker = MLflowTracker()
    fake_run(tracker, run_dir)
    assert (run_dir / "mlruns" / "mlflow.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    uri = f"sqlite:///{run_dir / 'mlruns' / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        frame = mlflow.search_runs(experiment_names=["ecg"])
    finally:
        mlflow.set_tracking_uri(previous)
    assert len(frame) == 1 and frame["run_id"][0] == tracker.run_id
    assert frame["params.batch_size"][0] == "128" and frame["tags.data.recipe"][0] == "kaggle"
    check_mlflow_run(MlflowClient(tracking_uri=uri), tracker.run_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_mlflow_tracker_sends_a_run_to_a_server(tmp_path):
    from mlflow.tracking import MlflowClient

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "server-artifacts")],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "MLFLOW_HOST": "127.0.0.1"})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None:
                pytest.fail(f"mlflow server exited: {server.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("mlflow server not ready within 120 s")
            time.sleep(0.5)
        run_dir = tmp_path / "runs" / "remote"
        tracker = make_trackers(["mlflow"], run_dir, tracking_uri=url)[0]
        fake_run(tracker, run_dir)
        assert not (run_dir / "mlruns").exists()  # nothing stored locally
        check_mlflow_run(MlflowClient(tracking_uri=url), tracker.run_id)
        stored = list((tmp_path / "server-artifacts").rglob("best.pt"))
        assert len(stored) == 1 and stored[0].read_bytes() == b"checkpoint bytes"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
